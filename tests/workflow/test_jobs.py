"""Notifications and scheduled jobs on the real queue: a real `ckan jobs worker` process (same env, its
own Redis db) runs the jobs, CKAN's mailer sends through SMTP, a local aiosmtpd sink receives."""
from __future__ import annotations

import datetime as dt
import email
import email.header
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time

from ckan import model
from ckan.lib import jobs as ckan_jobs
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import chain as audit, events
from ckanext.sharing.model import SharingGrant
from ckanext.sharing.model.outbox import SharingOutbox

from tests.workflow.support import PLUGINS, api, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

ROOT = Path(__file__).resolve().parents[2]
CKAN = ROOT / ".venv" / "bin" / "ckan"


class _Sink:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield sink, f"127.0.0.1:{controller.port}"
    finally:
        controller.stop()


def _ckan(ini: Path, smtp: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run a ckan command in a child process with the test's environment (DB, Redis db, Solr core)."""
    env = dict(os.environ, CKAN_SMTP_SERVER=smtp, CKAN_SMTP_MAIL_FROM="sharing@test.ckan.net")
    cmd = [str(CKAN) if CKAN.exists() else sys.executable, "-c", str(ini), *args]
    if not CKAN.exists():
        cmd = [sys.executable, "-m", "ckan", "-c", str(ini), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


@pytest.fixture
def worker_ini(tmp_path: Path) -> Path:
    ini = tmp_path / "worker.ini"
    ini.write_text(f"[app:main]\nuse = config:{ROOT / 'test.ini'}\nckan.plugins = {PLUGINS}\n")
    return ini


def _subject(msg: email.message.Message) -> str:
    return str(email.header.make_header(email.header.decode_header(msg["Subject"])))


def _body(msg: email.message.Message) -> str:
    part = msg.get_payload(decode=True) if not msg.is_multipart() else msg.get_payload(0).get_payload(decode=True)
    return part.decode("utf-8")


def _to(msg: email.message.Message) -> str:
    return str(email.header.make_header(email.header.decode_header(msg["To"])))


def _wait_for(sink: _Sink, count: int, seconds: float = 10) -> None:
    deadline = time.time() + seconds
    while len(sink.messages) < count and time.time() < deadline:
        time.sleep(0.1)


def test_notifications_are_sent_by_a_real_worker(app, smtp_sink, worker_ini):
    """Notifications are sent by a real worker."""
    sink, smtp = smtp_sink
    ckan_jobs.get_queue().empty()
    w = build_world(app)
    # nothing is sent inside the web request: the jobs wait on the queue
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    assert sink.messages == []
    # the queue carries the outbox row's delivery (workflow/outbox.py), titled after the e-mail's job
    assert [(j.func_name, j.meta["title"]) for j in ckan_jobs.get_queue().jobs] == [
        ("ckanext.sharing.workflow.outbox.run", "sharing: new_request")]
    other = api(app, "sharing_request_create", w.tokens["colleague"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]
    api(app, "sharing_request_reject", w.tokens["admin_b"], id=other["id"], reason="用途不明确")
    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant["id"], reason="项目结束")
    assert sink.messages == []
    assert len(ckan_jobs.get_queue().jobs) == 5

    done = _ckan(worker_ini, smtp, "jobs", "worker", "--burst")
    assert done.returncode == 0, done.stderr[-3000:]
    _wait_for(sink, 5)
    got = sorted((_to(m), _subject(m)) for m in sink.messages)
    admin_b, requester, colleague = (w.users[r]["email"] for r in ("admin_b", "requester", "colleague"))
    assert len(got) == 5, got
    assert sum(1 for to, s in got if admin_b in to and "New access request" in s) == 2
    assert any(requester in to and "approved" in s for to, s in got)
    assert any(requester in to and "revoked" in s for to, s in got)
    assert any(colleague in to and "rejected" in s for to, s in got)
    rejected = next(m for m in sink.messages if "rejected" in _subject(m))
    assert "用途不明确" in _body(rejected)
    assert ckan_jobs.get_queue().jobs == []


def test_expiry_job_and_reminders_via_cli_and_worker(app, smtp_sink, worker_ini):
    """Expiry job and reminders via CLI and worker."""
    sink, smtp = smtp_sink
    ckan_jobs.get_queue().empty()
    w = build_world(app)
    soon = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    soon_grant = call_action("sharing_request_approve", ctx(w, "admin_b"), id=soon["id"],
                             expires=(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=5)).isoformat())
    ended = call_action("sharing_request_create", ctx(w, "colleague"), **request_body(w))
    ended_grant = call_action("sharing_request_approve", ctx(w, "admin_b"), id=ended["id"])
    later = call_action("sharing_request_create", ctx(w, "plain"), **request_body(w))
    call_action("sharing_request_approve", ctx(w, "admin_b"), id=later["id"])
    # a request nobody answered, created 30 days ago: past its reply deadline
    with freeze_time(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)):
        late = call_action("sharing_request_create", ctx(w, "admin_c"), **request_body(w))
    # the colleague's grant ended an hour ago (the clock, not a job, already refuses access)
    model.Session.query(SharingGrant).filter_by(id=ended_grant["id"]).update(
        {"expires": dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)})
    model.Session.commit()
    ckan_jobs.get_queue().empty()  # the decision mails wait in the outbox: the scheduled job delivers them too

    enq = _ckan(worker_ini, smtp, "sharing", "grants", "expire", "--enqueue")
    assert enq.returncode == 0, enq.stderr[-3000:]
    assert "enqueued job" in enq.stdout
    done = _ckan(worker_ini, smtp, "jobs", "worker", "--burst")
    assert done.returncode == 0, done.stderr[-3000:]
    _wait_for(sink, 1)

    model.Session.expire_all()
    states = {g.id: g.state for g in model.Session.query(SharingGrant)}
    assert states[ended_grant["id"]] == "expired"
    assert states[soon_grant["id"]] == "active"
    assert list(states.values()).count("active") == 2
    reminders = [m for m in sink.messages if "ends soon" in _subject(m)]
    assert [w.users["requester"]["email"] in _to(m) for m in reminders] == [True]
    # the reminder went through the durable outbox like every other e-mail (SPEC §8)
    queued = model.Session.query(SharingOutbox).filter(SharingOutbox.job.endswith(":expiry_reminder")).all()
    assert [(r.args, r.state) for r in queued] == [([soon_grant["id"]], "sent")]
    assert reminders[0]["Message-ID"].startswith(f"<sharing-outbox.{queued[0].id}.")
    expire_rows = call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.GRANT_EXPIRE)["results"]
    assert [r["grant_id"] for r in expire_rows] == [ended_grant["id"]]
    overdue = [m for m in sink.messages if "Overdue access request" in _subject(m)]
    assert [w.users["admin_b"]["email"] in _to(m) for m in overdue] == [True]
    assert late["id"] in _body(overdue[0])
    flagged = call_action("sharing_audit_list", ctx(w, "sysadmin"), action="request_overdue")["results"]
    assert [r["request_id"] for r in flagged] == [late["id"]]

    # running it again sends no second reminder and expires nothing more
    again = _ckan(worker_ini, smtp, "sharing", "grants", "expire")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 grant(s) expired, 0 reminder(s) queued, 0 overdue request(s) flagged" in again.stdout
    assert len([m for m in sink.messages if "ends soon" in _subject(m)]) == 1
    assert len([m for m in sink.messages if "Overdue" in _subject(m)]) == 1


def test_tier_change_notifies_requesters(app, smtp_sink, worker_ini):
    """Tier change notifies requesters."""
    sink, smtp = smtp_sink
    w = build_world(app)
    call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    ckan_jobs.get_queue().empty()
    api(app, "package_patch", w.tokens["admin_b"], id=w.pkgs["conditional"]["id"], sharing_tier="open",
        private=False)
    done = _ckan(worker_ini, smtp, "jobs", "worker", "--burst")
    assert done.returncode == 0, done.stderr[-3000:]
    _wait_for(sink, 1)
    assert [("cancelled" in _subject(m), w.users["requester"]["email"] in _to(m)) for m in sink.messages] == \
        [(True, True)]
    assert "now open" in _body(sink.messages[0])
