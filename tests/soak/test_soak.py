"""`make soak` (issue 14): a bounded soak of mixed readers, requesters and deciders against a live portal
with several gunicorn workers and two RQ workers; skipped in `make test` (it is not a unit of behaviour but
a run of minutes). Prints a table; fails on any 5xx, a lost or duplicated e-mail, or a ledger that does not
verify. Length: ``SOAK_SECONDS`` (``make soak SOAK_SECONDS=300``; default 60)."""
from __future__ import annotations

import os
import random
import secrets
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from ckan import model
from ckan.tests import factories

from ckanext.sharing.ledger import verification
from ckanext.sharing.model import SharingRequest
from ckanext.sharing.model.outbox import SharingOutbox, SharingOutboxMessage

from tests.faults.support import Worker, _descendants, wait_until
from tests.live import make_user
from tests.mailsink import MailSink
from tests.workflow.support import World, request_body

pytestmark = pytest.mark.skipif(not os.environ.get("SHARING_SOAK"), reason="the soak runs with `make soak` only")

PLUGINS = "activity datastore sharing"
SECONDS = float(os.environ.get("SOAK_SECONDS") or 60)
DATASETS, REQUESTERS, READERS = 6, 6, 4


@dataclass
class Tally:
    """What the traffic saw, shared by the threads."""

    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, resp: requests.Response | None, seconds: float, error: str = "") -> None:
        with self.lock:
            self.statuses[(kind, resp.status_code if resp is not None else "error")] += 1
            self.latencies.append(seconds)
            if resp is None or resp.status_code >= 500:
                self.failures.append(f"{kind}: {resp.status_code if resp is not None else error}")


def _rss_kib(pid: int) -> int:
    """Resident memory of one process (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_soak(live_portals):
    """Mixed traffic for SOAK_SECONDS: no 5xx, every request decided, every e-mail once, the ledger verifies."""
    sink = MailSink().start()
    env = {"CKAN_SMTP_SERVER": sink.address, "CKAN_SMTP_MAIL_FROM": "portal@example.org"}
    portal = live_portals.get(plugins=PLUGINS, workers=4, env=env)
    workers = [Worker(portal.ini, env, os.environ["CKAN_REDIS_URL"], f"{portal.name}-soak-{n}") for n in (1, 2)]
    try:
        _soak(portal, workers, sink)
    finally:  # a failed run must not leave workers taking the slot's jobs
        for w in workers:
            w.stop()
        sink.stop()


def _soak(portal: Any, workers: list[Worker], sink: MailSink) -> None:
    """The run itself: set-up, traffic, drain, table, checks."""
    for w in workers:
        w.start()
    run = secrets.token_hex(3)
    admin = make_user()
    org = factories.Organization(name=f"soak-{run}", users=[{"name": admin.name, "capacity": "admin"}])
    pkgs = [portal.action("package_create", admin.token, name=f"soak-{run}-{i}", title=f"Soak {run} {i}",
                          owner_org=org["id"], sharing_tier="conditional", share_condition="政务用途",
                          notes="soak", resources=[{"url": f"http://data.example.org/soak-{run}-{i}.csv"}])
            for i in range(DATASETS)]
    requesters = [make_user() for _ in range(REQUESTERS)]
    web_pids = _descendants(portal.pid() or 0)
    rss_before = {pid: _rss_kib(pid) for pid in web_pids}
    tally, stop = Tally(), time.monotonic() + SECONDS

    def call(kind: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        started = time.monotonic()
        try:
            resp = getattr(portal, method)(path, **kwargs)
        except requests.RequestException as exc:
            tally.record(kind, None, time.monotonic() - started, repr(exc))
            return None
        tally.record(kind, resp, time.monotonic() - started)
        return resp

    def reader() -> None:
        while time.monotonic() < stop:
            pkg = random.choice(pkgs)
            random.choice([
                lambda: call("read", "get", "/dataset/", params={"q": "soak"}),
                lambda: call("read", "get", f"/dataset/{pkg['name']}"),
                lambda: call("read", "get", "/api/3/action/package_search", params={"q": run, "rows": 5}),
                lambda: call("read", "get", "/api/3/action/package_show", params={"id": pkg["id"]}),
            ])()

    def requester(user: Any) -> None:
        while time.monotonic() < stop:
            body = request_body(World(pkgs={"conditional": random.choice(pkgs)}), requested_days=random.randint(1, 60))
            call("request", "post", "/api/3/action/sharing_request_create", json=body, headers=user.headers)
            time.sleep(0.2)

    def decide_pending(until: float) -> None:
        while time.monotonic() < until:
            resp = call("decide", "post", "/api/3/action/sharing_request_list", json={"state": "pending"},
                        headers=admin.headers)
            pending = (resp.json().get("result") or {}).get("results", []) if resp is not None and resp.ok else []
            for req in pending[:5]:
                if random.random() < 0.7:
                    call("decide", "post", "/api/3/action/sharing_request_approve", json={"id": req["id"]},
                         headers=admin.headers)
                else:
                    call("decide", "post", "/api/3/action/sharing_request_reject",
                         json={"id": req["id"], "reason": "soak"}, headers=admin.headers)
            if not pending and until != stop:
                return
            time.sleep(0.3)

    threads = [threading.Thread(target=reader) for _ in range(READERS)]
    threads += [threading.Thread(target=requester, args=(u,)) for u in requesters]
    threads.append(threading.Thread(target=decide_pending, args=(stop,)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    decide_pending(time.monotonic() + 120)  # decide what is still pending: every request ends decided
    rss_after = {pid: _rss_kib(pid) for pid in web_pids}

    model.Session.rollback()
    reqs = model.Session.query(SharingRequest).filter(SharingRequest.package_id.in_([p["id"] for p in pkgs])).all()
    req_ids = [r.id for r in reqs]

    def rows() -> list[Any]:
        model.Session.rollback()
        found = model.Session.execute(sa.select(SharingOutbox.id, SharingOutbox.state, SharingOutbox.attempts).where(
            SharingOutbox.args[0].astext.in_(req_ids))).all()
        model.Session.rollback()
        return found

    wait_until(lambda: all(r.state in ("sent", "failed") for r in rows()), 300, "the outbox to drain")
    final = rows()
    outbox_states = Counter(r.state for r in final)
    run_twice = sum(1 for r in final if r.attempts > 1)
    expected = outbox_states["sent"]
    received = sink.wait(expected, 30)
    report = verification.verify_ledger([])
    # every message the outbox recorded as accepted arrived, each Message-ID once (SPEC §8)
    model.Session.rollback()
    recorded = {m for (m,) in model.Session.execute(sa.select(SharingOutboxMessage.message_id).where(
        SharingOutboxMessage.outbox_id.in_([r.id for r in final]), SharingOutboxMessage.state == "sent"))}
    model.Session.rollback()
    arrived = [m["Message-ID"] for m in received]
    duplicates = len(arrived) - len(set(arrived))
    missing = recorded - set(arrived)

    lat = sorted(tally.latencies)
    states = Counter(r.state for r in reqs)
    kinds = Counter()
    for (kind, status), n in tally.statuses.items():
        kinds[f"{kind} {status}"] += n
    table = [
        ("traffic seconds", f"{elapsed:.0f}"),
        ("HTTP requests", str(len(lat))),
        ("requests/s", f"{len(lat) / elapsed:.1f}"),
        ("latency median / p95 (ms)", f"{statistics.median(lat) * 1000:.0f} / {lat[int(len(lat) * 0.95)] * 1000:.0f}"),
        ("5xx or connection errors", str(len(tally.failures))),
        *((f"  {k}", str(v)) for k, v in sorted(kinds.items())),
        ("access requests created", str(len(reqs))),
        ("  final states", ", ".join(f"{n} {s}" for s, n in sorted(states.items()))),
        ("e-mails expected (outbox rows sent)", str(expected)),
        ("e-mails received by the sink", str(len(received))),
        ("outbox rows run more than once", str(run_twice)),
        ("Message-IDs recorded sent / missing / received twice", f"{len(recorded)} / {len(missing)} / {duplicates}"),
        ("outbox rows failed", str(outbox_states["failed"])),
        ("ledger rows / verifies", f"{report.size} / {report.ok}"),
        ("web workers RSS before → after (MiB)", ", ".join(
            f"{rss_before[p] / 1024:.0f}→{rss_after.get(p, 0) / 1024:.0f}" for p in web_pids)),
    ]
    width = max(len(k) for k, _ in table)
    print("\n\n| " + "metric".ljust(width) + " | value |\n|" + "-" * (width + 2) + "|-------|")
    for key, value in table:
        print(f"| {key.ljust(width)} | {value} |")

    assert not tally.failures, tally.failures[:20]
    assert states.get("pending", 0) == 0, states
    assert outbox_states["failed"] == 0
    assert len(received) == expected and run_twice == 0  # no e-mail lost, none sent twice
    assert len(recorded) == expected and not missing and duplicates == 0
    assert expected == 2 * len(reqs)  # one to the decider, one decision to the requester, per request
    assert report.ok, [p.message for p in report.problems]
