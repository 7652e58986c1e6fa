"""Pages of the obligations after a decision (Regulation Art. 22, 26, 27, 29; SPEC §13).

* ``/access-grant/<id>/deliver`` (POST): the provider's deciders record a delivery (the grant tables
  show every grant's delivery state);
* ``/dashboard/use-reports``: the grantee's use reports — the ended grants whose report is due, the form,
  the reports filed;
* ``/dataset/<id>/correction``: "report an error" (纠错) on a dataset, and the caller's reports about it;
* ``/organization/<id>/corrections``: the deciders' correction requests to answer;
* ``/sharing/suspensions``: suspensions the caller may see; suspend and lift forms for who may.

Like :mod:`ckanext.sharing.views`, every page calls the ``sharing_*`` actions with the logged-in user's
context and checks CKAN's CSRF token on POST (that blueprint's ``before_request`` is reused).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.lib.helpers import helper_functions as h

from ckanext.sharing import views
from ckanext.sharing.workflow import use_reports

__all__ = ["obligations"]

obligations = Blueprint("sharing_obligations", __name__)
obligations.before_request(views._check_csrf)

_action = views._action


def deliver(id: str):
    """Record a delivery (POST); back to the organization's grants."""
    if not views._logged_in():
        return views._login_redirect()
    form = tk.request.form
    grant = views.grant_or_abort(id)
    views.flash_action(
        lambda: _action("sharing_grant_deliver", {"id": id, "method": form.get("method", ""),
                                                  "note": form.get("note") or None}),
        done=tk._("Delivery recorded."), denied=tk._("Only the providing organization's admins may record a delivery"))
    return tk.redirect_to("sharing.org_grants", id=grant["owner_org"])


def use_report_page():
    """The grantee's use reports (Art. 29): due ones first, the form, the filed ones."""
    if not views._logged_in():
        return views._login_redirect()
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if tk.request.method == "POST":
        data = {k: tk.request.form.get(k, "") for k in ("grant_id", *use_reports.FIELDS)}
        try:
            _action("sharing_use_report_create", data)
        except tk.ValidationError as e:
            errors = e.error_dict
        except (tk.NotAuthorized, tk.ObjectNotFound):
            errors = {"grant_id": [tk._("Only the grantee may report the use of this grant's data")]}
        else:
            h.flash_success(tk._("Use report recorded."))
            return tk.redirect_to("sharing_obligations.use_reports")
    user = model.User.get(tk.current_user.id)
    return tk.render("sharing/use_reports.html", {
        "due": use_reports.due_for_user(user),
        "grants": _action("sharing_grant_list", {"mine": True, "limit": 1000})["results"],
        "reports": _action("sharing_use_report_list", {"limit": 1000})["results"],
        "data": data, "errors": errors, "user_dict": _action("user_show", {"id": tk.current_user.id}),
        "is_myself": True,
    })


def correction_page(id: str):
    """Report an error in a dataset's data (Art. 26), and the caller's reports about it."""
    try:
        pkg = _action("package_show", {"id": id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Dataset not found"))
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if tk.request.method == "POST":
        if not views._logged_in():
            return views._login_redirect()
        data = {"package_id": pkg["id"], "description": tk.request.form.get("description", ""),
                "resource_id": tk.request.form.get("resource_id") or None}
        errors = views.submit_form("sharing_correction_create", data,
                                   tk._("Only users who may get this dataset's data may report an error in it"))
        if not errors:
            h.flash_success(tk._("Thank you: the providing department must answer within 10 working days."))
            return tk.redirect_to("sharing_obligations.correction", id=pkg["name"])
    mine = _action("sharing_correction_list", {"package_id": pkg["id"], "mine": True})["results"] \
        if views._logged_in() else []
    may_report = views._logged_in() and tk.h.check_access("sharing_correction_create", {"package_id": pkg["id"]})
    return tk.render("sharing/correction.html", {"pkg_dict": pkg, "pkg": pkg, "mine": mine, "errors": errors,
                                                 "data": data, "may_report": may_report})


def org_corrections(id: str):
    """An organization's correction requests (its deciders): open and most overdue first, answer forms."""
    if not views._logged_in():
        return views._login_redirect()
    group = views._org_or_abort(id)
    if tk.request.method == "POST":
        form = tk.request.form
        views.flash_action(
            lambda: _action("sharing_correction_answer", {"id": form.get("id", ""), "answer": form.get("answer", ""),
                                                          "corrected": form.get("corrected", "false")}),
            done=tk._("Answer sent."),
            denied=tk._("Only the providing organization's admins may answer this correction request"))
        return tk.redirect_to("sharing_obligations.org_corrections", id=group["name"])
    try:
        result = _action("sharing_correction_list", {"organization_id": group["id"], "limit": 1000})
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Not authorized to see the correction requests of this organization"))
    return tk.render("sharing/org_corrections.html", {"group_dict": group, "group_type": "organization",
                                                      "corrections": result["results"]})


def suspensions():
    """Suspensions the caller may see (Art. 27), with suspend and lift forms for who may."""
    if not views._logged_in():
        return views._login_redirect()
    if tk.request.method == "POST":
        form = tk.request.form
        denied = tk._("Not authorized to change this suspension")
        if form.get("lift"):
            views.flash_action(
                lambda: _action("sharing_suspension_lift", {"id": form["lift"], "reason": form.get("reason", "")}),
                done=tk._("Suspension lifted."), denied=denied)
        else:
            views.flash_action(
                lambda: _action("sharing_suspension_create", {k: form.get(k) or None for k in
                                                              ("user_id", "organization_id", "provider_org_id")}
                                | {"reason": form.get("reason", "")}),
                done=tk._("Sharing rights suspended."), denied=denied)
        return tk.redirect_to("sharing_obligations.suspensions")
    rows = _action("sharing_suspension_list", {"limit": 1000})["results"]
    for row in rows:
        row["may_lift"] = row["state"] == "active" and tk.h.check_access("sharing_suspension_lift", {"id": row["id"]})
    return tk.render("sharing/suspensions.html", {"suspensions": rows})


obligations.add_url_rule("/access-grant/<id>/deliver", view_func=deliver, endpoint="deliver", methods=["POST"])
obligations.add_url_rule("/dashboard/use-reports", view_func=use_report_page, endpoint="use_reports",
                         methods=["GET", "POST"])
obligations.add_url_rule("/dataset/<id>/correction", view_func=correction_page, endpoint="correction",
                         methods=["GET", "POST"])
obligations.add_url_rule("/organization/<id>/corrections", view_func=org_corrections, endpoint="org_corrections",
                         methods=["GET", "POST"])
obligations.add_url_rule("/sharing/suspensions", view_func=suspensions, endpoint="suspensions",
                         methods=["GET", "POST"])
