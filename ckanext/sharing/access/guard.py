"""Request-level guard for the Flask endpoints that hand out data without going through an action
whose result we mask: file downloads, resource views, DataStore dumps and activity history pages.

Installed as a ``before_request`` hook (IMiddleware); it asks :mod:`ckanext.sharing.access`, i.e.
the one policy, and answers 403 with a link to the access-request page.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import request

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import facts, masking
from ckanext.sharing.ledger import data_access

# endpoint suffix -> which view arg holds the resource id (None: dataset-level)
_RESOURCE_ENDPOINTS = {
    "resource.download": "resource_id",
    "resource.view": "resource_id",
    "resource.embedded_dataset_resource_view": "resource_id",
    "resource.datapreview": "resource_id",
    "datastore.dump": "resource_id",
    "activity.resource_history": "resource_id",
}
_DATASET_ENDPOINTS = {
    "activity.package_history",
    "activity.package_changes",
    "activity.package_changes_multiple",
}


def _match(endpoint: str) -> tuple[bool, Optional[str]]:
    """(guarded?, view-arg name of the resource id). Dataset types register ``<type>_resource.*``."""
    for name, arg in _RESOURCE_ENDPOINTS.items():
        blueprint, view = name.split(".")
        if endpoint == name or (endpoint.endswith(f"_{blueprint}.{view}") and blueprint == "resource"):
            return True, arg
    if endpoint in _DATASET_ENDPOINTS:
        return True, None
    return False, None


def check_request() -> Any:
    endpoint = request.endpoint or ""
    guarded, arg = _match(endpoint)
    if not guarded:
        return None
    args = request.view_args or {}
    resource_id = args.get(arg) if arg else None
    if endpoint == "datastore.dump":
        resource_id = args.get("resource_id")
    pkg = None
    if resource_id:
        res = model.Resource.get(resource_id)
        pkg = res.package if res is not None else None
    if pkg is None and args.get("id"):
        pkg = model.Package.get(args["id"])
    if endpoint.startswith("activity.") and pkg is None:
        for activity_id in (args.get("id"), request.args.get("new_id"), request.args.get("old_id")):
            if activity_id and (pkg := _activity_package(activity_id)) is not None:
                break
    if pkg is None:
        return None  # let CKAN answer 404 as usual
    decision = facts.decide_for_package({}, pkg, resource_id)
    if decision.full:
        if resource_id and data_access.record(facts.user_from_context(None), pkg, resource_id, endpoint, decision):
            model.Session.commit()
        return None
    return tk.abort(403, tk._("The data of this dataset is shared on request: ask for access at %s")
                    % masking.request_url(pkg.id))


def _activity_package(activity_id: str) -> Optional[model.Package]:
    """The dataset an activity id belongs to (history pages are addressed by activity id)."""
    try:
        from ckanext.activity.model import Activity
    except ImportError:  # activity plugin not installed
        return None
    act = model.Session.get(Activity, activity_id)
    if act is None or not act.object_id:
        return None
    return model.Package.get(act.object_id)


def install(app: Any) -> Any:
    """Register the guard on the Flask app (CKAN calls make_middleware once for it)."""
    if hasattr(app, "before_request"):
        app.before_request(check_request)
    return app
