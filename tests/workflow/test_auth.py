"""No IDOR: every sharing_* action refuses another organization's admin, an editor, a plain user and
anonymous (403 over HTTP), and each check is made against the object loaded by its id."""
from __future__ import annotations

import pytest

from ckan.tests.helpers import call_action

from ckanext.sharing.model import SharingGrant, SharingRequest

from tests.workflow.support import PLUGINS, api, api_get, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

OUTSIDERS = ("admin_c", "editor_b", "plain", None)  # None: anonymous


def _snapshot():
    from ckan import model

    model.Session.expire_all()
    return (
        sorted((r.id, r.state) for r in model.Session.query(SharingRequest)),
        sorted((g.id, g.state) for g in model.Session.query(SharingGrant)),
    )


def test_outsiders_get_403_on_every_action(app):
    """Outsiders get 403 on every action."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    granted = api(app, "sharing_request_create", w.tokens["colleague"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=granted["id"])["result"]
    own_c = api(app, "package_create", w.tokens["admin_c"], name="c-cond", owner_org=w.orgs["c"]["id"],
                sharing_tier="conditional", share_condition="c only")["result"]
    before = _snapshot()
    b = w.orgs["b"]["id"]
    calls = [
        ("sharing_request_show", {"id": req["id"]}),
        # the ids a caller sends along do not matter: the request is loaded by its own id
        ("sharing_request_show", {"id": req["id"], "package_id": own_c["id"], "organization_id": w.orgs["c"]["id"]}),
        ("sharing_request_approve", {"id": req["id"]}),
        ("sharing_request_approve", {"id": req["id"], "package_id": own_c["id"]}),
        ("sharing_request_reject", {"id": req["id"], "reason": "no"}),
        ("sharing_request_withdraw", {"id": req["id"]}),
        ("sharing_request_list", {"organization_id": b}),
        ("sharing_request_list", {"organization_id": w.orgs["b"]["name"], "state": "pending"}),
        ("sharing_grant_list", {"organization_id": b}),
        ("sharing_grant_show", {"id": grant["id"]}),
        ("sharing_grant_revoke", {"id": grant["id"], "reason": "no"}),
        ("sharing_audit_list", {"organization_id": b}),
        ("sharing_access_check", {"package_id": w.pkgs["not_shared"]["id"]}),
    ]
    refused = 0
    for role in OUTSIDERS:
        token = w.tokens[role] if role else None
        for action, body in calls:
            if role == "editor_b" and action == "sharing_access_check":
                continue  # an editor of B is a member: B's not_shared dataset is theirs to see
            resp = api(app, action, token, status=None, **body)
            assert resp["success"] is False and resp["error"]["__type"] == "Authorization Error", (role, action, resp)
            refused += 1
        if role is None:
            for action in ("sharing_request_create", "sharing_request_list", "sharing_grant_list",
                           "sharing_audit_list"):
                body = request_body(w) if action == "sharing_request_create" else {}
                resp = api(app, action, None, status=403, **body)
                refused += 1
    assert refused == 4 * len(calls) - 1 + 4
    assert _snapshot() == before

    # the requester's colleague and B's plain member are outsiders to the request too
    for role in ("colleague", "member_b"):
        api(app, "sharing_request_show", w.tokens[role], status=403, id=req["id"])
        api(app, "sharing_request_approve", w.tokens[role], status=403, id=req["id"])
        api(app, "sharing_request_withdraw", w.tokens[role], status=403, id=req["id"])
    # the requester may not decide their own request, nor revoke, nor read the ledger
    api(app, "sharing_request_approve", w.tokens["requester"], status=403, id=req["id"])
    api(app, "sharing_grant_revoke", w.tokens["colleague"], status=403, id=grant["id"], reason="mine")
    api(app, "sharing_audit_list", w.tokens["requester"], status=403)
    # a decider may not withdraw on the requester's behalf
    api(app, "sharing_request_withdraw", w.tokens["admin_b"], status=403, id=req["id"])
    assert _snapshot() == before


def test_lists_show_only_what_the_caller_may_see(app):
    """Lists show only what the caller may see."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    other = api(app, "sharing_request_create", w.tokens["colleague"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=other["id"])["result"]

    def ids(action: str, role: str, **params) -> set[str]:
        return {r["id"] for r in api_get(app, action, w.tokens[role], **params)["result"]["results"]}

    assert ids("sharing_request_list", "requester") == {req["id"]}
    assert ids("sharing_request_list", "colleague") == {other["id"]}
    assert ids("sharing_request_list", "admin_b") == {req["id"], other["id"]}
    assert ids("sharing_request_list", "sysadmin") == {req["id"], other["id"]}
    for role in ("admin_c", "editor_b", "plain", "member_b"):
        assert ids("sharing_request_list", role) == set(), role
        assert ids("sharing_grant_list", role) == set(), role
        # a package filter does not widen what is visible
        assert ids("sharing_request_list", role, package_id=w.pkgs["conditional"]["id"]) == set(), role
    assert ids("sharing_grant_list", "colleague") == {grant["id"]}
    assert ids("sharing_grant_list", "requester") == set()
    assert ids("sharing_grant_list", "admin_b") == {grant["id"]}
    # the ledger: C's admin sees nothing of B's; B's admin sees B's rows
    assert api_get(app, "sharing_audit_list", w.tokens["admin_c"])["result"]["count"] == 0
    b_rows = api_get(app, "sharing_audit_list", w.tokens["admin_b"])["result"]
    assert b_rows["count"] >= 3 and {r["organization_id"] for r in b_rows["results"]} == {w.orgs["b"]["id"]}


def test_editors_decide_when_configured(app, ckan_config, monkeypatch):
    """Editors decide when configured."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "sharing_request_approve", w.tokens["editor_b"], status=403, id=req["id"])
    monkeypatch.setitem(ckan_config, "ckanext.sharing.approver_capacity", "editor")
    grant = call_action("sharing_request_approve", ctx(w, "editor_b"), id=req["id"])
    assert grant["state"] == "active"


def test_anonymous_access_check_and_api_help(app):
    """Anonymous access check and API help."""
    w = build_world(app)
    check = api_get(app, "sharing_access_check", None, package_id=w.pkgs["conditional"]["name"])["result"]
    assert (check["allowed"], check["access"], check["reason"]) == (False, "metadata", "conditional")
    assert check["request_url"].endswith(f"/dataset/{w.pkgs['conditional']['id']}/request-access")
    assert api_get(app, "sharing_access_check", None, package_id=w.pkgs["open"]["id"])["result"]["reason"] == "open"
    # every workflow action documents its parameters in CKAN's API help
    from ckanext.sharing.logic import action as actions

    for name in sorted(n for n in actions.get_actions() if n.startswith("sharing_")):
        doc = api_get(app, "help_show", None, name=name)["result"]
        assert doc and ":param" in doc and ":rtype:" in doc, name
