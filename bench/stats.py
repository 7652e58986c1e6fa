#!/usr/bin/env python3
"""Statistics pages' latency (issue 17, SPEC §10: ≤ 300 ms median at 40,000 datasets and 1,000,000 ledger rows).

Seeds a scratch database of its own (``bin/stack test-env benchstats``: database ``ckan_test_benchstats``)
in bulk — organizations, 40,000 datasets in all three tiers with themes, requests in every state over the
last year, grants with their deliveries and use reports — with ``INSERT … SELECT generate_series`` in
PostgreSQL (seconds, not the days the Action API would take), and 1,000,000 ``data_access`` ledger rows
through bench/ledger.py's bulk fill (the hash chain computed row by row, COPY, the Merkle tree built once,
the append-only triggers disabled only around its TRUNCATE), so the seeded ledger verifies like a real one.
A second run finds the seed in place and only measures.

It then serves CKAN + sharing in process (Flask test client, no network) and times each statistics page
(the public 开放统计 page, one department's public page, the department overview, the authority's
overview) and ``sharing_stats_show``: warm = the day's cache filled (how the pages are used all day),
cold = the first view of the day (cache cleared before each timed request).

    .venv/bin/python bench/stats.py                       # prints the table (seeds on the first run)
    .venv/bin/python bench/stats.py --datasets 4000 --ledger 100000 --reseed
``run(ckan_ini)`` returns the rows for ``make bench`` (bench/run.py EXTRAS).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SLOT = os.environ.get("BENCH_STATS_SLOT") or "benchstats"  # a scratch database of its own
# set in the child that runs in the slot's environment: a child that still lacks it stops instead of starting
# another child (with the services down `bin/stack test-env` gave nothing, and each child started the next)
CHILD_MARK = "SHARING_BENCH_STATS_CHILD"
PLUGINS = "activity datastore sharing"
TARGET_MS = 300.0
MARK = "bench-stats"


def in_slot(args: str) -> str:
    """The shell command that runs this script with ``args`` in the slot's environment; it fails when
    ``bin/stack test-env`` does."""
    return (f'set -e; slot_env="$("{ROOT}/bin/stack" test-env {SLOT})"; eval "$slot_env"; '
            f'exec env {CHILD_MARK}=1 "{sys.executable}" "{Path(__file__).resolve()}" {args}')


def run(ckan_ini: str, datasets: int = 40_000, ledger: int = 1_000_000) -> list[tuple[str, Any, Any, str]]:
    """Seed (first time) and measure in a child process on the benchstats database; rows
    ``(metric, warm ms, cold ms, note)``. ``ckan_ini`` gives the settings; the database is always its own."""
    cmd = in_slot(f'--json --ini "{ckan_ini}" --datasets {datasets} --ledger {ledger}')
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=3600, cwd=str(ROOT))
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit {proc.returncode}")
    last = [line for line in proc.stdout.splitlines() if line.startswith("[")][-1]
    return [tuple(row) for row in json.loads(last)]  # type: ignore[misc]


# --- seeding (child process, on the benchstats database) ---------------------------------------------


def _ckan(ini: str, *args: str) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "ckan"), "-c", ini, *args], check=True, cwd=str(ROOT),
                   stdout=subprocess.DEVNULL)


def _upgrade_plugins(url: str) -> None:
    """``ckan db upgrade -p activity|sharing`` without the plugins in the ini (as tests/conftest.py does)."""
    from alembic import command
    from alembic.config import Config

    import ckanext.activity
    import ckanext.sharing

    for module in (ckanext.activity, ckanext.sharing):
        folder = Path(module.__file__).parent / "migration" / module.__name__.split(".")[-1]
        cfg = Config(str(folder / "alembic.ini"))
        cfg.set_main_option("script_location", str(folder))
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(cfg, "head")


def _seeded(model: Any, datasets: int, ledger: int) -> bool:
    import sqlalchemy as sa

    got = model.Session.execute(sa.text(
        "SELECT (SELECT count(*) FROM package WHERE name LIKE :m), "
        "(SELECT count(*) FROM sharing_audit WHERE actor_name LIKE :m)"), {"m": f"{MARK}%"}).one()
    print(f"bench/stats.py: found {got[0]:,} seeded datasets and {got[1]:,} ledger rows", file=sys.stderr)
    return tuple(got) == (datasets, ledger)


def _ledger_rows(model: Any, ledger: int) -> Any:
    """Row ``i`` of the seeded ledger: a grantee's data access on a granted dataset, over the last year in
    id order, by every channel the statistics tell apart (bench/ledger.py's fill hashes and chains them)."""
    import datetime as dt

    import sqlalchemy as sa

    grants = model.Session.execute(sa.text(
        "SELECT id, package_id, owner_org, user_id FROM sharing_grant ORDER BY id")).all()
    channels = ("resource.download", "datastore_search", "datastore.dump", "resource.view")
    end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start, step = end - dt.timedelta(days=365), dt.timedelta(days=365) / max(ledger, 1)

    def row_of(i: int) -> dict[str, Any]:
        grant = grants[(i * 7919) % len(grants)]
        return {"created": (start + step * i).replace(microsecond=0), "actor_id": grant.user_id, "actor_name": MARK,
                "action": "data_access", "package_id": grant.package_id, "resource_id": None,
                "organization_id": grant.owner_org, "request_id": None, "grant_id": grant.id,
                "detail": {"channel": channels[i % 4], "reason": "grant"}}
    return row_of


def _seed(model: Any, datasets: int, ledger: int) -> float:
    """Bulk-insert the catalogue, requests, grants, deliveries and use reports (``INSERT … SELECT
    generate_series``), then the ledger with a valid hash chain and Merkle tree (bench/ledger.py's fill:
    chain hashed in Python, COPY, tree built once); seconds taken."""
    import sqlalchemy as sa

    sys.path.insert(0, str(ROOT / "bench"))
    import ledger as ledger_bench  # bench/ledger.py: the bulk fill

    t0 = time.monotonic()
    s = model.Session
    orgs = 40
    s.execute(sa.text("ALTER TABLE sharing_use_report DISABLE TRIGGER USER"))  # retention: a scratch database
    for table in ("sharing_stats_cache", "sharing_use_report", "sharing_delivery", "sharing_grant",
                  "sharing_request"):
        s.execute(sa.text(f"DELETE FROM {table}"))
    s.execute(sa.text("ALTER TABLE sharing_use_report ENABLE TRIGGER USER"))
    s.execute(sa.text("DELETE FROM package WHERE name LIKE :m"), {"m": f"{MARK}%"})
    s.execute(sa.text("DELETE FROM member WHERE group_id LIKE 'bs-org-%'"))
    s.execute(sa.text("DELETE FROM \"group\" WHERE name LIKE :m"), {"m": f"{MARK}%"})
    s.execute(sa.text("""
        INSERT INTO "group" (id, name, title, type, created, is_organization, approval_status, state, extras)
        SELECT 'bs-org-' || g, :m || '-org-' || g, '示范部门 ' || g, 'organization', now(), true, 'approved',
               'active', '{}'::jsonb
          FROM generate_series(1, :orgs) g"""), {"m": MARK, "orgs": orgs})
    # tiers: 45 % open, 45 % conditional, 10 % not_shared; 12 themes
    s.execute(sa.text("""
        INSERT INTO package (id, name, title, type, owner_org, private, state, metadata_created,
                             metadata_modified, extras)
        SELECT 'bs-pkg-' || g, :m || '-' || g, '数据集 ' || g, 'dataset', 'bs-org-' || (g % :orgs + 1),
               (g % 10 = 0), 'active', now(), now(),
               jsonb_build_object('sharing_tier', CASE WHEN g % 10 = 0 THEN 'not_shared'
                                                       WHEN g % 2 = 0 THEN 'open' ELSE 'conditional' END,
                                  'theme', '主题 ' || (g % 12))
          FROM generate_series(1, :n) g"""), {"m": MARK, "orgs": orgs, "n": datasets})
    # one request per 2 conditional datasets, created over the last year; 60 % approved, 20 % rejected,
    # 15 % pending, 5 % withdrawn; answered within 0-14 days
    s.execute(sa.text("""
        INSERT INTO sharing_request (id, package_id, owner_org, requester_id, resource_ids, purpose, use_scenario,
                                     requested_days, state, created, modified, due_date, decided_at)
        SELECT 'bs-req-' || g, 'bs-pkg-' || g, 'bs-org-' || (g % :orgs + 1), 'bs-user-' || (g % 500), '[]',
               'bench', 'bench', 30,
               CASE WHEN g % 20 < 12 THEN 'approved' WHEN g % 20 < 16 THEN 'rejected'
                    WHEN g % 20 < 19 THEN 'pending' ELSE 'withdrawn' END,
               now() - (g % 365) * interval '1 day', now(), (now() - (g % 365) * interval '1 day')::date + 14,
               CASE WHEN g % 20 < 16 THEN now() - (g % 365) * interval '1 day' + (g % 15) * interval '1 day' END
          FROM generate_series(1, :n, 4) g"""), {"orgs": orgs, "n": datasets})
    s.execute(sa.text("""
        INSERT INTO sharing_grant (id, request_id, package_id, owner_org, user_id, resource_ids, state, starts,
                                   expires, created)
        SELECT 'bs-grant-' || r.id, r.id, r.package_id, r.owner_org, r.requester_id, '[]', 'active', r.decided_at,
               r.decided_at + interval '90 days', r.decided_at
          FROM sharing_request r WHERE r.state = 'approved'"""))
    # Art. 22: a delivery row per grant, 4 in 5 delivered; Art. 29: a use report stating destruction on
    # every third grant
    s.execute(sa.text("""
        INSERT INTO sharing_delivery (grant_id, due, delivered_at, created)
        SELECT g.id, (g.created + interval '28 days')::date,
               CASE WHEN abs(hashtext(g.id)) % 5 > 0 THEN g.created + interval '3 days' END, g.created
          FROM sharing_grant g"""))
    s.execute(sa.text("""
        INSERT INTO sharing_use_report (id, grant_id, package_id, owner_org, reporter_id, scenario, process, outcome,
                                        storage, destruction, created)
        SELECT 'bs-use-' || g.id, g.id, g.package_id, g.owner_org, g.user_id, 'bench', 'bench', 'bench', 'bench',
               'destroyed', g.created + interval '91 days'
          FROM sharing_grant g WHERE abs(hashtext(g.id)) % 3 = 0"""))
    s.commit()
    ledger_bench._bulk_fill(model, ledger, _ledger_rows(model, ledger))
    s.execute(sa.text("ANALYZE"))
    s.commit()
    return time.monotonic() - t0


# --- measuring --------------------------------------------------------------------------------------


def _token(tk: Any, user: str) -> str:
    return tk.get_action("api_token_create")({"user": user, "ignore_auth": True}, {"user": user, "name": MARK})["token"]


def _median_ms(client: Any, path: str, headers: dict[str, str], n: int, clear: Any = None) -> float:
    samples = []
    for _ in range(n):
        if clear:
            clear()
        t0 = time.perf_counter()
        resp = client.get(path, headers=headers)
        samples.append((time.perf_counter() - t0) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(f"{path} answered {resp.status_code}")
    return statistics.median(samples)


def _verify_ledger(model: Any) -> tuple[float, int]:
    """Recompute the seeded ledger's chain and tree (``audit verify``'s check); seconds and rows. Exits on
    any problem: the seed must verify like a real ledger."""
    import sqlalchemy as sa

    from ckanext.sharing.ledger import verification

    t0 = time.monotonic()
    report = verification.verify_ledger([])
    if not report.ok:
        sys.exit(f"the seeded ledger does not verify: {[p.message for p in report.problems[:3]]}")
    rows = model.Session.execute(sa.text("SELECT count(*) FROM sharing_audit")).scalar()
    return time.monotonic() - t0, int(rows or 0)


def measure(ini: str, datasets: int, ledger: int, repeats: int, reseed: bool,
            verify: bool = False) -> tuple[list[tuple], dict[str, Any]]:
    """Seed when needed, then time the pages; rows and facts for the caption."""
    from ckan.cli import load_config

    url = os.environ.get("CKAN_SQLALCHEMY_URL", "")
    if SLOT not in url:
        sys.exit(f"refusing to seed {url!r}: run through `bin/stack test-env {SLOT}` (bench/stats.py does)")
    _ckan(ini, "db", "init")
    _upgrade_plugins(url)
    conf = load_config(ini)
    conf["ckan.plugins"] = PLUGINS
    from ckan.config.middleware import make_app

    app = make_app(conf)
    from ckan import model
    import ckan.plugins.toolkit as tk

    seed_s = None
    with app._wsgi_app.test_request_context():  # type: ignore[attr-defined]
        if reseed or not _seeded(model, datasets, ledger):
            seed_s = _seed(model, datasets, ledger)
        verified = _verify_ledger(model) if verify else None
        site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
        token = _token(tk, site["name"])
        admin = model.User.get(f"{MARK}-admin") or model.User.get(tk.get_action("user_create")(
            {"ignore_auth": True, "user": site["name"]},
            {"name": f"{MARK}-admin", "email": "bench-stats@example.org", "password": "Bench-Stats-2026!"})["id"])
        tk.get_action("member_create")({"ignore_auth": True, "user": site["name"]}, {
            "id": f"{MARK}-org-1", "object": admin.id, "object_type": "user", "capacity": "admin"})
        admin_token = _token(tk, admin.name)
    from ckanext.sharing.stats import cache

    client = app._wsgi_app.test_client()  # type: ignore[attr-defined]
    sysadmin, dept_admin, anonymous = {"Authorization": token}, {"Authorization": admin_token}, {}
    org = f"{MARK}-org-1"

    def clear() -> None:
        with app._wsgi_app.app_context():  # type: ignore[attr-defined]
            cache.clear()
            model.Session.remove()

    pages = [  # (label, path, who, a statistics page?)
        ("statistics page /statistics (anonymous)", "/statistics", anonymous, True),
        ("statistics page, one department (anonymous)", f"/statistics?organization={org}", anonymous, True),
        ("department overview (its admin)", f"/organization/{org}/statistics", dept_admin, True),
        ("authority overview (sysadmin)", "/statistics/departments?sort=on_time_share&order=desc", sysadmin, True),
        ("sharing_stats_show (API, anonymous)", "/api/3/action/sharing_stats_show", anonymous, False),
        ("floor: CKAN's /about page (anonymous)", "/about", anonymous, False),
        ("floor: CKAN's /about page (sysadmin)", "/about", sysadmin, False),
        ("floor: CKAN's organization about page (its admin)", f"/organization/about/{org}", dept_admin, False),
    ]
    rows: list[tuple] = []
    warm_all = []
    for label, path, who, is_page in pages:
        _median_ms(client, path, who, 1)  # fills the day's cache
        warm = _median_ms(client, path, who, repeats)
        cold = _median_ms(client, path, who, 3, clear)
        if is_page:
            warm_all.append(warm)
        rows.append((f"{label} median (ms)", round(warm, 1), round(cold, 1),
                     ("ok" if warm <= TARGET_MS else f"over {TARGET_MS:.0f} ms") if is_page else ""))
    rows.insert(0, ("statistics pages median latency (ms)", round(statistics.median(warm_all), 1), None,
                    f"target ≤ {TARGET_MS:.0f} ms (warm: the day's cache; cold: first view of the day)"))
    if verified:
        rows.append((f"seeded ledger verified: chain + Merkle tree of {verified[1]:,} rows (s)", round(verified[0], 1),
                     None, "verification.verify_ledger, as `ckan sharing audit verify`"))
    return rows, {"seed_s": seed_s, "datasets": datasets, "ledger": ledger, "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ini", default=str(ROOT / "test.ini"))
    parser.add_argument("--datasets", type=int, default=40_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--reseed", action="store_true", help="seed again even when the seed is in place")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line (for run())")
    parser.add_argument("--verify", action="store_true",
                        help="recompute the seeded ledger's chain and tree (about 15 min at 1,000,000 rows)")
    args = parser.parse_args()
    if SLOT not in os.environ.get("CKAN_SQLALCHEMY_URL", ""):  # standalone: get the benchstats environment
        if os.environ.get(CHILD_MARK):
            sys.exit(f"bench/stats.py: `bin/stack test-env {SLOT}` set no {SLOT} database (services down? `make services`)")
        sys.exit(subprocess.call(["bash", "-c", in_slot(" ".join(f'"{a}"' for a in sys.argv[1:]))], cwd=str(ROOT)))
    rows, facts = measure(args.ini, args.datasets, args.ledger, args.repeats, args.reseed, args.verify)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    seeded = f"seeded in {facts['seed_s']:.0f}s" if facts["seed_s"] else "seed already in place"
    print(f"bench/stats.py: {facts['datasets']:,} datasets, {facts['ledger']:,} ledger rows ({seeded}); "
          f"medians of {facts['repeats']} warm / 3 cold requests; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"| {'metric':<62} | {'warm':>8} | {'cold':>8} | note")
    print(f"|{'-' * 64}|{'-' * 10}|{'-' * 10}|------")
    for metric, warm, cold, note in rows:
        print(f"| {metric:<62} | {warm if warm is not None else '':>8} | {cold if cold is not None else '':>8} | {note}")


if __name__ == "__main__":
    main()
