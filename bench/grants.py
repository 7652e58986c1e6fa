#!/usr/bin/env python3
"""Grant and audit costs of the 按需共享 workflow (SPEC §10), on a running CKAN + sharing portal.

* The access check (``access.decide_for_package``, i.e. the facts query + ``policy.decide``) for a
  grantee, with 1 grant in the database and then with 10,000 (spread over datasets, users and
  organizations), and with the grantee holding 10,000 grants: the cost must not grow with the number
  of grants (indexed lookups on ``sharing_grant``), and stay ≤ 500 µs (SPEC §10). Beside it the floor:
  a bare ``SELECT 1`` through the same session, measured in the same rounds, so a reader sees how much
  of the check is the database's own round trip (on a loaded machine that alone can exceed 500 µs).
* The overhead of the audit ledger on downloads: the same download URL over HTTP, by an owner-org member
  (no audit row) and by a grantee (one hash-chained ``data_access`` row written and committed per
  download); plus the in-process cost of one ledger append.

``run(ckan_ini)`` returns rows ``(metric, a, b, note)`` for ``make bench`` (bench/run.py); the work runs in
a child process that loads that ini, so the caller's CKAN configuration is not touched. The rows it
adds to the portal's database (users, grants, ledger rows) are marked ``bench-grants``; the grants are
deleted at the end (ledger rows are append-only by design and stay).

    python bench/grants.py path/to/ckan.ini        # prints the table
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
MARK = "bench-grants"
CHECK_ITERATIONS = 200
DOWNLOADS = 100
ROUNDS = 3
if os.environ.get("BENCH_GRANTS_QUICK"):  # the test suite's smoke run: same code, few iterations
    CHECK_ITERATIONS, DOWNLOADS, ROUNDS = 20, 5, 1


def run(ckan_ini: str) -> list[tuple[str, Any, Any, str]]:
    """Measure in a child process with ``ckan_ini``; rows (metric, with 1 grant, with 10,000 grants, note)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}  # the ini says where things are
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--json", str(ckan_ini)],
        env=env, capture_output=True, text=True, timeout=1800, cwd=str(ROOT),
    )
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr or proc.stdout).strip().splitlines()[-1] if (proc.stderr or proc.stdout)
                           else f"exit {proc.returncode}")
    last = [line for line in proc.stdout.splitlines() if line.startswith("[")][-1]
    return [tuple(row) for row in json.loads(last)]  # type: ignore[misc]


# --- the measurement (child process) ----------------------------------------------------------------


def _median_us(fn: Callable[[], Any], n: int) -> float:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(samples)


def _setup(model: Any, tk: Any, access: Any, policy: Any) -> dict[str, Any]:
    """A conditional dataset with a resource, a grantee with one grant, and an owner-org member."""
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    sys_ctx = lambda: {"user": site_user["name"], "ignore_auth": True}  # noqa: E731
    pkg = None
    for candidate in model.Session.query(model.Package).filter_by(state="active", type="dataset").limit(5000):
        if access.tier_of_package(candidate) == policy.CONDITIONAL and candidate.owner_org and candidate.resources:
            pkg = candidate
            break
    tag = uuid.uuid4().hex[:8]
    if pkg is None:  # an empty portal: make one department with one conditional dataset
        org = tk.get_action("organization_create")(sys_ctx(), {"name": f"{MARK}-{tag}", "title": MARK})
        made = tk.get_action("package_create")(sys_ctx(), {
            "name": f"{MARK}-{tag}", "title": MARK, "owner_org": org["id"], "sharing_tier": policy.CONDITIONAL,
            "share_condition": MARK, "notes": MARK,
            "resources": [{"name": "link", "url": "http://data.example.org/bench.csv", "format": "CSV"}],
        })
        pkg = model.Package.get(made["id"])
    res = pkg.resources[0]
    users = {}
    for role in ("grantee", "member"):
        users[role] = tk.get_action("user_create")(sys_ctx(), {
            "name": f"{MARK}-{role}-{tag}", "email": f"{role}-{tag}@bench.invalid",
            "password": uuid.uuid4().hex + "Aa1!", "about": MARK,
        })
        users[role]["token"] = tk.get_action("api_token_create")(
            sys_ctx(), {"user": users[role]["name"], "name": MARK})["token"]
    tk.get_action("organization_member_create")(sys_ctx(), {
        "id": pkg.owner_org, "username": users["member"]["name"], "role": "member"})
    return {"pkg_id": pkg.id, "pkg_name": pkg.name, "owner_org": pkg.owner_org, "res_id": res.id, "users": users}


def _insert_grants(model: Any, SharingGrant: Any, rows: list[dict[str, Any]]) -> None:
    import sqlalchemy as sa

    for i in range(0, len(rows), 2000):
        model.Session.execute(sa.insert(SharingGrant.__table__), rows[i:i + 2000])
    model.Session.commit()
    model.Session.execute(sa.text("ANALYZE sharing_grant"))
    model.Session.commit()


def _grant_row(dt: Any, package_id: str, user_id: str | None, org_id: str | None, days: int = 30) -> dict[str, Any]:
    now = dt.datetime.now(dt.timezone.utc)
    return {"id": str(uuid.uuid4()), "package_id": package_id, "user_id": user_id, "organization_id": org_id,
            "resource_ids": [], "state": "active", "starts": now, "created": now,
            "expires": now + dt.timedelta(days=days), "created_by": MARK}


def _downloads_per_s(base: str, path: str, token: str, n: int) -> tuple[float, dict[int, int]]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = token
    statuses: dict[int, int] = {}
    t0 = time.perf_counter()
    for _ in range(n):
        r = session.get(base + path, allow_redirects=False, timeout=30)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    return n / (time.perf_counter() - t0), statuses


def measure(ckan_ini: str) -> list[tuple[str, Any, Any, str]]:
    import datetime as dt

    import sqlalchemy as sa

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(ckan_ini))
    import ckan.plugins.toolkit as tk
    from ckan import model

    from ckanext.sharing.access import facts as access, policy
    from ckanext.sharing.ledger import chain as audit
    from ckanext.sharing.ledger import events
    from ckanext.sharing.model import SharingAudit, SharingGrant

    flask_app = getattr(app, "_wsgi_app", app)
    rows: list[tuple[str, Any, Any, str]] = []
    with flask_app.test_request_context():
        ctx = _setup(model, tk, access, policy)
        grantee = model.User.get(ctx["users"]["grantee"]["name"])
        pkg = model.Package.get(ctx["pkg_id"])
        existing = model.Session.query(sa.func.count(SharingGrant.id)).scalar()
        _insert_grants(model, SharingGrant, [_grant_row(dt, pkg.id, grantee.id, None)])
        context = {"user": grantee.name, "auth_user_obj": grantee}

        def check() -> None:
            # what the guard adds to a download: the facts query and the decision. The user and the dataset
            # are loaded already (CKAN's login and the route load them), so they are not expired here. Each
            # check is a request's first: the request's memo of facts (facts.subjects) is dropped before it.
            access.forget_request_facts()
            decision = access.decide_for_package(context, pkg, ctx["res_id"])
            assert decision.full, decision

        check()

        def floor() -> None:
            # the database's own round trip through the same session: what no access check can go below
            model.Session.execute(sa.text("SELECT 1")).all()

        floor()
        # 9,999 more, spread over the portal's datasets (and made-up ones), users and organizations
        pkg_ids = [pid for (pid,) in model.Session.query(model.Package.id).filter_by(state="active").limit(3000)]
        org_ids = [oid for (oid,) in model.Session.query(model.Group.id).filter_by(is_organization=True)] or [None]

        def spread() -> list[dict[str, Any]]:
            out = []
            for i in range(max(0, 9_999 - existing)):
                target = pkg_ids[i % len(pkg_ids)] if i % 3 else str(uuid.uuid4())
                if i % 4 == 0:
                    out.append(_grant_row(dt, target, None, org_ids[i % len(org_ids)] or str(uuid.uuid4())))
                else:
                    out.append(_grant_row(dt, target, str(uuid.uuid4()), None))
            return out

        def held() -> list[dict[str, Any]]:  # the grantee holds 10,000 grants (on other datasets)
            return [_grant_row(dt, str(uuid.uuid4()), grantee.id, None) for _ in range(10_000)]

        # A/B rounds (1 grant, then with the bulk rows, then removed again): the machine's other load
        # hits both sides alike; the median of the rounds is reported
        for label, bulk in (("access check, 10,000 grants in database (µs)", spread),
                            ("access check, grantee holds 10,000 grants (µs)", held)):
            ones, manys, floors = [], [], []
            total = 0
            for _ in range(ROUNDS):
                floors.append(_median_us(floor, CHECK_ITERATIONS))
                ones.append(_median_us(check, CHECK_ITERATIONS))
                rows_ = bulk()
                _insert_grants(model, SharingGrant, rows_)
                total = model.Session.query(sa.func.count(SharingGrant.id)).scalar()
                check()
                manys.append(_median_us(check, CHECK_ITERATIONS))
                floors.append(_median_us(floor, CHECK_ITERATIONS))
                model.Session.execute(sa.delete(SharingGrant.__table__).where(
                    SharingGrant.id.in_([r["id"] for r in rows_])))
                model.Session.commit()
                model.Session.execute(sa.text("ANALYZE sharing_grant"))
                model.Session.commit()
            one, many, low = statistics.median(ones), statistics.median(manys), statistics.median(floors)
            if max(one, many) <= 500:
                verdict = "ok"
            elif low > 500:
                verdict = "MISSED: the SELECT 1 round trip alone exceeds it on this machine now"
            else:
                verdict = "MISSED"
            rows.append((label, round(one, 1), round(many, 1),
                         f"ratio {many / one:.2f} (target <= 1.10: {'ok' if many / one <= 1.1 else 'MISSED'}); "
                         f"target <= 500 µs: {verdict}; floor (SELECT 1 round trip) {low:.0f} µs, check "
                         f"{max(one, many) / low:.1f}x it; {total:,} grants at the time; medians of {ROUNDS} A/B "
                         f"rounds"))
            rows.append((label.replace("access check", "floor: SELECT 1 round trip"),
                         round(statistics.median(floors[0::2]), 1),
                         round(statistics.median(floors[1::2]), 1),
                         "the database's own round trip, measured beside the check above"))

        # one ledger append (lock, previous hash, insert, commit)
        def append() -> None:
            audit.append(events.DATA_ACCESS, actor_id=grantee.id, actor_name=grantee.name, package_id=pkg.id,
                         resource_id=ctx["res_id"], organization_id=pkg.owner_org, detail={"channel": MARK})
            model.Session.commit()

        append_us = _median_us(append, 200)
        rows.append(("audit ledger append + commit (µs, median)", None, round(append_us, 1), "per audited access"))

        # downloads over HTTP on the running portal: member (no row) vs grantee (one row per download)
        base = tk.config.get("ckan.site_url").rstrip("/")
        path = f"/dataset/{ctx['pkg_id']}/resource/{ctx['res_id']}/download"
        before = model.Session.query(sa.func.count()).select_from(SharingAudit).scalar()
        try:
            member_rates, grantee_rates = [], []
            st_m: dict[int, int] = {}
            st_g: dict[int, int] = {}
            for _ in range(ROUNDS):
                rate, st_m = _downloads_per_s(base, path, ctx["users"]["member"]["token"], DOWNLOADS)
                member_rates.append(rate)
                rate, st_g = _downloads_per_s(base, path, ctx["users"]["grantee"]["token"], DOWNLOADS)
                grantee_rates.append(rate)
            model.Session.expire_all()
            written = model.Session.query(sa.func.count()).select_from(SharingAudit).scalar() - before
            m, g = statistics.median(member_rates), statistics.median(grantee_rates)
            rows.append(("download req/s: member (no audit) | grantee (audited)", round(m, 1), round(g, 1),
                         f"ratio {g / m:.2f}; status {st_m} | {st_g}; {written} ledger rows"))
        except Exception as e:  # noqa: BLE001 - the portal may not be served; the in-process rows still count
            rows.append((f"download over HTTP: skipped ({type(e).__name__})", None, None, str(e)[:60]))

        model.Session.execute(sa.delete(SharingGrant.__table__).where(SharingGrant.created_by == MARK))
        model.Session.commit()
    return rows


def main(argv: list[str]) -> int:
    as_json = "--json" in argv
    args = [a for a in argv if a != "--json"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    rows = measure(args[0])
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'metric':<{width}}{'1 grant':>12}{'10,000':>12}  note")
    for metric, a, b, note in rows:
        print(f"{metric:<{width}}{'-' if a is None else a:>12}{'-' if b is None else b:>12}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
