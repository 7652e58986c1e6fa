"""Apache ECharts (issue 17) is installed from the pinned lock file and served by CKAN's webassets."""
from __future__ import annotations

import json

import pytest

from ckan.lib import webassets_tools

from tests.live import DEFAULT_PLUGINS, ROOT, LivePortal

VENDOR = ROOT / "ckanext" / "sharing" / "assets" / "vendor" / "echarts"


def test_echarts_is_the_pinned_version_with_its_licence() -> None:
    """bin/stack deps copied the exact ECharts version of package.json, with LICENSE and NOTICE beside it."""
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["echarts"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/echarts"]["version"]
    assert pinned == locked and pinned[0].isdigit(), "an exact version, the same in package.json and the lock"
    assert f'version="{pinned}"' in (VENDOR / "echarts.min.js").read_text(encoding="utf-8")
    assert "Apache License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert "Apache ECharts" in (VENDOR / "NOTICE").read_text(encoding="utf-8")


@pytest.mark.ckan_config("ckan.plugins", DEFAULT_PLUGINS)
@pytest.mark.usefixtures("with_plugins")
def test_the_echarts_asset_is_served_as_javascript(app, live_portal: LivePortal) -> None:
    """The webassets bundle ckanext-sharing/sharing-echarts builds and the live portal serves it: 200, JavaScript."""
    # the URL a template's {% asset 'ckanext-sharing/sharing-echarts' %} gives (building the bundle into the
    # webassets folder the portal shares with this process: the same ckan.storage_path)
    urls = webassets_tools.env["ckanext-sharing/sharing-echarts"].urls()
    assert len(urls) == 1 and urls[0].startswith("/webassets/ckanext-sharing/")

    resp = live_portal.get(urls[0].split("?")[0])

    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["echarts"]
    assert f'version="{pinned}"' in resp.text
