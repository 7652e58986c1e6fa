"""The statistics pages (issue 17, SPEC §13): the public 开放统计 page, a department's overview and the
authority's overview of all departments, each chart with its table and a CSV download.

Every page calls the ``sharing_stats_*`` actions with the visitor's context (same auth, same figures as
the API) and turns the answer into :class:`~ckanext.sharing.stats.tables.Figure` objects.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.sharing.stats import queries, tables

__all__ = ["stats"]

stats = Blueprint("sharing_stats", __name__)


def _context() -> dict[str, Any]:
    user = tk.current_user
    return {"user": user.name if user and user.is_authenticated else ""}


def _action(name: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return tk.get_action(name)(_context(), data)
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Organization not found"))
    except tk.ValidationError:
        return tk.abort(400, tk._("Bad request"))


def _public_url() -> Callable[[dict[str, Any]], str]:
    """A department row's link: that department's public statistics (one ``url_for`` per page, not per row)."""
    base = tk.url_for("sharing_stats.public")
    return lambda d: f"{base}?{urlencode({'organization': d.get('name') or ''})}"


def _dataset_url() -> Callable[[dict[str, Any]], str]:
    """A dataset row's link: its page."""
    base = tk.url_for("dataset.read", id="__id__")
    return lambda r: base.replace("__id__", quote(str(r.get("name") or r.get("package_id")), safe=""))


def _tier_link(org_name: Optional[str]) -> Callable[[str], Optional[str]]:
    """The dataset list behind a tier count (the search's tier facet), for the tiers a visitor may list."""
    def link(tier: str) -> Optional[str]:
        if org_name:
            return tk.url_for("organization.read", id=org_name, sharing_tier=tier)
        return tk.url_for("dataset.search", sharing_tier=tier)
    return link


def _theme_link(org_name: Optional[str]) -> Optional[Callable[[str], Optional[str]]]:
    """The dataset list of a theme (the catalogue's ``theme`` facet; none without the catalogue schema)."""
    if not p.plugin_loaded("sharing_catalogue"):
        return None
    if org_name:
        return lambda theme: tk.url_for("organization.read", id=org_name, theme=theme)
    return lambda theme: tk.url_for("dataset.search", theme=theme)


def _ledger_month_link(org: Optional[dict[str, Any]]) -> Optional[Callable[[str], Optional[str]]]:
    """A department's data-access rows of one month (``YYYY-MM``, the portal's months) on the audit
    ledger page, for its overview (its admins read their organization's rows)."""
    if not org:
        return None
    zone = ZoneInfo(queries.time_zone())
    base = tk.url_for("sharing_ledger.ledger")

    def link(month: str) -> str:
        first = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=zone)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return base + "?" + urlencode({"action": "data_access", "organization_id": org["id"],
                                       "since": first.isoformat(), "until": (following - dt.timedelta(seconds=1))
                                       .isoformat()})
    return link


def _common_figures(data: dict[str, Any], org_name: Optional[str], tier_links: bool,
                    department: bool = False) -> list[tables.Figure]:
    """The figures the public page and a department's overview share (the departments' tables only for
    the whole portal; on the overview the monthly rows link to the department's requests and ledger)."""
    dept_url, dataset_url = _public_url(), _dataset_url()
    figs = [tables.tier_figure(data["datasets"]["by_tier"], _tier_link(org_name) if tier_links else None)]
    if not org_name:
        figs.append(tables.department_datasets_figure(data["departments"], dept_url))
    figs.append(tables.theme_figure(data["themes"], _theme_link(org_name)))
    if not org_name:
        figs.append(tables.requests_figure(data["departments"], dept_url, data["limits"]["reply_working_days"]))
    org = data.get("organization") if department else None
    figs += [
        tables.request_months_figure(data["months"], tk.url_for("sharing.org_requests", id=org_name) if org else None),
        tables.access_months_figure(data["months"], data["tracking"], _ledger_month_link(org)),
        tables.top_figure("used", data["top_used"], dataset_url),
        tables.top_figure("requested", data["top_requested"], dataset_url),
    ]
    if not org_name:
        figs.append(tables.utilisation_figure(data["departments"], dept_url, data["limits"]["use_window_days"]))
    return figs


def _csv(fig: tables.Figure, name: str) -> Response:
    return Response(fig.csv(), mimetype="text/csv", headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}-{fig.id}.csv"',
    })


def _one(figs: list[tables.Figure], figure: str) -> tables.Figure:
    for fig in figs:
        if fig.id == figure:
            return fig
    return tk.abort(404, tk._("No such figure"))


# --- the public page ------------------------------------------------------------------------------


def _public_data() -> tuple[dict[str, Any], Optional[str]]:
    org = tk.request.args.get("organization") or None
    data = _action("sharing_stats_show", {"organization_id": org} if org else {})
    return data, (data.get("organization") or {}).get("name")


def public():
    """开放统计: the portal's (or one department's) public figures."""
    data, org_name = _public_data()
    return tk.render("sharing/stats/public.html", {
        "data": data, "figures": _common_figures(data, org_name, True), "org_name": org_name,
        "csv_endpoint": "sharing_stats.public_csv", "csv_args": {"organization": org_name} if org_name else {},
    })


def public_csv(figure: str):
    """One figure of the public page as CSV."""
    data, org_name = _public_data()
    return _csv(_one(_common_figures(data, org_name, True), figure), f"statistics-{org_name or 'portal'}")


# --- a department's overview ------------------------------------------------------------------------


def _group_dict(org_id: str) -> dict[str, Any]:
    """The organization for the page's header and tabs: without its users, groups and datasets, which the
    overview does not show (listing the members was a third of the page's time at bench scale)."""
    return tk.get_action("organization_show")(_context(), {"id": org_id, "include_datasets": False,
                                                           "include_users": False, "include_groups": False})


def _department(id: str) -> dict[str, Any]:
    if not (tk.current_user and tk.current_user.is_authenticated):
        return tk.abort(403, tk._("Only the department's deciders and admins may see its overview"))
    try:
        return tk.get_action("sharing_stats_department_show")(_context(), {"organization_id": id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Organization not found"))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Only the department's deciders and admins may see its overview"))


# The live figures whose list is the decider's own queue (``sharing.org_requests?state=…``); every other
# live figure links to its list under ``/organization/<id>/statistics/list/<figure>``.
QUEUE_STATES = {"pending": "pending", "returned": "returned", "escalated": "escalated"}


def _figure_link(name: str) -> Callable[[str], str]:
    """The list behind one live figure of the department ``name``."""
    def link(figure: str) -> str:
        if figure in QUEUE_STATES:
            return tk.url_for("sharing.org_requests", id=name, state=QUEUE_STATES[figure])
        return tk.url_for("sharing_stats.department_items", id=name, figure=figure)
    return link


def _department_figures(data: dict[str, Any]) -> list[tables.Figure]:
    name = data["organization"]["name"]
    link = _figure_link(name)
    return [
        tables.queue_figure({**data["queue"], **data["grants"], **data["use_reports"]}, link),
        tables.grant_accesses_figure(data["grant_accesses"], link("active")),
        *_common_figures(data, name, True, department=True),
    ]


def department(id: str):
    """A department's overview (its deciders and admins): queue, grants, per-grant use, its figures."""
    data = _department(id)
    group = _group_dict(data["organization"]["id"])
    return tk.render("sharing/stats/department.html", {
        "data": data, "figures": _department_figures(data), "group_dict": group, "group_type": "organization",
        "org_name": data["organization"]["name"], "totals": data["totals"],
        "csv_endpoint": "sharing_stats.department_csv", "csv_args": {"id": data["organization"]["name"]},
    })


def department_items(id: str, figure: str):
    """The list behind one live figure of a department's overview (its deciders and admins)."""
    if not (tk.current_user and tk.current_user.is_authenticated):
        return tk.abort(403, tk._("Only the department's deciders and admins may see its overview"))
    try:
        data = tk.get_action("sharing_stats_department_show")(_context(), {"organization_id": id, "figure": figure})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Organization not found"))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Only the department's deciders and admins may see its overview"))
    except tk.ValidationError:
        return tk.abort(404, tk._("No such figure"))
    group = _group_dict(data["organization"]["id"])
    return tk.render("sharing/stats/items.html", {
        "data": data, "label": tables.queue_labels()[figure], "group_dict": group, "group_type": "organization",
        "org_name": data["organization"]["name"], "dataset_url": _dataset_url(),
    })


def department_csv(id: str, figure: str):
    """One figure of a department's overview as CSV."""
    data = _department(id)
    return _csv(_one(_department_figures(data), figure), f"statistics-{data['organization']['name']}")


# --- the authority's overview ------------------------------------------------------------------------


def _authority() -> tuple[dict[str, Any], tables.Figure]:
    sort = tk.request.args.get("sort") or "title"
    order = tk.request.args.get("order") or "asc"
    try:
        data = tk.get_action("sharing_stats_department_list")(_context(), {"sort": sort, "order": order})
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Only the authority may see all departments' figures")), None  # type: ignore[return-value]
    except tk.ValidationError:
        return tk.abort(400, tk._("Bad request")), None  # type: ignore[return-value]
    return data, tables.authority_figure(data["departments"], _public_url())


def authority():
    """All departments side by side, sortable by any column (the authority; sysadmins for now)."""
    data, fig = _authority()
    return tk.render("sharing/stats/authority.html", {
        "data": data, "figures": [fig], "fig": fig, "sort_key": tables.sort_key,
        "csv_endpoint": "sharing_stats.authority_csv",
        "csv_args": {"sort": data["sort"], "order": "desc" if data["descending"] else "asc"},
    })


def authority_csv(figure: str = "departments"):
    """The authority's table as CSV (in the page's sort order)."""
    _data, fig = _authority()
    return _csv(_one([fig], figure), "statistics-departments")


stats.add_url_rule("/statistics", view_func=public, endpoint="public")
stats.add_url_rule("/statistics/<figure>.csv", view_func=public_csv, endpoint="public_csv")
stats.add_url_rule("/statistics/departments", view_func=authority, endpoint="authority")
stats.add_url_rule("/statistics/departments/<figure>.csv", view_func=authority_csv, endpoint="authority_csv")
stats.add_url_rule("/organization/<id>/statistics", view_func=department, endpoint="department")
stats.add_url_rule("/organization/<id>/statistics/list/<figure>", view_func=department_items,
                   endpoint="department_items")
stats.add_url_rule("/organization/<id>/statistics/<figure>.csv", view_func=department_csv,
                   endpoint="department_csv")
