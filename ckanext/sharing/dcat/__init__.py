"""DCAT-AP 3 output of ckanext-sharing (SPEC §3b "DCAT"): the ``sharing_dcat_ap`` RDF profile that runs on
top of ckanext-dcat's ``euro_dcat_ap_3`` (entry point group ``ckan.rdf.profiles``; configured with
``ckanext.dcat.rdf.profiles = euro_dcat_ap_3 sharing_dcat_ap``), in :mod:`.profile`.

This module imports nothing of ckanext-dcat, so the demo loader can use it without the plugin.
"""
from __future__ import annotations

from typing import Optional

from ckanext.sharing import config

# CKAN's licence register id of "Other (Not Open)": what the demo gives data that is not open.
CLOSED_LICENSE_ID = "other-closed"


def demo_license_id(tier: str) -> Optional[str]:
    """The licence the demo catalogue gives a dataset: the default licence for open data, "Other (Not
    Open)" for data that is only shared on request or not at all (issue 12: no demo dataset without one)."""
    return (config.default_license_id() or None) if tier == "open" else CLOSED_LICENSE_ID
