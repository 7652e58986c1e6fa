"""The statistics pages' figures as tables (issue 17): one :class:`Figure` per chart, built from the
action's answer, so the chart, the table under it and its CSV download show the same numbers.

A figure has columns (the first is the category), rows of already-aggregated values (a few dozen at
most: departments, months, tiers), the columns its chart draws and the chart type (``pie``, ``bar``,
``stack``, ``hbar``, ``line``). Labels are translated here, in the request's language.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import ckan.plugins.toolkit as tk

from ckanext.sharing import config
from ckanext.sharing.access import policy

URL = Callable[..., str]


@dataclass
class Figure:
    """One chart + table + CSV of a statistics page."""

    id: str
    title: str
    chart: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    series: list[str]
    cached: bool
    percent: tuple[str, ...] = ()
    note: str = ""
    limit: Optional[float] = None
    links: list[Optional[str]] = field(default_factory=list)

    def cell(self, row: dict[str, Any], key: str) -> str:
        """The table's text of one value: percentages as ``12.5%``, missing values as ``–``."""
        value = row.get(key)
        if value is None:
            return "–"
        if key in self.percent:
            return f"{float(value) * 100:.1f}%"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def spec(self) -> dict[str, Any]:
        """What assets/stats/charts.js draws: categories, one series per charted column (percentages
        in percent), the reply limit line when there is one."""
        labels = dict(self.columns)
        category = self.columns[0][0]
        return {
            "type": self.chart,
            "categories": [str(r.get(category) if r.get(category) not in (None, "") else "–") for r in self.rows],
            "series": [
                {"name": labels[k], "data": [_chart_value(r.get(k), k in self.percent) for r in self.rows]}
                for k in self.series
            ],
            "percent": any(k in self.percent for k in self.series),
            "limit": self.limit,
            "limitName": tk._("Limit") if self.limit is not None else "",
        }

    def csv(self) -> bytes:
        """The table as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese labels)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([label for _, label in self.columns])
        writer.writerows([[("" if r.get(k) is None else r.get(k)) for k, _ in self.columns] for r in self.rows])
        return ("\ufeff" + out.getvalue()).encode("utf-8")


def _chart_value(value: Any, percent: bool) -> Any:
    if value is None:
        return None
    return round(float(value) * 100, 1) if percent else value


def _department_label(row: dict[str, Any]) -> str:
    return row.get("title") or row.get("name") or ""


def tier_figure(by_tier: dict[str, int], link: Optional[Callable[[str], Optional[str]]] = None) -> Figure:
    """Datasets per tier (pie)."""
    rows = [{"tier": tk.h.sharing_tier_label(t), "datasets": by_tier.get(t, 0)} for t in policy.TIERS]
    return Figure("tiers", tk._("Datasets per sharing tier"), "pie",
                  [("tier", tk._("Sharing tier")), ("datasets", tk._("Datasets"))], rows, ["datasets"], cached=False,
                  links=[link(t) if link else None for t in policy.TIERS])


def theme_figure(themes: list[dict[str, Any]], link: Optional[Callable[[str], Optional[str]]] = None) -> Figure:
    """Publicly listed datasets per theme (bar); ``link(theme)`` the dataset list of a theme (its facet)."""
    rows = [{"theme": t["theme"] or tk._("(no theme)"), "datasets": t["datasets"]} for t in themes]
    return Figure("themes", tk._("Datasets per theme"), "bar",
                  [("theme", tk._("Theme")), ("datasets", tk._("Datasets"))], rows, ["datasets"], cached=True,
                  note=tk._("Open and on-request datasets."),
                  links=[link(t["theme"]) if link and t["theme"] else None for t in themes])


def _tier_columns() -> list[tuple[str, str]]:
    return [(t, tk.h.sharing_tier_label(t)) for t in policy.TIERS]


def department_datasets_figure(departments: list[dict[str, Any]], url: URL) -> Figure:
    """Datasets per department and tier (stacked bars)."""
    rows = [{"department": _department_label(d), **{t: d.get(t, 0) for t in policy.TIERS}, "datasets": d["datasets"]}
            for d in departments]
    return Figure("department_datasets", tk._("Datasets per department and tier"), "stack",
                  [("department", tk._("Department")), *_tier_columns(), ("datasets", tk._("Total"))], rows,
                  list(policy.TIERS), cached=True, links=[url(d) for d in departments])


def requests_figure(departments: list[dict[str, Any]], url: URL, limit: int) -> Figure:
    """Requests and replies per department; the chart: median reply time against the limit."""
    rows = [{"department": _department_label(d), **{k: d.get(k) for k in (
        "received", "answered", "approval_rate", "median_reply_days", "on_time_share", "overdue_share")}}
        for d in departments]
    return Figure("requests", tk._("Requests and reply times per department"), "bar", [
        ("department", tk._("Department")), ("received", tk._("Requests received")),
        ("answered", tk._("Answered")), ("approval_rate", tk._("Approval rate")),
        ("median_reply_days", tk._("Median reply (working days)")), ("on_time_share", tk._("Answered on time")),
        ("overdue_share", tk._("Overdue share")),
    ], rows, ["median_reply_days"], cached=True, percent=("approval_rate", "on_time_share", "overdue_share"),
        limit=limit, links=[url(d) for d in departments],
        note=tk._("The chart: median reply time in working days; the line: the limit of %(days)d working days.")
        % {"days": limit})


def utilisation_figure(departments: list[dict[str, Any]], url: URL, window: int) -> Figure:
    """利用率 per department (bar, percent)."""
    rows = [{"department": _department_label(d), "shared": d["shared"], "used": d["used"],
             "utilisation": d.get("utilisation")} for d in departments]
    return Figure("utilisation", tk._("Utilisation (利用率) per department"), "bar", [
        ("department", tk._("Department")), ("shared", tk._("Open and on-request datasets")),
        ("used", tk._("Used in the last %(days)d days") % {"days": window}), ("utilisation", tk._("Utilisation")),
    ], rows, ["utilisation"], cached=True, percent=("utilisation",), links=[url(d) for d in departments],
        note=tk._("Share of a department's open and on-request datasets accessed or requested in the last "
                  "%(days)d days.") % {"days": window})


def access_months_figure(months: list[dict[str, Any]], tracking: bool,
                         link: Optional[Callable[[str], Optional[str]]] = None) -> Figure:
    """Data accesses per month by kind (lines); ``link(month)`` the ledger's rows of that month."""
    columns = [("month", tk._("Month")), ("downloads", tk._("Downloads")), ("apis", tk._("API calls")),
               ("views", tk._("Previews"))]
    if tracking:
        columns.append(("tracked", tk._("Downloads (page tracking)")))
    return Figure("access_months", tk._("Data accesses per month"), "line", columns, months,
                  [k for k, _ in columns[1:]], cached=True,
                  note=tk._("From the audit ledger: every access to on-request data by a grantee."),
                  links=[link(m["month"]) if link else None for m in months])


def request_months_figure(months: list[dict[str, Any]], url: Optional[str] = None) -> Figure:
    """Requests per month: received, approved, rejected (bars); every month links to ``url`` (the
    department's requests) when given."""
    return Figure("request_months", tk._("Requests per month"), "bar", [
        ("month", tk._("Month")), ("received", tk._("Received")), ("approved", tk._("Approved")),
        ("rejected", tk._("Rejected")),
    ], months, ["received", "approved", "rejected"], cached=True, links=[url for _ in months] if url else [])


def top_figure(kind: str, rows: list[dict[str, Any]], url: URL) -> Figure:
    """The most used (``accesses``) or most requested (``requests``) datasets (horizontal bars)."""
    key, title, label = {
        "used": ("accesses", tk._("Most used datasets"), tk._("Data accesses")),
        "requested": ("requests", tk._("Most requested datasets"), tk._("Requests")),
    }[kind]
    table = [{"dataset": r["title"] or r["name"], key: r[key]} for r in rows]
    return Figure(f"top_{kind}", title, "hbar", [("dataset", tk._("Dataset")), (key, label)], table, [key],
                  cached=True, links=[url(r) for r in rows])


def queue_labels() -> dict[str, str]:
    """The label of each live figure of a department's overview (queries.FIGURES), in the page's language."""
    return {
        "pending": tk._("Pending requests"),
        "overdue": tk._("Overdue requests"),
        "due_soon": tk._("Due within 2 working days"),
        "returned": tk._("Returned for completion"),
        "escalated": tk._("Escalated to the authority"),
        "active": tk._("Active grants"),
        "expiring": tk._("Grants ending within 7 days"),
        "undelivered": tk._("Undelivered grants"),
        "delivery_overdue": tk._("Undelivered past the delivery date"),
        "reports_awaited": tk._("Ended grants awaiting a use report"),
        "reports_due": tk._("Use reports due (past the date)"),
    }


def queue_figure(counts: dict[str, int], link: Callable[[str], str]) -> Figure:
    """A department's queue, grants and use reports now (bars), each row linking to the list behind it
    (``link(figure)``); ``counts`` holds every key of :func:`queue_labels`."""
    labels = queue_labels()
    rows = [{"figure": label, "count": counts[key], "key": key} for key, label in labels.items()]
    return Figure("queue", tk._("Queue, grants and use reports now"), "bar",
                  [("figure", tk._("Figure")), ("count", tk._("Count"))], rows, ["count"], cached=False,
                  links=[link(key) for key in labels],
                  note=tk._("Use reports (Art. 29): a grant that has ended needs a report stating the data's "
                            "destruction within %(days)d working days.") % {"days": config.report_working_days()})


def grant_accesses_figure(grants: list[dict[str, Any]], active_url: str) -> Figure:
    """Data accesses per active grant (horizontal bars); a grant is named by dataset and end date. Every
    row links to the list of active grants, which shows each grant's accesses."""
    rows = [{"grant": f"{g['title'] or g['name'] or g['package_id']} · {g['expires'][:10]}",
             "accesses": g["accesses"]} for g in grants]
    return Figure("grant_accesses", tk._("Data accesses per active grant"), "hbar",
                  [("grant", tk._("Grant (dataset · until)")), ("accesses", tk._("Data accesses"))], rows,
                  ["accesses"], cached=False, links=[active_url for _ in grants])


def authority_figure(departments: list[dict[str, Any]], url: URL) -> Figure:
    """All departments side by side (the authority's overview); the chart: on-time share."""
    rows = [{"department": _department_label(d), **{k: d.get(k) for k in (
        "datasets", *policy.TIERS, "received", "answered", "pending", "overdue", "escalated", "approval_rate",
        "median_reply_days", "on_time_share", "overdue_share", "utilisation")}} for d in departments]
    return Figure("departments", tk._("All departments"), "bar", [
        ("department", tk._("Department")), ("datasets", tk._("Datasets")), *_tier_columns(),
        ("received", tk._("Requests received")), ("answered", tk._("Answered")), ("pending", tk._("Pending")),
        ("overdue", tk._("Overdue")), ("escalated", tk._("Escalations")), ("approval_rate", tk._("Approval rate")),
        ("median_reply_days", tk._("Median reply (working days)")), ("on_time_share", tk._("Answered on time")),
        ("overdue_share", tk._("Overdue share")), ("utilisation", tk._("Utilisation")),
    ], rows, ["on_time_share", "utilisation"], cached=True,
        percent=("approval_rate", "on_time_share", "overdue_share", "utilisation"), links=[url(d) for d in departments])


SORT_KEYS = {"department": "title"}


def sort_key(column: str) -> str:
    """The ``sort`` value of ``sharing_stats_department_list`` for a column of the authority's table."""
    return SORT_KEYS.get(column, column)
