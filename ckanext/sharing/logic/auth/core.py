"""Core auth functions chained to the sharing decision (SPEC §3): ``resource_view_show`` renders data."""
from __future__ import annotations

from typing import Callable, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing.access import facts
from ckanext.sharing.api import errors

AuthFunction = Callable[[Context, DataDict], AuthResult]

__all__ = ["resource_view_show"]


def available() -> bool:
    """Core auth functions are always there."""
    return True


def data_allowed(context: Context, resource_id: str | None) -> tuple[bool, str]:
    """(may the caller read this resource's data?, the policy's reason)."""
    res = model.Resource.get(resource_id or "")
    if res is None or res.package is None:
        return True, ""  # not a CKAN resource: the core check decides (and 404s)
    decision = facts.decide_for_package(context, res.package, res.id)
    errors.note_refusal(res.package, decision)  # the API's 403 names the reason and the request page
    return decision.full, decision.reason


def deny(reason: str) -> AuthResult:
    """The refusal of a data read, with the policy's reason."""
    return {"success": False, "msg": tk._("The data of this dataset is shared on request (%s)") % reason}


def then_data_check(name: str, resource_of: Callable[[DataDict], Optional[str]]) -> AuthFunction:
    """A chained auth function: CKAN's own check, then the sharing decision for the resource it reads."""

    @tk.auth_allow_anonymous_access
    @tk.chained_auth_function
    def chained(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
        result = next_auth(context, data_dict)
        if not result.get("success"):
            return result
        ok, reason = data_allowed(context, resource_of(data_dict))
        return result if ok else deny(reason)

    chained.__name__ = chained.__qualname__ = name
    return chained


def _view_resource(data_dict: DataDict) -> Optional[str]:
    view = model.ResourceView.get(data_dict.get("id") or "")
    return view.resource_id if view is not None else None


resource_view_show = then_data_check("resource_view_show", _view_resource)
