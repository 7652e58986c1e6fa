"""The catalogue schema (SPEC §6) through the Action API: create/update/patch/show/search round-trips."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.sharing.schemas import sharing_sample_record

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing"
USCC = "91350100M000100Y43"


@pytest.fixture
def sysadmin():
    return factories.Sysadmin()


@pytest.fixture
def org(sysadmin):
    return factories.Organization(uscc=USCC, user=sysadmin)


def act(action: str, user: dict, **data):
    """Call an action as ``user`` (auth still ignored by call_action; these tests are about the schema)."""
    return helpers.call_action(action, context={"user": user["name"]}, **data)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestRoundTrip:
    def test_create_show(self, org, sysadmin):
        ds = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"]))
        shown = act("package_show", sysadmin, id=ds["id"])
        assert shown["res_code"] == "101001001/000001"
        assert shown["res_class"] == "1"
        assert shown["name"] == "ren-kou-ji-ben-xin-xi"
        assert shown["data_items"][1]["item_name"] == "常住人口"
        assert shown["data_items"][0]["item_personal"] is False
        assert shown["contains_personal_info"] is False
        assert shown["share_method"] == ["文件下载"]
        assert shown["sharing_tier"] == "open"
        assert shown["publish_date"] == "2024-01-15"
