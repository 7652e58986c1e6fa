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
