"""The durable outbox (workflow/outbox.py) on the real PostgreSQL, Redis queue and an SMTP sink."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ckan import model
from ckan.lib import jobs as ckan_jobs

from ckanext.sharing.cli import sharing as sharing_cli
from ckanext.sharing.model.outbox import SharingOutbox
from ckanext.sharing.workflow import notify, outbox

from tests.mailsink import MailSink, free_port, header
from tests.workflow.support import PLUGINS, api, build_world, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


@pytest.fixture
def sink(ckan_config, monkeypatch):
    """A running SMTP sink that CKAN's mailer (in this process) sends to."""
    mails = MailSink().start()
    monkeypatch.setitem(ckan_config, "smtp.server", mails.address)
    yield mails
    mails.stop()


@pytest.fixture
def no_smtp(ckan_config, monkeypatch):
    """CKAN's mailer pointed at a port where nothing listens (a mail server that is down)."""
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{free_port()}")


def _rows() -> list[SharingOutbox]:
    model.Session.expire_all()
    return model.Session.query(SharingOutbox).order_by(SharingOutbox.created).all()


def _request(app):
    """A world and one access request made over HTTP; the request dict."""
    world = build_world(app)
    return world, api(app, "sharing_request_create", world.tokens["requester"], **request_body(world))["result"]


def test_the_row_commits_with_its_event(app):
    """A request's e-mail is an outbox row committed with the request, and its delivery is on the queue."""
    ckan_jobs.get_queue().empty()
    _, req = _request(app)
    rows = _rows()
    assert [(r.job, r.args, r.state, r.attempts) for r in rows] == [
        ("ckanext.sharing.workflow.notify:new_request", [req["id"]], "pending", 0)]
    assert [j.args for j in ckan_jobs.get_queue().jobs] == [[rows[0].id]]


def test_a_rollback_takes_the_row_with_it(app):
    """A job queued by a transaction that rolls back leaves no row and enqueues nothing."""
    ckan_jobs.get_queue().empty()
    outbox.after_commit(notify.new_request, "no-such-request")
    model.Session.rollback()
    model.Session.commit()
    assert _rows() == []
    assert ckan_jobs.get_queue().jobs == []


def test_only_importable_functions_are_accepted(app):
    """A job another process could not import (a lambda) is refused when it is queued."""
    with pytest.raises(ValueError, match="importable"):
        outbox.after_commit(lambda: None)
    model.Session.rollback()


def test_delivery_sends_once(app, sink):
    """A delivered row is marked sent; delivering it again does nothing and sends nothing."""
    world, _ = _request(app)
    row = _rows()[0]
    assert outbox.run(row.id) is True
    assert outbox.run(row.id) is None
    assert outbox.deliver_due().ids == []
    sink.wait(1)
    assert [(world.users["admin_b"]["email"] in header(m, "To"), "New access request" in header(m, "Subject"))
            for m in sink.messages] == [(True, True)]
    done = _rows()[0]
    assert (done.state, done.attempts, done.last_error) == ("sent", 1, None)
    assert done.delivered_at is not None


def test_smtp_down_is_retried_with_backoff(app, no_smtp, cli, ckan_config, monkeypatch):
    """An SMTP failure keeps the row with its attempt, traceback and next time; it is listed as failed,
    not retried before its time, and sent once the server answers."""
    _request(app)
    row = _rows()[0]
    assert outbox.run(row.id) is False
    failed = _rows()[0]
    assert (failed.state, failed.attempts) == ("retrying", 1)
    assert "Traceback" in failed.last_error and "SMTP server could not be connected" in failed.last_error
    wait = failed.next_attempt_at - failed.last_attempt_at
    assert wait == dt.timedelta(seconds=60)  # config_declaration's default outbox_retry_seconds

    listed = cli.invoke(sharing_cli, ["outbox", "list", "--failed"])
    assert listed.exit_code == 0, listed.output
    assert row.id in listed.output and "retrying" in listed.output
    assert "SMTP server could not be connected" in listed.output

    assert outbox.deliver_due().ids == []  # not due for another minute
    sink = MailSink().start()
    try:
        monkeypatch.setitem(ckan_config, "smtp.server", sink.address)
        done = outbox.deliver_due(ignore_backoff=True)
        assert (done.sent, done.failed) == (1, 0)
        assert len(sink.wait(1)) == 1
    finally:
        sink.stop()
    assert [(r.state, r.attempts) for r in _rows()] == [("sent", 2)]


@pytest.mark.ckan_config("ckanext.sharing.outbox_max_attempts", "2")
def test_gives_up_after_max_attempts_and_retry_revives(app, no_smtp):
    """After the last allowed attempt a row is failed for good (never taken again) until retried by hand."""
    _request(app)
    row = _rows()[0]
    assert outbox.run(row.id) is False
    assert outbox.deliver_due(ignore_backoff=True).failed == 1
    gone = _rows()[0]
    assert (gone.state, gone.attempts) == ("failed", 2)
    assert gone.next_attempt_at - gone.last_attempt_at == dt.timedelta(seconds=120)  # doubled
    assert outbox.deliver_due(ignore_backoff=True).ids == []
    assert outbox.retry(row.id) is True
    assert _rows()[0].state == "retrying"
    assert outbox.deliver_due().ids == [row.id]  # due now


def test_a_locked_row_is_skipped_not_run_twice(app, sink):
    """While another process holds a row (SKIP LOCKED), neither a worker nor a sweep runs it."""
    _request(app)
    row = _rows()[0]
    with model.meta.engine.connect() as other:
        other.execute(sa.text("SELECT id FROM sharing_outbox WHERE id = :id FOR UPDATE"), {"id": row.id})
        assert outbox.run(row.id) is None
        assert outbox.deliver_due(ignore_backoff=True).ids == []
        other.rollback()
    assert outbox.run(row.id) is True
    assert len(sink.wait(1)) == 1


def test_backoff_doubles_up_to_six_hours():
    """The wait doubles with each failure and never exceeds six hours."""
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert outbox.backoff(30) == dt.timedelta(hours=6)
