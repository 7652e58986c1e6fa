"""The portal's home page (issue 11): headline figures, featured departments, recently updated datasets.

Everything is read as the visitor: dataset counts come from ``package_search`` with the visitor's own
context, so a not_shared dataset is counted only for those who may see it (SPEC §3: hidden datasets are
never counted, listed or faceted) and no title is shown that the visitor could not find by searching.
The request figures are plain counts over all departments (no dataset is named).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import policy, tiers
from ckanext.sharing.model import SharingRequest
from ckanext.sharing.ui import dates
from ckanext.sharing.workflow.states import REQUEST_APPROVED, REQUEST_REJECTED

FEATURED_COUNT = 6
RECENT_COUNT = 5


def _context() -> dict[str, Any]:
    """An action context of the current visitor (anonymous: no user)."""
    user = tk.current_user
    return {"user": user.name if user and user.is_authenticated else ""}


def _answered() -> tuple[int, int]:
    """(requests answered, of which by their due date in the portal's zone): approved or rejected ones."""
    zone = getattr(dates.portal_zone(), "key", "UTC")
    decided_day = sa.cast(sa.func.timezone(zone, SharingRequest.decided_at), sa.Date)
    on_time = sa.func.count().filter(sa.or_(SharingRequest.due_date.is_(None), decided_day <= SharingRequest.due_date))
    row = (
        model.Session.query(sa.func.count(), on_time)
        .filter(SharingRequest.state.in_((REQUEST_APPROVED, REQUEST_REJECTED)), SharingRequest.decided_at.isnot(None))
        .one()
    )
    return int(row[0] or 0), int(row[1] or 0)


def figures() -> dict[str, Any]:
    """The home page's data: datasets per tier (as the visitor may see them, with the configured tier
    names), departments, requests answered (and on time), featured departments and recent datasets."""
    context = _context()
    found = tk.get_action("package_search")(dict(context), {
        "rows": RECENT_COUNT, "sort": "metadata_modified desc", "include_private": True,
        "facet.field": ["sharing_tier", "organization"], "facet.limit": -1,
    })
    facets = found.get("search_facets") or {}
    per_tier = {item["name"]: item["count"] for item in (facets.get("sharing_tier") or {}).get("items", [])}
    tier_rows = [
        {"tier": tier, "label": tiers.label(tier), "count": per_tier.get(tier, 0)}
        for tier in (policy.OPEN, policy.CONDITIONAL, policy.NOT_SHARED)
        if tier != policy.NOT_SHARED or per_tier.get(tier)
    ]
    by_org = {item["name"]: item["count"] for item in (facets.get("organization") or {}).get("items", [])}
    answered, on_time = _answered()
    return {
        "datasets": found.get("count", 0),
        "tiers": tier_rows,
        "departments": len(tk.get_action("organization_list")(dict(context), {})),
        "answered": answered,
        "answered_on_time": on_time,
        "featured": featured_departments(context, by_org),
        "recent": found.get("results") or [],
    }


def featured_departments(context: dict[str, Any], counts: dict[str, int]) -> list[dict[str, Any]]:
    """The departments of ``ckanext.sharing.featured_departments`` in that order (unknown names skipped),
    else the ones with the most datasets the visitor may see; each with that count."""
    names = config.featured_departments() or sorted(counts, key=lambda n: (-counts[n], n))[:FEATURED_COUNT]
    if not names:
        return []
    orgs = tk.get_action("organization_list")(dict(context), {"organizations": names, "all_fields": True})
    by_name = {org["name"]: org for org in orgs}
    return [dict(by_name[name], sharing_count=counts.get(name, 0)) for name in names if name in by_name]
