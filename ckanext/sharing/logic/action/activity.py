"""Activity actions chained so that no activity carries a restricted URL, old or new, and nothing of a
hidden dataset (SPEC §3, activity row). Registered only when the ``activity`` plugin is loaded."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins as p
import ckan.plugins.toolkit as tk
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


@tk.side_effect_free
@tk.chained_action
def activity_diff(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activity.require_full_for_activity(context, data_dict.get("id"))
    return next_action(context, data_dict)
