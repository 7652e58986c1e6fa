"""Tier badges and the request-access call to action on the dataset and resource pages (HTML)."""
from __future__ import annotations

import pytest

from ckan.tests import factories

LINK = "https://files.example.gov.cn/pages/secret.csv"


@pytest.fixture
def conditional(app):
    admin = factories.User()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"}])
    token = factories.APIToken(user=admin["name"])["token"]
    pkg = app.post("/api/3/action/package_create", headers={"Authorization": token}, json={
        "name": "pages-cond", "owner_org": org["id"], "sharing_tier": "conditional",
        "share_condition": "仅限政务用途", "resources": [{"url": LINK, "name": "the-data"}],
    }).json["result"]
    return {"pkg": pkg, "token": token}


@pytest.mark.ckan_config("ckan.plugins", "activity datastore sharing")
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestPages:
    def test_anonymous_sees_badge_and_request_button(self, app, conditional):
        """Anonymous sees badge and request button."""
        pkg = conditional["pkg"]
        body = app.get(f"/dataset/{pkg['name']}").body
        assert 'sharing-tier sharing-tier-conditional' in body
        assert "sharing-request-button" in body
        assert f"/dataset/{pkg['name']}/request-access" in body
        assert "仅限政务用途" in body
        assert LINK not in body

    def test_resource_page_offers_request_not_download(self, app, conditional):
        """Resource page offers request not download."""
        pkg = conditional["pkg"]
        rid = pkg["resources"][0]["id"]
        body = app.get(f"/dataset/{pkg['name']}/resource/{rid}").body
        assert "sharing-request-cta" in body
        assert LINK not in body
        assert f"/resource/{rid}/download" not in body

    def test_member_sees_the_data_links(self, app, conditional):
        """Member sees the data links."""
        pkg = conditional["pkg"]
        body = app.get(f"/dataset/{pkg['name']}", headers={"Authorization": conditional["token"]}).body
        assert LINK in body
        assert "sharing-request-button" not in body
        assert 'sharing-tier-conditional' in body

    def test_tier_facet_is_offered_with_labels(self, app, conditional):
        """Tier facet is offered with labels."""
        body = app.get("/dataset/").body
        assert "sharing_tier" in body
        assert "Conditional sharing" in body  # the default tier names: national (Regulation Art. 14)


@pytest.mark.ckan_config("ckan.plugins", "activity datastore sharing")
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_tier_facet_items_carry_translated_labels(app, conditional):
    """Tier facet items carry translated labels."""
    facets = app.get("/api/3/action/package_search", query_string={"facet.field": '["sharing_tier"]'}).json
    items = facets["result"]["search_facets"]["sharing_tier"]["items"]
    assert {i["name"]: i["display_name"] for i in items} == {"conditional": "Conditional sharing"}
    page = app.get("/zh_Hans_CN/dataset/").body
    assert "有条件共享" in page
