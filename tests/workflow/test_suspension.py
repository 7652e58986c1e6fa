"""Suspension of sharing rights (Regulation Art. 27): enforced at access time through the policy and at
request creation; who may suspend and lift; one outcome for simultaneous lifts.

The authority is played by a sysadmin here (``roles.is_authority`` of issue 13 part A falls back to
sysadmins until it is merged)."""
from __future__ import annotations

import pytest

from ckan import model
from ckan.lib import jobs as ckan_jobs
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import events
from ckanext.sharing.model.obligations import SharingSuspension

from tests.workflow.obligations_support import ledger_rows
from tests.workflow.support import PLUGINS, api, build_world, ctx, request_body
from tests.workflow.test_concurrency import _race

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _granted(app, w, role: str = "requester", **body) -> dict:
    req = api(app, "sharing_request_create", w.tokens[role], **request_body(w, **body))["result"]
    return api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]


def test_art27_suspension_stops_access_and_requests_until_lifted(app):
    """Art. 27: a suspended department's grants give no access and its new requests are refused; lifting restores both."""
    w = build_world(app)
    a, b = w.orgs["a"]["id"], w.orgs["b"]["id"]
    _granted(app, w, organization_id=a)  # an organization grant: the colleague has it too
    res = w.res["upload"]
    check = api(app, "sharing_access_check", w.tokens["colleague"], package_id=w.pkgs["conditional"]["id"])
    assert check["result"]["allowed"] is True
    app.get(f"/dataset/{w.pkgs['conditional']['id']}/resource/{res['id']}/download", status=200,
            headers={"Authorization": w.tokens["colleague"]})

    ckan_jobs.get_queue().empty()
    susp = api(app, "sharing_suspension_create", w.tokens["sysadmin"], organization_id=a, provider_org_id=b,
               reason="超范围使用 / used beyond scope")["result"]
    assert susp["state"] == "active" and susp["provider_org_id"] == b
    assert "ckanext.sharing.workflow.suspension.notify_suspended" in [j.func_name for j in ckan_jobs.get_queue().jobs]
    for role in ("requester", "colleague"):
        check = api(app, "sharing_access_check", w.tokens[role], package_id=w.pkgs["conditional"]["id"])["result"]
        assert (check["allowed"], check["reason"]) == (False, "suspended"), role
    app.get(f"/dataset/{w.pkgs['conditional']['id']}/resource/{res['id']}/download", status=403,
            headers={"Authorization": w.tokens["colleague"]})
    # a new request to the same provider is refused, naming the field
    other = api(app, "package_create", w.tokens["admin_b"], name=f"{w.pkgs['conditional']['name']}-2",
                owner_org=b, sharing_tier="conditional", share_condition="gov")["result"]
    refused = api(app, "sharing_request_create", w.tokens["colleague"], status=409,
                  **request_body(w, package_id=other["id"]))
    assert "suspended" in refused["error"]["package_id"][0]
    refused = api(app, "sharing_request_create", w.tokens["colleague"], status=409,
                  **request_body(w, package_id=other["id"], organization_id=a))
    assert "organization_id" in refused["error"]
    # other providers are not concerned: C's conditional data may still be asked for
    own_c = api(app, "package_create", w.tokens["admin_c"], name=f"c-{w.pkgs['conditional']['name']}",
                owner_org=w.orgs["c"]["id"], sharing_tier="conditional", share_condition="c")["result"]
    api(app, "sharing_request_create", w.tokens["colleague"], **request_body(w, package_id=own_c["id"]))
    # the member's own rights (B's editor) are untouched
    assert api(app, "sharing_access_check", w.tokens["editor_b"],
               package_id=w.pkgs["conditional"]["id"])["result"]["reason"] == "member"

    lifted = api(app, "sharing_suspension_lift", w.tokens["sysadmin"], id=susp["id"], reason="整改完成")["result"]
    assert lifted["state"] == "lifted" and lifted["lift_reason"] == "整改完成"
    assert api(app, "sharing_access_check", w.tokens["colleague"],
               package_id=w.pkgs["conditional"]["id"])["result"]["allowed"] is True
    assert len(ledger_rows(events.SUSPENSION_CREATE)) == 1 and len(ledger_rows(events.SUSPENSION_LIFT)) == 1


def test_a_user_suspension_towards_every_provider(app):
    """Art. 27: a user suspended towards every provider loses the grants of any provider."""
    w = build_world(app)
    _granted(app, w)
    api(app, "sharing_suspension_create", w.tokens["sysadmin"], user_id=w.users["requester"]["name"], reason="滥用")
    check = api(app, "sharing_access_check", w.tokens["requester"], package_id=w.pkgs["conditional"]["id"])["result"]
    assert check["reason"] == "suspended"
    # the colleague (same department, not suspended) is not concerned
    assert api(app, "sharing_access_check", w.tokens["colleague"],
               package_id=w.pkgs["conditional"]["id"])["result"]["reason"] == "conditional"


def test_who_may_suspend_and_lift(app):
    """Only the authority, or the provider's deciders towards their own organization, suspend and lift (403 otherwise)."""
    w = build_world(app)
    a, b, c = (w.orgs[k]["id"] for k in "abc")
    body = {"organization_id": a, "provider_org_id": b, "reason": "r"}
    for role in (None, "plain", "editor_b", "admin_c", "requester", "member_b"):
        resp = api(app, "sharing_suspension_create", w.tokens[role] if role else None, status=403, **body)
        assert resp["error"]["__type"] == "Authorization Error", role
    # B's admin may suspend towards B, not towards C nor every provider
    own = api(app, "sharing_suspension_create", w.tokens["admin_b"], **body)["result"]
    api(app, "sharing_suspension_create", w.tokens["admin_b"], status=403, organization_id=a, provider_org_id=c,
        reason="r")
    api(app, "sharing_suspension_create", w.tokens["admin_b"], status=403, organization_id=a, reason="r")
    everywhere = api(app, "sharing_suspension_create", w.tokens["sysadmin"], user_id=w.users["requester"]["id"],
                     reason="r")["result"]
    for role in (None, "plain", "editor_b", "admin_c", "requester"):
        api(app, "sharing_suspension_lift", w.tokens[role] if role else None, status=403, id=own["id"], reason="x")
    # the provider's admin may not lift the authority's suspension towards every provider
    api(app, "sharing_suspension_lift", w.tokens["admin_b"], status=403, id=everywhere["id"], reason="x")
    api(app, "sharing_suspension_lift", w.tokens["admin_b"], id=own["id"], reason="ok")
    # listing: anonymous refused; a plain user sees nothing; the suspended side and the provider see theirs
    api(app, "sharing_suspension_list", None, status=403)
    assert api(app, "sharing_suspension_list", w.tokens["plain"])["result"]["count"] == 0
    assert api(app, "sharing_suspension_list", w.tokens["admin_c"])["result"]["count"] == 0
    assert api(app, "sharing_suspension_list", w.tokens["requester"])["result"]["count"] == 2
    assert api(app, "sharing_suspension_list", w.tokens["admin_b"])["result"]["count"] == 1
    assert api(app, "sharing_suspension_list", w.tokens["sysadmin"], state="active")["result"]["count"] == 1


def test_bad_input_names_the_field(app):
    """Bad suspension input is a ValidationError naming the field (nobody named, unknown ids, duplicates, twice lifted)."""
    w = build_world(app)
    a, b = w.orgs["a"]["id"], w.orgs["b"]["id"]
    sysadmin = w.tokens["sysadmin"]
    assert "user_id" in api(app, "sharing_suspension_create", sysadmin, status=409, reason="r")["error"]
    assert "user_id" in api(app, "sharing_suspension_create", sysadmin, status=409, user_id="nobody-x",
                            reason="r")["error"]
    assert "provider_org_id" in api(app, "sharing_suspension_create", sysadmin, status=409, organization_id=a,
                                    provider_org_id="no-such-org", reason="r")["error"]
    assert "organization_id" in api(app, "sharing_suspension_create", sysadmin, status=409, organization_id=b,
                                    provider_org_id=b, reason="r")["error"]
    assert "reason" in api(app, "sharing_suspension_create", sysadmin, status=409, organization_id=a)["error"]
    first = api(app, "sharing_suspension_create", sysadmin, organization_id=a, provider_org_id=b, reason="r")["result"]
    assert "organization_id" in api(app, "sharing_suspension_create", sysadmin, status=409, organization_id=a,
                                    provider_org_id=b, reason="again")["error"]
    api(app, "sharing_suspension_lift", sysadmin, id=first["id"], reason="done")
    assert "id" in api(app, "sharing_suspension_lift", sysadmin, status=409, id=first["id"], reason="x")["error"]


def test_simultaneous_lifts_end_in_one(app):
    """Two simultaneous lifts of one suspension: one succeeds, the other is refused (row lock), one ledger row."""
    w = build_world(app)
    for _ in range(4):
        susp = call_action("sharing_suspension_create", ctx(w, "sysadmin"), organization_id=w.orgs["a"]["id"],
                           reason="r")
        before = len(ledger_rows(events.SUSPENSION_LIFT))
        results = _race(app, [
            ("sharing_suspension_lift", {"user": w.users["sysadmin"]["name"]}, {"id": susp["id"], "reason": "1"}),
            ("sharing_suspension_lift", {"user": w.users["sysadmin"]["name"]}, {"id": susp["id"], "reason": "2"}),
        ])
        assert sorted(r[0] for r in results) == ["invalid", "ok"], results
        assert len(ledger_rows(events.SUSPENSION_LIFT)) == before + 1
        model.Session.expire_all()
        assert model.Session.get(SharingSuspension, susp["id"]).state == "lifted"
