"""Auth function of the ledger's action (SPEC §5): who reads the ledger is :mod:`roles`' answer."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing.access import facts, roles

__all__ = ["sharing_audit_list"]


def available() -> bool:
    """The ledger's auth functions are always there."""
    return True


def sharing_audit_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Sysadmins; organization admins for their own organization's rows."""
    user = facts.user_from_context(context)
    if user is None:
        return {"success": False, "msg": tk._("You must be logged in")}
    org_ref = data_dict.get("organization_id")
    if org_ref:
        org = model.Group.get(org_ref)
        if org is not None and roles.may_read_ledger(user, org.id):
            return {"success": True}
        return {"success": False, "msg": tk._("Not authorized to see the audit ledger of this organization")}
    if roles.may_read_ledger(user):
        return {"success": True}
    return {"success": False, "msg": tk._("Not authorized to see the audit ledger")}
