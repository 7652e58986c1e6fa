"""The request's lifecycle under the 2025 Regulation (《政务数据共享条例》, SPEC §4b), over HTTP on the real
stack: Art. 20 fields, return for completion and resubmission (Art. 21), extension with the authority's
approval (Art. 21), coordination by the authority (Art. 28); who may do each, bad input, the timeline."""
from __future__ import annotations

import datetime as dt

import pytest

from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import chain as audit, events
from ckanext.sharing.model import SharingAudit, SharingRequest
from ckanext.sharing.workflow import clock

from tests.workflow.support import ART20_FIELDS, PLUGINS, api, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _authority(w) -> str:
    """An admin of a department named as the sharing authority (``ckanext.sharing.authority_org``); its token."""
    officer = factories.User(name=f"officer-{w.users['plain']['name']}", email="officer@example.org")
    factories.Organization(name="authority-bureau", users=[{"name": officer["name"], "capacity": "admin"}])
    w.users["authority"] = officer
    w.tokens["authority"] = factories.APIToken(user=officer["name"])["token"]
    return w.tokens["authority"]


def _ledger(request_id: str) -> list[str]:
    model.Session.expire_all()
    return [r.action for r in model.Session.query(SharingAudit).filter_by(request_id=request_id)
            .order_by(SharingAudit.id)]


def _backdate_due(request_id: str, days: int = 3) -> None:
    """Move a request's due date into the past (the clock cannot be turned; the row can)."""
    req = model.Session.get(SharingRequest, request_id)
    req.due_date = clock.today() - dt.timedelta(days=days)
    model.Session.commit()


def test_art20_fields_are_stored_shown_and_audited(app):
    """Art. 20: use_basis, use_scope and share_method are required, stored, returned by the API and in the ledger."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w, share_method="api"))["result"]
    assert (req["use_basis"], req["use_scope"], req["share_method"]) == (
        ART20_FIELDS["use_basis"], ART20_FIELDS["use_scope"], "接口")
    shown = api(app, "sharing_request_show", w.tokens["admin_b"], id=req["id"])["result"]
    assert shown["share_method"] == "接口" and shown["use_basis"] == ART20_FIELDS["use_basis"]
    row = call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.REQUEST_CREATE)["results"][0]
    assert row["detail"]["use_scope"] == ART20_FIELDS["use_scope"] and row["detail"]["share_method"] == "接口"
    err = api(app, "sharing_request_create", w.tokens["colleague"], status=409,
              **{k: v for k, v in request_body(w).items() if k != "use_basis"})["error"]
    assert "use_basis" in err


def test_share_method_must_be_one_the_dataset_offers(app):
    """Art. 20 / SPEC §4: a dataset whose catalogue entry offers only 接口 refuses 文件下载, naming share_method."""
    w = build_world(app)
    pkg = model.Package.get(w.pkgs["conditional"]["id"])
    pkg.extras["share_method"] = '["接口"]'
    model.Session.commit()
    err = api(app, "sharing_request_create", w.tokens["requester"], status=409, **request_body(w))["error"]
    assert "share_method" in err and "接口" in err["share_method"][0]
    api(app, "sharing_request_create", w.tokens["requester"], **request_body(w, share_method="接口"))


def test_art21_return_lists_everything_once_and_resubmission_restarts_the_clock(app):
    """Art. 21 (一次性告知): a return lists everything missing, stops the clock, happens once; resubmission restarts it."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    missing = ["使用依据的文件编号 / number of the basis document", "经办人联系方式 / contact of the officer"]
    returned = api(app, "sharing_request_return", w.tokens["admin_b"], id=req["id"], missing=missing)["result"]
    assert returned["state"] == "returned" and returned["missing"] == missing
    assert returned["days_left"] is None and returned["overdue"] is False  # the clock stopped
    # the requester sees the list on their dashboard
    mine = api(app, "sharing_request_list", w.tokens["requester"], mine=True)["result"]["results"]
    assert mine[0]["missing"] == missing
    # a returned request cannot be decided, extended or returned again
    err = api(app, "sharing_request_approve", w.tokens["admin_b"], status=409, id=req["id"])["error"]
    assert "id" in err
    _backdate_due(req["id"], days=30)
    again = api(app, "sharing_request_resubmit", w.tokens["requester"], id=req["id"],
                use_basis="《政务数据共享条例》第二十条；文号 示政〔2026〕1号")["result"]
    assert again["state"] == "pending" and "文号" in again["use_basis"]
    assert again["due_date"] == clock.due_date(clock.now()).isoformat()  # counted again from the resubmission
    assert again["days_left"] > 0
    err = api(app, "sharing_request_return", w.tokens["admin_b"], status=409, id=req["id"], missing=["more"])["error"]
    assert "missing" in err  # once per request
    assert _ledger(req["id"]) == [events.REQUEST_CREATE, events.REQUEST_RETURN, events.REQUEST_RESUBMIT]
    timeline = api(app, "sharing_request_show", w.tokens["requester"], id=req["id"])["result"]["timeline"]
    assert [e["action"] for e in timeline] == _ledger(req["id"])
    assert timeline[1]["detail"]["missing"] == missing


def test_return_refuses_an_empty_list(app):
    """Art. 21: a return without anything listed as missing is a ValidationError naming missing."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    for bad in ([], [" "], "", "\n  \n"):
        err = api(app, "sharing_request_return", w.tokens["admin_b"], status=409, id=req["id"], missing=bad)["error"]
        assert "missing" in err
    assert api(app, "sharing_request_show", w.tokens["requester"], id=req["id"])["result"]["state"] == "pending"


@pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau")
@pytest.mark.ckan_config("ckanext.sharing.holidays", "2030-10-01 2030-10-02 2030-10-03")
@pytest.mark.ckan_config("ckanext.sharing.extra_workdays", "2030-10-12")
def test_art21_extension_needs_the_authority_and_moves_the_due_date_by_working_days(app):
    """Art. 21: a decider asks for ≤ 10 more working days once; only the authority approves; the due date moves
    by working days (holidays and 调休 counted)."""
    w = build_world(app)
    _authority(w)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    row = model.Session.get(SharingRequest, req["id"])
    row.due_date = dt.date(2030, 9, 27)  # a Friday before the October holidays
    model.Session.commit()
    err = api(app, "sharing_request_extend", w.tokens["admin_b"], status=409, id=req["id"], working_days=11,
              reason="r")["error"]
    assert "working_days" in err
    asked = api(app, "sharing_request_extend", w.tokens["admin_b"], id=req["id"], working_days=8,
                reason="需要核对历史数据 / history to check")["result"]
    assert asked["extension"]["state"] == "asked" and asked["due_date"] == "2030-09-27"
    err = api(app, "sharing_request_extend", w.tokens["admin_b"], status=409, id=req["id"], working_days=2,
              reason="again")["error"]
    assert "working_days" in err  # once per request
    # the provider cannot approve its own extension; the authority can, and sees it in its queue
    api(app, "sharing_extension_decide", w.tokens["admin_b"], status=403, id=req["id"], approve=True)
    queue = api(app, "sharing_authority_queue", w.tokens["authority"], kind="extensions")["result"]["results"]
    assert [r["id"] for r in queue] == [req["id"]]
    done = api(app, "sharing_extension_decide", w.tokens["authority"], id=req["id"], approve=True,
               note="同意 / agreed")["result"]
    # from Fri 09-27: Mon 09-30; 10-01..03 holidays; Fri 10-04; Mon-Fri 10-07..11; Sat 10-12 is a 调休 working day
    assert done["extension"]["state"] == "approved" and done["due_date"] == "2030-10-12"
    err = api(app, "sharing_extension_decide", w.tokens["authority"], status=409, id=req["id"], approve=False)["error"]
    assert "id" in err
    assert _ledger(req["id"])[-2:] == [events.REQUEST_EXTEND, events.EXTENSION_DECIDE]


@pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau")
def test_refused_extension_keeps_the_due_date(app):
    """Art. 21: an extension the authority refuses leaves the due date where it was."""
    w = build_world(app)
    _authority(w)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "sharing_request_extend", w.tokens["admin_b"], id=req["id"], working_days=3, reason="r")
    done = api(app, "sharing_extension_decide", w.tokens["authority"], id=req["id"], approve=False)["result"]
    assert done["extension"]["state"] == "refused" and done["due_date"] == req["due_date"]


@pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau")
def test_art28_escalation_of_a_rejected_request_is_resolved_by_the_authority(app):
    """Art. 28: the requester escalates a rejected request; the authority approves it with a grant, once."""
    w = build_world(app)
    _authority(w)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    err = api(app, "sharing_request_escalate", w.tokens["requester"], status=409, id=req["id"], reason="r")["error"]
    assert "id" in err  # neither rejected nor overdue
    api(app, "sharing_request_reject", w.tokens["admin_b"], id=req["id"], reason="用途不明 / unclear")
    esc = api(app, "sharing_request_escalate", w.tokens["requester"], id=req["id"],
              reason="用途已在申请中写明 / the purpose is stated")["result"]
    assert esc["state"] == "escalated" and esc["escalation"]["from"] == "rejected"
    queue = api(app, "sharing_authority_queue", w.tokens["authority"], kind="escalations")["result"]["results"]
    assert [r["id"] for r in queue] == [req["id"]]
    # the authority may now see the request; the provider may not resolve it
    assert api(app, "sharing_request_show", w.tokens["authority"], id=req["id"])["result"]["state"] == "escalated"
    api(app, "sharing_request_resolve", w.tokens["admin_b"], status=403, id=req["id"], decision="approve")
    until = (clock.today() + dt.timedelta(days=10)).isoformat()
    done = api(app, "sharing_request_resolve", w.tokens["authority"], id=req["id"], decision="approve",
               note="协调同意 / agreed after coordination", expires=until)["result"]
    assert done["state"] == "approved" and done["grant_id"] and done["escalation"]["resolution"] == "approve"
    check = api(app, "sharing_access_check", w.tokens["requester"], package_id=w.pkgs["conditional"]["id"])["result"]
    assert check["allowed"] and check["reason"] == f"grant:{done['grant_id']}"
    err = api(app, "sharing_request_escalate", w.tokens["requester"], status=409, id=req["id"], reason="r")["error"]
    assert "id" in err
    # the approving resolution makes a grant the portal delivers itself (Art. 22): its delivery row follows
    assert _ledger(req["id"])[-4:] == [events.REQUEST_REJECT, events.REQUEST_ESCALATE, events.REQUEST_RESOLVE,
                                       events.GRANT_DELIVER]
    assert audit.verify()[0]


@pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau")
def test_overdue_request_escalated_and_rejected_is_final(app):
    """Art. 28: a pending request past its due date can be escalated; the authority's rejection is final."""
    w = build_world(app)
    _authority(w)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    _backdate_due(req["id"])
    assert api(app, "sharing_request_show", w.tokens["requester"], id=req["id"])["result"]["days_left"] < 0
    esc = api(app, "sharing_request_escalate", w.tokens["requester"], id=req["id"], reason="逾期未答复 / no answer")
    assert esc["result"]["escalation"]["from"] == "pending"
    done = api(app, "sharing_request_resolve", w.tokens["authority"], id=req["id"], decision="reject",
               note="涉及工作秘密 / not shareable")["result"]
    assert done["state"] == "rejected" and done["grant_id"] is None
    api(app, "sharing_request_escalate", w.tokens["requester"], status=409, id=req["id"], reason="again")
    api(app, "sharing_request_resolve", w.tokens["authority"], status=409, id=req["id"], decision="approve")


def test_a_returned_request_blocks_a_second_one_for_the_same_dataset(app):
    """A returned request is still open: the requester completes it instead of sending a second one."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "sharing_request_return", w.tokens["admin_b"], id=req["id"], missing=["x"])
    err = api(app, "sharing_request_create", w.tokens["requester"], status=409, **request_body(w))["error"]
    assert "package_id" in err


@pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau")
def test_is_authority_is_sysadmins_and_the_authority_orgs_admins(app):
    """SPEC §4b: the authority is the sysadmins plus the admins (not editors) of ckanext.sharing.authority_org."""
    from ckanext.sharing.access import roles

    w = build_world(app)
    _authority(w)
    editor = factories.User()
    call_action("organization_member_create", {"user": w.users["sysadmin"]["name"]}, id="authority-bureau",
                username=editor["name"], role="editor")
    users = {name: model.User.get(w.users[name]["id"]) for name in ("authority", "sysadmin", "admin_b", "plain")}
    assert roles.is_authority(users["authority"]) and roles.is_authority(users["sysadmin"])
    assert not roles.is_authority(users["admin_b"]) and not roles.is_authority(users["plain"])
    assert not roles.is_authority(model.User.get(editor["id"])) and not roles.is_authority(None)
    mailed = {u.name for u in roles.authority_users()}  # the organization's admins (its creator is one too)
    assert w.users["authority"]["name"] in mailed and editor["name"] not in mailed
    assert w.users["admin_b"]["name"] not in mailed
