"""Activity types by name in the page's language (issue 11).

Core's activity filter prints the raw type with ``| title`` ("New Package", "Changed Organization"), which no
catalogue can translate; ``snippets/activity_type_selector.html`` shows these labels instead.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import ckan.plugins.toolkit as tk

__all__ = ["label", "put_templates_first"]


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


# Templates that must win over the activity plugin's own (its snippets do not ``ckan_extends``, and the
# plugins listed first in ``ckan.plugins`` take precedence, so ``templates/`` cannot override them).
TEMPLATES_FIRST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates_first")


def put_templates_first(config: Any) -> None:
    """``IConfigurable.configure``: ``templates_first/`` at the head of the computed template search path."""
    paths = list(config.get("computed_template_paths") or [])
    if paths[:1] != [TEMPLATES_FIRST]:
        config["computed_template_paths"] = [TEMPLATES_FIRST] + [p for p in paths if p != TEMPLATES_FIRST]
