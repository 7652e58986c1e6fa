"""``status_show`` names the running ckanext-sharing release (SPEC §3b), over the Action API."""
from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from ckan.tests import factories, helpers

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"
SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"


def _released_version() -> str:
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG, encoding="utf-8")
    return parser.get("metadata", "version")


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
def test_status_show_carries_sharing_version(app):
    """Anonymous GET /api/3/action/status_show has sharing_version = the version in setup.cfg."""
    result = app.get("/api/3/action/status_show").json["result"]
    assert result["sharing_version"] == _released_version()
    assert "sharing" in result["extensions"]


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.ckan_config("ckan.hide_version", "true")
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_sharing_version_hidden_like_ckan_version(app):
    """With ckan.hide_version only sysadmins see ckan_version and sharing_version."""
    assert "sharing_version" not in app.get("/api/3/action/status_show").json["result"]
    sysadmin = factories.Sysadmin()
    token = helpers.call_action("api_token_create", context={"user": sysadmin["name"]},
                                user=sysadmin["name"], name="status")["token"]
    result = app.get("/api/3/action/status_show", headers={"Authorization": token}).json["result"]
    assert result["sharing_version"] == _released_version() and result["ckan_version"]
