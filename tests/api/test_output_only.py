"""Output-only values are never stored (SPEC §3b, issue 12): what sharing computes for readers is dropped on write,
so a package_show → package_update round trip changes nothing and a copy of a masked dict stores no masked URL."""
from __future__ import annotations

import json

import pytest

from ckan import model

from ckanext.sharing.access import masking

from tests.workflow.support import api, build_world

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "activity datastore datatables_view sharing"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

OUTPUT_ONLY = ("sharing_restricted", "sharing_highlight")


def _stored(pkg_id: str) -> dict[str, dict]:
    """Each active resource of a dataset as stored: url, url_type and extras (from the database)."""
    pkg = model.Package.get(pkg_id)
    model.Session.refresh(pkg)
    return {r.id: {"url": r.url, "url_type": r.url_type, "extras": dict(r.extras or {})} for r in pkg.resources}


def test_round_trip_show_update_changes_nothing(app):
    """An editor's package_show → package_update (and package_patch) leaves URLs as they were and stores no
    sharing_restricted or sharing_highlight, on the dataset or on a resource."""
    w = build_world(app)
    pkg = w.pkgs["conditional"]
    before = _stored(pkg["id"])
    shown = api(app, "package_show", w.tokens["editor_b"], id=pkg["id"])["result"]
    assert all(r["sharing_restricted"] is False for r in shown["resources"])
    shown["sharing_highlight"] = {"title": "<mark>x</mark>"}
    api(app, "package_update", w.tokens["editor_b"], **shown)
    api(app, "package_patch", w.tokens["editor_b"], id=pkg["id"], notes="patched")
    after = _stored(pkg["id"])
    assert {k: (v["url"], v["url_type"]) for k, v in after.items()} == \
        {k: (v["url"], v["url_type"]) for k, v in before.items()}
    for res in after.values():
        assert not set(res["extras"]) & set(OUTPUT_ONLY), res["extras"]
    extras = set(model.Package.get(pkg["id"]).extras or {})
    assert not extras & set(OUTPUT_ONLY)


def test_masked_round_trip_keeps_the_stored_urls(app):
    """A sysadmin sending back the masked dict an anonymous reader got (request-page URLs, sharing_restricted)
    changes no stored URL."""
    w = build_world(app)
    pkg = w.pkgs["conditional"]
    before = _stored(pkg["id"])
    masked = api(app, "package_show", None, id=pkg["id"])["result"]
    assert all(r["url"] == masking.request_url(pkg["id"]) for r in masked["resources"])
    api(app, "package_update", w.tokens["sysadmin"], **masked)
    after = _stored(pkg["id"])
    assert {k: v["url"] for k, v in after.items()} == {k: v["url"] for k, v in before.items()}
    assert all("sharing_restricted" not in v["extras"] for v in after.values())


def test_copy_of_masked_dataset_stores_no_request_page(app):
    """A masked dict loaded as a new dataset into another organization (ckanapi dump → load) keeps its tier and
    resources' metadata, with no request-page URL and no sharing_restricted stored."""
    w = build_world(app)
    masked = api(app, "package_show", None, id=w.pkgs["conditional"]["id"])["result"]
    copy = {k: v for k, v in masked.items() if k not in ("id", "name", "owner_org", "organization")}
    copy["resources"] = [{k: v for k, v in r.items() if k not in ("id", "package_id")} for r in masked["resources"]]
    created = api(app, "package_create", w.tokens["admin_c"], name="copy-of-masked", owner_org=w.orgs["c"]["id"],
                  **copy)["result"]
    assert created["sharing_tier"] == "conditional"
    stored = _stored(created["id"])
    assert len(stored) == len(masked["resources"])
    for res in stored.values():
        assert "request-access" not in res["url"], res
        assert not set(res["extras"]) & set(OUTPUT_ONLY), res
    blob = json.dumps(api(app, "package_show", w.tokens["admin_c"], id=created["id"])["result"])
    assert "/request-access" not in blob.replace(masking.request_url(created["id"]), "")
