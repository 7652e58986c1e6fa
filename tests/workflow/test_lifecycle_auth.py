"""Who may take each step of the 2025 Regulation's lifecycle (SPEC §4b), over HTTP: everybody else gets
403 and nothing changes; the check is made on the request loaded by its own id (no IDOR). Two
transitions racing on one request end in exactly one outcome (the request row is locked)."""
from __future__ import annotations

import pytest

from ckan import model
from ckan.tests import factories

from ckanext.sharing.ledger import events
from ckanext.sharing.model import SharingAudit, SharingGrant, SharingRequest

from tests.workflow.support import PLUGINS, api, build_world, ctx, request_body
from tests.workflow.test_concurrency import _race

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
    pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau"),
]

# (action, valid body, who may, who may not: None = anonymous)
STEPS = [
    ("sharing_request_return", {"missing": ["x"]}, "admin_b", (None, "plain", "editor_b", "admin_c", "requester", "officer")),
    ("sharing_request_extend", {"working_days": 2, "reason": "r"}, "admin_b",
     (None, "plain", "editor_b", "admin_c", "requester", "officer")),
    ("sharing_request_resubmit", {"purpose": "p2"}, "requester", (None, "plain", "editor_b", "admin_c", "admin_b",
                                                                  "colleague", "officer")),
    ("sharing_request_escalate", {"reason": "r"}, "requester", (None, "plain", "editor_b", "admin_c", "admin_b",
                                                                "colleague", "officer")),
    ("sharing_extension_decide", {"approve": True}, "officer", (None, "plain", "editor_b", "admin_c", "admin_b",
                                                                "requester", "officer_editor")),
    ("sharing_request_resolve", {"decision": "reject"}, "officer", (None, "plain", "editor_b", "admin_c", "admin_b",
                                                                   "requester", "officer_editor")),
]


def _with_authority(w) -> None:
    """An admin (``officer``) and an editor (``officer_editor``) of the authority's organization."""
    for role in ("officer", "officer_editor"):
        w.users[role] = factories.User()
        w.tokens[role] = factories.APIToken(user=w.users[role]["name"])["token"]
    factories.Organization(name="authority-bureau", users=[
        {"name": w.users["officer"]["name"], "capacity": "admin"},
        {"name": w.users["officer_editor"]["name"], "capacity": "editor"},
    ])


def _state() -> list[tuple]:
    model.Session.expire_all()
    return sorted((r.id, r.state, r.extension_state, r.escalated_at is not None, r.purpose)
                  for r in model.Session.query(SharingRequest))


@pytest.mark.parametrize("action,body,allowed,refused", STEPS, ids=[s[0] for s in STEPS])
def test_everybody_else_gets_403_and_nothing_changes(app, action, body, allowed, refused):
    """Each lifecycle action refuses anonymous, a plain user, an editor, another organization's admin and the
    side that may not act (403, nothing changed); ids sent along are ignored; the allowed role gets past auth."""
    w = build_world(app)
    _with_authority(w)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    own_c = api(app, "package_create", w.tokens["admin_c"], name="c-cond-l", owner_org=w.orgs["c"]["id"],
                sharing_tier="conditional", share_condition="c only")["result"]
    before, rows = _state(), model.Session.query(SharingAudit).count()
    for role in refused:
        token = w.tokens[role] if role else None
        for extra in ({}, {"package_id": own_c["id"], "organization_id": w.orgs["c"]["id"]}):
            resp = api(app, action, token, status=403, id=req["id"], **body, **extra)
            assert resp["success"] is False, (action, role)
    assert _state() == before and model.Session.query(SharingAudit).count() == rows
    # the allowed role passes auth: either it works or it is refused for the request's state (409), never 403
    resp = api(app, action, w.tokens[allowed], status=None, id=req["id"], **body)
    assert resp["success"] or resp["error"]["__type"] == "Validation Error", resp


def test_authority_queue_is_the_authoritys_only(app):
    """sharing_authority_queue and the authority's page answer 403 to everybody but the authority."""
    w = build_world(app)
    _with_authority(w)
    for role in (None, "plain", "editor_b", "admin_b", "admin_c", "requester", "officer_editor"):
        api(app, "sharing_authority_queue", w.tokens[role] if role else None, status=403, kind="escalations")
    assert api(app, "sharing_authority_queue", w.tokens["officer"], kind="extensions")["success"]
    assert api(app, "sharing_authority_queue", w.tokens["sysadmin"], kind="escalations")["success"]
    page = app.get("/sharing/authority", headers={"Authorization": w.tokens["admin_b"]}, status=403)
    assert page.status_code == 403
    assert "sharing-escalations" in app.get("/sharing/authority", headers={"Authorization": w.tokens["officer"]}).body


def test_the_authority_sees_only_requests_put_before_it(app):
    """The authority reads a request once it was escalated or an extension was asked, not before."""
    w = build_world(app)
    _with_authority(w)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "sharing_request_show", w.tokens["officer"], status=403, id=req["id"])
    api(app, "sharing_request_extend", w.tokens["admin_b"], id=req["id"], working_days=1, reason="r")
    assert api(app, "sharing_request_show", w.tokens["officer"], id=req["id"])["result"]["id"] == req["id"]


@pytest.mark.parametrize("first,second,field", [
    (("sharing_request_return", "admin_b", {"missing": ["x"]}), ("sharing_request_approve", "sysadmin", {}), "id"),
    (("sharing_request_extend", "admin_b", {"working_days": 2, "reason": "r"}),
     ("sharing_request_extend", "sysadmin", {"working_days": 3, "reason": "r"}), "working_days"),
    (("sharing_request_return", "admin_b", {"missing": ["x"]}), ("sharing_request_withdraw", "requester", {}), "id"),
], ids=["return-approve", "extend-extend", "return-withdraw"])
def test_racing_transitions_end_in_exactly_one_outcome(app, first, second, field):
    """Two transitions on one request at the same moment: one succeeds, the other is refused naming a field,
    and the ledger has one row for the winner only (SELECT … FOR UPDATE on the request row)."""
    w = build_world(app)
    for _ in range(4):
        req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
        # the transitions' own rows: an approval also records the grant's delivery (Art. 22), not a transition
        rows = model.Session.query(SharingAudit).filter_by(request_id=req["id"]).filter(
            SharingAudit.action != events.GRANT_DELIVER)
        before = rows.count()
        results = _race(app, [(name, ctx(w, role), {"id": req["id"], **body}) for name, role, body in (first, second)])
        assert sorted(r[0] for r in results) == ["invalid", "ok"], results
        assert field in next(r[1] for r in results if r[0] == "invalid")
        model.Session.expire_all()
        assert rows.count() == before + 1
        _free_the_requester(app, w, req["id"])


def _free_the_requester(app, w, request_id: str) -> None:
    """Close the round's request (and revoke its grant) so the requester may ask again."""
    row = model.Session.get(SharingRequest, request_id)
    if row.state in ("pending", "returned", "escalated"):
        row.state = "withdrawn"
        model.Session.commit()
    for grant in model.Session.query(SharingGrant).filter_by(request_id=request_id, state="active").all():
        api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant.id, reason="next round")
