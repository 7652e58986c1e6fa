"""Auth functions of the workflow's actions (SPEC §4).

Requesters see their own requests, deciders (:mod:`ckanext.sharing.access.roles`) their organization's;
every check loads the object by its own id (or takes the row the action already loaded, kept in the
context) and authorises against that object, never against ids the caller sends along (no IDOR).
"""
from __future__ import annotations

from typing import Any, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing.access import facts, roles
from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import queries

# The keys under which the actions hand over the row they loaded (logic.action.workflow).
REQUEST_KEY = "sharing_request"
GRANT_KEY = "sharing_grant"


def available() -> bool:
    """The workflow's auth functions are always there."""
    return True


def _no(msg: str) -> AuthResult:
    return {"success": False, "msg": msg}


def _yes() -> AuthResult:
    return {"success": True}


def _row(context: Context, key: str, cls: Any, row_id: Any) -> Any:
    """The row the action loaded (same id), else the row loaded here by its own id."""
    cached = context.get(key)  # type: ignore[misc]
    if cached is not None and getattr(cached, "id", None) == row_id:
        return cached
    return model.Session.get(cls, str(row_id or ""))


def _request_and_decider(context: Context, data_dict: DataDict) -> tuple[Optional[model.User], Any, bool]:
    user = facts.user_from_context(context)
    req = _row(context, REQUEST_KEY, SharingRequest, data_dict.get("id"))
    if user is None or req is None:
        return user, req, False
    return user, req, roles.is_decider(user, queries.package_org(req.package_id, req.owner_org))


def sharing_request_create(context: Context, data_dict: DataDict) -> AuthResult:
    """Any logged-in user may ask (the action refuses open / not_shared datasets and existing access)."""
    if facts.user_from_context(context) is None:
        return _no(tk._("You must be logged in to request access"))
    return _yes()


def sharing_request_show(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester, the deciders of the owning organization, and the authority once the request was put
    before it (an extension ask or an escalation, SPEC §4b)."""
    user, req, decider = _request_and_decider(context, data_dict)
    if req is not None and user is not None and (req.requester_id == user.id or decider):
        return _yes()
    if req is not None and queries.brought_to_authority(req) and roles.is_authority(user):
        return _yes()
    return _no(tk._("Not authorized to see this access request"))


def sharing_request_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users (the action lists only what they may see); an organization's queue: its deciders."""
    user = facts.user_from_context(context)
    if user is None:
        return _no(tk._("You must be logged in"))
    org_ref = data_dict.get("organization_id")
    if org_ref and not data_dict.get("mine"):
        org = model.Group.get(org_ref)
        if org is None or not roles.is_decider(user, org.id):
            return _no(tk._("Not authorized to see the access requests of this organization"))
    return _yes()


def sharing_request_approve(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only."""
    _, _, decider = _request_and_decider(context, data_dict)
    if decider:
        return _yes()
    return _no(tk._("Only the owning organization's admins may decide this request"))


def sharing_request_reject(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only."""
    return sharing_request_approve(context, data_dict)


def sharing_request_withdraw(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester only."""
    return _requester_only(context, data_dict, tk._("Only the requester may withdraw this request"))


def _requester_only(context: Context, data_dict: DataDict, refusal: str) -> AuthResult:
    """Yes for the request's own requester (the request loaded by its id), else ``refusal``."""
    user, req, _ = _request_and_decider(context, data_dict)
    if req is not None and user is not None and req.requester_id == user.id:
        return _yes()
    return _no(refusal)


def _authority_only(context: Context, data_dict: DataDict) -> AuthResult:
    """Yes for the sharing authority (SPEC §4b: sysadmins and ``ckanext.sharing.authority_org``'s admins)."""
    if roles.is_authority(facts.user_from_context(context)):
        return _yes()
    return _no(tk._("Only the sharing authority may do this"))


def _grant_and_roles(context: Context, data_dict: DataDict) -> tuple[Any, bool, bool]:
    """(the grant, is the caller a decider of it, is the caller its grantee or requester)."""
    user = facts.user_from_context(context)
    grant = _row(context, GRANT_KEY, SharingGrant, data_dict.get("id"))
    if user is None or grant is None:
        return grant, False, False
    decider = roles.is_decider(user, queries.package_org(grant.package_id, grant.owner_org))
    req = model.Session.get(SharingRequest, grant.request_id) if grant.request_id else None
    grantee = roles.is_grantee(user, grant, req.requester_id if req is not None else None)
    return grant, decider, grantee


def sharing_grant_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users (the action lists only what they may see); an organization's grants: its deciders."""
    return sharing_request_list(context, data_dict)


def sharing_grant_show(context: Context, data_dict: DataDict) -> AuthResult:
    """The grantee (user, or member of the grantee organization), the requester, the deciders."""
    grant, decider, grantee = _grant_and_roles(context, data_dict)
    if grant is not None and (decider or grantee):
        return _yes()
    return _no(tk._("Not authorized to see this grant"))


def sharing_grant_revoke(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only."""
    grant, decider, _ = _grant_and_roles(context, data_dict)
    if grant is not None and decider:
        return _yes()
    return _no(tk._("Only the owning organization's admins may revoke this grant"))


@tk.auth_allow_anonymous_access
def sharing_access_check(context: Context, data_dict: DataDict) -> AuthResult:
    """Anyone may ask about themselves, for a dataset whose metadata they may see."""
    try:
        tk.check_access("package_show", dict(context), {"id": data_dict.get("package_id")})
    except tk.NotAuthorized:
        return _no(tk._("Not authorized to see this dataset"))
    return _yes()


# --- the request's lifecycle under the 2025 Regulation (SPEC §4b) -------------------------------


def sharing_request_return(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only (Art. 21)."""
    return sharing_request_approve(context, data_dict)


def sharing_request_extend(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only (Art. 21: the provider asks)."""
    return sharing_request_approve(context, data_dict)


def sharing_request_resubmit(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester only (Art. 21)."""
    return _requester_only(context, data_dict, tk._("Only the requester may resubmit this request"))


def sharing_request_escalate(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester only (Art. 28)."""
    return _requester_only(context, data_dict, tk._("Only the requester may bring this request to the authority"))


def sharing_extension_decide(context: Context, data_dict: DataDict) -> AuthResult:
    """The sharing authority only (Art. 21)."""
    return _authority_only(context, data_dict)


def sharing_request_resolve(context: Context, data_dict: DataDict) -> AuthResult:
    """The sharing authority only (Art. 28)."""
    return _authority_only(context, data_dict)


def sharing_authority_queue(context: Context, data_dict: DataDict) -> AuthResult:
    """The sharing authority only."""
    return _authority_only(context, data_dict)


# What this module registers: every sharing_* function defined above.
__all__ = sorted(n for n in list(globals()) if n.startswith("sharing_") and callable(globals()[n]))
