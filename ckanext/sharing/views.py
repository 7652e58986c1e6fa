"""Blueprints of ckanext-sharing: the pages of the request → decision → grant workflow.

Every page calls the ``sharing_*`` actions with the logged-in user's context, so the pages can
show and do exactly what the API allows that user (same auth, same validation). Forms carry
CKAN's CSRF token (``{{ h.csrf_input() }}``).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from flask import Blueprint, current_app

import ckan.plugins.toolkit as tk
from ckan.lib.helpers import helper_functions as h

from ckanext.sharing import config
from ckanext.sharing.ui import dates
from ckanext.sharing.ledger import signing as ledger_signing

__all__ = ["sharing"]

sharing = Blueprint("sharing", __name__)


@sharing.before_request
def _check_csrf() -> None:
    """Every cookie-authenticated POST of these pages checks CKAN's CSRF token itself: core exempts a
    view from CSRF once an ``Authorization``-header request reaches it (CKAN-NOTES; issue 10, hole 3).
    A token-authenticated request carries no cookie a forger could ride, so it needs none."""
    if tk.request.method != "POST" or tk.g.get("login_via_auth_header"):
        return
    csrf = current_app.extensions.get("csrf")
    if csrf is not None and current_app.config.get("WTF_CSRF_ENABLED"):
        csrf.protect()


def _context() -> dict[str, Any]:
    user = tk.current_user
    return {"user": user.name if user and user.is_authenticated else ""}


def _logged_in() -> bool:
    return bool(tk.current_user and tk.current_user.is_authenticated)


def _login_redirect():
    return tk.redirect_to("user.login", came_from=tk.request.full_path)


def _action(name: str, data: dict[str, Any]) -> Any:
    return tk.get_action(name)(_context(), data)


def _field_label(key: str) -> str:
    """The label the forms show for a field of the sharing actions (errors never show raw keys, issue 11)."""
    return {
        "purpose": tk._("Purpose (用途)"), "use_scenario": tk._("Use scenario (应用场景)"),
        "requested_days": tk._("Period of access (days)"), "resource_ids": tk._("Resources"),
        "organization_id": tk._("On behalf of"), "package_id": tk._("Dataset"),
        "expires": tk._("Access until"), "reason": tk._("Reason"), "decision": tk._("Decision"),
        "use_basis": tk._("Use basis (使用依据)"), "use_scope": tk._("Use scope (使用范围)"),
        "share_method": tk._("Sharing method (共享方式)"), "missing": tk._("What is missing"),
        "working_days": tk._("Working days"), "approve": tk._("Decision"), "note": tk._("Note"),
        "id": tk._("Request"), "method": tk._("Delivery method"), "description": tk._("Description"),
        "answer": tk._("Answer"), "grant_id": tk._("Grant"), "user_id": tk._("User"),
        "provider_org_id": tk._("Providing department"),
    }.get(key, key)


def _error_summary(errors: dict[str, Any]) -> dict[str, str]:
    """All errors of a form at once, by field key, each message led by its field's label."""
    return {key: _field_label(key) + ": " + "; ".join(str(v) for v in (val if isinstance(val, list) else [val]))
            for key, val in errors.items()}


def flash_action(call: Callable[[], Any], *, done: str, denied: str, not_found: Optional[str] = None) -> Any:
    """Run the action of a POST-only form: flash ``done`` (and return the result) or every validation error
    with its label; 404 for a missing object (403 with ``denied`` when ``not_found`` is not given), 403 with
    ``denied`` when the caller may not act."""
    try:
        result = call()
    except tk.ObjectNotFound:
        return tk.abort(404, not_found) if not_found else tk.abort(403, denied)
    except tk.NotAuthorized:
        return tk.abort(403, denied)
    except tk.ValidationError as e:
        h.flash_error("; ".join(_error_summary(e.error_dict).values()))
        return None
    h.flash_success(done)
    return result


def submit_form(action: str, data: dict[str, Any], denied: str) -> dict[str, Any]:
    """Call the action of a page's own form: its validation errors (``{}`` when it succeeded) to show beside
    the fields, or 403 with ``denied``."""
    try:
        _action(action, data)
    except tk.ValidationError as e:
        return e.error_dict
    except tk.NotAuthorized:
        return tk.abort(403, denied)
    return {}


def grant_or_abort(id: str) -> dict[str, Any]:
    """The grant the caller may see, or 404 / 403 as CKAN's pages answer."""
    try:
        return _action("sharing_grant_show", {"id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Grant not found"))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to see this grant"))


def _org_or_abort(id: str) -> dict[str, Any]:
    try:
        return _action("organization_show", {"id": id, "include_datasets": False})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Organization not found"))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to see this organization"))


# --- the request form (every masked resource URL points here) --------------------------------


def request_access(id: str):
    """The access-request page of a dataset: the caller's access, their requests, and the form."""
    try:
        pkg = _action("package_show", {"id": id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Dataset not found"))
    check = _action("sharing_access_check", {"package_id": pkg["id"]})
    data: dict[str, Any] = {"requested_days": config.default_grant_days()}
    errors: dict[str, Any] = {}
    if tk.request.method == "POST":
        if not _logged_in():
            return _login_redirect()
        form = tk.request.form
        data = {
            "package_id": pkg["id"],
            "purpose": form.get("purpose", ""),
            "use_scenario": form.get("use_scenario", ""),
            "use_basis": form.get("use_basis", ""),
            "use_scope": form.get("use_scope", ""),
            "share_method": form.get("share_method", ""),
            "requested_days": form.get("requested_days", ""),
            "resource_ids": form.getlist("resource_ids"),
            "organization_id": form.get("organization_id") or None,
        }
        errors = submit_form("sharing_request_create", data, tk._("Not authorized to request access"))
        if not errors:
            h.flash_success(tk._("Your request was sent to the owning department."))
            return tk.redirect_to("sharing.dashboard")
    mine: list[dict[str, Any]] = []
    orgs: list[dict[str, Any]] = []
    if _logged_in():
        mine = _action("sharing_request_list", {"package_id": pkg["id"], "mine": True})["results"]
        orgs = tk.get_action("organization_list_for_user")(_context(), {"permission": "read"})
    return tk.render("sharing/request_access.html", {
        "pkg_dict": pkg, "pkg": pkg, "check": check, "data": data, "errors": errors,
        "error_summary": _error_summary(errors), "my_requests": mine, "my_orgs": orgs,
        "max_days": config.max_grant_days(), "share_methods": _offered_methods(pkg["id"]),
    })


# --- the requester's dashboard ----------------------------------------------------------------


def dashboard():
    """My requests and grants."""
    if not _logged_in():
        return _login_redirect()
    requests = _action("sharing_request_list", {"mine": True, "limit": 1000})["results"]
    grants = _action("sharing_grant_list", {"mine": True, "limit": 1000})["results"]
    user_dict = _action("user_show", {"id": tk.current_user.id})
    return tk.render("sharing/dashboard.html", {
        "requests": requests, "grants": grants, "user_dict": user_dict, "is_myself": True,
        "to_decide": _to_decide(), "is_authority": bool(tk.h.check_access("sharing_authority_queue", {"kind": "escalations"})),
    })


def _to_decide() -> list[dict[str, Any]]:
    """For deciders: each organization with pending requests they decide, with pending/overdue counts."""
    pending = _action("sharing_request_list", {"state": "pending", "limit": 1000})["results"]
    me = tk.current_user.id
    by_org: dict[str, dict[str, Any]] = {}
    for req in pending:
        if req["requester_id"] == me or not req["owner_org"]:
            continue
        entry = by_org.setdefault(req["owner_org"], {
            "id": req["owner_org"], "title": req["owner_org_title"] or req["owner_org"], "pending": 0, "overdue": 0,
        })
        entry["pending"] += 1
        entry["overdue"] += int(req["overdue"])
    return sorted(by_org.values(), key=lambda e: (-e["overdue"], -e["pending"], e["title"]))


def withdraw(id: str):
    """The requester withdraws a pending request (POST only)."""
    if not _logged_in():
        return _login_redirect()
    flash_action(lambda: _action("sharing_request_withdraw", {"id": id}), done=tk._("Request withdrawn."),
                 denied=tk._("Only the requester may withdraw this request"),
                 not_found=tk._("Access request not found"))
    return tk.redirect_to("sharing.dashboard")


# --- the organization's review queue, decision page and grants ------------------------------------


def org_requests(id: str):
    """The review queue of an organization: pending first, the most overdue first; then decided ones."""
    if not _logged_in():
        return _login_redirect()
    group = _org_or_abort(id)
    state = tk.request.args.get("state") or None
    try:
        data = {"organization_id": group["id"], "limit": 1000}
        if state:
            data["state"] = state
        result = _action("sharing_request_list", data)
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to see the access requests of this organization"))
    except tk.ValidationError:
        return tk.abort(400, tk._("Unknown state"))
    return tk.render("sharing/org_requests.html", {
        "group_dict": group, "group_type": "organization", "requests": result["results"], "state": state,
    })


def _resubmitted_fields(form: Any) -> dict[str, Any]:
    """The request fields a requester changed in the resubmit form (blank ones are kept as they were)."""
    keys = ("purpose", "use_scenario", "use_basis", "use_scope", "share_method", "requested_days")
    return {key: form.get(key) for key in keys if (form.get(key) or "").strip()}


def _decision_forms() -> dict[str, tuple[str, Callable[[Any, str], dict[str, Any]], str]]:
    """Each form of the request page: the form's ``decision`` → (action, form → action input, success message)."""
    def until(form: Any) -> Optional[str]:
        return dates.end_of_local_day(form.get("expires")) or None

    return {
        "approve": ("sharing_request_approve", lambda f, id: {
            "id": id, "expires": until(f), "resource_ids": f.getlist("resource_ids"), "reason": f.get("reason") or None,
        }, tk._("Request approved: access granted.")),
        "reject": ("sharing_request_reject", lambda f, id: {"id": id, "reason": f.get("reason", "")},
                   tk._("Request rejected.")),
        "return": ("sharing_request_return", lambda f, id: {"id": id, "missing": f.get("missing", "")},
                   tk._("Request returned: the requester was sent the list of what is missing.")),
        "resubmit": ("sharing_request_resubmit", lambda f, id: {"id": id, **_resubmitted_fields(f)},
                     tk._("Request resubmitted: the reply deadline starts again.")),
        "extend": ("sharing_request_extend", lambda f, id: {
            "id": id, "working_days": f.get("working_days", ""), "reason": f.get("reason", "")},
            tk._("Extension asked of the sharing authority.")),
        "extension": ("sharing_extension_decide", lambda f, id: {
            "id": id, "approve": f.get("approve", ""), "note": f.get("note") or None}, tk._("Extension decided.")),
        "escalate": ("sharing_request_escalate", lambda f, id: {"id": id, "reason": f.get("reason", "")},
                     tk._("Request brought to the sharing authority for coordination.")),
        "resolve": ("sharing_request_resolve", lambda f, id: {
            "id": id, "decision": f.get("resolution", ""), "note": f.get("note") or None, "expires": until(f)},
            tk._("Escalation resolved.")),
    }


def decide(id: str):
    """The request page: the request, its timeline, and the forms the caller may use — approve / reject /
    return / extend (deciders), resubmit / escalate (the requester), extension decision / resolution
    (the authority). Each form posts its ``decision`` and calls the matching action."""
    if not _logged_in():
        return _login_redirect()
    try:
        req = _action("sharing_request_show", {"id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Access request not found"))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to see this access request"))
    errors: dict[str, Any] = {}
    form_data: dict[str, Any] = {}
    posted = None
    if tk.request.method == "POST":
        posted = tk.request.form.get("decision")
        form = _decision_forms().get(posted or "")
        if form is None:
            errors = {"decision": [tk._("Choose approve or reject")]}
        else:
            action, to_data, done = form
            form_data = to_data(tk.request.form, id)
            try:
                _action(action, dict(form_data))
                h.flash_success(done)
            except tk.NotAuthorized:
                return tk.abort(403, tk._("Not authorized to do this with this access request"))
            except tk.ValidationError as e:
                errors = e.error_dict
        if not errors:
            return tk.redirect_to("sharing.decide", id=id)
    may = {name: bool(tk.h.check_access(name, {"id": id})) for name in (
        "sharing_request_approve", "sharing_request_resubmit", "sharing_extension_decide")}
    pkg: Optional[dict[str, Any]] = None
    try:
        pkg = _action("package_show", {"id": req["package_id"]})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        pkg = None
    grant = None
    if req.get("grant_id"):
        try:
            grant = _action("sharing_grant_show", {"id": req["grant_id"]})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            grant = None
    return tk.render("sharing/decide.html", {
        "req": req, "pkg": pkg, "grant": grant, "can_decide": may["sharing_request_approve"],
        "is_requester": may["sharing_request_resubmit"], "is_authority": may["sharing_extension_decide"],
        "errors": errors, "posted": posted, "error_summary": _error_summary(errors), "form_data": form_data,
        "default_expires": _default_expiry(req), "max_extension": config.max_extension_working_days(),
        "share_methods": _offered_methods(req["package_id"]),
    })


def _offered_methods(package_id: str) -> tuple[str, ...]:
    """The 共享方式 a dataset offers (the request form's choices)."""
    from ckan import model

    from ckanext.sharing.workflow import transitions

    pkg = model.Package.get(package_id)
    return transitions.offered_methods(pkg) if pkg is not None else ()


def authority():
    """The sharing authority's page (共享主管部门, SPEC §13): escalations to coordinate (Art. 28) and
    extension asks to decide (Art. 21); suspensions are listed in the template's marked block."""
    if not _logged_in():
        return _login_redirect()
    try:
        queues = {kind: _action("sharing_authority_queue", {"kind": kind, "limit": 1000})["results"]
                  for kind in ("escalations", "extensions")}
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Only the sharing authority may see this page"))
    return tk.render("sharing/authority.html", {"escalations": queues["escalations"],
                                                "extensions": queues["extensions"]})


def _default_expiry(req: dict[str, Any]) -> str:
    """The approval form's default end date: the requested period from today (the portal's day)."""
    import datetime as dt

    from ckanext.sharing.workflow import clock

    return (clock.today() + dt.timedelta(days=int(req.get("requested_days") or 1))).isoformat()


def org_grants(id: str):
    """The grants on an organization's datasets, with revoke forms."""
    if not _logged_in():
        return _login_redirect()
    group = _org_or_abort(id)
    try:
        result = _action("sharing_grant_list", {"organization_id": group["id"], "limit": 1000})
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to see the grants of this organization"))
    return tk.render("sharing/org_grants.html", {
        "group_dict": group, "group_type": "organization", "grants": result["results"],
    })


def revoke(id: str):
    """Revoke a grant (POST only); back to the organization's grants list."""
    if not _logged_in():
        return _login_redirect()
    grant = grant_or_abort(id)
    flash_action(lambda: _action("sharing_grant_revoke", {"id": id, "reason": tk.request.form.get("reason", "")}),
                 done=tk._("Grant revoked."),
                 denied=tk._("Only the owning organization's admins may revoke this grant"))
    return tk.redirect_to("sharing.org_grants", id=grant["owner_org"])


sharing.add_url_rule("/dataset/<id>/request-access", view_func=request_access, methods=["GET", "POST"])
sharing.add_url_rule("/dashboard/access-requests", view_func=dashboard, endpoint="dashboard")
sharing.add_url_rule("/access-request/<id>", view_func=decide, endpoint="decide", methods=["GET", "POST"])
sharing.add_url_rule("/access-request/<id>/withdraw", view_func=withdraw, endpoint="withdraw", methods=["POST"])
sharing.add_url_rule("/organization/<id>/access-requests", view_func=org_requests, endpoint="org_requests")
sharing.add_url_rule("/organization/<id>/access-grants", view_func=org_grants, endpoint="org_grants")
sharing.add_url_rule("/access-grant/<id>/revoke", view_func=revoke, endpoint="revoke", methods=["POST"])
sharing.add_url_rule("/sharing/authority", view_func=authority, endpoint="authority")
sharing.add_url_rule("/api/3/sharing/audit-key", view_func=ledger_signing.audit_key, endpoint="audit_key")
