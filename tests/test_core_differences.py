"""The deliberate differences from plain CKAN that ``tests/core_differences.txt`` lists (issue 18): each
one pinned here, so that CKAN's own tests may differ in exactly this and in nothing else."""
from __future__ import annotations

import pytest

from ckan.tests import factories, helpers

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "sharing"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

# The keys of CKAN 2.12's package_show for a dataset on the default schema (its test_package_show_with_full_dataset).
CKAN_PACKAGE_KEYS = {
    "author", "author_email", "creator_user_id", "extras", "groups", "id", "isopen", "license_id",
    "license_title", "maintainer", "maintainer_email", "metadata_created", "metadata_modified", "name", "notes",
    "num_resources", "num_tags", "organization", "owner_org", "private", "relationships_as_object",
    "relationships_as_subject", "resources", "state", "tags", "title", "type", "url", "version",
}


def test_status_show_lists_sharing():
    """``status_show`` names every loaded plugin, so with sharing loaded its ``extensions`` include it."""
    assert "sharing" in helpers.call_action("status_show")["extensions"]


def test_package_show_adds_only_the_tier():
    """A plain dataset's ``package_show`` is CKAN's plus one key, ``sharing_tier`` (SPEC §1), extras untouched."""
    org = factories.Organization()
    dataset = factories.Dataset(owner_org=org["id"], extras=[{"key": "subject", "value": "science"}])
    shown = helpers.call_action("package_show", id=dataset["id"])
    assert set(shown) - CKAN_PACKAGE_KEYS == {"sharing_tier"}
    assert CKAN_PACKAGE_KEYS - set(shown) == set()
    assert shown["sharing_tier"] == "open"
    assert shown["extras"] == [{"key": "subject", "value": "science"}]


@pytest.fixture
def solr_down(monkeypatch: pytest.MonkeyPatch, ckan_config) -> None:
    """Point CKAN at a Solr that does not answer (``make test`` exports CKAN_SOLR_URL, which CKAN re-applies
    whenever it loads the app, so both are set)."""
    down = "http://127.0.0.1:9/solr/down"
    monkeypatch.setenv("CKAN_SOLR_URL", down)
    monkeypatch.setitem(ckan_config, "solr_url", down)


def test_dataset_form_answers_503_while_search_is_down(solr_down, app):
    """Saving the dataset form while Solr does not answer gives our 503 with Retry-After (SPEC §8), not CKAN's 500."""
    user = factories.UserWithToken()
    res = app.post("/dataset/new", headers={"Authorization": user["token"]},
                   data={"save": "", "name": "new-package-missing-solr"}, status=503)
    assert res.headers["Retry-After"]
    assert "Search is temporarily unavailable" in res.body


@pytest.mark.ckan_config("ckan.plugins", "activity sharing")
@pytest.mark.usefixtures("with_plugins")
def test_visibility_change_also_names_the_tier_change():
    """Making a plain dataset private changes its tier too (SPEC §1): the activity changes name both."""
    from ckanext.activity.changes import check_metadata_changes

    user = factories.User()
    org = factories.Organization(user=user)
    original = factories.Dataset(owner_org=org["id"], private=False)
    new = helpers.call_action("package_patch", {"user": user["name"]}, id=original["id"], private=True)
    changes: list[dict] = []
    check_metadata_changes(changes, original, new)
    assert [c["type"] for c in changes] == ["private", "extension_fields"]
    assert (changes[0]["new"], new["sharing_tier"]) == ("Private", "not_shared")


@pytest.mark.ckan_config("ckan.site_description", "Special Tagline")
def test_home_page_shows_the_description_beside_the_logo(app):
    """The portal's home page (issue 11) shows name, logo and description together; CKAN shows the tagline only without a logo."""
    html = app.get("/").get_data(as_text=True)
    assert 'class="sharing-home-logo"' in html and "Special Tagline" in html
    assert "<title>Welcome" not in html


def test_api_search_answers_503_while_search_is_down(solr_down, app):
    """``package_search`` while Solr does not answer: our 503 "Service Unavailable" (SPEC §8), not CKAN's 500 "Search Connection Error"."""
    res = app.get("/api/3/action/package_search", status=503)
    assert (res.json["error"]["__type"], res.json["error"]["service"]) == ("Service Unavailable", "search")
    assert res.headers["Retry-After"]
