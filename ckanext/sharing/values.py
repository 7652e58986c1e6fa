"""One parser per kind of plain value the extension reads from forms, the API, config and extras.

Kept in one place so that "yes", a date or an extras list means the same thing everywhere
(issue 9: one boolean parser, one ISO moment parser, one extras reader).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Optional

_TRUE = frozenset({"true", "1", "yes", "on", "t", "y", "是"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n", "否", ""})


def is_empty(value: Any) -> bool:
    """None, or a string of only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_bool(value: Any) -> Optional[bool]:
    """``True``/``False`` for a yes/no value (bool, 'true'/'false', '是'/'否', 'on'...); None if empty or unknown."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def truthy(value: Any) -> bool:
    """A yes/no value read leniently: only a recognised "yes" is True."""
    return parse_bool(value) is True


def parse_moment(value: Any, end_of_day: bool) -> dt.datetime:
    """An ISO date or date-time → an aware UTC datetime; a bare date means the start (or end) of that day.

    Raises ``ValueError`` for anything else, including dates outside what datetime can hold.
    """
    day_time = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0)
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, day_time, dt.timezone.utc)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if len(text) == 10:
                parsed = dt.datetime.combine(dt.date.fromisoformat(text), day_time, dt.timezone.utc)
            else:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not an ISO date or date-time: {value!r}") from exc
    else:
        raise ValueError(f"not an ISO date or date-time: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00
        raise ValueError(f"date out of range: {value!r}") from exc


def is_bare_date(value: Any) -> bool:
    """Was this moment given as a bare date (YYYY-MM-DD), not a date-time?"""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime) or (
        isinstance(value, str) and len(value.strip()) == 10
    )


def extra(data: Mapping[str, Any], key: str) -> Any:
    """The value of ``key`` in a dataset dict's ``extras`` list (None when absent)."""
    for item in data.get("extras") or []:
        if isinstance(item, Mapping) and item.get("key") == key:
            return item.get("value")
    return None


def field_or_extra(data: Mapping[str, Any], key: str) -> Any:
    """A top-level field of a dataset dict, else the extra of the same name (plain CKAN schemas)."""
    value = data.get(key)
    if value in (None, ""):
        value = extra(data, key)
    return value


def split_list(values: Optional[Iterable[str] | str]) -> list[str]:
    """A config list: a space/comma separated string or a list, empty items dropped."""
    if not values:
        return []
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    return [str(v).strip() for v in values if str(v).strip()]
