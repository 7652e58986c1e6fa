"""Search-side behaviour: facets, query handling and index enrichment for Chinese text.

(Access masking of the index lives in :mod:`ckanext.sharing.masking`; this module never decides access.)
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk


def dataset_facets(facets: dict[str, Any], package_type: str) -> dict[str, Any]:
    facets["sharing_tier"] = tk._("Sharing tier")
    return facets


def before_dataset_search(search_params: dict[str, Any]) -> dict[str, Any]:
    return search_params


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    return pkg_dict
