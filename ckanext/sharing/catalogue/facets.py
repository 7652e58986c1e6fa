"""Search facets of the government resource catalogue (SPEC §6), with translated choice labels.

Only dataset types whose scheming schema carries the catalogue fields get these facets, so a portal
that uses the tiers without the catalogue schema keeps CKAN's facets.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

CATALOGUE_FACETS = ("res_class", "data_grade", "format_category", "update_cycle", "theme")


def _catalogue_fields(package_type: str) -> set[str]:
    from ckan.plugins import plugin_loaded

    if not plugin_loaded("scheming_datasets"):
        return set()
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema(package_type or "dataset") or {}
    return {f.get("field_name") for f in schema.get("dataset_fields", [])}


def dataset_facets(facets: dict[str, Any], package_type: str) -> dict[str, Any]:
    """Add resource class, data grade (Regulation Art. 13), format category, update cycle and theme; call
    organizations providers."""
    fields = _catalogue_fields(package_type)
    if "res_code" not in fields:
        return facets
    labels = {
        "res_class": tk._("Resource class"),
        "data_grade": tk._("Data grade"),
        "format_category": tk._("Format category"),
        "update_cycle": tk._("Update cycle"),
        "theme": tk._("Theme"),
    }
    out: dict[str, Any] = {}
    for key, label in facets.items():
        out[key] = tk._("Resource provider") if key == "organization" else label
    for key in CATALOGUE_FACETS:
        if key in fields:
            out[key] = labels[key]
    return out


def label_facets(search_results: dict[str, Any]) -> dict[str, Any]:
    """Facet items of choice fields show their translated labels (``1`` → 基础信息资源)."""
    facets = search_results.get("search_facets") or {}
    if not facets or not any(k in facets for k in CATALOGUE_FACETS):
        return search_results
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema("dataset") or {}
    by_name = {f["field_name"]: f for f in schema.get("dataset_fields", []) if f.get("choices")}
    for key in CATALOGUE_FACETS:
        field = by_name.get(key)
        if field is None or key not in facets:
            continue
        for item in facets[key].get("items", []):
            item["display_name"] = _choice_label(field["choices"], item.get("name"))
    return search_results


def _language() -> str:
    try:
        return tk.h.lang() or tk.config.get("ckan.locale_default") or "en"
    except RuntimeError:  # outside a request (API used from code): the portal's default language
        return tk.config.get("ckan.locale_default") or "en"


def _choice_label(choices: list[dict[str, Any]], value: Any) -> str:
    for choice in choices:
        if choice.get("value") == value:
            label = choice.get("label", value)
            if isinstance(label, dict):
                return label.get(_language()) or label.get("en") or str(value)
            return str(label)
    return str(value)
