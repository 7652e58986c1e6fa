"""Validation schemas of the ``sharing_*`` actions (SPEC §4–5).

Every action validates its input with one of these before it touches the database, so bad input is
a ``ValidationError`` naming the field, never a 500.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

import ckan.plugins.toolkit as tk
from ckan.types import Context, Schema

from ckanext.sharing import config, values
from ckanext.sharing.logic.validators import parsed_or_invalid
from ckanext.sharing.workflow.states import GRANT_STATES, REQUEST_STATES, SHARE_METHODS

Validator = Callable[..., Any]
Invalid = tk.Invalid

_MAX_TEXT = 4000
_MAX_PAGE = 1000


def _v(name: str) -> Validator:
    return tk.get_validator(name)


def text_problem(value: str) -> Optional[str]:
    """Why PostgreSQL (or Solr) cannot store this string, or None: a NUL character (psycopg2 refuses
    it) or an unpaired surrogate (not encodable as UTF-8) (issue 10, bad input)."""
    if "\x00" in value:
        return tk._("Must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return tk._("Must not contain unpaired surrogate characters")
    return None


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise Invalid(problem)
    return value


def _text(value: Any, context: Context) -> Any:
    """A non-empty string of at most 4000 characters, stripped."""
    if not isinstance(value, str):
        raise Invalid(tk._("Must be a string"))
    _storable(value)
    return _within(value.strip(), _MAX_TEXT, tk._("Missing value"), tk._("Must be at most %d characters"))


def _within(value: Any, top: int, empty: str, too_long: str) -> Any:
    """``value`` (a text or a list) when it is not empty and at most ``top`` long; else Invalid with
    ``empty``, or ``too_long`` % ``top``."""
    if not value:
        raise Invalid(empty)
    if len(value) > top:
        raise Invalid(too_long % top)
    return value


def _id(value: Any, context: Context) -> Any:
    """An id or name: a short string without whitespace."""
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or any(c.isspace() for c in value):
        raise Invalid(tk._("Must be an id"))
    return _storable(value.strip())


def _id_list(value: Any, context: Context) -> Any:
    """A list of ids; a JSON list or comma separated string is accepted (form posts)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = tk.get_converter("json_list_or_string")(value)
        if isinstance(value, str):
            value = [value]
    if not isinstance(value, (list, tuple)):
        raise Invalid(tk._("Must be a list of resource ids"))
    out: list[str] = []
    for item in value:
        _id(item, context)
        if item.strip() not in out:
            out.append(item.strip())
    if len(out) > 500:
        raise Invalid(tk._("Too many resource ids"))
    return out


def _days(value: Any, context: Context) -> Any:
    """A whole number of days, 1 … ``ckanext.sharing.max_grant_days``."""
    return _whole_number(value, config.max_grant_days(), tk._("Must be a whole number of days"),
                         tk._("Must be between 1 and %d days"))


def _whole_number(value: Any, top: int, not_whole: str, out_of_range: str, low: int = 1) -> int:
    """``value`` as a whole number ``low`` … ``top`` (a bool or a fraction is refused with ``not_whole``)."""
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(not_whole)
    if number < low or number > top:
        raise Invalid(out_of_range % top)
    return number


def _default_days(key: Any, data: dict[Any, Any], errors: Any, context: Context) -> None:
    """Missing ``requested_days``: the configured default period."""
    if data.get(key) in (None, "", tk.missing):
        data[key] = config.default_grant_days()


def _moment(value: Any, context: Context) -> Any:
    """An ISO date or date-time, returned as an aware UTC datetime (a bare date means the end of that day)."""
    return _parse_moment(value, end_of_day=True)


def _parse_moment(value: Any, end_of_day: bool) -> dt.datetime:
    """A moment within years 1900 … 9000, so arithmetic on it (periods, days) cannot overflow (issue 10)."""
    if isinstance(value, str):
        _storable(value)
    try:
        moment = values.parse_moment(value, end_of_day)
    except (ValueError, TypeError, OverflowError):
        raise Invalid(tk._("Must be an ISO date (YYYY-MM-DD) or date-time"))
    if not _EARLIEST <= moment.year <= _LATEST:
        raise Invalid(tk._("Must be between the years %d and %d") % (_EARLIEST, _LATEST))
    return moment


_EARLIEST, _LATEST = 1900, 9000
BARE_DATE_KEY = "expires_bare_date"


def _expires(key: Any, data: dict[Any, Any], errors: Any, context: Context) -> None:
    """``expires``: parsed like :func:`_moment`, remembering whether it was a bare date (a date may
    pass the requested period by the rest of its day, a date-time may not: issue 10)."""
    value = data.get(key)
    data[(BARE_DATE_KEY,)] = values.is_bare_date(value)
    data[key] = _moment(value, context)


def _moment_start(value: Any, context: Context) -> Any:
    """Like :func:`_moment`, but a bare date means the start of that day."""
    return _parse_moment(value, end_of_day=False)


def _one_of(values: tuple[str, ...]) -> Validator:
    def check(value: Any, context: Context) -> Any:
        if value not in values:
            raise Invalid(tk._("Must be one of: %s") % ", ".join(values))
        return value

    return check


def _bool(value: Any, context: Context) -> Any:
    """Yes/no input → bool; empty means no."""
    parsed = values.parse_bool(value)
    if parsed is None and str(value).strip():
        raise Invalid(tk._("Must be true or false"))
    return bool(parsed)


def _page_limit(value: Any, context: Context) -> Any:
    return _whole_number(value, _MAX_PAGE, tk._("Must be a whole number"), tk._("Must be between 1 and %d"))


def _offset(value: Any, context: Context) -> Any:
    return _whole_number(value, _MAX_OFFSET, tk._("Must be a whole number"), tk._("Must be between 0 and %d"), low=0)


_MAX_OFFSET = 2**31 - 1


def _optional(validator: Validator) -> list[Validator]:
    """An optional field: absent or blank input is left out, anything else must pass ``validator``."""
    return [_v("ignore_missing"), _v("ignore_empty"), validator]


def _paging() -> Schema:
    return {"limit": [_v("ignore_missing"), _page_limit], "offset": [_v("ignore_missing"), _offset]}


def sharing_request_create_schema() -> Schema:
    return {
        "package_id": [_v("not_empty"), _id],
        "resource_ids": [_v("ignore_missing"), _id_list],
        "purpose": [_v("not_missing"), _text],
        "use_scenario": [_v("not_missing"), _text],
        "use_basis": [_v("not_missing"), _text],
        "use_scope": [_v("not_missing"), _text],
        "share_method": [_v("not_missing"), _share_method],
        "requested_days": [_default_days, _days],
        "organization_id": _optional(_id),
    }


def sharing_id_schema() -> Schema:
    return {"id": [_v("not_empty"), _id]}


def visible_list_schema(states: tuple[str, ...]) -> Schema:
    """The filters of the lists of what the caller may see (requests, grants, corrections): dataset and
    owner organization (id or name), one of ``states``, only the caller's own, and paging."""
    return {
        "package_id": _optional(_id),
        "organization_id": _optional(_id),
        "state": _optional(_one_of(states)),
        "mine": [_v("ignore_missing"), _bool],
        **_paging(),
    }


def sharing_request_list_schema() -> Schema:
    return visible_list_schema(REQUEST_STATES)


def sharing_request_approve_schema() -> Schema:
    return {
        "id": [_v("not_empty"), _id],
        "expires": _optional(_expires),
        "resource_ids": [_v("ignore_missing"), _id_list],
        "reason": _optional(_text),
    }


def sharing_reason_schema() -> Schema:
    return {"id": [_v("not_empty"), _id], "reason": [_v("not_missing"), _text]}


def sharing_withdraw_schema() -> Schema:
    return {"id": [_v("not_empty"), _id], "reason": _optional(_text)}


def sharing_grant_list_schema() -> Schema:
    return visible_list_schema(GRANT_STATES)


def sharing_access_check_schema() -> Schema:
    return {"package_id": [_v("not_empty"), _id], "resource_id": _optional(_id)}


def sharing_audit_list_schema() -> Schema:
    return {
        "package_id": _optional(_id),
        "organization_id": _optional(_id),
        "actor_id": _optional(_id),
        "action": _optional(_id),
        "since": _optional(_moment_start),
        "until": _optional(_moment),
        **_paging(),
    }


def _row_id(value: Any, context: Context) -> Any:
    """A ledger row id: a positive integer."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid(tk._("Must be a ledger row id (a positive integer)"))
    if number < 1 or str(value).strip() != str(number):
        raise Invalid(tk._("Must be a ledger row id (a positive integer)"))
    return number


def sharing_audit_proof_schema() -> Schema:
    """``sharing_audit_proof``: the row id."""
    return {"id": [_v("not_empty"), _row_id]}


def sharing_audit_checkpoint_list_schema() -> Schema:
    """``sharing_audit_checkpoint_list``: paging only."""
    return {**_paging()}



# --- the request's lifecycle under the 2025 Regulation (SPEC §4b) -------------------------------

_SHARE_METHOD_ALIASES = {"api": "接口", "file": "文件下载", "database": "库表交换"}
_MAX_MISSING = 50


def _share_method(value: Any, context: Context) -> Any:
    """共享方式 (Art. 20): 接口, 文件下载 or 库表交换 (``api``, ``file``, ``database`` accepted too)."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(tk._("Missing value"))
    value = _SHARE_METHOD_ALIASES.get(value.strip().lower(), value.strip())
    if value not in SHARE_METHODS:
        raise Invalid(tk._("Must be one of: %s") % ", ".join(SHARE_METHODS))
    return value


def _missing_list(value: Any, context: Context) -> Any:
    """What the requester must add or fix (Art. 21, 一次性告知): a non-empty list of texts; a string is
    split into lines (the form's textarea)."""
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        raise Invalid(tk._("Must be a list of what is missing"))
    items: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise Invalid(tk._("Must be a list of what is missing"))
        if item.strip():
            items.append(_text(item, context))
    return _within(items, _MAX_MISSING, tk._("List at least one thing that is missing"), tk._("At most %d items"))


def _extension_days(value: Any, context: Context) -> Any:
    """Working days of an extension: 1 … ``ckanext.sharing.max_extension_working_days`` (Art. 21)."""
    return _whole_number(value, config.max_extension_working_days(), tk._("Must be a whole number of working days"),
                         tk._("Must be between 1 and %d working days"))


def _required_bool(value: Any, context: Context) -> Any:
    """Yes/no input that must be given."""
    return parsed_or_invalid(value, values.parse_bool, tk._("Must be true or false"))


def sharing_request_return_schema() -> Schema:
    """``sharing_request_return``: the request and everything missing, in one notice."""
    return {"id": [_v("not_empty"), _id], "missing": [_v("not_missing"), _missing_list]}


def sharing_request_resubmit_schema() -> Schema:
    """``sharing_request_resubmit``: the request and any request field the requester changes."""
    return {
        "id": [_v("not_empty"), _id],
        **{name: _optional(_text) for name in ("purpose", "use_scenario", "use_basis", "use_scope")},
        "share_method": _optional(_share_method),
        "requested_days": [_v("ignore_missing"), _ignore_blank, _days],
        "resource_ids": [_v("ignore_missing"), _id_list],
    }


def _ignore_blank(key: Any, data: dict[Any, Any], errors: Any, context: Context) -> None:
    """Drop a field sent as ``None`` or blank text (a form's empty input); unlike ``ignore_empty``, 0 is kept
    (and then refused by the field's own check)."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        data.pop(key, None)
        raise tk.StopOnError


def sharing_request_extend_schema() -> Schema:
    """``sharing_request_extend``: how many working days, and why."""
    return {"id": [_v("not_empty"), _id], "working_days": [_v("not_missing"), _extension_days],
            "reason": [_v("not_missing"), _text]}


def sharing_extension_decide_schema() -> Schema:
    """``sharing_extension_decide``: approve or refuse, with an optional note."""
    return {"id": [_v("not_empty"), _id], "approve": [_v("not_missing"), _required_bool],
            "note": _optional(_text)}


def sharing_request_resolve_schema() -> Schema:
    """``sharing_request_resolve``: the authority's decision on an escalated request."""
    return {
        "id": [_v("not_empty"), _id],
        "decision": [_v("not_missing"), _one_of(("approve", "reject"))],
        "note": _optional(_text),
        "expires": _optional(_expires),
        "resource_ids": [_v("ignore_missing"), _id_list],
    }


def sharing_authority_queue_schema() -> Schema:
    """``sharing_authority_queue``: which queue, and paging."""
    return {"kind": [_v("not_empty"), _one_of(("escalations", "extensions"))], **_paging()}


# --- statistics (issue 17) ---


def sharing_stats_show_schema() -> Schema:
    """``sharing_stats_show``: an optional department (organization id or name)."""
    return {"organization_id": _optional(_id)}


def sharing_stats_department_show_schema() -> Schema:
    """``sharing_stats_department_show``: the department (organization id or name), optionally one live
    figure whose list is wanted."""
    from ckanext.sharing.stats.queries import FIGURES

    return {"organization_id": [_v("not_empty"), _id],
            "figure": _optional(_one_of(FIGURES))}


def sharing_stats_department_list_schema() -> Schema:
    """``sharing_stats_department_list``: the column to sort on and the direction."""
    from ckanext.sharing.stats.queries import SORTABLE

    return {
        "sort": _optional(_one_of(SORTABLE)),
        "order": _optional(_one_of(("asc", "desc"))),
    }
