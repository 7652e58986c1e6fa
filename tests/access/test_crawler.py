"""The leak crawler (SPEC §3, last paragraphs; issue 10 "The exhaustive test") over the plugins of ``make run``.

One conformance world is planted per module; the crawler calls every registered action and every Flask route
as every role that may not have some canary, and the test fails on any canary found where it must not be,
except the reported, not yet fixed holes of :data:`NEW_HOLES_REPORTED`.
"""
from __future__ import annotations

import time
from typing import Any

import pytest

import ckan.plugins as plugins
from ckan.common import config
from ckan.tests.helpers import _get_test_app

from ckanext.sharing.dev import conformance as cf
from ckanext.sharing.dev import crawler
from tests.access.test_conformance import FlaskClient

PLUGINS = ("activity datastore datatables_view scheming_datasets scheming_organizations sharing sharing_catalogue "
           "sharing_zh_search")
CONFIG = {"ckan.plugins": PLUGINS}  # the scheming schemas are test.ini's
BUDGET = 900.0  # seconds on this machine (2 cores shared by 6 engineers); beyond it the crawl reports itself incomplete

#: (surface, role, tier, canary) patterns (``*``: any) the crawler found that branch ``leaks`` fixed (issue 10,
#: holes 1-9): empty since that merge, kept so a regression has to be added here on purpose.
KNOWN_UNTIL_LEAKS_MERGED: set[tuple[str, str, str, str]] = set()
#: NEW holes the crawler found that nobody fixes yet (reported to the lead, issue 10); tolerated like the above
#: so that make test stays green, and to be emptied by their fix.
NEW_HOLES_REPORTED: set[tuple[str, str, str, str]] = set()  # the home page's featured organization: fixed


class FormClient(FlaskClient):
    """The conformance test client plus form POSTs (the crawler posts forms to POST routes)."""

    def post_form(self, url: str, headers: dict[str, str], data: dict[str, Any]):
        return self.app.post(url, data=data, headers=headers, follow_redirects=False)


@pytest.fixture(scope="module")
def world(reset_db, reset_index):
    old = {key: config.get(key) for key in CONFIG}
    config.update(CONFIG)
    plugins.load_all()
    try:
        reset_db()
        reset_index()
        yield cf.build_world(FormClient(_get_test_app()))
    finally:
        plugins.unload_all()
        config.update(old)


@pytest.fixture(scope="module")
def report(world: cf.World) -> crawler.Report:
    started = time.monotonic()
    result = crawler.crawl(world, budget=BUDGET, url_map=_url_map(), sample_routes=True)
    print(result.render(), f"\n(wall time {time.monotonic() - started:.0f} s)")
    return result


def _url_map() -> Any:
    """The URL map of the test app (the world's client is that app)."""
    return _get_test_app().flask_app.url_map


pytestmark = [pytest.mark.ckan_config(key, value) for key, value in CONFIG.items()] + [
    pytest.mark.usefixtures("with_plugins"),
]


def test_crawl_finds_no_leak(report: crawler.Report) -> None:
    """No canary reaches a role that may not have it through any action or route (known holes aside)."""
    new = crawler.unexpected(report, KNOWN_UNTIL_LEAKS_MERGED | NEW_HOLES_REPORTED)
    assert not new, "\n".join(sorted({str(f) for f in new}))


def test_crawl_is_exhaustive_and_bounded(report: crawler.Report) -> None:
    """The crawl finished within its budget and covered the registry, the URL map and every non-full role."""
    assert report.complete, f"budget of {BUDGET} s exhausted after {report.calls} calls"
    assert {"package_show", "resource_search", "dataset_followee_list", "datastore_search",
            "package_activity_list", "sharing_access_check"} <= set(report.actions)
    assert {"dataset.read", "dataset_resource.download", "datastore.dump", "activity.package_activity"} <= set(
        report.routes)
    assert set(report.roles) == set(cf.ROLES) - {"sysadmin"}
    assert report.tiers == list(cf.TIERS + cf.FOREIGN)
    assert report.answered > len(report.actions)


def test_a_planted_leak_is_reported(world: cf.World) -> None:
    """The conditional dataset's notes carrying its own cache URL (data) are reported for package_show and the
    dataset page as anonymous, tier conditional; a role full everywhere is not crawled; the list of names is clean."""
    pkg = world.pkgs["conditional"]
    cache = world.secrets("conditional")["cache_url"]
    notes = cf._act("package_show", id=pkg["id"])["notes"]
    cf._act("package_patch", id=pkg["id"], notes=f"{notes} see {cache}")
    try:
        result = crawler.crawl(world, roles=["anonymous", "sysadmin"], actions=["package_show", "package_list"],
                               routes=["dataset.read"], budget=60, url_map=_url_map())
    finally:
        cf._act("package_patch", id=pkg["id"], notes=notes)
    assert ("package_show", "anonymous", "conditional") in result.keys(), result.render()
    assert ("dataset.read", "anonymous", "conditional") in result.keys(), result.render()
    assert ("package_list", "anonymous", "conditional") not in result.keys()
    assert "role sysadmin" in result.skipped
