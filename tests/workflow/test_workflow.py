"""The 按需共享 workflow end to end over HTTP on the real stack (PostgreSQL, Solr, DataStore)."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from ckan import model
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import chain as audit, events
from ckanext.sharing.model import SharingGrant, SharingRequest

from tests.workflow.support import ART20_FIELDS, PLUGINS, api, api_get, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _download(app, w, res_key: str, token: str | None, status: int):
    pkg = w.pkgs["conditional"]
    res = w.res[res_key]
    url = f"/dataset/{pkg['id']}/resource/{res['id']}/download"
    if res_key == "upload":
        url += "/rows.csv"
    headers = {"Authorization": token} if token else {}
    return app.get(url, headers=headers, status=status, follow_redirects=False)


def test_request_approve_access_expire_and_revoke_end_to_end(app):
    """Request approve access expire and revoke end to end."""
    w = build_world(app)
    requester, admin_b = w.tokens["requester"], w.tokens["admin_b"]
    pkg = w.pkgs["conditional"]

    # before: metadata only, downloads and DataStore refused
    check = api_get(app, "sharing_access_check", requester, package_id=pkg["id"])["result"]
    assert check["allowed"] is False and check["reason"] == "conditional"
    _download(app, w, "upload", requester, 403)
    api_get(app, "datastore_search", requester, status=403, resource_id=w.res["table"]["id"])

    # A's user asks for the whole dataset; B's admin approves 30 days for the upload and the table only
    req = api(app, "sharing_request_create", requester, **request_body(w))["result"]
    assert req["state"] == "pending" and req["due_date"]
    grant = api(app, "sharing_request_approve", admin_b, id=req["id"],
                expires=(dt.date.today() + dt.timedelta(days=30)).isoformat(),
                resource_ids=[w.res["upload"]["id"], w.res["table"]["id"]])["result"]
    assert grant["state"] == "active"
    assert set(grant["resource_ids"]) == {w.res["upload"]["id"], w.res["table"]["id"]}
    assert api(app, "sharing_request_show", requester, id=req["id"])["result"]["state"] == "approved"

    # the granted resources: downloaded and read; the other one refused
    assert _download(app, w, "upload", requester, 200).data == b"a,b\n1,2\n"
    rows = api_get(app, "datastore_search", requester, resource_id=w.res["table"]["id"])["result"]["records"]
    assert rows and rows[0]["v"].startswith("row-")
    _download(app, w, "link", requester, 403)
    check = api_get(app, "sharing_access_check", requester, package_id=pkg["id"],
                    resource_id=w.res["upload"]["id"])["result"]
    assert check["allowed"] is True and check["reason"] == f"grant:{grant['id']}"
    shown = api_get(app, "package_show", requester, id=pkg["id"])["result"]
    by_id = {r["id"]: r for r in shown["resources"]}
    assert by_id[w.res["link"]["id"]]["sharing_restricted"] is True
    assert "secret-" not in by_id[w.res["link"]["id"]]["url"]
    # a colleague in department A has no grant (the request was personal)
    _download(app, w, "upload", w.tokens["colleague"], 403)

    # the ledger: request → approval → accesses, in order, with the grant on each access
    rows = api_get(app, "sharing_audit_list", admin_b, package_id=pkg["id"], limit=100)["result"]["results"]
    actions = [r["action"] for r in reversed(rows) if r["action"] != events.TIER_CHANGE]
    assert actions[:2] == [events.REQUEST_CREATE, events.REQUEST_APPROVE]
    accesses = [r for r in rows if r["action"] == events.DATA_ACCESS]
    assert {r["resource_id"] for r in accesses} == {w.res["upload"]["id"], w.res["table"]["id"]}
    assert all(r["grant_id"] == grant["id"] and r["actor_id"] == w.users["requester"]["id"] for r in accesses)
    assert "datastore_search" in {r["detail"]["channel"] for r in accesses}
    assert audit.verify()[0]

    # time moves past the end: refused again, without any job having run
    with freeze_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=32)):
        _download(app, w, "upload", requester, 403)
        api_get(app, "datastore_search", requester, status=403, resource_id=w.res["table"]["id"])
        check = api_get(app, "sharing_access_check", requester, package_id=pkg["id"],
                        resource_id=w.res["upload"]["id"])["result"]
        assert check["allowed"] is False and check["reason"] == "grant_expired"


def test_revocation_takes_effect_immediately(app):
    """Revocation takes effect immediately."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]
    assert grant["resource_ids"] == []  # whole dataset
    _download(app, w, "upload", w.tokens["requester"], 200)
    _download(app, w, "link", w.tokens["requester"], 302)  # a link resource redirects to its URL

    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant["id"], reason="项目结束 / project over")
    _download(app, w, "upload", w.tokens["requester"], 403)
    _download(app, w, "link", w.tokens["requester"], 403)
    shown = api_get(app, "sharing_grant_show", w.tokens["requester"], id=grant["id"])["result"]
    assert shown["state"] == "revoked" and shown["revoke_reason"].startswith("项目结束")
    # revoking twice is a validation error, not a 500
    err = api(app, "sharing_grant_revoke", w.tokens["admin_b"], status=409, id=grant["id"], reason="again")
    assert "id" in err["error"]


def test_organization_grant_covers_all_members(app):
    """Organization grant covers all members."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"],
              **request_body(w, organization_id=w.orgs["a"]["name"]))["result"]
    assert req["organization_id"] == w.orgs["a"]["id"]
    api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])
    _download(app, w, "upload", w.tokens["colleague"], 200)
    _download(app, w, "upload", w.tokens["plain"], 403)
    # on behalf of an organization the requester does not belong to: refused
    err = api(app, "sharing_request_create", w.tokens["plain"], status=409,
              **request_body(w, organization_id=w.orgs["b"]["id"]))
    assert "organization_id" in err["error"]


def test_refusals_of_request_create(app):
    """Refusals of request create."""
    w = build_world(app)
    tok = w.tokens["requester"]
    err = api(app, "sharing_request_create", tok, status=409, **request_body(w, package_id=w.pkgs["open"]["id"]))
    assert "already open" in err["error"]["package_id"][0]
    err = api(app, "sharing_request_create", tok, status=409,
              **request_body(w, package_id=w.pkgs["not_shared"]["id"]))
    assert "cannot be requested" in err["error"]["package_id"][0]
    err = api(app, "sharing_request_create", w.tokens["member_b"], status=409, **request_body(w))
    assert "already have access" in err["error"]["package_id"][0]
    api(app, "sharing_request_create", tok, **request_body(w))
    err = api(app, "sharing_request_create", tok, status=409, **request_body(w))
    assert "pending request" in err["error"]["package_id"][0]
    # the database enforces it too: a second pending row cannot be inserted behind the action's back
    first = model.Session.query(SharingRequest).filter_by(requester_id=w.users["requester"]["id"]).one()
    dup = SharingRequest(package_id=first.package_id, requester_id=first.requester_id, purpose="x",
                         use_scenario="y", requested_days=1, state="pending")
    model.Session.add(dup)
    with pytest.raises(Exception) as exc:
        model.Session.commit()
    assert "sharing_request_one_pending_uq" in str(exc.value)
    model.Session.rollback()


BAD_INPUT = [
    ("sharing_request_create", {}, {"package_id", "purpose", "use_scenario"}),
    ("sharing_request_create", {"purpose": "", "use_scenario": "  "}, {"package_id", "purpose", "use_scenario"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "p", "use_scenario": "u", "requested_days": 0},
     {"requested_days"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "p", "use_scenario": "u", "requested_days": 100000},
     {"requested_days"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "p", "use_scenario": "u", "requested_days": "abc"},
     {"requested_days"}),
    ("sharing_request_create", {"PKG": 1, "purpose": ["x"], "use_scenario": "u"}, {"purpose"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "p", "use_scenario": "u", "resource_ids": [{"a": 1}]},
     {"resource_ids"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "p", "use_scenario": "u", "resource_ids": ["nope"]},
     {"resource_ids"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "x" * 5000, "use_scenario": "u"}, {"purpose"}),
    ("sharing_request_create", {"purpose": "p", "use_scenario": "u"}, {"use_basis", "use_scope", "share_method"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "p", "use_scenario": "u", "share_method": "信鸽"},
     {"share_method"}),
    ("sharing_request_create", {"PKG": 1, "purpose": "p", "use_scenario": "u", "use_basis": " ", "use_scope": ""},
     {"use_basis", "use_scope"}),
    ("sharing_request_return", {"REQ": 1, "missing": []}, {"missing"}),
    ("sharing_request_return", {"REQ": 1, "missing": ["  ", ""]}, {"missing"}),
    ("sharing_request_return", {"REQ": 1}, {"missing"}),
    ("sharing_request_resubmit", {"REQ": 1, "requested_days": 0, "share_method": "x"},
     {"requested_days", "share_method"}),
    ("sharing_request_extend", {"REQ": 1, "working_days": 11, "reason": "r"}, {"working_days"}),
    ("sharing_request_extend", {"REQ": 1, "working_days": 0}, {"working_days", "reason"}),
    ("sharing_extension_decide", {"REQ": 1, "approve": "perhaps"}, {"approve"}),
    ("sharing_extension_decide", {"REQ": 1}, {"approve"}),
    ("sharing_request_escalate", {"REQ": 1}, {"reason"}),
    ("sharing_request_resolve", {"REQ": 1, "decision": "maybe", "expires": "soon"}, {"decision", "expires"}),
    ("sharing_authority_queue", {"kind": "everything"}, {"kind"}),
    ("sharing_request_show", {}, {"id"}),
    ("sharing_request_show", {"id": ["a"]}, {"id"}),
    ("sharing_request_list", {"state": "bogus"}, {"state"}),
    ("sharing_request_list", {"limit": -1, "offset": "x"}, {"limit", "offset"}),
    ("sharing_request_list", {"mine": "perhaps"}, {"mine"}),
    ("sharing_request_approve", {}, {"id"}),
    ("sharing_request_approve", {"REQ": 1, "expires": "next tuesday"}, {"expires"}),
    ("sharing_request_approve", {"REQ": 1, "expires": "2000-01-01"}, {"expires"}),
    ("sharing_request_approve", {"REQ": 1, "expires": "2999-01-01"}, {"expires"}),
    ("sharing_request_approve", {"REQ": 1, "resource_ids": ["not-requested"]}, {"resource_ids"}),
    ("sharing_request_reject", {"REQ": 1}, {"reason"}),
    ("sharing_request_reject", {"REQ": 1, "reason": "   "}, {"reason"}),
    ("sharing_request_withdraw", {}, {"id"}),
    ("sharing_grant_list", {"state": "pending"}, {"state"}),
    ("sharing_grant_show", {}, {"id"}),
    ("sharing_grant_revoke", {"GRANT": 1}, {"reason"}),
    ("sharing_grant_revoke", {}, {"id", "reason"}),
    ("sharing_access_check", {}, {"package_id"}),
    ("sharing_access_check", {"PKG": 1, "resource_id": "not-a-resource"}, {"resource_id"}),
    ("sharing_audit_list", {"since": "yesterday", "limit": 0}, {"since", "limit"}),
    ("sharing_audit_proof", {"id": "1 OR 1=1"}, {"id"}),
    ("sharing_audit_proof", {}, {"id"}),
    ("sharing_audit_checkpoint_list", {"limit": "many", "offset": -1}, {"limit", "offset"}),
    # regb: obligations (Regulation Art. 22, 26, 27, 29)
    ("sharing_grant_deliver", {}, {"id", "method"}),
    ("sharing_grant_deliver", {"GRANT": 1, "method": "email"}, {"method"}),
    ("sharing_suspension_create", {"user_id": ["a"]}, {"user_id", "reason"}),
    ("sharing_suspension_lift", {}, {"id", "reason"}),
    ("sharing_suspension_list", {"state": "bogus"}, {"state"}),
    ("sharing_use_report_create", {}, {"grant_id", "scenario", "process", "outcome", "storage"}),
    ("sharing_use_report_list", {"limit": 0}, {"limit"}),
    ("sharing_correction_create", {}, {"package_id", "description"}),
    ("sharing_correction_answer", {}, {"id", "answer", "corrected"}),
    ("sharing_correction_list", {"state": "x", "mine": "perhaps"}, {"state", "mine"}),
    ("sharing_stats_show", {"organization_id": "two words"}, {"organization_id"}),
    ("sharing_stats_department_show", {"figure": "bogus"}, {"organization_id", "figure"}),
    ("sharing_stats_department_list", {"sort": "bogus", "order": "sideways"}, {"sort", "order"}),
]


def test_bad_input_on_every_action_is_a_validation_error(app):
    """Bad input on every action is a validation error."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    other = api(app, "sharing_request_create", w.tokens["colleague"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=other["id"])["result"]
    covered = set()
    for action, body, fields in BAD_INPUT:
        body = dict(body)
        if body.pop("PKG", None):
            body = {**ART20_FIELDS, "package_id": w.pkgs["conditional"]["id"], **body}
        if body.pop("REQ", None):
            body["id"] = req["id"]
        if body.pop("GRANT", None):
            body["id"] = grant["id"]
        if action in ("sharing_audit_list", "sharing_stats_department_show", "sharing_stats_department_list"):
            token = w.tokens["sysadmin"]
        elif action in ("sharing_request_approve", "sharing_request_reject", "sharing_grant_revoke"):
            token = w.tokens["admin_b"]
        elif action == "sharing_request_create" and "package_id" in body:
            token = w.tokens["plain"]
        else:
            token = w.tokens["requester"]
        resp = api(app, action, token, status=None, **body)
        assert resp["success"] is False, (action, body, resp)
        assert resp["error"]["__type"] == "Validation Error", (action, body, resp)
        assert fields <= set(resp["error"]), (action, body, resp["error"])
        covered.add(action)
    from ckanext.sharing.logic import action as actions

    public = {n for n in actions.get_actions() if n.startswith("sharing_")}
    assert public == covered, public ^ covered
    # nothing changed state
    assert api(app, "sharing_request_show", w.tokens["requester"], id=req["id"])["result"]["state"] == "pending"


def test_withdraw_and_reject(app):
    """A requester withdraws a pending request; a decider rejects one with a reason."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    done = api(app, "sharing_request_withdraw", w.tokens["requester"], id=req["id"])["result"]
    assert done["state"] == "withdrawn"
    err = api(app, "sharing_request_approve", w.tokens["admin_b"], status=409, id=req["id"])
    assert "no longer pending" in err["error"]["id"][0]
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    done = api(app, "sharing_request_reject", w.tokens["admin_b"], id=req["id"], reason="用途不明确")["result"]
    assert done["state"] == "rejected" and done["decision_reason"] == "用途不明确"
    assert model.Session.query(SharingGrant).count() == 0


def test_tier_change_cancels_requests_and_revokes_grants(app):
    """Tier change cancels requests and revokes grants."""
    w = build_world(app)
    pkg = w.pkgs["conditional"]
    granted = api(app, "sharing_request_create", w.tokens["colleague"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=granted["id"])["result"]
    pending = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]

    api(app, "package_patch", w.tokens["admin_b"], id=pkg["id"], sharing_tier="not_shared",
        share_basis="Law Y art. 2", private=True)
    assert api_get(app, "sharing_request_show", w.tokens["requester"], id=pending["id"])["result"]["state"] == \
        "cancelled"
    assert api_get(app, "sharing_grant_show", w.tokens["admin_b"], id=grant["id"])["result"]["state"] == "revoked"
    rows = call_action("sharing_audit_list", ctx(w, "sysadmin"), package_id=pkg["id"])["results"]
    acts = [r["action"] for r in rows]
    assert events.REQUEST_CANCEL in acts and events.GRANT_REVOKE in acts and events.TIER_CHANGE in acts

    # conditional -> open cancels pending requests ("now open")
    api(app, "package_patch", w.tokens["admin_b"], id=pkg["id"], sharing_tier="conditional",
        share_condition="again on request", share_scope="city departments", private=False)
    again = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "package_patch", w.tokens["admin_b"], id=pkg["id"], sharing_tier="open")
    shown = api_get(app, "sharing_request_show", w.tokens["requester"], id=again["id"])["result"]
    assert shown["state"] == "cancelled" and "open" in shown["decision_reason"]


def test_due_dates_use_working_days_and_overdue_comes_first(app, ckan_config, monkeypatch):
    """Due dates use working days and overdue comes first."""
    monkeypatch.setitem(ckan_config, "ckanext.sharing.reply_working_days", 3)
    monkeypatch.setitem(ckan_config, "ckanext.sharing.holidays", ["2026-10-01", "2026-10-02", "2026-10-05"])
    monkeypatch.setitem(ckan_config, "ckanext.sharing.extra_workdays", ["2026-10-10"])
    w = build_world(app)
    # Wed 2026-09-30: Thu 10-01, Fri 10-02 and Mon 10-05 are holidays, 10-03/10-04 a weekend,
    # so Tue 10-06 is working day 1, Wed 10-07 day 2, Thu 10-08 day 3
    with freeze_time("2026-09-30 03:00:00"):
        old = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    assert old["due_date"] == "2026-10-08"
    # Thu 2026-10-08: Fri 10-09 day 1, Sat 10-10 a 调休 working day (day 2), Mon 10-12 day 3
    with freeze_time("2026-10-08 03:00:00"):
        new = call_action("sharing_request_create", ctx(w, "colleague"), **request_body(w))
    assert new["due_date"] == "2026-10-12"
    with freeze_time("2026-10-10 03:00:00"):
        queue = call_action("sharing_request_list", ctx(w, "admin_b"), organization_id=w.orgs["b"]["id"])
    assert [r["id"] for r in queue["results"]] == [old["id"], new["id"]]
    assert [r["overdue"] for r in queue["results"]] == [True, False]
