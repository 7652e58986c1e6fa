"""Activity types by name in the page's language (issue 11).

Core's activity filter prints the raw type with ``| title`` ("New Package", "Changed Organization"), which no
catalogue can translate; ``snippets/activity_type_selector.html`` shows these labels instead.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Optional

import ckan.plugins as p
import ckan.plugins.toolkit as tk

__all__ = ["label", "field_change", "put_templates_first"]


def _labels(_: Callable[[str], str]) -> dict[str, str]:
    """The label of each activity type of core's filters (packages, users, groups, organizations)."""
    return {
        "new package": _("Dataset created"),
        "changed package": _("Dataset updated"),
        "deleted package": _("Dataset deleted"),
        "follow dataset": _("Dataset followed"),
        "new resource view": _("Resource view created"),
        "changed resource view": _("Resource view updated"),
        "deleted resource view": _("Resource view deleted"),
        "new user": _("User signed up"),
        "changed user": _("User updated"),
        "follow user": _("User followed"),
        "new group": _("Group created"),
        "changed group": _("Group updated"),
        "deleted group": _("Group deleted"),
        "follow group": _("Group followed"),
        "new organization": _("Organization created"),
        "changed organization": _("Organization updated"),
        "deleted organization": _("Organization deleted"),
        "follow organization": _("Organization followed"),
    }


def label(activity_type: str) -> str:
    """The translated name of ``activity_type``; an unknown type as core shows it (title case)."""
    return _labels(tk._).get(activity_type, activity_type.title())


def _value_text(value: Any, field: Optional[dict[str, Any]]) -> str:
    """A changed field's value as a reader reads it: the choice's label, lists joined, rows by their values."""
    if isinstance(value, list):
        return "、".join(_value_text(v, field) for v in value if v not in (None, ""))
    if isinstance(value, dict):
        return "；".join(_value_text(v, None) for v in value.values() if v not in (None, ""))
    if field is not None:
        from ckanext.scheming.helpers import scheming_choices_label, scheming_field_choices

        choices = scheming_field_choices(field)
        if choices:
            return str(scheming_choices_label(choices, value))
    return "" if value is None else str(value)


def field_change(dataset_type: str, key: str, value: Any) -> dict[str, str]:
    """The Changes page's names of a changed extension field (issue 11): its label in the schema, not its key
    ("update_cycle"), and its value's label ("每月", not a code; lists and data items without brackets)."""
    field = None
    if p.plugin_loaded("scheming_datasets"):
        from ckanext.scheming.helpers import scheming_get_dataset_schema, scheming_language_text

        schema = scheming_get_dataset_schema(dataset_type or "dataset") or {}
        field = next((f for f in schema.get("dataset_fields", []) if f.get("field_name") == key), None)
    if field is None:
        return {"label": key, "value": _value_text(value, None)}
    return {"label": str(scheming_language_text(field.get("label") or key)), "value": _value_text(value, field)}


# Templates that must win over the activity plugin's own (its snippets do not ``ckan_extends``, and the
# plugins listed first in ``ckan.plugins`` take precedence, so ``templates/`` cannot override them).
TEMPLATES_FIRST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates_first")


def put_templates_first(config: Any) -> None:
    """``IConfigurable.configure``: ``templates_first/`` at the head of the computed template search path."""
    paths = list(config.get("computed_template_paths") or [])
    if paths[:1] != [TEMPLATES_FIRST]:
        config["computed_template_paths"] = [TEMPLATES_FIRST] + [p for p in paths if p != TEMPLATES_FIRST]
