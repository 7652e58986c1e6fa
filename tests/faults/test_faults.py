"""Faults on real services (issue 14, SPEC §8): a stack of the module's own — PostgreSQL, Redis and Solr started
by ``bin/stack`` on free ports, a live gunicorn portal, an RQ worker and an SMTP sink on them — whose real
processes are stopped and restarted inside the tests; a worker is SIGKILLed mid-job. The suite's own services
are never touched (tests/faults/support.py)."""
from __future__ import annotations

import secrets
import time
from email.utils import parseaddr
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from tests.faults.support import FaultStack, wait_until
from tests.live import LiveActionError
from tests.mailsink import header
from tests.workflow.support import World, request_body

PLUGINS = "activity datastore sharing"


@pytest.fixture(scope="module")
def stack() -> Iterator[FaultStack]:
    """The module's own stack, up for the module, stopped afterwards (its data kept for the next run)."""
    s = FaultStack(PLUGINS, {"ckanext.sharing.outbox_retry_seconds": 1})
    try:
        s.up()
        yield s
    finally:
        s.close()


@pytest.fixture
def world(stack: FaultStack) -> dict[str, Any]:
    """A department with an admin, a requester and a conditional dataset (created through the portal)."""
    run = secrets.token_hex(3)
    admin, requester = stack.make_user(), stack.make_user()
    assert stack.portal is not None and stack.sysadmin is not None
    org = stack.portal.action("organization_create", stack.sysadmin.token, name=f"faults-{run}",
                              users=[{"name": admin.name, "capacity": "admin"}])
    pkg = stack.portal.action("package_create", admin.token, name=f"faults-{run}", title=f"Fault dataset {run}",
                              owner_org=org["id"], sharing_tier="conditional", share_condition="政务用途",
                              notes="fault test")
    return {"admin": admin, "requester": requester, "org": org, "pkg": pkg, "run": run,
            "body": request_body(World(pkgs={"conditional": pkg}))}


def _outbox(stack: FaultStack, request_id: str) -> list[Any]:
    """The outbox rows about one request, oldest first."""
    return stack.rows("SELECT * FROM sharing_outbox WHERE args->>0 = :id ORDER BY created", id=request_id)


def _lockable(stack: FaultStack, row_id: str) -> bool:
    """Whether nobody holds the outbox row's lock any more."""
    with stack.engine.connect() as conn:
        try:
            conn.execute(sa.text("SELECT 1 FROM sharing_outbox WHERE id = :id FOR UPDATE NOWAIT"), {"id": row_id})
        except sa.exc.OperationalError:
            return False
        finally:
            conn.rollback()
    return True


def _mails(stack: FaultStack, run: str) -> list[tuple[str, str]]:
    """(recipient address, subject) of the accepted messages about the world of ``run``, sorted; each message's
    Message-ID is the outbox's (SPEC §8) and none arrived twice."""
    found = [m for m in stack.sink.messages if run in header(m, "Subject")]
    ids = [header(m, "Message-ID") for m in found]
    assert all(i.startswith("<sharing-outbox.") for i in ids) and len(set(ids)) == len(ids), ids
    return sorted((parseaddr(header(m, "To"))[1], header(m, "Subject")) for m in found)


def test_redis_down_requests_recorded_and_mails_sent_when_it_returns(stack, world):
    """With the real Redis stopped a request and its approval succeed; their e-mails wait in the outbox and are
    sent, once each, after Redis is restarted."""
    portal, requester, admin = stack.portal, world["requester"], world["admin"]
    stack.stop("redis")
    mark = portal.log_mark()
    try:
        req = portal.action("sharing_request_create", requester.token, **world["body"])
        grant = portal.action("sharing_request_approve", admin.token, id=req["id"])
    finally:
        stack.start("redis")
    assert grant["state"] == "active"
    rows = _outbox(stack, req["id"])
    assert [(r["job"].rsplit(":")[1], r["state"], r["attempts"]) for r in rows] == [
        ("new_request", "pending", 0), ("decision", "pending", 0)]
    assert "could not enqueue" in portal.log_since(mark, "could not enqueue")

    stack.worker()  # the same worker if it rode out the outage, else a new one
    queued = stack.ckan("sharing", "outbox", "deliver", "--enqueue")
    assert queued.returncode == 0, queued.stderr[-2000:]
    wait_until(lambda: all(r["state"] == "sent" for r in _outbox(stack, req["id"])), 90, "both e-mails sent")
    time.sleep(1)  # a duplicate would arrive now
    # the department's deciders: its admin and the sysadmin who created it (CKAN makes the creator an admin)
    assert _mails(stack, world["run"]) == sorted([
        (requester.email, f"[CKAN] Access request approved: Fault dataset {world['run']}"),
        (admin.email, f"[CKAN] New access request for Fault dataset {world['run']}"),
        (stack.sysadmin.email, f"[CKAN] New access request for Fault dataset {world['run']}")])


def test_smtp_refusing_is_retried_then_sent(stack, world):
    """With the mail server down the worker's attempt fails with a logged traceback, the row is listed by
    `outbox list --failed`, and the next delivery after the sink answers sends it once."""
    worker = stack.worker()
    stack.sink.stop()
    try:
        req = stack.portal.action("sharing_request_create", world["requester"].token, **world["body"])
        row = wait_until(lambda: next((r for r in _outbox(stack, req["id"]) if r["attempts"]), None), 60,
                         "the worker's failed attempt")
        assert row["state"] == "retrying"
        assert "SMTP server could not be connected" in row["last_error"]
        assert "Traceback" in worker.log_text() and row["id"] in worker.log_text()
        listed = stack.ckan("sharing", "outbox", "list", "--failed")
        assert listed.returncode == 0, listed.stderr[-2000:]
        assert row["id"] in listed.stdout and "retrying" in listed.stdout
    finally:
        stack.sink.start()
    wait_until(lambda: _outbox(stack, req["id"])[0]["next_attempt_at"].timestamp() <= time.time(), 10, "back-off")
    done = stack.ckan("sharing", "outbox", "deliver")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert [(r["state"], r["attempts"]) for r in _outbox(stack, req["id"])] == [("sent", 2)]
    assert len(_mails(stack, world["run"])) == 2  # one to each decider


def test_worker_killed_mid_job_is_retried_and_sends_once(stack, world):
    """A worker SIGKILLed while the mail server holds its message leaves the row due (its lock dies with it);
    the next delivery sends the e-mail exactly once."""
    worker = stack.worker()
    held = stack.sink.hold()
    req = stack.portal.action("sharing_request_create", world["requester"].token, **world["body"])
    assert stack.sink.arrived.wait(60), "the worker never reached the mail server"
    worker.kill()
    held.set()  # the sink refuses the message of the dead client: it never arrived
    rows = _outbox(stack, req["id"])
    assert [(r["state"], r["attempts"]) for r in rows] == [("pending", 0)]
    wait_until(lambda: _lockable(stack, rows[0]["id"]), 30, "the dead worker's row lock to go")
    done = stack.ckan("sharing", "outbox", "deliver")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "1 delivered" in done.stdout
    assert [(r["state"], r["attempts"]) for r in _outbox(stack, req["id"])] == [("sent", 1)]
    assert len(_mails(stack, world["run"])) == 2  # one to each decider
    stack.worker()  # a fresh worker for whatever follows


def test_solr_down_tier_change_fails_cleanly_and_search_says_so(stack, world):
    """With the real Solr stopped a change to conditional is refused with a clear 503 and rolled back (tier,
    ledger), search answers 503 in JSON and on its page; after Solr restarts the index matches the database."""
    portal, admin = stack.portal, world["admin"]
    secret = f"http://data.example.org/fault-{world['run']}.csv"
    pkg = portal.action("package_create", admin.token, name=f"faults-open-{world['run']}", title=f"Open {world['run']}",
                        owner_org=world["org"]["id"], sharing_tier="open", notes="fault test",
                        resources=[{"url": secret, "name": "link"}])
    stack.stop("solr")
    try:
        with pytest.raises(LiveActionError) as failed:
            portal.action("package_patch", admin.token, id=pkg["id"], sharing_tier="conditional",
                          share_condition="政务用途")
        assert failed.value.status == 503
        assert failed.value.error["service"] == "search"
        search = portal.get("/api/3/action/package_search", params={"q": world["run"]})
        assert (search.status_code, search.json()["error"]["__type"]) == (503, "Service Unavailable")
        page = portal.get("/dataset/", params={"q": world["run"]})
        assert page.status_code == 503 and "Traceback" not in page.text
        assert "text/html" in page.headers["Content-Type"]
    finally:
        stack.start("solr")
    assert portal.action("package_show", admin.token, id=pkg["id"])["sharing_tier"] == "open"
    changes = stack.rows("SELECT count(*) AS n FROM sharing_audit WHERE package_id = :p AND action = 'tier_change'",
                         p=pkg["id"])
    assert changes[0]["n"] == 1  # the creation's row only: the refused change left none
    found = portal.action("package_search", fq=f"id:{pkg['id']}")["results"]
    assert [(d["sharing_tier"], d["resources"][0]["url"]) for d in found] == [("open", secret)]


def test_postgres_restart_gives_503_and_the_portal_recovers(stack, world):
    """With the real PostgreSQL stopped, pages and API calls answer 503 without a traceback and nothing is
    written; once it is restarted the same portal processes serve again."""
    portal, requester = stack.portal, world["requester"]
    pid = portal.pid()
    stack.stop("pg")
    try:
        page = portal.get(f"/dataset/{world['pkg']['name']}")  # read from the database
        api = portal.post("/api/3/action/sharing_request_create", json=world["body"], headers=requester.headers)
    finally:
        stack.start("pg")
    assert page.status_code == 503 and "Traceback" not in page.text and page.headers["Retry-After"]
    assert "text/html" in page.headers["Content-Type"]
    assert (api.status_code, api.json()["error"]["service"]) == (503, "database")
    assert "Traceback" not in api.text
    for _ in range(4):  # both gunicorn workers reconnect by themselves
        assert portal.get(f"/dataset/{world['pkg']['name']}").status_code == 200
    assert portal.pid() == pid
    made = stack.rows("SELECT count(*) AS n FROM sharing_request WHERE requester_id = :u", u=requester.id)
    assert made[0]["n"] == 0
