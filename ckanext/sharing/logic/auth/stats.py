"""Auth functions of the statistics actions (issue 17, SPEC §13).

The public figures are for everyone, anonymous visitors included (they are counts, and name no
``not_shared`` dataset and no person). A department's overview is for its deciders and admins
(:mod:`ckanext.sharing.access.roles`) and sysadmins; the overview of all departments for the
authority (``roles.is_authority``: sysadmins and the admins of ``ckanext.sharing.authority_org``).
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing.access import facts, roles

__all__ = ["sharing_stats_department_list", "sharing_stats_department_show", "sharing_stats_show"]


def available() -> bool:
    """The statistics' auth functions are always there."""
    return True


@tk.auth_allow_anonymous_access
def sharing_stats_show(context: Context, data_dict: DataDict) -> AuthResult:
    """Everyone: the public statistics (开放统计)."""
    return {"success": True}


def may_see_department(user: model.User | None, org_id: str) -> bool:
    """The authority (sysadmins included), and the department's deciders and admins."""
    if user is None:
        return False
    return roles.is_authority(user) or roles.is_decider(user, org_id) or org_id in roles.admin_orgs(user)


def sharing_stats_department_show(context: Context, data_dict: DataDict) -> AuthResult:
    """The department's deciders and admins, and sysadmins."""
    user = facts.user_from_context(context)
    if user is None:
        return {"success": False, "msg": tk._("You must be logged in")}
    org = model.Group.get(str(data_dict.get("organization_id") or ""))
    if org is not None and may_see_department(user, org.id):
        return {"success": True}
    return {"success": False, "msg": tk._("Only the department's deciders and admins may see its overview")}


def sharing_stats_department_list(context: Context, data_dict: DataDict) -> AuthResult:
    """The authority: sysadmins and the admins of ``ckanext.sharing.authority_org``."""
    user = facts.user_from_context(context)
    if user is not None and roles.is_authority(user):
        return {"success": True}
    return {"success": False, "msg": tk._("Only the authority may see all departments' figures")}
