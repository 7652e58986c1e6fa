"""Where a user lands after logging in (issue 11): deciders see the requests waiting for them.

``ckan.route_after_login = sharing_landing.landing`` (config/ckan.ini). Deciders go to the pending queue
of the department with the most pending requests; editors to their datasets; everybody else (members,
citizens, other agencies' staff) to their own requests and grants.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import roles
from ckanext.sharing.model import SharingRequest
from ckanext.sharing.workflow.states import REQUEST_PENDING

__all__ = ["landing", "pending_by_org"]

blueprint = Blueprint("sharing_landing", __name__)


def pending_by_org() -> dict[str, int]:
    """Pending requests the current user decides, per organization id (their own requests excluded).

    The header badge of every logged-in page calls this, so it is one ``COUNT … GROUP BY owner_org`` in
    PostgreSQL (plus the membership lookup of :func:`roles.decided_orgs`), never a list of request dicts;
    it counts what the decider's queue (``sharing_request_list`` with ``state=pending``) lists."""
    user = tk.current_user
    if not (user and user.is_authenticated):
        return {}
    decided = [] if user.sysadmin else roles.decided_orgs(user)
    if not decided and not user.sysadmin:
        return {}
    q = (model.Session.query(SharingRequest.owner_org, sa.func.count())
         .filter(SharingRequest.state == REQUEST_PENDING, SharingRequest.owner_org.is_not(None),
                 SharingRequest.requester_id != user.id)
         .group_by(SharingRequest.owner_org))
    if not user.sysadmin:
        q = q.filter(SharingRequest.owner_org.in_(decided))
    return {org: int(n) for org, n in q.all()}


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
