"""The demo catalogue loads through the real stack (PostgreSQL, Solr, DataStore, file storage), in all
three tiers, idempotently; and the real catalogue records map onto the schema when they are present."""
from __future__ import annotations

import collections

import pytest

import ckan.plugins.toolkit as tk

from ckanext.sharing.dev import demo

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"


def _tiers(names: list[str]) -> collections.Counter[str]:
    context = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]}
    counts: collections.Counter[str] = collections.Counter()
    for name in names:
        counts[tk.get_action("package_show")(dict(context), {"id": name})["sharing_tier"]] += 1
    return counts


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_shipped_catalogue_loads_in_all_three_tiers(app):
    """Shipped catalogue loads in all three tiers."""
    catalogue = demo.demo_catalogue()
    report = demo.load(real=False)
    assert not report.errors, report.errors
    assert report.created["dataset"] == len(catalogue["datasets"])
    assert report.created["user"] == len(catalogue["users"])
    assert report.created.get("resource:datastore", 0) > 0
    assert report.created.get("resource:upload", 0) > 0
    assert report.created.get("resource:link", 0) > 0

    counts = _tiers([d["name"] for d in catalogue["datasets"]])
    assert set(counts) == {"open", "conditional", "not_shared"}

    # anonymous over HTTP: open and conditional are listed, not_shared is not
    found = app.get("/api/3/action/package_search", query_string={"rows": 100}).json["result"]
    listed = {d["sharing_tier"] for d in found["results"]}
    assert listed == {"open", "conditional"}
    assert found["count"] == counts["open"] + counts["conditional"]

    # the organization carries a valid USCC
    org = tk.get_action("organization_show")({"ignore_auth": True}, {"id": "demo-data-bureau"})
    from stdnum.cn import uscc

    assert uscc.is_valid(org["uscc"])

    # once the workflow exists, the demo has access requests in each state
    try:
        listing = tk.get_action("sharing_request_list")
    except KeyError:
        listing = None
    if listing is not None:
        admin = {"user": "sharing_admin"}
        states = {r["state"] for r in listing(admin, {"limit": 100})["results"]}
        assert {"pending", "approved", "rejected"} <= states, states
        # ... and in each state of the 2025 Regulation (SPEC §4b): returned, extended, escalated, resolved
        rows = listing(admin, {"limit": 100})["results"]
        assert {"returned", "escalated"} <= states, states
        assert any((r["extension"] or {}).get("state") == "approved" for r in rows)
        assert any((r["escalation"] or {}).get("resolution") == "approve" for r in rows)
        assert all(r["use_basis"] and r["share_method"] for r in rows)
        grants = tk.get_action("sharing_grant_list")(admin, {"limit": 100})["results"]
        assert "expired" in {g.get("effective_state") for g in grants}
        # the Regulation's obligations (Art. 22, 26, 27, 29): delivered and undelivered grants, a suspended
        # requester, use reports filed and due, correction requests open and answered
        assert {bool(g["delivered"]) for g in grants if g["effective_state"] == "active"} == {True, False}
        suspended = tk.get_action("sharing_suspension_list")(admin, {"state": "active"})["results"]
        assert [s["user_name"] for s in suspended] == ["transport_member"]
        assert tk.get_action("sharing_use_report_list")(admin, {})["count"] == 2
        from ckan import model
        from ckanext.sharing.workflow import use_reports

        assert use_reports.due_for_user(model.User.get("transport_member"))
        corrections = tk.get_action("sharing_correction_list")(admin, {})["results"]
        assert sorted(c["state"] for c in corrections) == ["answered", "open"]

    # a second load creates nothing
    again = demo.load(real=False)
    assert not again.created, again.created
    assert again.skipped["dataset"] == len(catalogue["datasets"])


@pytest.mark.skipif(demo.cnpds_dir() is None, reason="real records (../shared/data/cnpds) not present")
@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_real_records_sample_is_valid_for_the_catalogue_schema(app):
    """Real records sample is valid for the catalogue schema."""
    selection = demo.real_specs(36, max_orgs=6)
    assert len(selection.datasets) == 36
    report = demo.load(real=True, limit=36)
    assert not report.errors, report.errors
    counts = _tiers([d["name"] for d in selection.datasets])
    assert sum(counts.values()) == 36
    assert counts["open"] and counts["conditional"] and counts["not_shared"]


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_demo_cli_loads_without_real_records_and_prints_logins(app, cli):
    """DeMO CLI loads without real records and prints logins."""
    from ckanext.sharing.cli import sharing

    result = cli.invoke(sharing, ["demo", "load", "--no-real"])
    assert result.exit_code == 0, result.output
    assert "20 dataset" in result.output
    result = cli.invoke(sharing, ["demo", "logins"])
    assert result.exit_code == 0, result.output
    for login in demo.logins():
        assert login["name"] in result.output and login["password"] in result.output


@pytest.mark.skipif(demo.cnpds_dir() is None, reason="real records (../shared/data/cnpds) not present")
def test_every_real_spec_fills_every_required_field_of_the_catalogue_schema():
    """Every one of the ~40,000 real specs (``bench --scale`` loads them all) fills every field the catalogue schema requires."""
    import yaml
    from pathlib import Path

    schema = yaml.safe_load((Path(demo.__file__).parents[1] / "catalogue" / "schemas" / "catalogue.yaml").read_text("utf-8"))
    required = [f["field_name"] for f in schema["dataset_fields"] if f.get("required")]
    specs = demo.real_specs(10**6).datasets
    assert len(specs) > 40_000
    blank = [(spec["name"], field) for spec in specs for field in required
             if not str(spec.get("org" if field == "owner_org" else field) or "").strip()]
    assert not blank, blank[:10]
