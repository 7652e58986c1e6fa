"""Faults on the real stack (issue 14, SPEC §8): a live portal whose Redis, SMTP server, PostgreSQL and Solr
connections are our own (a redis-server, an SMTP sink, TCP relays in front of the shared PostgreSQL and
Solr) is served while each of them fails and comes back; a worker is killed mid-job."""
from __future__ import annotations

import os
import secrets
import time
from typing import Any

import pytest
import sqlalchemy as sa

from ckan import model
from ckan.tests import factories

from ckanext.sharing.model import SharingAudit, SharingRequest
from ckanext.sharing.model.outbox import SharingOutbox

from tests.faults.support import RedisServer, TcpProxy, Worker, ckan, upstream, wait_until, with_port
from tests.live import LiveActionError, make_user
from tests.mailsink import MailSink, header
from tests.workflow.support import World, request_body

PLUGINS = "activity datastore sharing"


class Stack:
    """The fault portal and the services it depends on."""

    def __init__(self, live_portals: Any) -> None:
        self.redis = RedisServer().start()
        self.pg = TcpProxy(upstream(os.environ["CKAN_SQLALCHEMY_URL"])).start()
        self.solr = TcpProxy(upstream(os.environ["CKAN_SOLR_URL"])).start()
        self.sink = MailSink().start()
        self.env = {
            "CKAN_REDIS_URL": self.redis.url,
            "CKAN_SQLALCHEMY_URL": with_port(os.environ["CKAN_SQLALCHEMY_URL"], self.pg.port),
            "CKAN_SOLR_URL": with_port(os.environ["CKAN_SOLR_URL"], self.solr.port),
            "CKAN_SMTP_SERVER": self.sink.address,
            "CKAN_SMTP_MAIL_FROM": "portal@example.org",
        }
        self.portal = live_portals.get(plugins=PLUGINS, config={"ckanext.sharing.outbox_retry_seconds": 1},
                                       env=self.env)
        self._worker: Worker | None = None

    def worker(self) -> Worker:
        """The fault portal's job worker, started when none runs."""
        if self._worker is None or self._worker.proc is None or self._worker.proc.poll() is not None:
            self._worker = Worker(self.portal.ini, self.env, self.redis.url, f"{self.portal.name}-worker").start()
        return self._worker

    def ckan(self, *args: str) -> Any:
        """A ``ckan`` command on the fault portal's ini and services."""
        return ckan(self.portal.ini, self.env, *args)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        for service in (self.sink, self.solr, self.pg, self.redis):
            service.stop()


@pytest.fixture(scope="module")
def stack(live_portals):
    s = Stack(live_portals)
    yield s
    s.close()


@pytest.fixture
def world(stack):
    """A department with an admin, a requester and a conditional dataset (created through the portal)."""
    run = secrets.token_hex(3)
    admin, requester, sysadmin = make_user(), make_user(), make_user(sysadmin=True)
    org = factories.Organization(name=f"faults-{run}", users=[{"name": admin.name, "capacity": "admin"}])
    pkg = stack.portal.action("package_create", admin.token, name=f"faults-{run}", title=f"Fault dataset {run}",
                              owner_org=org["id"], sharing_tier="conditional", share_condition="政务用途",
                              notes="fault test")
    return {"admin": admin, "requester": requester, "sysadmin": sysadmin, "org": org, "pkg": pkg, "run": run,
            "body": request_body(World(pkgs={"conditional": pkg}))}


def _outbox(request_id: str) -> list[Any]:
    """The outbox rows about one request, oldest first (read fresh)."""
    model.Session.rollback()
    rows = model.Session.execute(sa.select(SharingOutbox.__table__).where(
        SharingOutbox.args[0].astext == request_id).order_by(SharingOutbox.created)).mappings().all()
    model.Session.rollback()
    return list(rows)


def _lockable(row_id: str) -> bool:
    """Whether nobody holds the outbox row's lock any more."""
    with model.meta.engine.connect() as conn:
        try:
            conn.execute(sa.text("SELECT 1 FROM sharing_outbox WHERE id = :id FOR UPDATE NOWAIT"), {"id": row_id})
        except sa.exc.OperationalError:
            return False
        finally:
            conn.rollback()
    return True


def _mails(sink: MailSink, run: str) -> list[str]:
    """Subjects of the accepted messages about the world of ``run``."""
    return [s for s in sink.subjects() if run in s]


def test_redis_down_requests_recorded_and_mails_sent_when_it_returns(stack, world):
    """With Redis down a request and its approval succeed; their e-mails wait in the outbox and are sent,
    once each, after Redis is back."""
    stack.redis.stop()
    mark = stack.portal.log_mark()
    try:
        req = stack.portal.action("sharing_request_create", world["requester"].token, **world["body"])
        grant = stack.portal.action("sharing_request_approve", world["admin"].token, id=req["id"])
    finally:
        stack.redis.start()
    assert grant["state"] == "active"
    rows = _outbox(req["id"])
    assert [(r["job"].rsplit(":")[1], r["state"], r["attempts"]) for r in rows] == [
        ("new_request", "pending", 0), ("decision", "pending", 0)]
    assert "could not enqueue" in stack.portal.log_since(mark, "could not enqueue")

    stack.worker()
    queued = stack.ckan("sharing", "outbox", "deliver", "--enqueue")
    assert queued.returncode == 0, queued.stderr[-2000:]
    wait_until(lambda: all(r["state"] == "sent" for r in _outbox(req["id"])), 60, "both e-mails sent")
    time.sleep(1)  # a duplicate would arrive now
    subjects = _mails(stack.sink, world["run"])
    assert sorted(subjects) == [f"[CKAN] Access request approved: Fault dataset {world['run']}",
                                f"[CKAN] New access request for Fault dataset {world['run']}"]


def test_smtp_refusing_is_retried_then_sent(stack, world):
    """With the mail server down the worker's attempt fails with a logged traceback, the row is listed by
    `outbox list --failed`, and the next delivery after the sink answers sends it once."""
    worker = stack.worker()
    stack.sink.stop()
    try:
        req = stack.portal.action("sharing_request_create", world["requester"].token, **world["body"])
        row = wait_until(lambda: next((r for r in _outbox(req["id"]) if r["attempts"]), None), 60,
                         "the worker's failed attempt")
        assert row["state"] == "retrying"
        assert "SMTP server could not be connected" in row["last_error"]
        assert "Traceback" in worker.log_text() and row["id"] in worker.log_text()
        listed = stack.ckan("sharing", "outbox", "list", "--failed")
        assert listed.returncode == 0, listed.stderr[-2000:]
        assert row["id"] in listed.stdout and "retrying" in listed.stdout
    finally:
        stack.sink.start()
    wait_until(lambda: _outbox(req["id"])[0]["next_attempt_at"].timestamp() <= time.time(), 10, "back-off")
    done = stack.ckan("sharing", "outbox", "deliver")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert [(r["state"], r["attempts"]) for r in _outbox(req["id"])] == [("sent", 2)]
    assert len(_mails(stack.sink, world["run"])) == 1


def test_worker_killed_mid_job_is_retried_and_sends_once(stack, world):
    """A worker killed while sending leaves the row due (its lock dies with it); the next delivery sends
    the e-mail exactly once."""
    worker = stack.worker()
    held = stack.sink.hold()
    req = stack.portal.action("sharing_request_create", world["requester"].token, **world["body"])
    assert stack.sink.arrived.wait(60), "the worker never reached the mail server"
    worker.kill()
    held.set()  # the sink refuses the message of the dead client: it never arrived
    rows = _outbox(req["id"])
    assert [(r["state"], r["attempts"]) for r in rows] == [("pending", 0)]
    wait_until(lambda: _lockable(rows[0]["id"]), 30, "the dead worker's row lock to go")
    done = stack.ckan("sharing", "outbox", "deliver")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "1 delivered" in done.stdout
    assert [(r["state"], r["attempts"]) for r in _outbox(req["id"])] == [("sent", 1)]
    assert len(_mails(stack.sink, world["run"])) == 1
    stack.worker()  # a fresh worker for whatever follows


def test_solr_down_tier_change_fails_cleanly_and_search_says_so(stack, world):
    """With Solr down a change to conditional is refused with a clear 503 and rolled back (tier, ledger),
    search answers 503 in JSON and on its page; after Solr returns the index matches the database."""
    secret = f"http://data.example.org/fault-{world['run']}.csv"
    pkg = stack.portal.action("package_create", world["admin"].token, name=f"faults-open-{world['run']}",
                              title=f"Open {world['run']}", owner_org=world["org"]["id"], sharing_tier="open",
                              notes="fault test", resources=[{"url": secret, "name": "link"}])
    stack.solr.cut()
    try:
        with pytest.raises(LiveActionError) as failed:
            stack.portal.action("package_patch", world["admin"].token, id=pkg["id"], sharing_tier="conditional",
                                share_condition="政务用途")
        assert failed.value.status == 503
        assert failed.value.error["service"] == "search"
        search = stack.portal.get("/api/3/action/package_search", params={"q": world["run"]})
        assert (search.status_code, search.json()["error"]["__type"]) == (503, "Service Unavailable")
        page = stack.portal.get("/dataset/", params={"q": world["run"]})
        assert page.status_code == 503 and "Traceback" not in page.text
        assert "text/html" in page.headers["Content-Type"]
    finally:
        stack.solr.restore()
    shown = stack.portal.action("package_show", world["admin"].token, id=pkg["id"])
    assert shown["sharing_tier"] == "open"
    model.Session.rollback()
    changes = model.Session.query(SharingAudit).filter_by(package_id=pkg["id"], action="tier_change").count()
    assert changes == 1  # the creation's row only: the refused change left none
    found = stack.portal.action("package_search", fq=f"id:{pkg['id']}")["results"]
    assert [(d["sharing_tier"], d["resources"][0]["url"]) for d in found] == [("open", secret)]


def test_postgres_drop_gives_503_and_the_portal_recovers(stack, world):
    """With the database connection cut, pages and API calls answer 503 without a traceback and nothing is
    written; once it is back the same portal processes serve again."""
    pid = stack.portal.pid()
    stack.pg.cut()
    try:
        page = stack.portal.get(f"/dataset/{world['pkg']['name']}")  # read from the database
        api = stack.portal.post("/api/3/action/sharing_request_create", json=world["body"],
                                headers=world["requester"].headers)
    finally:
        stack.pg.restore()
    assert page.status_code == 503 and "Traceback" not in page.text and page.headers["Retry-After"]
    assert (api.status_code, api.json()["error"]["service"]) == (503, "database")
    assert "Traceback" not in api.text
    for _ in range(4):  # both gunicorn workers reconnect by themselves
        assert stack.portal.get(f"/dataset/{world['pkg']['name']}").status_code == 200
    assert stack.portal.pid() == pid
    model.Session.rollback()
    assert model.Session.query(SharingRequest).filter_by(requester_id=world["requester"].id).count() == 0
