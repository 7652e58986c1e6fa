"""What ``make test-core`` found sharing doing to a plain CKAN client, fixed in our code (issue 18, SPEC §1):
each fix pinned here, next to the CKAN test that found it."""
from __future__ import annotations

import pytest

from ckan.tests import helpers


@pytest.mark.ckan_config("ckan.plugins", "datastore sharing")
@pytest.mark.usefixtures("with_plugins", "clean_db", "with_request_context")
def test_datastore_search_of_table_metadata_passes_the_auth_audit():
    """``datastore_search`` of the public ``_table_metadata`` works with sharing chained on (datastore's test_search_table_metadata)."""
    result = helpers.call_action("datastore_search", resource_id="_table_metadata")
    assert "records" in result


@pytest.mark.ckan_config("ckan.plugins", "sharing")
@pytest.mark.ckan_config("ckan.site_intro_text", "My special intro text")
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_home_page_shows_the_intro_text(app):
    """The intro text set on /ckan-admin/config is on sharing's home page, as on CKAN's (admin's test_intro)."""
    assert "My special intro text" in app.get("/").get_data(as_text=True)
