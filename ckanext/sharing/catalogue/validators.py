"""Validators of the government resource catalogue (SPEC §6), registered by name by the
``sharing_catalogue`` plugin, so another schema can say ``validators: ... sharing_uscc`` without importing us.
Cross-field checks read the flattened ``data`` (raw values: navl runs fields in key order,
not schema order) and always report under the field names the user sees.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Callable, Iterable, Optional

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan import model
from ckan.lib.navl.dictization_functions import Invalid, StopOnError, missing
from ckan.logic.validators import email_pattern
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey
from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric, uscc

from ckanext.sharing import values
from ckanext.sharing.access import facts, policy, roles, tiers
from ckanext.sharing.catalogue import naming
from ckanext.sharing.logic.validators import parsed_or_invalid

Validator = Callable[..., Any]

__all__ = [
    "sharing_boolean",
    "sharing_boolean_output",
    "sharing_upper",
    "sharing_iso_date",
    "sharing_phone",
    "sharing_email",
    "sharing_item_length",
    "sharing_uscc",
    "sharing_uscc_unique",
    "sharing_resident_id",
    "sharing_share_method_required",
    "sharing_res_code",
    "sharing_res_code_unique",
    "sharing_related_res_codes",
    "sharing_item_name",
    "sharing_drop_empty_data_items",
    "sharing_data_items_required",
    "sharing_contains_personal_info",
    "sharing_deidentified",
    "sharing_dataset_name",
    "sharing_text",
    "sharing_data_grade",
    "sharing_share_scope",
]

# Solr refuses a term of more than 32766 bytes in an untokenised string field ("immense term");
# free text is kept well below it (issue 10, bad input).
MAX_TEXT_BYTES = 32000

# Format categories whose resources are structured and must list their data items (信息项).
STRUCTURED_FORMATS = frozenset({"电子表格", "数据库"})

# <分类码>/<顺序码>: class 1–3, 项 (2 digits), 目 (3 digits), optional 细目 (digits), '/', sequence.
RES_CODE_RE = re.compile(r"^(?P<cls>[1-3])(?P<item>\d{2})(?P<sub>\d{3})(?P<detail>\d{0,6})/(?P<seq>\d{1,12})$")
MOBILE_RE = re.compile(r"^(?:\+?86[- ]?)?1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^(?:\(?0\d{2,3}\)?[- ]?)?[2-9]\d{6,7}(?:-\d{1,6})?$")
SERVICE_RE = re.compile(r"^(?:[48]00-?\d{3}-?\d{4}|12\d{3})$")
ITEM_LENGTH_RE = re.compile(r"^\d{1,6}(?:[.,]\d{1,3})?$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# 数据分级 (《数据安全法》 Art. 21; Regulation Art. 13): the stored values of ``data_grade`` (SPEC §6), and the
# names accepted for them on input and import. A record that names no grade is general data: whatever is not
# identified as important or core data is 一般数据.
GRADE_GENERAL, GRADE_IMPORTANT, GRADE_CORE = "一般数据", "重要数据", "核心数据"
GRADE_SYNONYMS = {
    GRADE_GENERAL: GRADE_GENERAL, "一般": GRADE_GENERAL, "general": GRADE_GENERAL,
    GRADE_IMPORTANT: GRADE_IMPORTANT, "重要": GRADE_IMPORTANT, "important": GRADE_IMPORTANT,
    GRADE_CORE: GRADE_CORE, "核心": GRADE_CORE, "core": GRADE_CORE,
}
# Grades that may never be shared unconditionally (SPEC §6: 重要/核心 cannot be open).
GRADES_NOT_OPEN = frozenset({GRADE_IMPORTANT, GRADE_CORE})


def _empty(value: Any) -> bool:
    return value is missing or values.is_empty(value)


def _truthy(value: Any) -> bool:
    return not _empty(value) and values.truthy(value)


def _tier_in(data: FlattenDataDict) -> Optional[str]:
    return tiers.parse_tier(data.get(("sharing_tier",)))


def _current_package_id(data: FlattenDataDict, context: Context) -> Optional[str]:
    """The id of the dataset being updated (None on create)."""
    pkg = context.get("package")
    if pkg is not None and getattr(pkg, "id", None):
        return pkg.id
    ref = data.get(("id",))
    if _empty(ref):
        return None
    found = model.Package.get(ref)
    return found.id if found is not None else None


def _row_blank(row: dict[str, Any]) -> bool:
    """A data-item row with nothing filled in (the form's spare row): yes/no 'no' counts as empty.

    The form's hidden template row (``data_items-REPEATING-INDEX0-item_name`` …, posted when the page's
    JavaScript did not remove it) arrives as a row whose keys are ``INDEX0-item_name`` …, kept by navl
    in the row's ``__extras``: it is blank when all of those are (issue 11).
    """
    def blank(name: Any, value: Any) -> bool:
        if isinstance(value, dict):
            return all(blank(k, v) for k, v in value.items())
        return _empty(value) or (str(name).endswith("item_personal") and not _truthy(value))

    return all(blank(k, v) for k, v in row.items())


def _item_rows(
    data: FlattenDataDict, field: str = "data_items", blank: bool = False
) -> dict[int, dict[str, Any]]:
    """The data-item rows of the flattened data, by index (blank rows only when asked)."""
    rows: dict[int, dict[str, Any]] = {}
    for key, value in data.items():
        if len(key) == 3 and key[0] == field and isinstance(key[1], int):
            rows.setdefault(key[1], {})[key[2]] = value
    return {i: r for i, r in rows.items() if blank or not _row_blank(r)}


# --- generic values ---------------------------------------------------------------------------


def sharing_boolean(value: Any, context: Context) -> bool:
    """Yes/no input (bool, 'true'/'false', '是'/'否', 'on') → bool; empty means no."""
    if _empty(value):
        return False
    return parsed_or_invalid(value, values.parse_bool, tk._("Expected yes or no (true/false)"))


def sharing_boolean_output(value: Any, context: Context) -> bool:
    """Stored yes/no (extras keep strings) → bool in API output."""
    return _truthy(value)


def sharing_upper(value: Any, context: Context) -> Any:
    """Upper-case a code (data item types are single capital letters)."""
    return value.strip().upper() if isinstance(value, str) else value


def sharing_iso_date(value: Any, context: Context) -> Any:
    """A real calendar date written YYYY-MM-DD (kept as that string)."""
    if _empty(value):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if "T" in text or " " in text:
        text = re.split(r"[T ]", text, maxsplit=1)[0]
    if not ISO_DATE_RE.match(text):
        raise Invalid(tk._("Date must be written YYYY-MM-DD"))
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise Invalid(tk._("Not a real date: %s") % text)


def sharing_phone(value: Any, context: Context) -> Any:
    """A mainland phone number: mobile, landline with area code/extension, 400/800 or 12xxx hotline."""
    if _empty(value):
        return value
    text = str(value).strip()
    compact = re.sub(r"[\s]", "", text)
    if MOBILE_RE.match(compact) or LANDLINE_RE.match(compact) or SERVICE_RE.match(compact):
        return text
    raise Invalid(tk._("Not a valid phone number (mobile, or area code and number, e.g. 0591-12345678)"))


def sharing_email(value: Any, context: Context) -> Any:
    """An e-mail address with a dotted domain (CKAN's pattern plus a top-level domain)."""
    if _empty(value):
        return value
    text = str(value).strip()
    domain = text.rpartition("@")[2]
    if len(text) > 254 or not email_pattern.match(text) or "." not in domain:
        raise Invalid(tk._("Not a valid e-mail address"))
    return text


def sharing_text(value: Any, context: Context) -> Any:
    """Free text PostgreSQL and Solr can store: a string, no NUL, no unpaired surrogate, at most
    :data:`MAX_TEXT_BYTES` bytes of UTF-8 (issue 10: never a 500 for such input)."""
    if value is missing or value is None:
        return value
    if not isinstance(value, str):
        raise Invalid(tk._("Must be a string"))
    if "\x00" in value:
        raise Invalid(tk._("Must not contain NUL characters"))
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise Invalid(tk._("Must not contain unpaired surrogate characters"))
    if size > MAX_TEXT_BYTES:
        raise Invalid(tk._("Too long: at most %d bytes") % MAX_TEXT_BYTES)
    return value


def sharing_item_length(value: Any, context: Context) -> Any:
    """A data item length: digits, optionally with decimals ('18', '10,2')."""
    if _empty(value):
        return value
    text = str(value).strip()
    if not ITEM_LENGTH_RE.match(text):
        raise Invalid(tk._("Length must be a number, optionally with decimals (e.g. 18 or 10,2)"))
    return text


# --- identifiers through python-stdnum -------------------------------------------------------


def _stdnum(number: Any, value: Any, bad_check_digit: str, bad_length: str, invalid: str) -> Any:
    """``value`` validated by a python-stdnum module (``uscc``, ``ric``), each of its errors as our message."""
    try:
        return number.validate(str(value))
    except stdnum_exc.InvalidChecksum:
        raise Invalid(bad_check_digit)
    except stdnum_exc.InvalidLength:
        raise Invalid(bad_length)
    except stdnum_exc.ValidationError:
        raise Invalid(invalid)


def sharing_uscc(value: Any, context: Context) -> Any:
    """统一社会信用代码 (GB 32100): 18 characters with a valid check digit (stdnum.cn.uscc)."""
    if _empty(value):
        return value
    return _stdnum(uscc, value, tk._("Unified social credit code: the check digit is wrong"),
                   tk._("Unified social credit code must have 18 characters"),
                   tk._("Not a valid unified social credit code"))


def sharing_uscc_unique(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """One organization per unified social credit code; the error names the one that has it."""
    value = data.get(key)
    if _empty(value) or errors.get(key):
        return
    code = str(value).strip().upper()
    query = model.Session.query(model.Group).filter(
        model.Group.extras["uscc"].astext == code, model.Group.state != model.State.DELETED
    )
    group = context.get("group")
    own_id = getattr(group, "id", None) or (None if _empty(data.get(("id",))) else data.get(("id",)))
    if own_id:
        query = query.filter(model.Group.id != own_id, model.Group.name != own_id)
    other = query.first()
    if other is not None:
        errors[key].append(
            tk._("Unified social credit code %s is already used by organization \"%s\" (%s)")
            % (code, other.title or other.name, other.name)
        )


def sharing_resident_id(value: Any, context: Context) -> Any:
    """Resident ID number (GB 11643): 18 characters, real birth date and place, check digit (stdnum.cn.ric)."""
    if _empty(value):
        return value
    return _stdnum(ric, value, tk._("Resident ID number: the check digit is wrong"),
                   tk._("Resident ID number must have 18 characters"), tk._("Not a valid resident ID number"))


def sharing_share_method_required(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """共享方式: a shared resource (open or on request) says how it is shared, at least one method;
    each method a string (``[[]]`` broke scheming's choice check: issue 10)."""
    value = data.get(key)
    if isinstance(value, (list, tuple)) and not all(isinstance(v, str) for v in value):
        errors[key].append(tk._("Must be a list of sharing methods"))
        raise StopOnError
    if _tier_in(data) in (policy.OPEN, policy.CONDITIONAL) and not _as_list(data.get(key)):
        errors[key].append(tk._("Choose at least one sharing method"))
        raise StopOnError


# --- catalogue codes --------------------------------------------------------------------------


def sharing_res_code(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """信息资源代码: ``<class><项><目>[细目]/<顺序码>``, class digit equal to ``res_class``."""
    value = data.get(key)
    if _empty(value):
        return
    code = str(value).strip()
    match = RES_CODE_RE.match(code)
    if not match:
        errors[key].append(
            tk._(
                "Resource code must be <classification code>/<sequence code>: class digit 1-3, "
                "2-digit category, 3-digit sub-category, optional detail digits, '/', digits "
                "(e.g. 101001001/000001)"
            )
        )
        raise StopOnError
    res_class = data.get(("res_class",))
    if not _empty(res_class) and str(res_class).strip() != match.group("cls"):
        errors[key].append(
            tk._("The first digit of the resource code (%s) must equal the resource class (%s)")
            % (match.group("cls"), str(res_class).strip())
        )
        raise StopOnError
    data[key] = code


def _datasets_with_codes(codes: Iterable[str], exclude_id: Optional[str] = None) -> dict[str, Any]:
    """Live datasets (not deleted) whose ``res_code`` is one of ``codes``: code → a row with ``id``, ``name``
    and ``title`` (only those columns are read: every imported row runs this check, SPEC §10)."""
    codes = [c for c in codes if c]
    if not codes:
        return {}
    code = model.Package.extras["res_code"].astext
    query = model.Session.query(code.label("res_code"), model.Package.id, model.Package.name, model.Package.title
                                ).filter(code.in_(codes), model.Package.state != model.State.DELETED)
    if exclude_id:
        query = query.filter(model.Package.id != exclude_id)
    return {found.res_code: found for found in query}


# Session.info key of the codes a batch writer locked and read at its transaction's start (hold_res_codes)
HELD_CODES_KEY = "sharing_res_codes_held"


def _res_code_lock_key(code: str) -> str:
    return "sharing_res_code:" + code


def hold_res_codes(codes: Iterable[str], lock: bool = True, bind: Any = None) -> None:
    """For a batch writer (the catalogue import, SPEC §10): take the advisory locks of ``codes`` (sorted, so
    two batch writers never deadlock) on the current transaction and read which live datasets have them, in
    two statements; :func:`sharing_res_code_unique` then answers those codes from what was read instead of a
    lock and a query per row. The caller calls :func:`release_res_code` for a code its transaction writes
    (the answer read is then stale) and drops the lot with :func:`drop_held_res_codes` when it ends.
    ``lock=False``: a dry run, which reads the committed codes without the locks (see the validator).
    ``bind``: the connection whose transaction holds the locks (a batch's outer transaction: a lock taken in
    a row's savepoint would go with that savepoint's rollback)."""
    codes = sorted({str(c).strip() for c in codes if not _empty(c)})
    if not codes:
        return
    if lock:
        (bind or model.Session).execute(
            sa.text("SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(CAST(:ks AS text[])) AS k"),
            {"ks": [_res_code_lock_key(c) for c in codes]})
    found = _datasets_with_codes(codes)
    model.Session.info[HELD_CODES_KEY] = {c: found.get(c) for c in codes}


def release_res_code(code: Any, package_id: Optional[str] = None) -> None:
    """Forget what :func:`hold_res_codes` read for ``code`` and for the dataset ``package_id`` (written in this
    transaction: its code may have changed); their next check is the validator's own (lock and query)."""
    held = model.Session.info.get(HELD_CODES_KEY)
    if not held:
        return
    held.pop(str(code).strip() if not _empty(code) else None, None)
    if package_id:
        for stale in [c for c, row in held.items() if row is not None and row.id == package_id]:
            del held[stale]


def drop_held_res_codes() -> None:
    model.Session.info.pop(HELD_CODES_KEY, None)


def sharing_res_code_unique(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """No other live dataset has this resource code; the error names the one that has it."""
    value = data.get(key)
    if _empty(value) or errors.get(key):
        return
    code = str(value).strip()
    current = _current_package_id(data, context)
    held = model.Session.info.get(HELD_CODES_KEY)
    if held is not None and code in held:  # locked and read by the batch writer (hold_res_codes)
        found = held[code]
        found = None if found is not None and found.id == current else found
    else:
        # Serialise writers of the same code until their transaction ends (commit or rollback), so two
        # simultaneous creates cannot both pass the check (works across web and worker processes). A catalogue
        # import's dry run (its rows are never committed) reads the committed codes without the lock, so no
        # writer waits on it and it waits on none (issue 15).
        if not context.get("sharing_dry_run"):
            model.Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                                  {"k": _res_code_lock_key(code)})
        found = _datasets_with_codes([code], current).get(code)
    if found is not None:
        errors[key].append(
            tk._("Resource code %s is already used by dataset \"%s\" (%s)") % (code, found.title or found.name, found.name)
        )


def _as_list(value: Any) -> list[str]:
    if _empty(value):
        return []
    if isinstance(value, (list, tuple)):
        items = value
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except ValueError:
                items = [text]
        else:
            items = re.split(r"[\s,;，；、]+", text)
    return [str(i).strip() for i in items if not _empty(i)]


def sharing_related_res_codes(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """关联资源代码: each is a well-formed resource code of an existing catalogue record."""
    codes = list(dict.fromkeys(_as_list(data.get(key))))
    if not codes:
        data[key] = missing
        return
    malformed = [c for c in codes if not RES_CODE_RE.match(c)]
    if malformed:
        errors[key].append(tk._("Not a resource code: %s") % ", ".join(malformed))
        raise StopOnError
    known = _datasets_with_codes(codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        errors[key].append(tk._("No catalogue resource has the code: %s") % ", ".join(unknown))
        raise StopOnError
    data[key] = codes


# --- data items and personal information -------------------------------------------------------


def sharing_item_name(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """A data item needs its name, except in a row left entirely blank (dropped afterwards).
    A JSON null is read as the form's empty string (it broke the row's unflattening: issue 10)."""
    if data.get(key) is None:
        data[key] = ""
    if not _empty(data.get(key)):
        return
    row = _item_rows(data, key[0], blank=True).get(key[1], {})
    if not _row_blank(row):
        errors[key].append(tk._("Missing value"))
    raise StopOnError


def sharing_drop_empty_data_items(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """Schema ``after_validators``: drop the blank data-item rows the form submits, errors included."""
    for index, row in _item_rows(data, blank=True).items():
        if _row_blank(row):
            for sub in list(row):
                data.pop(("data_items", index, sub), None)
            # every error slot of the row goes too (also of subfields the row did not send), else a
            # message on ("data_items",) cannot be unflattened next to them (a 500: issue 10)
            for err_key in [k for k in errors if len(k) == 3 and k[:2] == ("data_items", index)]:
                errors.pop(err_key, None)


def sharing_data_items_required(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """Structured resources (spreadsheets, databases) must describe at least one data item."""
    value = data.get(key)
    if _empty(value) or str(value).strip() not in STRUCTURED_FORMATS:
        return
    rows = _item_rows(data)
    if not rows:
        errors.setdefault(("data_items",), []).append(
            tk._("At least one data item is required for the format category %s") % str(value).strip()
        )


def sharing_contains_personal_info(
    key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context
) -> None:
    """涉及个人信息: true when declared or when any data item is personal; then ``open`` needs ``deidentified``."""
    derived = _truthy(data.get(key)) or any(_truthy(r.get("item_personal")) for r in _item_rows(data).values())
    data[key] = derived
    if derived and _tier_in(data) == policy.OPEN and not _truthy(data.get(("deidentified",))):
        message = tk._(
            "The resource contains personal information: it can be shared as %s only when de-identification "
            "is attested"
        ) % tiers.label(policy.OPEN)
        errors[key].append(message)
        errors.setdefault(("sharing_tier",), []).append(message)


def sharing_deidentified(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """已脱敏: attesting it (no → yes) is for sysadmins and organization admins; the action audits it."""
    try:
        attested = sharing_boolean(data.get(key), context)
    except Invalid as exc:
        errors[key].append(exc.error)
        raise StopOnError
    data[key] = attested
    if not attested:
        return
    pkg_id = _current_package_id(data, context)
    pkg = model.Package.get(pkg_id) if pkg_id else None
    if pkg is not None and _truthy(pkg.extras.get("deidentified")):
        return  # attested before: nothing new
    owner_org = data.get(("owner_org",))
    owner_org = None if _empty(owner_org) else str(owner_org)
    user = facts.user_from_context(context)
    if not roles.may_attest(user, owner_org):
        errors[key].append(tk._("Only a sysadmin or an admin of the organization can attest de-identification"))
        raise StopOnError
    # The ledger row is the action's side effect, written with the change (catalogue.actions).


def sharing_dataset_name(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """Empty URL name → a readable one from the title (pinyin) or resource code, unique; kept on update."""
    if not _empty(data.get(key)):
        return
    pkg_id = _current_package_id(data, context)
    if pkg_id:
        pkg = model.Package.get(pkg_id)
        if pkg is not None and pkg.name:
            data[key] = pkg.name
            return
    data[key] = naming.unique_name(
        naming.slug(data.get(("title",)), data.get(("res_code",))), exclude_id=pkg_id
    )


# --- data grading and sharing scope (Regulation Art. 13, 15) ----------------------------------------


def _stored(data: FlattenDataDict, context: Context, field: str) -> tuple[Optional[model.Package], Any]:
    """The dataset being updated (None on create) and its stored value of ``field``."""
    pkg_id = _current_package_id(data, context)
    pkg = model.Package.get(pkg_id) if pkg_id else None
    return pkg, (pkg.extras.get(field) if pkg is not None else None)


def sharing_data_grade(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """数据分级 (Regulation Art. 13, 《数据安全法》 Art. 21): 一般数据 / 重要数据 / 核心数据 (or 一般, general …).

    Not given: the stored grade on update (an API client that leaves the field out must not downgrade
    important data), else 一般数据 — so records made before the field existed save unchanged. Important and
    core data cannot be shared unconditionally: an error on ``data_grade`` and on ``sharing_tier``."""
    value = data.get(key)
    if _empty(value):
        _, stored = _stored(data, context, key[0])
        value = stored if not _empty(stored) else GRADE_GENERAL
    grade = GRADE_SYNONYMS.get(str(value).strip().lower()) if isinstance(value, str) else None
    if grade is None:
        errors[key].append(tk._("Unknown data grade: use 一般数据 (general), 重要数据 (important) or 核心数据 (core)"))
        raise StopOnError
    data[key] = grade
    if grade in GRADES_NOT_OPEN and _tier_in(data) == policy.OPEN:
        message = tk._("%(grade)s cannot be shared unconditionally (%(tier)s): choose another sharing type") % {
            "grade": grade, "tier": tiers.label(policy.OPEN)}
        errors[key].append(message)
        errors.setdefault(("sharing_tier",), []).append(message)
        raise StopOnError


def sharing_share_scope(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
    """共享范围 (Regulation Art. 15): conditional entries state to whom they are shared.

    Required when a record becomes conditional (created so, or changed to it) and cannot be emptied once
    given; a conditional record stored before the field existed saves without one (issue 13: old records
    stay editable) until someone fills it in."""
    value = data.get(key)
    if isinstance(value, str):
        value = data[key] = value.strip()
    if not _empty(value) or _tier_in(data) != policy.CONDITIONAL:
        return
    pkg, stored = _stored(data, context, key[0])
    legacy = pkg is not None and facts.tier_of_package(pkg) == policy.CONDITIONAL and _empty(stored)
    if not legacy:
        errors[key].append(tk._("Required when the sharing type is %s (共享范围)") % tiers.label(policy.CONDITIONAL))
        raise StopOnError
