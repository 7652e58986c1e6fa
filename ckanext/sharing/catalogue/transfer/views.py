"""The upload page (SPEC §12): upload → preview (a dry run, as a background job) → confirm → the import (a
background job) with a progress bar → the report. For sysadmins and organization admins; every row is
written through the Action API as the uploading user, so the page can do exactly what that user may do.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import Blueprint, Response, jsonify

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import views as sharing_views
from ckanext.sharing.access import roles
from ckanext.sharing.catalogue.transfer import jobs
from ckanext.sharing.catalogue.transfer.report import Report, field_label, in_language, outcome_label

__all__ = ["blueprint"]

blueprint = Blueprint("sharing_catalogue_import", __name__, url_prefix="/catalogue/import")
blueprint.before_request(sharing_views._check_csrf)
SHOWN_ROWS = 500


def _user() -> Optional[model.User]:
    user = tk.current_user
    return model.User.get(user.id) if user and user.is_authenticated else None


def _admin_orgs(user: model.User) -> list[dict[str, Any]]:
    """The organizations the user may import into (sysadmin: all)."""
    query = model.Session.query(model.Group).filter(model.Group.is_organization.is_(True),
                                                    model.Group.state == "active")
    if not user.sysadmin:
        query = query.filter(model.Group.id.in_(roles.admin_orgs(user) or {""}))
    return [{"id": g.id, "name": g.name, "title": g.title or g.name} for g in query.order_by(model.Group.title)]


def _allowed() -> model.User:
    """The logged-in sysadmin or organization admin, else 403 (anonymous: to the login page)."""
    user = _user()
    if user is None:
        tk.abort(403, tk._("Log in to import a catalogue"))
    if not user.sysadmin and not roles.admin_orgs(user):
        tk.abort(403, tk._("Only sysadmins and organization admins can import a catalogue"))
    return user


def _state(import_id: str, user: model.User) -> dict[str, Any]:
    """An import of this user (sysadmins: any); 404 otherwise, never someone else's."""
    state = jobs.load(import_id)
    if state is None or (state.get("user_id") != user.id and not user.sysadmin):
        tk.abort(404, tk._("Import not found"))
    return state


@blueprint.route("/", methods=["GET", "POST"])
def upload() -> Any:
    """The form; a POST stores the file and queues its preview."""
    user = _allowed()
    orgs = _admin_orgs(user)
    errors: dict[str, list[str]] = {}
    form = tk.request.form
    if tk.request.method == "POST":
        upload_ = tk.request.files.get("file")
        organization = form.get("organization") or None
        if upload_ is None or not upload_.filename:
            errors["file"] = [tk._("Choose a file (XLSX, CSV or JSON)")]
        if organization and organization not in {o["id"] for o in orgs}:
            errors["organization"] = [tk._("You cannot import into this organization")]
        if not organization and not user.sysadmin:
            errors["organization"] = [tk._("Choose the organization to import into")]
        if not errors:
            try:
                state = jobs.create(user.id, user.name, upload_.filename, upload_.read(), organization,
                                    bool(form.get("update")), bool(form.get("create_organizations")) and user.sysadmin)
                return tk.redirect_to("sharing_catalogue_import.status", import_id=state["id"])
            except tk.ValidationError as exc:
                errors.update(exc.error_dict)
    return tk.render("sharing/catalogue_import.html", {"orgs": orgs, "errors": errors, "form": form,
                                                        "is_sysadmin": user.sysadmin})


def _view_report(data: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The report's data for the template: counts, first rows with labelled messages, top reasons."""
    if not data:
        return None
    report = Report.from_dict(data)
    with in_language(report.lang):  # the language its messages were written in (the portal's), as the CLI
        rows = [{"row": r.row, "outcome": r.outcome, "outcome_label": outcome_label(r.outcome), "title": r.title,
                 "name": r.name, "messages": [(field_label(k) if k else "", m) for k, m in r.errors],
                 "changed": [field_label(c) for c in r.changed]} for r in report.rows[:SHOWN_ROWS]]
        return {"summary": report.summary(), "counts": report.counts(), "rows": rows,
                "more": max(0, len(report.rows) - SHOWN_ROWS), "refused_file": report.refused_file,
                "top": report.top_refusals(), "unknown": report.unknown_columns,
                "labels": {o: outcome_label(o) for o in report.counts()}}


@blueprint.route("/<import_id>")
def status(import_id: str) -> Any:
    """Progress while a job runs (polled; survives a reload), then the preview with Confirm, or the report."""
    user = _allowed()
    state = _state(import_id, user)
    return tk.render("sharing/catalogue_import_status.html", {
        "state": state, "report": _view_report(state.get("report")), "running": state["state"] in
        (jobs.QUEUED, jobs.RUNNING)})


@blueprint.route("/<import_id>/progress")
def progress(import_id: str) -> Any:
    """The job's state as JSON for the progress bar: phase, state, rows done and total."""
    user = _allowed()
    state = _state(import_id, user)
    return jsonify({k: state.get(k) for k in ("phase", "state", "done", "total", "error")})


@blueprint.route("/<import_id>/confirm", methods=["POST"])
def confirm(import_id: str) -> Any:
    """Queue the import after a finished preview (once: a second confirm only shows the page)."""
    user = _allowed()
    state = _state(import_id, user)
    if state["phase"] == jobs.PREVIEW and state["state"] == jobs.DONE and not (state.get("report") or {}).get(
            "refused_file"):
        jobs.confirm(state)
    return tk.redirect_to("sharing_catalogue_import.status", import_id=import_id)


@blueprint.route("/<import_id>/report.csv")
def report_csv(import_id: str) -> Any:
    """The whole report as CSV (UTF-8 with BOM)."""
    user = _allowed()
    state = _state(import_id, user)
    if not state.get("report"):
        tk.abort(404, tk._("Import not found"))
    body = Report.from_dict(state["report"]).csv_text()
    return Response(body.encode("utf-8"), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="catalogue-import-{import_id}.csv"'})
