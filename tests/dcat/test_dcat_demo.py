"""The demo catalogue as DCAT-AP 3: every dataset has a real licence, and /catalog.ttl of the loaded demo
validates against the DCAT-AP 3.0.0 shapes with 0 violations (issue 12).

The demo is what ``make run`` loads: the shipped catalogue (ckanext/sharing/demo_data) and, when
``../shared/data/cnpds`` is present, real catalogue records (a sample of ``REAL_LIMIT`` here, so their
formats, titles and cycles go through the profile too)."""
from __future__ import annotations

import pytest
import rdflib
from rdflib import URIRef
from rdflib.namespace import RDF

import ckan.plugins.toolkit as tk

from ckanext.sharing.dev import demo

from .test_dcat import DCAT, DCT, EU, FORMATS, PLUGINS, PROFILES, needs_shapes, _validate

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", PROFILES),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


REAL_LIMIT = 40


@pytest.fixture
def loaded(app) -> dict:
    """The demo loaded through the Action API, real records included where present: name -> dict."""
    real = demo.cnpds_dir() is not None
    report = demo.load(real=real, limit=REAL_LIMIT)
    assert not report.errors, report.errors
    sysadmin = {"user": "sharing_admin"}
    names = tk.get_action("package_list")(dict(sysadmin), {"limit": 1000})
    private = tk.get_action("package_search")(dict(sysadmin), {"q": "*:*", "rows": 1000, "include_private": True})
    names = sorted(set(names) | {p["name"] for p in private["results"]})
    assert len(names) >= len(demo.demo_catalogue()["datasets"]) + (REAL_LIMIT if real else 0) // 2
    return {name: tk.get_action("package_show")(dict(sysadmin), {"id": name}) for name in names}


def test_demo_datasets_have_a_real_licence(loaded):
    """No demo dataset is without a licence; open ones are open data (isopen), the others "Other (Not Open)"."""
    for name, pkg in loaded.items():
        assert pkg["license_id"], name
        if pkg["sharing_tier"] == "open":
            assert pkg["license_id"] == "cc-by" and pkg["isopen"] is True, name
        else:
            assert pkg["license_id"] == "other-closed", name


@needs_shapes
def test_demo_catalog_conforms_and_hides_what_it_must(app, loaded):
    """Anonymous /catalog.ttl of the demo: 0 SHACL violations, every open and conditional dataset with its
    access right, no not_shared dataset, restricted distributions only pointing at the request page."""
    body = app.get("/catalog.ttl").get_data(as_text=True)
    graph = rdflib.Graph().parse(data=body, format=FORMATS["ttl"])
    violations, text = _validate(graph)
    assert violations == 0, text
    rights = {"open": EU + "access-right/PUBLIC", "conditional": EU + "access-right/RESTRICTED"}
    listed = {URIRef(s) for s in graph.subjects(RDF.type, DCAT.Dataset)}
    for name, pkg in loaded.items():
        ref = URIRef(f"{tk.config['ckan.site_url']}/dataset/{pkg['id']}")
        if pkg["sharing_tier"] == "not_shared":
            assert ref not in listed and pkg["id"] not in body and pkg["name"] not in body, name
            continue
        assert list(graph.objects(ref, DCT.accessRights)) == [URIRef(rights[pkg["sharing_tier"]])], name
        if pkg["sharing_tier"] == "conditional":
            for res in pkg["resources"]:
                assert res["url"] not in body, (name, res["url"])  # the sysadmin's real URL
            for dist in graph.objects(ref, DCAT.distribution):
                assert not list(graph.objects(dist, DCAT.downloadURL)), name
                assert [str(u) for u in graph.objects(dist, DCAT.accessURL)] == [
                    f"{tk.config['ckan.site_url']}/dataset/{pkg['id']}/request-access"], name
