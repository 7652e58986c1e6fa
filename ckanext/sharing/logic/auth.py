"""Auth functions: core ones chained to the sharing policy, and the workflow's own (``sharing_*``)."""
from __future__ import annotations

from typing import Callable, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing import access

AuthFunction = Callable[[Context, DataDict], AuthResult]


def _data_allowed(context: Context, resource_id: str | None) -> tuple[bool, str]:
    res = model.Resource.get(resource_id or "")
    if res is None or res.package is None:
        return True, ""  # not a CKAN resource: the core check decides (and 404s)
    decision = access.decide_for_package(context, res.package, res.id)
    return decision.full, decision.reason


def _deny(reason: str) -> AuthResult:
    return {"success": False, "msg": tk._("The data of this dataset is shared on request (%s)") % reason}


def _then_data_check(name: str, resource_of: Callable[[DataDict], Optional[str]]) -> AuthFunction:
    """A chained auth function: CKAN's own check, then the sharing decision for the resource it reads."""

    @tk.auth_allow_anonymous_access
    @tk.chained_auth_function
    def chained(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
        result = next_auth(context, data_dict)
        if not result.get("success"):
            return result
        ok, reason = _data_allowed(context, resource_of(data_dict))
        return result if ok else _deny(reason)

    chained.__name__ = chained.__qualname__ = name
    return chained


def _view_resource(data_dict: DataDict) -> Optional[str]:
    view = model.ResourceView.get(data_dict.get("id") or "")
    return view.resource_id if view is not None else None


datastore_search = _then_data_check("datastore_search", lambda d: d.get("resource_id") or d.get("id"))
datastore_info = _then_data_check("datastore_info", lambda d: d.get("id") or d.get("resource_id"))
resource_view_show = _then_data_check("resource_view_show", _view_resource)


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_search_sql(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    # The DataStore passes the table names as a generator: read it once, for both checks.
    names = list(context.get("table_names") or [])
    context["table_names"] = names  # type: ignore[typeddict-unknown-key]
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    for name in names:
        ok, reason = _data_allowed(context, name)
        if not ok:
            return _deny(reason)
    return result


# --- the access-request workflow (SPEC §4) and the audit ledger (SPEC §5) ----------------------
# Requesters see their own requests, deciders (admins of the owning organization, or editors with
# ``ckanext.sharing.approver_capacity = editor``) their organization's; every check loads the
# object by its id and authorises against that object, never against ids the caller sends along.


def _wf_no(msg: str) -> AuthResult:
    return {"success": False, "msg": msg}


def _wf_yes() -> AuthResult:
    return {"success": True}


def _wf_user(context: Context) -> model.User | None:
    return access.user_from_context(context)


def _wf_request_and_decider(context: Context, data_dict: DataDict):
    from ckanext.sharing import workflow
    from ckanext.sharing.model import SharingRequest

    user = _wf_user(context)
    req = model.Session.get(SharingRequest, str(data_dict.get("id") or ""))
    if user is None or req is None:
        return user, req, False
    return user, req, workflow.sharing_is_decider(user, workflow.sharing_package_org(req.package_id, req.owner_org))


def sharing_request_create(context: Context, data_dict: DataDict) -> AuthResult:
    """Any logged-in user may ask (the action refuses open / not_shared datasets and existing access)."""
    if _wf_user(context) is None:
        return _wf_no(tk._("You must be logged in to request access"))
    return _wf_yes()


def sharing_request_show(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester and the deciders of the owning organization."""
    user, req, decider = _wf_request_and_decider(context, data_dict)
    if req is not None and user is not None and (req.requester_id == user.id or decider):
        return _wf_yes()
    return _wf_no(tk._("Not authorized to see this access request"))


def sharing_request_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users (the action lists only what they may see); an organization's queue: its deciders."""
    from ckanext.sharing import workflow

    user = _wf_user(context)
    if user is None:
        return _wf_no(tk._("You must be logged in"))
    org_ref = data_dict.get("organization_id")
    if org_ref and not data_dict.get("mine"):
        org = model.Group.get(org_ref)
        if org is None or not workflow.sharing_is_decider(user, org.id):
            return _wf_no(tk._("Not authorized to see the access requests of this organization"))
    return _wf_yes()


def sharing_request_approve(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only."""
    user, req, decider = _wf_request_and_decider(context, data_dict)
    if decider:
        return _wf_yes()
    return _wf_no(tk._("Only the owning organization's admins may decide this request"))


def sharing_request_reject(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only."""
    return sharing_request_approve(context, data_dict)


def sharing_request_withdraw(context: Context, data_dict: DataDict) -> AuthResult:
    """The requester only."""
    user, req, _ = _wf_request_and_decider(context, data_dict)
    if req is not None and user is not None and req.requester_id == user.id:
        return _wf_yes()
    return _wf_no(tk._("Only the requester may withdraw this request"))


def _wf_grant_and_roles(context: Context, data_dict: DataDict):
    from ckanext.sharing import workflow
    from ckanext.sharing.model import SharingGrant, SharingRequest

    user = _wf_user(context)
    grant = model.Session.get(SharingGrant, str(data_dict.get("id") or ""))
    if user is None or grant is None:
        return user, grant, False, False
    decider = workflow.sharing_is_decider(user, workflow.sharing_package_org(grant.package_id, grant.owner_org))
    grantee = grant.user_id == user.id or (
        grant.organization_id is not None and grant.organization_id in access.user_capacities(user.id)
    )
    if not grantee and grant.request_id:
        req = model.Session.get(SharingRequest, grant.request_id)
        grantee = req is not None and req.requester_id == user.id
    return user, grant, decider, grantee


def sharing_grant_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users (the action lists only what they may see); an organization's grants: its deciders."""
    return sharing_request_list(context, data_dict)


def sharing_grant_show(context: Context, data_dict: DataDict) -> AuthResult:
    """The grantee (user, or member of the grantee organization), the requester, the deciders."""
    _, grant, decider, grantee = _wf_grant_and_roles(context, data_dict)
    if grant is not None and (decider or grantee):
        return _wf_yes()
    return _wf_no(tk._("Not authorized to see this grant"))


def sharing_grant_revoke(context: Context, data_dict: DataDict) -> AuthResult:
    """Deciders of the owning organization only."""
    _, grant, decider, _ = _wf_grant_and_roles(context, data_dict)
    if grant is not None and decider:
        return _wf_yes()
    return _wf_no(tk._("Only the owning organization's admins may revoke this grant"))


@tk.auth_allow_anonymous_access
def sharing_access_check(context: Context, data_dict: DataDict) -> AuthResult:
    """Anyone may ask about themselves, for a dataset whose metadata they may see."""
    try:
        tk.check_access("package_show", dict(context), {"id": data_dict.get("package_id")})
    except tk.NotAuthorized:
        return _wf_no(tk._("Not authorized to see this dataset"))
    return _wf_yes()


def sharing_audit_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Sysadmins; organization admins for their own organization's rows."""
    user = _wf_user(context)
    if user is None:
        return _wf_no(tk._("You must be logged in"))
    admin_of = {org for org, cap in access.user_capacities(user.id).items() if cap == "admin"}
    org_ref = data_dict.get("organization_id")
    if org_ref:
        org = model.Group.get(org_ref)
        if org is not None and org.id in admin_of:
            return _wf_yes()
        return _wf_no(tk._("Not authorized to see the audit ledger of this organization"))
    if admin_of:
        return _wf_yes()
    return _wf_no(tk._("Not authorized to see the audit ledger"))
