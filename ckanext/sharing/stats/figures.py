"""The figures behind the three statistics pages and ``sharing_stats_*`` (issue 17, SPEC §13).

Which figures are cached (:mod:`.cache`, at most a day old) and which are live is decided here, once,
and said on every page: the catalogue per tier and a department's queue and grants are live (cheap,
and a decider acts on them); datasets per theme and department, requests, replies, 利用率, use over time
and the most used / most requested datasets are computed once a day (they aggregate the ledger and the request history).
"""
from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa

from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import policy
from ckanext.sharing.stats import cache, queries

# The cached blocks of :func:`public` (named on the pages).
CACHED = ("totals", "departments", "themes", "months", "top_used", "top_requested")
LIVE = ("datasets", "queue", "grants", "use_reports", "grant_accesses")


def _key(org_id: Optional[str]) -> str:
    return f"public:{org_id or '*'}"


def _daily(org_id: Optional[str]) -> dict[str, Any]:
    """The day's figures of the portal (``org_id`` None) or of one department."""
    def compute() -> dict[str, Any]:
        return {
            "totals": queries.totals(org_id),
            "departments": queries.departments(org_id),
            "themes": queries.theme_counts(org_id),
            "months": queries.monthly(org_id),
            "top_used": queries.top_used(org_id),
            "top_requested": queries.top_requested(org_id),
        }

    payload, computed = cache.daily(_key(org_id), compute)
    return {**payload, "computed": computed.isoformat()}


def public(org_id: Optional[str] = None) -> dict[str, Any]:
    """The public figures (开放统计) of the portal or of one department: counts only, no person, no
    ``not_shared`` dataset named (see :mod:`.queries`)."""
    daily = _daily(org_id)
    by_tier = queries.tier_counts(org_id)
    return {
        "organization_id": org_id,
        "datasets": {"by_tier": by_tier, "total": sum(by_tier.values())},
        "themes": daily["themes"],
        "totals": daily["totals"],
        "departments": daily["departments"],
        "months": daily["months"],
        "top_used": daily["top_used"],
        "top_requested": daily["top_requested"],
        "limits": {"reply_working_days": config.reply_working_days(), "use_window_days": queries.USE_WINDOW_DAYS},
        "public_tiers": list(queries.public_tiers()),
        "tracking": queries.tracking_enabled(),
        "cache": {"computed": daily["computed"], "cached": list(CACHED), "live": list(LIVE[:1])},
    }


def department(org_id: str) -> dict[str, Any]:
    """A department's overview for its deciders and admins: its public figures plus, live, the queue
    (pending, overdue, due within 2 working days, returned, escalated), grants (active, ending within 7
    days, undelivered), use reports awaited and past due (Art. 29) and the data accesses of each active grant."""
    out = public(org_id)
    out["queue"] = queries.queue(org_id)
    out["grants"] = queries.grant_figures(org_id)
    out["use_reports"] = queries.report_figures(org_id)
    out["grant_accesses"] = queries.grant_accesses(org_id)
    out["cache"]["live"] = list(LIVE)
    return out


def department_items(org_id: str, figure: str) -> dict[str, Any]:
    """The list behind one live figure of a department's overview (the requests or grants it counts)."""
    return queries.items(org_id, figure)


def department_list(sort: str = "title", descending: bool = False) -> dict[str, Any]:
    """All departments side by side (the authority's overview), sorted by any column of the table.

    The rows are the day's cached departments table; PostgreSQL sorts them (``jsonb`` ordering: numbers
    as numbers, missing values last), so sorting needs no second computation."""
    daily = _daily(None)
    column = sort if sort in queries.SORTABLE else "title"
    direction = "DESC" if descending else "ASC"
    rows = model.Session.execute(sa.text(f"""
        SELECT e.row FROM sharing_stats_cache c, jsonb_array_elements(c.payload->'departments') AS e(row)
         WHERE c.key = :key
         ORDER BY nullif(e.row->:column, 'null'::jsonb) {direction} NULLS LAST, e.row->>'title' ASC, e.row->>'name' ASC
    """), {"key": _key(None), "column": column}).scalars().all()
    return {
        "departments": list(rows), "totals": daily["totals"], "sort": column, "descending": descending,
        "sortable": list(queries.SORTABLE),
        "limits": {"reply_working_days": config.reply_working_days(), "use_window_days": queries.USE_WINDOW_DAYS},
        "cache": {"computed": daily["computed"], "cached": ["departments", "totals"], "live": []},
        "tiers": list(policy.TIERS),
    }
