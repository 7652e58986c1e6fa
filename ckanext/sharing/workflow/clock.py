"""The workflow's one clock and its working-day calendar (SPEC §4).

A working day is Monday–Friday unless listed in ``ckanext.sharing.holidays``; a weekend date listed
in ``ckanext.sharing.extra_workdays`` (调休) is a working day. Dates are the portal's own
(``ckan.display_timezone``), moments are aware UTC datetimes from :func:`now`.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Optional

import ckan.plugins.toolkit as tk

from ckanext.sharing import config


def now() -> dt.datetime:
    """The current moment, aware, in UTC (the only place the workflow reads the clock)."""
    return dt.datetime.now(dt.timezone.utc)


def is_workday(day: dt.date, holidays: frozenset[dt.date], extra_workdays: frozenset[dt.date]) -> bool:
    """True for a weekday that is not a holiday, or a 调休 weekend working day."""
    if day in extra_workdays:
        return True
    if day in holidays:
        return False
    return day.weekday() < 5


def add_workdays(
    start: dt.date,
    days: int,
    holidays: Iterable[dt.date] = (),
    extra_workdays: Iterable[dt.date] = (),
) -> dt.date:
    """The date ``days`` working days after ``start`` (the start day itself is not counted)."""
    hol, extra = frozenset(holidays), frozenset(extra_workdays)
    day = start
    left = max(int(days), 0)
    while left:
        day += dt.timedelta(days=1)
        if is_workday(day, hol, extra):
            left -= 1
    return day


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date of ``moment`` where the portal is (``ckan.display_timezone``, default UTC):
    a request sent at 07:00 in Beijing counts from that Beijing day, not from the UTC one."""
    name = tk.config.get("ckan.display_timezone") or "UTC"
    if name == "server":
        return moment.astimezone().date()
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo(name)).date()
    except (KeyError, ValueError):  # an unknown zone name: UTC, as CKAN itself falls back
        return moment.astimezone(dt.timezone.utc).date()


def today() -> dt.date:
    """Today's date where the portal is (for ``overdue``)."""
    return local_date(now())


def due_date(created: dt.datetime | dt.date) -> dt.date:
    """Reply deadline of a request created at ``created``, from the configured calendar."""
    start = local_date(created) if isinstance(created, dt.datetime) else created
    return add_configured_workdays(start, config.reply_working_days())


def workdays_left(due: dt.date, on: Optional[dt.date] = None) -> int:
    """Working days from ``on`` (default today) to ``due``: the days after ``on`` up to and including ``due``;
    negative when ``due`` has passed (the working days since). Shown as "days left" (SPEC §13)."""
    on = on or today()
    hol, extra = config.holidays(), config.extra_workdays()
    first, last, sign = (on, due, 1) if due >= on else (due, on, -1)
    count, day = 0, first
    while day < last:
        day += dt.timedelta(days=1)
        count += is_workday(day, hol, extra)
    return sign * count


def add_configured_workdays(start: dt.date, days: int) -> dt.date:
    """``start`` + ``days`` working days on the configured calendar (extensions, resubmissions: Art. 21)."""
    return add_workdays(start, days, config.holidays(), config.extra_workdays())
