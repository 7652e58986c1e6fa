"""The address browsers ask for an icon by themselves (a console 404 on every page that lacked it, issue 11)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.workflow.support import PLUGINS

pytestmark = [pytest.mark.ckan_config("ckan.plugins", PLUGINS), pytest.mark.usefixtures("with_plugins")]


def test_favicon_address_answers_with_the_configured_icon(app):
    """/favicon.ico redirects to ``ckan.favicon`` and that icon is served."""
    resp = app.get("/favicon.ico", follow_redirects=False)
    assert resp.status_code == 301
    icon = app.get(urlsplit(resp.headers["Location"]).path)
    assert icon.status_code == 200 and icon.data
