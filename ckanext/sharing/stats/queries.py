"""The statistics as SQL aggregations (issue 17, SPEC §13): one statement per block of figures.

Every figure is counted by PostgreSQL over the core tables (``package``, ``"group"``, ``resource``,
``tracking_summary``), the workflow tables (``sharing_request``, ``sharing_grant``) and the ledger's
``data_access`` rows (``sharing_audit``), with the indexes of migration 0006; Python only binds the
parameters and turns result rows into dicts, it never loops over the counted rows.

What may be shown to whom: these functions return counts only, never a requester or an actor;
lists that name datasets (most used, most requested) keep to the tiers whose datasets anonymous
visitors may see (:func:`public_tiers`, asked of :func:`ckanext.sharing.access.policy.decide`), so
no figure names a ``not_shared`` dataset. ``not_shared`` datasets are still *counted* per tier and
department (a count reveals no dataset).
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Optional

import sqlalchemy as sa

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import policy
from ckanext.sharing.ledger import events
from ckanext.sharing.workflow import clock
from ckanext.sharing.workflow.states import (
    GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED, REMINDER_DAYS, REQUEST_APPROVED, REQUEST_ESCALATED, REQUEST_PENDING,
    REQUEST_REJECTED, REQUEST_RETURNED,
)

# 利用率 counts a dataset as used when it was accessed or requested within this many days (SPEC §13).
USE_WINDOW_DAYS = 90
# Monthly series cover the current month and the 11 before it.
MONTHS = 12
# "Due soon": pending requests due within this many working days (issue 17).
DUE_SOON_WORKING_DAYS = 2
# How many datasets the "most used / most requested" lists name.
TOP = 10

# The ledger's data-access channels (``detail.channel``: the guarded endpoint or the DataStore action,
# ledger/data_access.py) grouped as the pages count them: downloads, API calls, views.
DOWNLOAD_CHANNELS = ("resource.download", "datastore.dump", "datatablesview.filtered_download")
API_CHANNEL_PREFIX = "datastore_"
_API_LIKE = API_CHANNEL_PREFIX.replace("_", "\\_") + "%"  # LIKE's "_" is a wildcard
KINDS = ("download", "api", "view")

# Columns of the departments table that may be sorted on (authority's overview), in SQL.
SORTABLE = (
    "title", "datasets", "open", "conditional", "not_shared", "received", "answered", "approval_rate",
    "median_reply_days", "on_time_share", "overdue", "overdue_share", "pending", "escalated", "utilisation",
)


@functools.lru_cache(maxsize=1)
def public_tiers() -> tuple[str, ...]:
    """Tiers whose datasets an anonymous visitor may see (listed by name); asked of the one policy."""
    return tuple(t for t in policy.TIERS if policy.decide(t, policy.Subject()).access is not policy.Access.HIDDEN)


def tier_sql(alias: str = "p") -> str:
    """The dataset's tier in SQL, as :func:`ckanext.sharing.access.facts.tier_of_package` reads it: the
    ``sharing_tier`` extra when it is a tier, else from CKAN's ``private`` flag (policy.normalise_tier)."""
    tiers = ", ".join(f"'{t}'" for t in policy.TIERS)
    return (f"(CASE WHEN {alias}.extras->>'sharing_tier' IN ({tiers}) THEN {alias}.extras->>'sharing_tier' "
            f"WHEN {alias}.private THEN '{policy.normalise_tier(None, True)}' "
            f"ELSE '{policy.normalise_tier(None, False)}' END)")


def _in_public(expr: str) -> str:
    return f"{expr} IN ({', '.join(repr(t) for t in public_tiers())})"


def kind_sql(alias: str = "a") -> str:
    """The kind (``download`` / ``api`` / ``view``) of a ``data_access`` row, from its channel."""
    channel = f"({alias}.detail->>'channel')"
    downloads = ", ".join(f"'{c}'" for c in DOWNLOAD_CHANNELS)
    return (f"(CASE WHEN {channel} LIKE '{_API_LIKE}' THEN 'api' "
            f"WHEN {channel} IN ({downloads}) OR {channel} LIKE '%\\_resource.download' THEN 'download' "
            f"ELSE 'view' END)")


def time_zone() -> str:
    """The portal's zone (``ckan.display_timezone``) for PostgreSQL's ``AT TIME ZONE`` (days and months
    are the portal's, as in workflow/clock.py); an unknown name or ``server``: UTC."""
    name = tk.config.get("ckan.display_timezone") or "UTC"
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(name)
    except (KeyError, ValueError):
        return "UTC"
    return name


def tracking_enabled() -> bool:
    """CKAN's page and download tracking (plugin ``tracking``) is loaded: its counts join ours."""
    return p.plugin_loaded("tracking")


def _rows(sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in model.Session.execute(sa.text(sql), params)]


def _number(value: Any) -> Any:
    """JSON numbers from PostgreSQL's (Decimal, float, None)."""
    if value is None or isinstance(value, (int, str)):
        return value
    return round(float(value), 4)


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _number(v) for k, v in r.items()} for r in rows]


def _org_filter(column: str, value: Optional[str], name: str = "org") -> str:
    """`` AND column = :name`` when ``value`` is given (the scope of a department, dataset or resource)."""
    return f" AND {column} = :{name}" if value else ""


def _dataset_sql(org_id: Optional[str]) -> str:
    return ("SELECT p.id, p.owner_org, p.extras, " + tier_sql("p") + " AS tier FROM package p "
            "WHERE p.state = 'active' AND p.type = 'dataset'" + _org_filter("p.owner_org", org_id))


# --- the catalogue --------------------------------------------------------------------------------


def tier_counts(org_id: Optional[str] = None) -> dict[str, int]:
    """Active datasets per tier (all three tiers, zeros included)."""
    rows = _rows(f"SELECT d.tier, count(*) AS n FROM ({_dataset_sql(org_id)}) d GROUP BY d.tier", org=org_id)
    found = {r["tier"]: int(r["n"]) for r in rows}
    return {tier: found.get(tier, 0) for tier in policy.TIERS}


def theme_counts(org_id: Optional[str] = None, limit: int = 20) -> list[dict[str, Any]]:
    """Publicly listed datasets per theme (主题分类; ``""`` = none given), the largest first."""
    return _plain(_rows(
        f"SELECT coalesce(nullif(btrim(d.extras->>'theme'), ''), '') AS theme, count(*) AS datasets "
        f"FROM ({_dataset_sql(org_id)}) d WHERE {_in_public('d.tier')} "
        "GROUP BY 1 ORDER BY datasets DESC, theme LIMIT :limit", org=org_id, limit=limit))


# --- requests, replies, 利用率, per department -----------------------------------------------------


def _calendar_params(today: dt.date) -> dict[str, Any]:
    return {
        "today": today, "tz": time_zone(),
        "holidays": sorted(config.holidays()), "extra": sorted(config.extra_workdays()),
    }


def _department_sql(org_id: Optional[str], by_department: bool) -> str:
    """The figures of the departments table (or of the portal as a whole) in one statement.

    ``cal`` numbers the working days (weekdays, minus ``ckanext.sharing.holidays``, plus
    ``ckanext.sharing.extra_workdays``) from the first request on, so a reply's working days are the
    difference of two numbers (the creation day itself not counted, as workflow/clock.add_workdays).
    """
    key = "r.owner_org" if by_department else "NULL::text"
    pkey = "d.owner_org" if by_department else "NULL::text"
    answered = f"r.state IN ('{REQUEST_APPROVED}', '{REQUEST_REJECTED}') AND r.decided_at IS NOT NULL"
    on_time = f"{answered} AND r.due_date IS NOT NULL AND (r.decided_at AT TIME ZONE :tz)::date <= r.due_date"
    tracking = ""
    if tracking_enabled():
        tracking = ("UNION SELECT res.package_id FROM tracking_summary t JOIN resource res ON res.url = t.url "
                    "WHERE t.tracking_type = 'resource' AND t.count > 0 AND t.tracking_date >= CAST(:since AS date)")
    return f"""
    WITH cal AS (
      SELECT c::date AS day, sum({_workday_sql('c::date')}) OVER (ORDER BY c) AS n
      FROM generate_series(
        coalesce((SELECT min((created AT TIME ZONE :tz)::date) FROM sharing_request), CAST(:today AS date)),
        CAST(:today AS date) + 1, interval '1 day') AS c
    ),
    rq AS (
      SELECT {key} AS owner_org,
        count(*) AS received,
        count(*) FILTER (WHERE {answered}) AS answered,
        count(*) FILTER (WHERE r.state = '{REQUEST_APPROVED}') AS approved,
        count(*) FILTER (WHERE r.state = '{REQUEST_REJECTED}') AS rejected,
        count(*) FILTER (WHERE r.state = '{REQUEST_PENDING}') AS pending,
        count(*) FILTER (WHERE r.state = '{REQUEST_PENDING}' AND r.due_date < CAST(:today AS date)) AS overdue,
        count(*) FILTER (WHERE {on_time}) AS on_time,
        count(*) FILTER (WHERE r.state = '{REQUEST_ESCALATED}' OR r.escalated_at IS NOT NULL) AS escalated,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY cd.n - cc.n) FILTER (WHERE {answered}) AS median_reply_days
      FROM sharing_request r
      LEFT JOIN cal cc ON cc.day = (r.created AT TIME ZONE :tz)::date
      LEFT JOIN cal cd ON cd.day = (r.decided_at AT TIME ZONE :tz)::date
      WHERE TRUE{_org_filter("r.owner_org", org_id)}
      GROUP BY 1
    ),
    used AS (  -- distinct ids (UNION), joined to the datasets: never an IN (…) subplan per dataset
      SELECT a.package_id AS id FROM sharing_audit a
       WHERE a.action = '{events.DATA_ACCESS}' AND a.created >= :since{_org_filter("a.organization_id", org_id)}
      UNION SELECT r.package_id FROM sharing_request r
       WHERE r.created >= :since{_org_filter("r.owner_org", org_id)}
      {tracking}
    ),
    ds AS (
      SELECT {pkey} AS owner_org, count(*) AS datasets,
        {", ".join(f"count(*) FILTER (WHERE d.tier = '{t}') AS {t}" for t in policy.TIERS)},
        count(*) FILTER (WHERE {_in_public("d.tier")}) AS shared,
        count(*) FILTER (WHERE {_in_public("d.tier")} AND u.id IS NOT NULL) AS used
      FROM ({_dataset_sql(org_id)}) d LEFT JOIN used u ON u.id = d.id
      GROUP BY 1
    ),
    fig AS (
      SELECT ds.owner_org AS ds_org, rq.owner_org AS rq_org,
        coalesce(ds.datasets, 0) AS datasets,
        {", ".join(f"coalesce(ds.{t}, 0) AS {t}" for t in policy.TIERS)},
        coalesce(ds.shared, 0) AS shared, coalesce(ds.used, 0) AS used,
        round(ds.used::numeric / nullif(ds.shared, 0), 4) AS utilisation,
        coalesce(rq.received, 0) AS received, coalesce(rq.answered, 0) AS answered,
        coalesce(rq.approved, 0) AS approved, coalesce(rq.rejected, 0) AS rejected,
        coalesce(rq.pending, 0) AS pending, coalesce(rq.overdue, 0) AS overdue,
        coalesce(rq.on_time, 0) AS on_time, coalesce(rq.escalated, 0) AS escalated,
        round(rq.approved::numeric / nullif(rq.approved + rq.rejected, 0), 4) AS approval_rate,
        rq.median_reply_days,
        round(rq.on_time::numeric / nullif(rq.answered, 0), 4) AS on_time_share,
        round((rq.answered - rq.on_time + rq.overdue)::numeric / nullif(rq.answered + rq.pending, 0), 4)
          AS overdue_share
      FROM ds FULL JOIN rq ON coalesce(rq.owner_org, '') = coalesce(ds.owner_org, '')
    )
    """


def departments(
    org_id: Optional[str] = None, sort: str = "title", descending: bool = False, today: Optional[dt.date] = None,
) -> list[dict[str, Any]]:
    """One row per active organization: datasets per tier, requests received / answered / pending /
    overdue, approval rate, median reply time in working days, on-time and overdue shares, 利用率
    (share of its open + conditional datasets accessed or requested in the last 90 days).

    ``sort`` is one of :data:`SORTABLE` (anything else: the title); ties and missing values after.
    """
    today = today or clock.today()
    since = clock.now() - dt.timedelta(days=USE_WINDOW_DAYS)
    column = sort if sort in SORTABLE else "title"
    order = ("g.title" if column == "title" else f"fig.{column}") + (" DESC" if descending else " ASC")
    sql = _department_sql(org_id, True) + f"""
    SELECT g.id AS organization_id, g.name, g.title, fig.*
      FROM "group" g LEFT JOIN fig ON coalesce(fig.ds_org, fig.rq_org) = g.id
     WHERE g.is_organization AND g.state = 'active'{_org_filter("g.id", org_id)}
     ORDER BY {order} NULLS LAST, g.title ASC, g.name ASC
    """
    rows = _rows(sql, org=org_id, since=since, **_calendar_params(today))
    return [_department_row(r) for r in _plain(rows)]


def totals(org_id: Optional[str] = None, today: Optional[dt.date] = None) -> dict[str, Any]:
    """The departments table's figures for the whole portal (or one department) as one row."""
    today = today or clock.today()
    since = clock.now() - dt.timedelta(days=USE_WINDOW_DAYS)
    sql = _department_sql(org_id, False) + "SELECT fig.* FROM fig"
    rows = _plain(_rows(sql, org=org_id, since=since, **_calendar_params(today)))
    return _department_row(rows[0]) if rows else _department_row({})


_COUNTS = ("datasets", *policy.TIERS, "shared", "used", "received", "answered", "approved", "rejected",
           "pending", "overdue", "on_time", "escalated")
# the rates of a row: None where there is nothing to divide (a portal or department without datasets and
# requests has no `fig` row at all, and the pages show – for them)
_RATES = ("utilisation", "approval_rate", "median_reply_days", "on_time_share", "overdue_share")


def _department_row(row: dict[str, Any]) -> dict[str, Any]:
    """A departments-table row without the join's helper columns, zeros for empty departments."""
    out = {k: v for k, v in row.items() if k not in ("ds_org", "rq_org")}
    for key in _COUNTS:
        out[key] = int(out.get(key) or 0)
    for key in _RATES:
        out.setdefault(key, None)
    return out


# --- over time ------------------------------------------------------------------------------------


def _first_month(today: dt.date) -> dt.date:
    month = today.replace(day=1)
    for _ in range(MONTHS - 1):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


def monthly(org_id: Optional[str] = None, today: Optional[dt.date] = None) -> list[dict[str, Any]]:
    """Per month (the last 12, the portal's months): data accesses by kind (downloads, API calls,
    views; the ledger), downloads counted by CKAN's tracking when it is on, requests received and
    answered (approved, rejected)."""
    today = today or clock.today()
    first = _first_month(today)
    tracked = "0 AS tracked"
    tracked_join = ""
    if tracking_enabled():
        tracked = "coalesce(tr.tracked, 0) AS tracked"
        tracked_join = f"""LEFT JOIN (
          SELECT date_trunc('month', t.tracking_date)::date AS m, sum(t.count) AS tracked
            FROM tracking_summary t JOIN resource res ON res.url = t.url AND res.state = 'active'
            JOIN package p ON p.id = res.package_id
           WHERE t.tracking_type = 'resource' AND t.tracking_date >= :first{_org_filter("p.owner_org", org_id)}
           GROUP BY 1) tr ON tr.m = months.m"""
    sql = f"""
    WITH months AS (
      SELECT generate_series(CAST(:first AS date), CAST(:today AS date), interval '1 month')::date AS m
    ),
    acc AS (
      SELECT date_trunc('month', a.created AT TIME ZONE :tz)::date AS m,
        {", ".join(f"count(*) FILTER (WHERE {kind_sql('a')} = '{k}') AS {k}s" for k in KINDS)}
        FROM sharing_audit a
       WHERE a.action = '{events.DATA_ACCESS}' AND a.created >= (CAST(:first AS timestamp) AT TIME ZONE :tz)
             {_org_filter("a.organization_id", org_id)}
       GROUP BY 1
    ),
    req AS (
      SELECT date_trunc('month', r.created AT TIME ZONE :tz)::date AS m, count(*) AS received
        FROM sharing_request r
       WHERE r.created >= (CAST(:first AS timestamp) AT TIME ZONE :tz){_org_filter("r.owner_org", org_id)}
       GROUP BY 1
    ),
    ans AS (
      SELECT date_trunc('month', r.decided_at AT TIME ZONE :tz)::date AS m,
             count(*) FILTER (WHERE r.state = '{REQUEST_APPROVED}') AS approved,
             count(*) FILTER (WHERE r.state = '{REQUEST_REJECTED}') AS rejected
        FROM sharing_request r
       WHERE r.decided_at >= (CAST(:first AS timestamp) AT TIME ZONE :tz){_org_filter("r.owner_org", org_id)}
       GROUP BY 1
    )
    SELECT to_char(months.m, 'YYYY-MM') AS month,
           {", ".join(f"coalesce(acc.{k}s, 0) AS {k}s" for k in KINDS)}, {tracked},
           coalesce(req.received, 0) AS received,
           coalesce(ans.approved, 0) AS approved, coalesce(ans.rejected, 0) AS rejected
      FROM months LEFT JOIN acc ON acc.m = months.m LEFT JOIN req ON req.m = months.m
      LEFT JOIN ans ON ans.m = months.m {tracked_join}
     ORDER BY months.m
    """
    return _plain(_rows(sql, org=org_id, first=first, today=today, tz=time_zone()))


# --- datasets by use ------------------------------------------------------------------------------


def _public_dataset_join(alias: str = "p") -> str:
    return (f"JOIN package {alias} ON {alias}.id = x.package_id AND {alias}.state = 'active' "
            f"AND NOT {alias}.private AND {_in_public(tier_sql(alias))}")


def top_used(org_id: Optional[str] = None, today: Optional[dt.date] = None, limit: int = TOP) -> list[dict[str, Any]]:
    """The publicly listed datasets with the most data accesses over the monthly window."""
    first = _first_month(today or clock.today())
    sql = f"""
    SELECT p.id AS package_id, p.name, p.title, x.accesses
      FROM (SELECT a.package_id, count(*) AS accesses FROM sharing_audit a
             WHERE a.action = '{events.DATA_ACCESS}' AND a.created >= (CAST(:first AS timestamp) AT TIME ZONE :tz)
                   {_org_filter("a.organization_id", org_id)}
             GROUP BY a.package_id) x
      {_public_dataset_join()}
     ORDER BY x.accesses DESC, p.title LIMIT :limit
    """
    return _plain(_rows(sql, org=org_id, first=first, tz=time_zone(), limit=limit))


def top_requested(org_id: Optional[str] = None, limit: int = TOP) -> list[dict[str, Any]]:
    """The publicly listed datasets with the most access requests (all time)."""
    sql = f"""
    SELECT p.id AS package_id, p.name, p.title, x.requests
      FROM (SELECT r.package_id, count(*) AS requests FROM sharing_request r
             WHERE TRUE{_org_filter("r.owner_org", org_id)} GROUP BY r.package_id) x
      {_public_dataset_join()}
     ORDER BY x.requests DESC, p.title LIMIT :limit
    """
    return _plain(_rows(sql, org=org_id, limit=limit))


# --- a department's own queue and grants (live), and the lists behind them --------------------------
#
# One SQL predicate per figure, used both by the count (``count(*) FILTER (WHERE …)``) and by the list
# the figure links to (``WHERE …``), so a figure always equals the length of its list.

REQUEST_FIGURES = {
    "pending": f"r.state = '{REQUEST_PENDING}'",
    "overdue": f"r.state = '{REQUEST_PENDING}' AND r.due_date < :today",
    "due_soon": f"r.state = '{REQUEST_PENDING}' AND r.due_date >= :today AND r.due_date <= :soon",
    "returned": f"r.state = '{REQUEST_RETURNED}'",
    "escalated": f"r.state = '{REQUEST_ESCALATED}'",
}
_ACTIVE = f"g.state = '{GRANT_ACTIVE}' AND g.expires > :now"
_UNDELIVERED = f"{_ACTIVE} AND d.grant_id IS NOT NULL AND d.delivered_at IS NULL"
GRANT_FIGURES = {
    "active": _ACTIVE,
    "expiring": f"{_ACTIVE} AND g.expires <= :soon",
    "undelivered": _UNDELIVERED,
    "delivery_overdue": f"{_UNDELIVERED} AND d.due < :today",
}
# Art. 29: a grant that has ended (revoked, or its period over) without a use report stating destruction
# awaits one; it is due ``report_working_days`` working days after the end (workflow/use_reports.py).
_ENDED = (f"(g.state IN ('{GRANT_EXPIRED}', '{GRANT_REVOKED}') OR g.expires <= :now) AND NOT EXISTS ("
          "SELECT 1 FROM sharing_use_report u WHERE u.grant_id = g.id AND u.destruction IS NOT NULL "
          "AND u.destruction <> '')")
REPORT_FIGURES = {
    "reports_awaited": f"{_ENDED} AND ce.n + :report_days > cy.n",
    "reports_due": f"{_ENDED} AND ce.n + :report_days <= cy.n",
}
FIGURES = (*REQUEST_FIGURES, *GRANT_FIGURES, *REPORT_FIGURES)


def _workday_sql(day: str) -> str:
    """1 when ``day`` is a working day (weekdays, minus ``ckanext.sharing.holidays``, plus
    ``ckanext.sharing.extra_workdays``: the params ``:holidays`` / ``:extra``), else 0."""
    return (f"(CASE WHEN {day} = ANY(CAST(:extra AS date[])) THEN 1 "
            f"WHEN {day} = ANY(CAST(:holidays AS date[])) THEN 0 "
            f"WHEN extract(isodow FROM {day}) < 6 THEN 1 ELSE 0 END)")


def _grant_end_sql() -> str:
    """The portal's day a grant ended (its revocation, else its end of period), as use_reports.ended_at."""
    return (f"((CASE WHEN g.state = '{GRANT_REVOKED}' THEN coalesce(g.revoked_at, g.expires) ELSE g.expires END)"
            " AT TIME ZONE :tz)::date")


def _report_sql() -> str:
    """The ended grants of a department with ``ce.n`` (working days numbered up to the end day) and
    ``cy.n`` (up to yesterday): the report is past due when ``ce.n + report_days <= cy.n``, i.e. at least
    ``report_days`` working days lie after the end day and before today (clock.add_workdays' count)."""
    return f"""
    WITH cal AS (
      SELECT c::date AS day, sum({_workday_sql('c::date')}) OVER (ORDER BY c) AS n
        FROM generate_series(
          least(coalesce((SELECT min({_grant_end_sql()}) FROM sharing_grant g WHERE g.owner_org = :org),
                         CAST(:today AS date)), CAST(:today AS date)) - 1,
          CAST(:today AS date) + 90, interval '1 day') AS c
    ),
    ended AS (
      SELECT g.*, {_grant_end_sql()} AS end_day FROM sharing_grant g
       WHERE g.owner_org = :org AND (g.state IN ('{GRANT_EXPIRED}', '{GRANT_REVOKED}') OR g.expires <= :now)
    )
    """


def _report_from() -> str:
    return ("FROM ended g JOIN cal ce ON ce.day = g.end_day "
            "JOIN cal cy ON cy.day = CAST(:today AS date) - 1")


def _live_params(org_id: str, today: Optional[dt.date], now: Optional[dt.datetime]) -> dict[str, Any]:
    """The parameters of every live figure's predicate (the portal's today, now, the windows)."""
    today = today or clock.today()
    now = now or clock.now()
    hol, extra = config.holidays(), config.extra_workdays()
    return {
        "org": org_id, "today": today, "now": now, "tz": time_zone(),
        "soon": clock.add_workdays(today, DUE_SOON_WORKING_DAYS, hol, extra),
        "grant_soon": now + dt.timedelta(days=REMINDER_DAYS),
        "holidays": sorted(hol), "extra": sorted(extra), "report_days": config.report_working_days(),
    }


def _counts(predicates: dict[str, str]) -> str:
    return ", ".join(f"count(*) FILTER (WHERE {pred}) AS {key}" for key, pred in predicates.items())


def queue(org_id: str, today: Optional[dt.date] = None) -> dict[str, int]:
    """A department's queue now: pending requests, overdue ones, those due within 2 working days, requests
    returned to the requester for completion (Art. 21) and escalated to the authority (Art. 28)."""
    params = _live_params(org_id, today, None)
    row = _rows(f"SELECT {_counts(REQUEST_FIGURES)} FROM sharing_request r WHERE r.owner_org = :org", **params)[0]
    return {k: int(v or 0) for k, v in row.items()}


def _grant_predicates() -> dict[str, str]:
    return {k: v.replace(":soon", ":grant_soon") for k, v in GRANT_FIGURES.items()}


def grant_figures(org_id: str, now: Optional[dt.datetime] = None) -> dict[str, int]:
    """A department's grants now: active (unexpired) ones, those ending within 7 days, and those not yet
    delivered (Art. 22; ``sharing_delivery``), of which past their delivery date."""
    params = _live_params(org_id, None, now)
    row = _rows(f"SELECT {_counts(_grant_predicates())} FROM sharing_grant g "
                "LEFT JOIN sharing_delivery d ON d.grant_id = g.id WHERE g.owner_org = :org", **params)[0]
    return {k: int(v or 0) for k, v in row.items()}


def report_figures(org_id: str, today: Optional[dt.date] = None, now: Optional[dt.datetime] = None) -> dict[str, int]:
    """A department's use reports (Art. 29) now: ended grants awaiting a report that states destruction
    (``reports_awaited``, not yet due) and those past its due date (``reports_due``: the ``report_due``
    flag of workflow/use_reports.py)."""
    params = _live_params(org_id, today, now)
    row = _rows(_report_sql() + f"SELECT {_counts(REPORT_FIGURES)} {_report_from()}", **params)[0]
    return {k: int(v or 0) for k, v in row.items()}


def grant_accesses(org_id: str, now: Optional[dt.datetime] = None, limit: int = 50) -> list[dict[str, Any]]:
    """The department's active grants with their number of data accesses (the ledger), most used first.
    Grants are named by dataset and end date, never by grantee."""
    now = now or clock.now()
    sql = f"""
    SELECT g.id AS grant_id, g.package_id, p.name, p.title, g.expires, count(a.id) AS accesses
      FROM sharing_grant g
      LEFT JOIN package p ON p.id = g.package_id
      LEFT JOIN sharing_audit a ON a.grant_id = g.id AND a.action = '{events.DATA_ACCESS}'
     WHERE g.owner_org = :org AND {_ACTIVE}
     GROUP BY g.id, g.package_id, p.name, p.title, g.expires
     ORDER BY accesses DESC, g.expires ASC LIMIT :limit
    """
    rows = _rows(sql, org=org_id, now=now, limit=limit)
    return [{**r, "expires": r["expires"].isoformat(), "accesses": int(r["accesses"])} for r in rows]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


_ACCESSES = (f"(SELECT count(*) FROM sharing_audit a WHERE a.grant_id = g.id "
             f"AND a.action = '{events.DATA_ACCESS}') AS accesses")


def items(org_id: str, figure: str, limit: int = 500, today: Optional[dt.date] = None,
          now: Optional[dt.datetime] = None) -> dict[str, Any]:
    """The list behind one live figure of a department's overview (:data:`FIGURES`): its requests or grants,
    with the same predicate as the count; ``count`` is the figure, ``results`` the first ``limit`` rows.
    Rows name the dataset, never the requester or grantee; grants carry their number of data accesses."""
    params = {**_live_params(org_id, today, now), "limit": limit}
    if figure in REQUEST_FIGURES:
        where = f"FROM sharing_request r LEFT JOIN package p ON p.id = r.package_id " \
                f"WHERE r.owner_org = :org AND {REQUEST_FIGURES[figure]}"
        select = (f"SELECT r.id, r.package_id, p.name, p.title, r.state, r.created, r.due_date {where} "
                  "ORDER BY r.due_date ASC NULLS LAST, r.created ASC LIMIT :limit")
        kind, count_sql = "request", f"SELECT count(*) AS n {where}"
    elif figure in GRANT_FIGURES:
        where = ("FROM sharing_grant g LEFT JOIN sharing_delivery d ON d.grant_id = g.id "
                 "LEFT JOIN package p ON p.id = g.package_id "
                 f"WHERE g.owner_org = :org AND {_grant_predicates()[figure]}")
        select = (f"SELECT g.id, g.package_id, p.name, p.title, g.state, g.starts, g.expires, d.due AS delivery_due, "
                  f"d.delivered_at, {_ACCESSES} {where} ORDER BY g.expires ASC LIMIT :limit")
        kind, count_sql = "grant", f"SELECT count(*) AS n {where}"
    elif figure in REPORT_FIGURES:
        where = f"{_report_from()} LEFT JOIN package p ON p.id = g.package_id WHERE {REPORT_FIGURES[figure]}"
        due = "(SELECT min(c.day) FROM cal c WHERE c.n = ce.n + :report_days)"
        select = (_report_sql() + f"SELECT g.id, g.package_id, p.name, p.title, g.state, g.starts, g.expires, "
                  f"g.end_day, {due} AS report_due_date, {_ACCESSES} {where} ORDER BY g.end_day ASC LIMIT :limit")
        kind, count_sql = "grant", _report_sql() + f"SELECT count(*) AS n {where}"
    else:
        raise ValueError(figure)
    count = int(_rows(count_sql, **params)[0]["n"] or 0)
    results = [{k: _iso(v) for k, v in r.items()} for r in _rows(select, **params)]
    for r in results:
        if "accesses" in r:
            r["accesses"] = int(r["accesses"] or 0)
    return {"figure": figure, "kind": kind, "count": count, "results": results}


# --- one dataset or resource (its page) ------------------------------------------------------------


def download_counts(package_id: str, resource_id: Optional[str] = None,
                    tracked_urls: tuple[str, ...] = ()) -> dict[str, int]:
    """Downloads and data accesses of one dataset (or resource): the ledger's ``data_access`` rows
    (downloads and all accesses) plus, with CKAN's tracking on, its counted downloads of ``tracked_urls``."""
    row = _rows(f"""
      SELECT count(*) FILTER (WHERE {kind_sql('a')} = 'download') AS downloads, count(*) AS accesses
        FROM sharing_audit a
       WHERE a.action = '{events.DATA_ACCESS}' AND a.package_id = :pkg{_org_filter("a.resource_id", resource_id, "res")}
    """, pkg=package_id, res=resource_id)[0]
    out = {"downloads": int(row["downloads"] or 0), "accesses": int(row["accesses"] or 0), "tracked": 0}
    if tracking_enabled() and tracked_urls:
        out["tracked"] = int(model.Session.execute(sa.text(
            "SELECT coalesce(sum(t.count), 0) FROM tracking_summary t "
            "WHERE t.tracking_type = 'resource' AND t.url = ANY(:urls)"), {"urls": list(tracked_urls)}).scalar() or 0)
    return out
