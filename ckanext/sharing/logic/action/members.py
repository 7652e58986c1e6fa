"""``member_list`` without hidden datasets (SPEC §3: a hidden dataset is never counted or listed, and no answer
names its id). Core lists every dataset of a group or organization by id, private ones included, to anyone who
may read the group; the leak crawler found it (issue 10)."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

Action = Callable[[Context, DataDict], Any]

# The actions this module registers.
__all__ = ["member_list"]


def available() -> bool:
    """A core action: always there."""
    return True


@tk.side_effect_free
@tk.chained_action
def member_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """Core's member list, minus the datasets the caller may not see (CKAN's own ``package_show`` decides)."""
    members = next_action(context, data_dict)
    if (data_dict.get("object_type") or "") != "package":
        return members
    return [m for m in members if _may_see(context, m[0])]


def _may_see(context: Context, package_id: str) -> bool:
    """Whether ``package_show`` would answer the caller about this dataset."""
    try:
        tk.check_access("package_show", {"user": context.get("user"), "auth_user_obj": context.get("auth_user_obj")},
                        {"id": package_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True
