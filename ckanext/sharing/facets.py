"""The ``sharing_tier`` search facet with the configured, translated tier names (有条件共享 / Conditional
sharing, ``ckanext.sharing.tier_labels``), with or without the catalogue schema (SPEC §1)."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.sharing.access import tiers


def dataset_facets(facets: dict[str, Any], package_type: str) -> dict[str, Any]:
    """Add the tier facet to the search page's facets."""
    facets["sharing_tier"] = tk._("Sharing tier")
    return facets


def label_tier_facet(search_results: dict[str, Any]) -> dict[str, Any]:
    """Give the tier facet's items their translated names."""
    facet = (search_results.get("search_facets") or {}).get("sharing_tier") or {}
    for item in facet.get("items") or []:
        item["display_name"] = tiers.label(item.get("name"))
    return search_results


class FacetsOnEveryPage:
    """IFacets mix-in: organization and group pages get the same facets as the dataset search page."""

    def dataset_facets(self, facets_dict: dict[str, Any], package_type: str) -> dict[str, Any]:
        raise NotImplementedError

    def organization_facets(self, facets_dict: dict[str, Any], organization_type: str,
                            package_type: str | None) -> dict[str, Any]:
        return self.dataset_facets(facets_dict, package_type or "dataset")

    def group_facets(self, facets_dict: dict[str, Any], group_type: str, package_type: str | None) -> dict[str, Any]:
        return self.dataset_facets(facets_dict, package_type or "dataset")
