"""The lifecycle's e-mails (SPEC §4b) are sent by a real worker through CKAN's mailer to whoever must act or is
affected: the missing list to the requester, the extension ask to the authority, its decision to the requester,
the escalation to the authority and the provider, the resolution to the requester."""
from __future__ import annotations

from pathlib import Path

import pytest

from ckan.lib import jobs as ckan_jobs
from ckan.tests import factories

from tests.workflow.support import PLUGINS, api, build_world, request_body
from tests.workflow.test_jobs import ROOT, _body, _ckan, _subject, _to, _wait_for, smtp_sink  # noqa: F401

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def test_lifecycle_mails_reach_the_people_who_must_act(app, smtp_sink, tmp_path: Path):  # noqa: F811
    """Art. 21 and 28: return, resubmission, extension ask and decision, escalation and resolution are mailed."""
    sink, smtp = smtp_sink
    ini = tmp_path / "worker.ini"
    ini.write_text(f"[app:main]\nuse = config:{ROOT / 'test.ini'}\nckan.plugins = {PLUGINS}\n"
                   "ckanext.sharing.authority_org = authority-bureau\n")
    ckan_jobs.get_queue().empty()
    w = build_world(app)
    officer = factories.User(email="officer@authority.example.org")
    factories.Organization(name="authority-bureau", users=[{"name": officer["name"], "capacity": "admin"}])
    token = factories.APIToken(user=officer["name"])["token"]
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "sharing_request_return", w.tokens["admin_b"], id=req["id"], missing=["缺少文号 / no document number"])
    api(app, "sharing_request_resubmit", w.tokens["requester"], id=req["id"], use_basis="示政〔2026〕1号")
    api(app, "sharing_request_extend", w.tokens["admin_b"], id=req["id"], working_days=3, reason="核对 / checking")
    api(app, "sharing_extension_decide", token, id=req["id"], approve=True)
    api(app, "sharing_request_reject", w.tokens["admin_b"], id=req["id"], reason="不符合条件")
    api(app, "sharing_request_escalate", w.tokens["requester"], id=req["id"], reason="请协调 / please coordinate")
    api(app, "sharing_request_resolve", token, id=req["id"], decision="approve")
    assert sink.messages == []  # nothing is sent inside the web request

    done = _ckan(ini, smtp, "jobs", "worker", "--burst", timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    requester, admin_b = w.users["requester"]["email"], w.users["admin_b"]["email"]
    expected = [
        (requester, "returned for completion"), (admin_b, "resubmitted"), (officer["email"], "Extension asked"),
        (requester, "Reply deadline extended"), (admin_b, "Reply deadline extended"),
        (officer["email"], "escalated"), (admin_b, "escalated"), (requester, "resolved"), (admin_b, "resolved"),
    ]
    _wait_for(sink, len(expected) + 2)  # + the new-request and rejection mails
    got = [(_to(m), _subject(m), _body(m)) for m in sink.messages]
    for to, subject in expected:
        assert any(to in t and subject in s for t, s, _ in got), (to, subject, [(t, s) for t, s, _ in got])
    returned = next(b for t, s, b in got if "returned for completion" in s)
    assert "缺少文号" in returned
    resubmitted = next(b for t, s, b in got if "resubmitted" in s)
    assert "示政〔2026〕1号" in resubmitted and "Sharing method: 文件下载" in resubmitted
