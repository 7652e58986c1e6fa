"""Auth functions of the ledger's actions (SPEC §5): who reads the ledger is :mod:`roles`' answer."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing.access import facts, roles
from ckanext.sharing.ledger import tree

__all__ = ["sharing_audit_checkpoint_list", "sharing_audit_list", "sharing_audit_proof"]


def available() -> bool:
    """The ledger's auth functions are always there."""
    return True


def sharing_audit_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Sysadmins and auditors (``ckanext.sharing.auditors``); organization admins for their own
    organization's rows."""
    user = facts.user_from_context(context)
    if user is None:
        return {"success": False, "msg": tk._("You must be logged in")}
    if roles.reads_everything(user):
        return {"success": True}
    org_ref = data_dict.get("organization_id")
    if org_ref:
        org = model.Group.get(org_ref)
        if org is not None and roles.may_read_ledger(user, org.id):
            return {"success": True}
        return {"success": False, "msg": tk._("Not authorized to see the audit ledger of this organization")}
    if roles.may_read_ledger(user):
        return {"success": True}
    return {"success": False, "msg": tk._("Not authorized to see the audit ledger")}


def sharing_audit_proof(context: Context, data_dict: DataDict) -> AuthResult:
    """Whoever may read the row: sysadmins, auditors, admins of its organization, the requester of
    its request."""
    user = facts.user_from_context(context)
    if user is None:
        return {"success": False, "msg": tk._("You must be logged in")}
    try:
        row = tree.row_by_id(model.Session, int(data_dict.get("id")))
    except (TypeError, ValueError):
        row = None
    if row is not None and roles.may_read_row(user, row):
        return {"success": True}
    return {"success": False, "msg": tk._("Not authorized to see this audit row")}


def sharing_audit_checkpoint_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Those who read the ledger (or their organization's part of it)."""
    if sharing_audit_list(context, {})["success"]:
        return {"success": True}
    return {"success": False, "msg": tk._("Not authorized to see the audit ledger")}
