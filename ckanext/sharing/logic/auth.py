"""Auth functions: core ones chained to the sharing policy, and the workflow's own (``sharing_*``)."""
from __future__ import annotations

from typing import Any, Callable

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


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_search(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    ok, reason = _data_allowed(context, data_dict.get("resource_id") or data_dict.get("id"))
    return result if ok else _deny(reason)


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_info(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    ok, reason = _data_allowed(context, data_dict.get("id") or data_dict.get("resource_id"))
    return result if ok else _deny(reason)


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_search_sql(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    for name in context.get("table_names") or []:
        ok, reason = _data_allowed(context, name)
        if not ok:
            return _deny(reason)
    return result


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def resource_view_show(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    view = model.ResourceView.get(data_dict.get("id") or "")
    if view is None:
        return result
    ok, reason = _data_allowed(context, view.resource_id)
    return result if ok else _deny(reason)
