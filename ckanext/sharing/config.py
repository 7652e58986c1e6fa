"""Typed readers of every ``ckanext.sharing.*`` option (SPEC §7).

One function per option, as DataShades' ckanext-files does: the defaults live only in
``config_declaration.yaml`` (CKAN fills them in), these functions only give each value its type.
Nothing else in the extension reads ``ckanext.sharing.*`` keys.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
from typing import Any

import yaml

import ckan.plugins.toolkit as tk

from ckanext.sharing import values

_PREFIX = "ckanext.sharing."


@functools.lru_cache(maxsize=1)
def _declared_defaults() -> dict[str, Any]:
    """The defaults of ``config_declaration.yaml``, for code that runs before (or without) the plugin
    has registered its declarations with CKAN, e.g. a scan called from a script."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config_declaration.yaml")
    with open(path, encoding="utf-8") as handle:
        groups = yaml.safe_load(handle)["groups"]
    return {o["key"]: o.get("default") for g in groups for o in g["options"]}


def _get(name: str) -> Any:
    key = _PREFIX + name
    value = tk.config.get(key)
    return _declared_defaults().get(key) if value is None else value


def _int(name: str) -> int:
    return int(_get(name))


def _dates(name: str) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(v) for v in values.split_list(_get(name)))


def approver_capacity() -> str:
    """Lowest capacity in the owning organization that decides requests: ``admin`` or ``editor``."""
    return str(_get("approver_capacity"))


def reply_working_days() -> int:
    """Working days a department has to answer a request (SPEC §4)."""
    return _int("reply_working_days")


def holidays() -> frozenset[dt.date]:
    """Public holidays skipped when counting working days."""
    return _dates("holidays")


def extra_workdays() -> frozenset[dt.date]:
    """Weekend dates that are working days (调休)."""
    return _dates("extra_workdays")


def default_grant_days() -> int:
    """Grant period offered by default in the request form."""
    return _int("default_grant_days")


def max_grant_days() -> int:
    """Longest period a request may ask for and a grant may last."""
    return _int("max_grant_days")


def audit_member_access() -> bool:
    """Also audit data access by members of the owning organization."""
    return tk.asbool(_get("audit_member_access"))


def pi_scan_max_bytes() -> int:
    """Personal-information guard: most bytes of one file scanned."""
    return _int("pi_scan_max_bytes")


def pi_scan_max_rows() -> int:
    """Personal-information guard: most data rows of one file scanned."""
    return _int("pi_scan_max_rows")


def default_license_id() -> str:
    """Licence of a dataset that names none (CKAN licence register id): DCAT always publishes one (SPEC §3b)."""
    return str(_get("default_license_id") or "")


def account_help() -> str:
    """How a visitor gets an account while registration is closed (login page; empty: our default text)."""
    return str(_get("account_help") or "").strip()


def audit_signing_key() -> str:
    """The private key file that signs ledger checkpoints ('' = none configured; SPEC §5)."""
    return str(_get("audit_signing_key") or "")


def audit_checkpoint_dir() -> str:
    """Directory where signed checkpoints are also written ('' = nowhere; SPEC §5)."""
    return str(_get("audit_checkpoint_dir") or "")


def auditors() -> frozenset[str]:
    """User names of the auditors, who read the whole ledger and administer nothing (SPEC §5, GB/T 39477)."""
    return frozenset(values.split_list(_get("auditors")))


def outbox_retry_seconds() -> int:
    """Seconds before the first retry of a failed outbox delivery; doubled after each failure (SPEC §8)."""
    return _int("outbox_retry_seconds")


def outbox_max_attempts() -> int:
    """Delivery attempts of one outbox row before it is marked ``failed`` for good (SPEC §8)."""
    return _int("outbox_max_attempts")


def catalogue_import_max_rows() -> int:
    """Most records one catalogue import file may hold (SPEC §12); a larger file is refused whole."""
    return _int("catalogue_import_max_rows")


def authority_org() -> str:
    """Name or id of the sharing authority's organization (共享主管部门, SPEC §4b); '' = sysadmins only."""
    return str(_get("authority_org") or "").strip()


def max_extension_working_days() -> int:
    """Most working days one extension of the reply deadline may add (Art. 21)."""
    return _int("max_extension_working_days")


# regb: obligations after a decision (Regulation Art. 22, 26, 29)
def delivery_working_days() -> int:
    """Working days between a grant's decision and its delivery deadline (Art. 22)."""
    return _int("delivery_working_days")


def report_working_days() -> int:
    """Working days after a grant's end by which a use report stating destruction is due (Art. 29)."""
    return _int("report_working_days")


def correction_working_days() -> int:
    """Working days a provider has to answer a correction request (Art. 26)."""
    return _int("correction_working_days")


def retention_years() -> int:
    """Years use reports are kept, never fewer than the Regulation's 3 (Art. 29)."""
    return max(3, _int("retention_years"))


def tier_labels() -> str:
    """Which names the tiers carry on pages, facets, e-mails and API labels: ``national`` or ``shanghai``
    (SPEC §1; Regulation Art. 14)."""
    return str(_get("tier_labels")).strip()


def featured_departments() -> list[str]:
    """Organization names the home page features, in order (empty: the largest departments; issue 11)."""
    return values.split_list(_get("featured_departments"))


def external_user_images() -> bool:
    """Whether user pictures may come from other sites (off-site ``image_url``, Gravatar); default: only the
    portal's own pictures and its local placeholder (issue 11)."""
    return tk.asbool(_get("external_user_images"))
