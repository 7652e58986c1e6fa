"""Request-level guard for the Flask endpoints that hand out data without going through an action
whose result we mask: file downloads, resource views, DataStore dumps and activity history pages.

Installed as a ``before_request`` hook (IMiddleware); it asks :mod:`ckanext.sharing.access`, i.e.
the one policy, and answers 403 with a link to the access-request page.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import g, has_request_context, request

from ckan import model

from ckanext.sharing.access import facts, policy
from ckanext.sharing.api import audit, errors
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
# DataTables' data routes are addressed by a resource view id (issue 10: they answered 500, not 403)
_VIEW_ENDPOINTS = {
    "datatablesview.ajax": "resource_view_id",
    "datatablesview.filtered_download": "resource_view_id",
}
_DATASET_ENDPOINTS = {
    "activity.package_history",
    "activity.package_changes",
    "activity.package_changes_multiple",
}
# Pages whose content the actions already filter, refused here only when the dataset is hidden: core answered
# a not_shared dataset's activity stream with 403 naming it (SPEC §3: hidden is 404, never named; issue 11)
_HIDDEN_ONLY_ENDPOINTS = {"activity.package_activity"}
# flask.g key of the rows the guard read (kept for the rest of the request)
_LOADED = "_sharing_guard_rows"


def _match(endpoint: str) -> tuple[bool, Optional[str]]:
    """(guarded?, view-arg name of the resource id). Dataset types register ``<type>_resource.*``."""
    for name, arg in _RESOURCE_ENDPOINTS.items():
        blueprint, view = name.split(".")
        if endpoint == name or (endpoint.endswith(f"_{blueprint}.{view}") and blueprint == "resource"):
            return True, arg
    if endpoint in _DATASET_ENDPOINTS or endpoint in _VIEW_ENDPOINTS:
        return True, None
    return False, None


def _view_resource_id(endpoint: str, args: dict[str, Any]) -> Optional[str]:
    """The resource id behind a resource-view-addressed route (None when not one, or unknown)."""
    arg = _VIEW_ENDPOINTS.get(endpoint)
    if not arg or not args.get(arg):
        return None
    view = model.Session.get(model.ResourceView, args[arg])
    return view.resource_id if view is not None else None


def check_request() -> Any:
    facts.forget_request_facts()  # a new request reads its facts afresh (the memo of facts.subjects)
    endpoint = request.endpoint or ""
    if endpoint in _HIDDEN_ONLY_ENDPOINTS:
        return _refuse_hidden()
    guarded, arg = _match(endpoint)
    if not guarded:
        return None
    args = request.view_args or {}
    resource_id = args.get(arg) if arg else None
    if endpoint == "datastore.dump":
        resource_id = args.get("resource_id")
    resource_id = _view_resource_id(endpoint, args) or resource_id
    pkg = None
    if resource_id:
        res = model.Resource.get(resource_id)
        pkg = res.package if res is not None else None
    if pkg is None and args.get("id") and endpoint not in _VIEW_ENDPOINTS:
        pkg = model.Package.get(args["id"])
    if endpoint.startswith("activity.") and pkg is None:
        for activity_id in (args.get("id"), request.args.get("new_id"), request.args.get("old_id")):
            if activity_id and (pkg := _activity_package(activity_id)) is not None:
                break
    if pkg is None:
        return None  # let CKAN answer 404 as usual
    # SQLAlchemy's identity map holds objects weakly: keeping the rows read here for the request lets core's
    # view (resource_show, package_show) and the download's file name find them without reading them again
    setattr(g, _LOADED, (pkg, resource_id and model.Session.get(model.Resource, resource_id)))
    decision = facts.decide_for_package({}, pkg, resource_id)
    if decision.full:
        if resource_id and audit.route_reads_data(endpoint) and \
                data_access.record(facts.user_from_context(None), pkg, resource_id, endpoint, decision):
            model.Session.commit()
        return None
    return errors.refuse(pkg, decision)  # hidden: 404, never named (SPEC §3); JSON unless HTML is asked for


def _refuse_hidden() -> Any:
    """404 when the dataset named by the route's ``id`` is hidden from the user, else nothing."""
    pkg = model.Package.get((request.view_args or {}).get("id") or "")
    if pkg is None:
        return None
    decision = facts.decide_for_package({}, pkg)
    return errors.refuse(pkg, decision) if decision.access is policy.Access.HIDDEN else None


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


class RequestScopedExemptions(set):  # type: ignore[type-arg]
    """Flask-WTF's set of CSRF-exempt views, where an exemption added while a request is served holds
    for that request only (issue 10, hole 3).

    CKAN core calls ``csrf.exempt(view)`` for every request authenticated by an ``Authorization``
    header, which would switch CSRF off on that view for every later cookie session of the worker;
    here it exempts just the token request. Exemptions declared outside a request stay permanent.
    """

    _KEY = "_sharing_csrf_exempt"

    def add(self, view: Any) -> None:
        if has_request_context():
            getattr(g, self._KEY, None) or setattr(g, self._KEY, set())
            getattr(g, self._KEY).add(view)
        else:
            super().add(view)

    def __contains__(self, view: object) -> bool:
        if super().__contains__(view):
            return True
        return has_request_context() and view in (getattr(g, self._KEY, None) or ())


def install(app: Any) -> Any:
    """Register the guard on the Flask app (CKAN calls make_middleware once for it) and make core's
    CSRF exemptions per request."""
    if hasattr(app, "before_request"):
        app.before_request(check_request)
    csrf = getattr(app, "extensions", {}).get("csrf")
    if csrf is not None and not isinstance(csrf._exempt_views, RequestScopedExemptions):
        csrf._exempt_views = RequestScopedExemptions(csrf._exempt_views)
    return app
