"""The durable outbox (workflow/outbox.py) on the real PostgreSQL, Redis queue and an SMTP sink."""
from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from ckan import model
from ckan.lib import jobs as ckan_jobs
from ckan.tests.helpers import call_action

from ckanext.sharing.cli import sharing as sharing_cli
from ckanext.sharing.model.outbox import SharingOutbox, SharingOutboxMessage
from ckanext.sharing.workflow import notify, outbox

from tests.mailsink import MailSink, free_port, header
from tests.workflow.support import PLUGINS, api, build_world, ctx, request_body

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


def _claims(row_id: str) -> dict[str, tuple[str, int]]:
    """The message claims of an outbox row: key → (state, attempts)."""
    model.Session.rollback()
    return {m.key: (m.state, m.attempts) for m in model.Session.query(SharingOutboxMessage).filter_by(outbox_id=row_id)}


def test_message_id_is_derived_from_the_outbox_row(app, sink):
    """Each e-mail carries the Message-ID of its outbox row and recipient, recorded as sent."""
    world, _ = _request(app)
    row = _rows()[0]
    assert outbox.run(row.id) is True
    (msg,) = sink.wait(1)
    decider = world.users["admin_b"]
    assert header(msg, "Message-ID") == outbox.message_id(row.id, f"user:{decider['id']}")
    assert header(msg, "Message-ID").startswith(f"<sharing-outbox.{row.id}.")
    assert _claims(row.id) == {f"user:{decider['id']}": ("sent", 1)}


def test_a_retry_sends_only_the_messages_not_yet_accepted(app, sink):
    """When the mail server refuses one of two recipients, the retry sends that one only: nobody gets a copy."""
    world, _ = _request(app)
    call_action("organization_member_create", ctx(world, "sysadmin"), id=world.orgs["b"]["id"],
                username=world.users["editor_b"]["name"], role="admin")
    row = _rows()[0]
    editor = world.users["editor_b"]
    sink.refuse_rcpt = {editor["email"]}
    assert outbox.run(row.id) is False
    first = _claims(row.id)
    assert first[f"user:{editor['id']}"] == ("unsent", 1)
    accepted = {k for k, (state, _) in first.items() if state == "sent"}
    assert len(sink.messages) == len(accepted)
    sink.refuse_rcpt = set()
    assert outbox.run(row.id) is True
    final = _claims(row.id)
    assert len(final) >= 2 and all(state == "sent" for state, _ in final.values())
    assert final[f"user:{editor['id']}"] == ("sent", 2)
    assert all(final[k] == ("sent", 1) for k in accepted)  # not handed to the server again
    sink.wait(len(final))
    to = [header(m, "To") for m in sink.messages]
    assert len(to) == len(set(to)) == len(final)  # each decider got exactly one copy


def test_a_duplicated_run_after_the_messages_were_sent_sends_nothing(app, sink):
    """A row run again after its e-mails were accepted (the row's own 'sent' lost, or a duplicated job)
    sends no second copy."""
    _request(app)
    row = _rows()[0]
    assert outbox.run(row.id) is True
    sink.wait(1)
    model.Session.execute(sa.update(SharingOutbox.__table__).where(SharingOutbox.id == row.id)
                          .values(state="pending"))
    model.Session.commit()
    assert outbox.run(row.id) is True
    time.sleep(0.5)  # a second copy would have arrived by now
    assert len(sink.messages) == 1


def test_a_claim_left_sending_is_sent_again_with_the_same_message_id(app, sink):
    """The at-least-once window: a claim left 'sending' by an attempt that died after handing the message over
    is sent again, with the same Message-ID."""
    world, _ = _request(app)
    row = _rows()[0]
    key = f"user:{world.users['admin_b']['id']}"
    model.Session.add(SharingOutboxMessage(outbox_id=row.id, key=key, message_id=outbox.message_id(row.id, key),
                                           state="sending", attempts=1))
    model.Session.commit()
    assert outbox.run(row.id) is True
    (msg,) = sink.wait(1)
    assert header(msg, "Message-ID") == outbox.message_id(row.id, key)
    assert _claims(row.id) == {key: ("sent", 2)}


def test_a_message_another_attempt_is_sending_is_not_sent_twice(app, sink):
    """While another connection holds a message's claim lock the attempt sends nothing and is retried later."""
    world, _ = _request(app)
    row = _rows()[0]
    key = f"user:{world.users['admin_b']['id']}"
    with model.meta.engine.connect() as other:
        other.execute(sa.select(sa.func.pg_advisory_lock(
            sa.func.hashtextextended(f"sharing_outbox_message:{row.id}:{key}", 0))))
        assert outbox.run(row.id) is False
        assert "MessageBusy" in _rows()[0].last_error
        other.execute(sa.select(sa.func.pg_advisory_unlock_all()))
        other.commit()
    assert sink.messages == []
    assert outbox.deliver_due(ignore_backoff=True).sent == 1
    assert len(sink.wait(1)) == 1
