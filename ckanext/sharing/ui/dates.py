"""Dates on our pages: the portal's time zone (``ckan.display_timezone``), one format (issue 11).

Moments are stored as UTC; a date typed in a form (``until 2026-12-31``) means the end of that day
where the portal is, so it shows as the same date again.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional
from zoneinfo import ZoneInfo

import ckan.plugins.toolkit as tk

from ckanext.sharing import values

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
# the same with seconds, where versions a few seconds apart must be told apart (the Changes page)
SECONDS_FORMAT = "%Y-%m-%d %H:%M:%S"


def portal_zone() -> dt.tzinfo:
    """The zone of ``ckan.display_timezone`` (``server``: the machine's; unknown names: UTC, as core)."""
    name = tk.config.get("ckan.display_timezone") or "UTC"
    if name == "server":
        return dt.datetime.now().astimezone().tzinfo or dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return dt.timezone.utc


def local_text(value: Any, with_time: bool = False, with_seconds: bool = False) -> str:
    """A stored moment (ISO text or datetime; naive means UTC) or a date as the portal shows it."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, str) and values.is_bare_date(value):
        return value.strip()
    try:
        moment = values.parse_moment(value, end_of_day=False)
    except ValueError:
        return str(value)
    shape = SECONDS_FORMAT if with_seconds else DATETIME_FORMAT if with_time else DATE_FORMAT
    return moment.astimezone(portal_zone()).strftime(shape)


def end_of_local_day(value: Optional[str]) -> Optional[str]:
    """A form's bare date → the last second of that day in the portal's zone (ISO, with offset)."""
    if not value or not values.is_bare_date(value):
        return value
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return value
    return dt.datetime.combine(day, dt.time(23, 59, 59), portal_zone()).isoformat()
