"""The statistics actions (issue 17, SPEC §13): the figures of the three statistics pages, so scripts
get the same numbers as the pages. Computed by :mod:`ckanext.sharing.stats.figures` (SQL, cached per day
where a figure may be a day old: each answer's ``cache`` says which figures and when)."""
from __future__ import annotations

from typing import Any, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.logic import validate
from ckan.types import Context, DataDict

from ckanext.sharing.logic import schema
from ckanext.sharing.stats import figures

# The actions this module registers.
__all__ = ["sharing_stats_department_list", "sharing_stats_department_show", "sharing_stats_show"]


def available() -> bool:
    """The statistics actions are always there."""
    return True


def _organization(ref: Optional[str]) -> Optional[model.Group]:
    """The active organization named by ``ref``; ObjectNotFound naming the field when there is none."""
    if not ref:
        return None
    org = model.Group.get(ref)
    if org is None or not org.is_organization or org.state != "active":
        raise tk.ObjectNotFound(tk._("Organization not found") + f": organization_id={ref}")
    return org


def _with_org(result: dict[str, Any], org: Optional[model.Group]) -> dict[str, Any]:
    if org is not None:
        result["organization"] = {"id": org.id, "name": org.name, "title": org.title or org.name}
    return result


@tk.side_effect_free
@validate(schema.sharing_stats_show_schema)
def sharing_stats_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The public statistics (开放统计) of the portal, or of one department: datasets per tier, theme and
    department; requests received and answered, approval rate, median reply time in working days
    against the limit, on-time and overdue shares; data accesses (downloads, API calls, views) and
    requests per month; the most used and most requested datasets; 利用率 per department (share of its
    open and conditional datasets accessed or requested in the last 90 days). Counts only: no person,
    and no ``not_shared`` dataset is named. Open to everyone.

    :param organization_id: one department (id or name; optional)
    :type organization_id: string
    :returns: the figures, with ``cache`` = ``{"computed": ISO time, "cached": [...], "live": [...]}``
    :rtype: dictionary
    """
    tk.check_access("sharing_stats_show", context, data_dict)
    org = _organization(data_dict.get("organization_id"))
    return _with_org(figures.public(org.id if org else None), org)


@tk.side_effect_free
@validate(schema.sharing_stats_department_show_schema)
def sharing_stats_department_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A department's overview (its deciders and admins, sysadmins): the figures of
    ``sharing_stats_show`` for the department plus, live, its queue (``pending``, ``overdue``,
    ``due_soon`` = due within 2 working days, ``returned``, ``escalated``), its grants (``active``,
    ``expiring`` within 7 days, ``undelivered``, ``delivery_overdue``; Art. 22), its use reports
    (``use_reports``: ``reports_awaited`` by ended grants, ``reports_due`` past their date; Art. 29) and
    the data accesses of each active grant (``grant_accesses``).

    :param organization_id: the department (id or name)
    :type organization_id: string
    :param figure: one of those live figures (optional): the answer is then the list behind it instead,
        ``{"organization", "figure", "kind": "request"|"grant", "count", "results": [...]}`` (the first
        500 rows, each naming its dataset, never a requester or grantee; grants with their ``accesses``)
    :type figure: string
    :rtype: dictionary
    """
    org = _organization(data_dict["organization_id"])
    tk.check_access("sharing_stats_department_show", context, {"organization_id": org.id if org else ""})
    if data_dict.get("figure"):
        return _with_org(figures.department_items(org.id, data_dict["figure"]), org)  # type: ignore[union-attr]
    return _with_org(figures.department(org.id), org)  # type: ignore[union-attr]


@tk.side_effect_free
@validate(schema.sharing_stats_department_list_schema)
def sharing_stats_department_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """All departments side by side (the authority's overview; sysadmins): per department datasets
    per tier, requests, approval rate, median reply days, on-time share, overdue, 利用率 — sorted.

    :param sort: the column (``title``, ``datasets``, ``on_time_share``, ``overdue``, ``utilisation`` …;
        default ``title``)
    :type sort: string
    :param order: ``asc`` (default) or ``desc``
    :type order: string
    :rtype: dictionary
    """
    tk.check_access("sharing_stats_department_list", context, data_dict)
    return figures.department_list(data_dict.get("sort") or "title", data_dict.get("order") == "desc")
