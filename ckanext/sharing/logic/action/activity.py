"""Activity actions chained so that no activity carries a restricted URL, old or new, and nothing of a
hidden dataset (SPEC §3, activity row). Registered only when the ``activity`` plugin is loaded."""
from __future__ import annotations

import copy
import difflib
import json
import re
from typing import Any, Callable

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import Context, DataDict

from ckanext.sharing.access import activity

Action = Callable[[Context, DataDict], Any]


# The actions this module registers.
__all__ = [
    "package_activity_list",
    "user_activity_list",
    "group_activity_list",
    "organization_activity_list",
    "recently_changed_packages_activity_list",
    "dashboard_activity_list",
    "activity_show",
    "activity_data_show",
    "activity_diff",
]


def available() -> bool:
    """Chains onto activity actions exist only where the activity plugin provides them."""
    return p.plugin_loaded("activity")


def _filtered_activity_list(name: str) -> Action:
    """A chained ``*_activity_list`` action whose result goes through the activity filter."""

    @tk.side_effect_free
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return activity.filter_list(context, next_action(context, data_dict))

    chained.__name__ = chained.__qualname__ = name
    chained.__doc__ = f"CKAN's ``{name}`` without restricted resource URLs or hidden datasets."
    return chained


package_activity_list = _filtered_activity_list("package_activity_list")
user_activity_list = _filtered_activity_list("user_activity_list")
group_activity_list = _filtered_activity_list("group_activity_list")
organization_activity_list = _filtered_activity_list("organization_activity_list")
recently_changed_packages_activity_list = _filtered_activity_list("recently_changed_packages_activity_list")
dashboard_activity_list = _filtered_activity_list("dashboard_activity_list")


@tk.side_effect_free
@tk.chained_action
def activity_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN 2.12's activity_show auth reads data_dict["include_data"] unguarded (a 500 without it);
    # the action returns the data either way, so default it as the docs describe.
    data_dict.setdefault("include_data", True)
    return activity.filter_one(context, next_action(context, data_dict))


@tk.side_effect_free
@tk.chained_action
def activity_data_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activity.require_full_for_activity(context, data_dict.get("id"))
    return next_action(context, data_dict)


def _diff(objs: list[Any], diff_type: str) -> str:
    """The diff of two object versions as core's ``activity_diff`` writes it (JSON lines; HTML wrapped at 70)."""
    lines = [json.dumps(obj, indent=2, sort_keys=True).split("\n") for obj in objs]
    if diff_type == "unified":
        return "\n".join(difflib.unified_diff(lines[0], lines[1]))
    if diff_type == "context":
        return "\n".join(difflib.context_diff(lines[0], lines[1]))
    if diff_type == "html":
        wrapped = [[part for line in side for part in re.findall(r".{1,70}(?:\s+|$)", line)] for side in lines]
        return difflib.HtmlDiff().make_table(wrapped[0], wrapped[1])
    raise tk.ValidationError({"message": "diff_type not recognized"})


@tk.side_effect_free
@tk.chained_action
def activity_diff(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """Core's diff, but of a dataset against its previous *version*: a resource-view activity in between (same
    ``object_id``) made core's a 404 on the Changes page (issue 11); a view activity itself has no version."""
    activity.require_full_for_activity(context, data_dict.get("id"))
    if data_dict.get("object_type") != "package":
        return next_action(context, data_dict)
    from ckanext.activity.model.activity import Activity, activity_dictize

    act = model.Session.get(Activity, tk.get_or_bust(data_dict, "id"))
    if act is None or not activity.is_dataset_version(act.activity_type or "") \
            or not isinstance(act.data, dict) or "package" not in act.data:
        raise tk.ObjectNotFound(tk._("Activity not found"))
    tk.check_access("activity_diff", context, data_dict)
    prev = activity.previous_version(act, "package")
    if prev is None:
        raise tk.ObjectNotFound("Previous activity for this object not found")
    versions = [dict(activity_dictize(v, context), data=copy.deepcopy(v.data)) for v in (prev, act)]
    packages = [activity.comparable_snapshot(v["data"]["package"]) for v in versions]
    return {"diff": _diff(packages, data_dict.get("diff_type", "unified")), "activities": versions}
