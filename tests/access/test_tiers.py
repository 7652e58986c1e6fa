"""The ``sharing_tier`` field on the plain CKAN schema (no scheming): SPEC §1 rules over the API."""
from __future__ import annotations

import pytest

from ckan import model
from ckan.tests import factories

from ckanext.sharing.ledger import chain as audit, events
from ckanext.sharing.model import SharingAudit

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "activity datastore sharing"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


@pytest.fixture
def owner(app):
    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "admin"}])
    token = factories.APIToken(user=user["name"])["token"]
    return {"user": user, "org": org, "token": token}


def _call(app, owner, action, status=200, **data):
    resp = app.post(f"/api/3/action/{action}", json=data, headers={"Authorization": owner["token"]}, status=status)
    return resp.json


def _tier(pkg):
    return pkg["sharing_tier"], pkg["private"]


def test_plain_clients_keep_plain_ckan_behaviour(app, owner):
    """A client that sends no tier gets the tier from ``private``, shown top-level, and its extras untouched."""
    public = _call(app, owner, "package_create", name="plain-pub", owner_org=owner["org"]["id"],
                   extras=[{"key": "original media", "value": "book"}])["result"]
    private = _call(app, owner, "package_create", name="plain-priv", owner_org=owner["org"]["id"], private=True)["result"]
    assert _tier(public) == ("open", False)
    assert _tier(private) == ("not_shared", True)
    assert public["extras"] == [{"key": "original media", "value": "book"}]
    assert private["extras"] == []


def test_plain_extras_round_trip(app, owner):
    """show → update with the shown dict, then emptying the extras, leaves exactly the client's extras (SPEC §1)."""
    pkg = _call(app, owner, "package_create", name="plain-rt", owner_org=owner["org"]["id"],
                extras=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])["result"]
    shown = _call(app, owner, "package_show", id=pkg["id"])["result"]
    updated = _call(app, owner, "package_update", **shown)["result"]
    assert updated["extras"] == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    emptied = _call(app, owner, "package_update", id=pkg["id"], name="plain-rt", owner_org=owner["org"]["id"],
                    extras=[])["result"]
    assert emptied["extras"] == []
    assert _tier(emptied) == ("open", False)


def test_conditional_tier_is_kept_as_an_extra(app, owner):
    """On the plain schema the one tier ``private`` cannot express (conditional) is stored as an extra."""
    pkg = _call(app, owner, "package_create", name="cond-extra", owner_org=owner["org"]["id"],
                sharing_tier="conditional", share_condition="c")["result"]
    assert {"key": "sharing_tier", "value": "conditional"} in pkg["extras"]
    assert _tier(pkg) == ("conditional", False)


def test_private_is_derived_from_the_tier(app, owner):
    """Private is derived from the tier."""
    pkg = _call(app, owner, "package_create", name="cond", owner_org=owner["org"]["id"],
                sharing_tier="conditional", share_condition="政务用途")["result"]
    assert _tier(pkg) == ("conditional", False)
    pkg = _call(app, owner, "package_patch", id=pkg["id"], sharing_tier="not_shared", share_basis="保密法")["result"]
    assert _tier(pkg) == ("not_shared", True)


@pytest.mark.parametrize("synonym,tier", [("普遍共享", "open"), ("依申请开放", "conditional"), ("不予共享", "not_shared")])
def test_chinese_synonyms_are_accepted(app, owner, synonym, tier):
    """Chinese synonyms are accepted."""
    pkg = _call(app, owner, "package_create", name=f"syn-{tier}", owner_org=owner["org"]["id"],
                sharing_tier=synonym, share_condition="c", share_basis="b")["result"]
    assert pkg["sharing_tier"] == tier


def test_contradiction_names_both_fields(app, owner):
    """Contradiction names both fields."""
    err = _call(app, owner, "package_create", 409, name="bad", owner_org=owner["org"]["id"],
                sharing_tier="open", private=True)["error"]
    assert err["__type"] == "Validation Error"
    assert "private" in err and "sharing_tier" in err
    assert model.Package.get("bad") is None  # nothing half-written


@pytest.mark.parametrize("tier,field", [("conditional", "share_condition"), ("not_shared", "share_basis")])
def test_justification_is_required(app, owner, tier, field):
    """Choosing conditional or not_shared needs its justification field."""
    err = _call(app, owner, "package_create", 409, name="nojust", owner_org=owner["org"]["id"], sharing_tier=tier)["error"]
    assert field in err


def test_unknown_tier_is_a_validation_error(app, owner):
    """Unknown tier is a validation error."""
    err = _call(app, owner, "package_create", 409, name="unk", owner_org=owner["org"]["id"], sharing_tier="secret")["error"]
    assert "sharing_tier" in err


def test_update_without_tier_keeps_the_tier(app, owner):
    """Update without tier keeps the tier."""
    pkg = _call(app, owner, "package_create", name="keep", owner_org=owner["org"]["id"],
                sharing_tier="conditional", share_condition="c")["result"]
    updated = _call(app, owner, "package_update", id=pkg["id"], name="keep", owner_org=owner["org"]["id"],
                    title="new title", extras=[{"key": "share_condition", "value": "c"}])["result"]
    assert _tier(updated) == ("conditional", False)


def test_every_tier_change_is_audited(app, owner):
    """Every tier change is audited."""
    pkg = _call(app, owner, "package_create", name="aud", owner_org=owner["org"]["id"])["result"]
    _call(app, owner, "package_patch", id=pkg["id"], sharing_tier="conditional", share_condition="c",
          sharing_change_reason="部门要求")
    _call(app, owner, "package_patch", id=pkg["id"], title="no tier change")
    rows = (model.Session.query(SharingAudit).filter_by(package_id=pkg["id"], action=events.TIER_CHANGE)
            .order_by(SharingAudit.id).all())
    assert [(r.detail["old"], r.detail["new"]) for r in rows] == [(None, "open"), ("open", "conditional")]
    assert rows[1].detail["reason"] == "部门要求"
    assert rows[1].actor_id == owner["user"]["id"]
    ok, count, problems = audit.verify()
    assert ok and count >= 2, problems


def test_tier_change_takes_effect_in_search_at_once(app, owner):
    """Tier change takes effect in search at once."""
    pkg = _call(app, owner, "package_create", name="flip", owner_org=owner["org"]["id"],
                resources=[{"url": "https://files.example.gov.cn/flip.csv", "name": "r"}])["result"]
    search = lambda: app.get("/api/3/action/package_search", query_string={"fq": f"id:{pkg['id']}", "fl": "id,res_url"}).json["result"]
    assert "https://files.example.gov.cn/flip.csv" in str(search())
    _call(app, owner, "package_patch", id=pkg["id"], sharing_tier="conditional", share_condition="c")
    after = search()  # the very next request, anonymous: no stale window
    assert after["count"] == 1
    assert "flip.csv" not in str(after)
    _call(app, owner, "package_patch", id=pkg["id"], sharing_tier="not_shared", share_basis="b")
    assert search()["count"] == 0


def test_resource_create_by_editor_keeps_real_urls(app, owner):
    """Internal read-modify-write (resource_create → package_update) must never store masked URLs."""
    pkg = _call(app, owner, "package_create", name="rmw", owner_org=owner["org"]["id"],
                sharing_tier="conditional", share_condition="c",
                resources=[{"url": "https://files.example.gov.cn/first.csv", "name": "a"}])["result"]
    _call(app, owner, "resource_create", package_id=pkg["id"], url="https://files.example.gov.cn/second.csv")
    urls = sorted(r.url for r in model.Package.get(pkg["id"]).resources)
    assert urls == ["https://files.example.gov.cn/first.csv", "https://files.example.gov.cn/second.csv"]


def test_copies_of_the_url_are_masked_too(app, owner):
    """DCAT-style resource fields (download_url, access_url) carry the data's location as well."""
    secret = "https://files.example.gov.cn/copy/secret.csv"
    pkg = _call(app, owner, "package_create", name="copies", owner_org=owner["org"]["id"],
                sharing_tier="conditional", share_condition="c",
                resources=[{"url": secret, "download_url": secret, "access_url": secret, "name": "r"}])["result"]
    shown = app.get("/api/3/action/package_show", query_string={"id": pkg["id"]}).json["result"]
    assert secret not in str(shown)
    assert "download_url" not in shown["resources"][0] and "access_url" not in shown["resources"][0]  # allow-list (issue 10)
    full = _call(app, owner, "package_show", id=pkg["id"])["result"]
    assert full["resources"][0]["download_url"] == secret


def test_plain_show_edit_update_round_trip(app, owner):
    """A plain client reads a private dataset, changes a field and writes the whole dict back."""
    pkg = _call(app, owner, "package_create", name="roundtrip", owner_org=owner["org"]["id"], private=True)["result"]
    pkg["title"] = "edited"
    updated = _call(app, owner, "package_update", **pkg)["result"]  # resubmits sharing_tier=not_shared, no basis
    assert _tier(updated) == ("not_shared", True) and updated["title"] == "edited"
    updated["private"] = False  # ...and then makes it public, the tier it resends untouched
    public = _call(app, owner, "package_update", **updated)["result"]
    assert _tier(public) == ("open", False)


def test_choosing_a_tier_still_needs_its_justification(app, owner):
    """Choosing a tier still needs its justification."""
    pkg = _call(app, owner, "package_create", name="choose", owner_org=owner["org"]["id"])["result"]
    err = _call(app, owner, "package_patch", 409, id=pkg["id"], sharing_tier="not_shared")["error"]
    assert "share_basis" in err


def test_unchanged_update_changes_nothing(app, owner):
    """Updating with the dict package_show gave is no change: same metadata_modified, no "changed package" activity."""
    pkg = _call(app, owner, "package_create", name="same", owner_org=owner["org"]["id"])["result"]
    shown = _call(app, owner, "package_show", id=pkg["id"])["result"]
    updated = _call(app, owner, "package_update", **shown)["result"]
    assert updated["metadata_modified"] == shown["metadata_modified"]
    activities = _call(app, owner, "package_activity_list", id=pkg["id"])["result"]
    assert [a["activity_type"] for a in activities] == ["new package"]
