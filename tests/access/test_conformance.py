"""The tier × role × surface conformance suite (SPEC §3), over HTTP on the real stack.

The matrix itself lives in :mod:`ckanext.sharing.conformance` (``ckan sharing check-access``
runs the same checks against a live portal). Here one world is built per module on the test
database and the test app; each test is one role × tier and runs every surface, and its failure
message names each failing cell as ``[role × tier × surface]``.
"""
from __future__ import annotations

from typing import Any

import pytest

import ckan.plugins as plugins
from ckan.common import config
from ckan.tests.helpers import CKANTestApp, _get_test_app

from ckanext.sharing.dev import conformance as cf

PLUGINS = "activity datastore datatables_view sharing"


class FlaskClient:
    """The conformance client protocol over CKAN's test app (the real WSGI stack, no sockets)."""

    def __init__(self, app: CKANTestApp):
        self.app = app

    def get(self, url: str, headers: dict[str, str], query_string: Any = None, follow_redirects: bool = True):
        return self.app.get(url, headers=headers, query_string=query_string, follow_redirects=follow_redirects)

    def post_json(self, url: str, headers: dict[str, str], payload: dict[str, Any]):
        return self.app.post(url, json=payload, headers=headers)

    def upload(self, url: str, headers: dict[str, str], fields: dict[str, str], filename: str, content: bytes):
        import io

        return self.app.post(url, data={**fields, "upload": (io.BytesIO(content), filename)}, headers=headers,
                             content_type="multipart/form-data")


@pytest.fixture(scope="module")
def world(reset_db, reset_index):
    old = config.get("ckan.plugins")
    config["ckan.plugins"] = PLUGINS
    plugins.load_all()
    try:
        reset_db()
        reset_index()
        yield cf.build_world(FlaskClient(_get_test_app()))
    finally:
        plugins.unload_all()
        config["ckan.plugins"] = old


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("tier", cf.TIERS)
@pytest.mark.parametrize("role", cf.ROLES)
def test_cells(world: cf.World, role: str, tier: str) -> None:
    """Every surface for one role and tier."""
    failures = [r for r in cf.run_cells(world, [role], [tier]) if not r.ok]
    assert not failures, "\n".join(
        f"[{r.role} × {r.tier} × {r.surface}] expected {r.expected}: {r.message}" for r in failures
    )


def test_matrix_is_complete() -> None:
    """Every role of SPEC §2 (member split into member/editor/admin, plus grantee) and §3's surfaces."""
    assert len(cf.ROLES) == 9 and len(cf.TIERS) == 3
    assert set(cf.EXPECT) == set(cf.ROLES)
    assert {"package_show", "dataset_page", "package_search", "search_index", "package_list",
            "current_package_list_with_resources", "package_autocomplete", "resource_search",
            "organization_show", "group_show", "group_package_show", "user_show", "resource_show",
            "resource_views", "download", "datastore", "activity_api", "activity_pages", "feeds",
            "org_counts"} <= set(cf.SURFACES)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
def test_a_leak_is_reported_with_its_cell(world: cf.World) -> None:
    """The matrix can fail: pretend the open dataset should be metadata-only for anonymous."""
    results = [r for r in cf.run_cells(world, ["anonymous"], ["open"], ["package_show"])]
    assert results and results[0].ok
    with pytest.raises(cf.CellFailure):
        cf.SURFACES["package_show"](world, "anonymous", "open", cf.META)
    table = cf.render_table([cf.CellResult("anonymous", "open", "package_show", cf.META, False, "leaked x")])
    assert "FAIL [anonymous × open × package_show]" in table
