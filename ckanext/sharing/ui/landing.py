"""Where a user lands after logging in (issue 11): deciders see the requests waiting for them.

``ckan.route_after_login = sharing_landing.landing`` (config/ckan.ini). Deciders go to the pending queue
of the department with the most pending requests; editors to their datasets; everybody else (members,
citizens, other agencies' staff) to their own requests and grants.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

import ckan.plugins.toolkit as tk

from ckanext.sharing.access import roles

__all__ = ["landing", "pending_by_org"]

blueprint = Blueprint("sharing_landing", __name__)


def pending_by_org() -> dict[str, int]:
    """Pending requests the current user decides, per organization id (their own requests excluded)."""
    user = tk.current_user
    if not (user and user.is_authenticated):
        return {}
    decided = set(roles.decided_orgs(user))
    if not decided and not user.sysadmin:
        return {}
    context: dict[str, Any] = {"user": user.name}
    pending = tk.get_action("sharing_request_list")(context, {"state": "pending", "limit": 1000})["results"]
    counts: dict[str, int] = {}
    for req in pending:
        if req["requester_id"] != user.id and req["owner_org"] and (user.sysadmin or req["owner_org"] in decided):
            counts[req["owner_org"]] = counts.get(req["owner_org"], 0) + 1
    return counts


def landing() -> Any:
    """Redirect to the page of the user's main job (see the module's docstring)."""
    user = tk.current_user
    if not (user and user.is_authenticated):
        return tk.redirect_to("user.login")
    counts = pending_by_org()
    if counts:
        org = max(sorted(counts), key=lambda org_id: counts[org_id])
        return tk.redirect_to("sharing.org_requests", id=org, state="pending")
    if {"editor", "admin"} & set(roles.capacities(user).values()):
        return tk.redirect_to("dashboard.datasets")
    return tk.redirect_to("sharing.dashboard")


blueprint.add_url_rule("/dashboard/home", view_func=landing, endpoint="landing")
