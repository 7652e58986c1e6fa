"""Template helpers of ckanext-sharing (all prefixed ``sharing_``)."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.sharing import config
from ckanext.sharing.access import masking, policy
from ckanext.sharing.ui import dates

__all__ = ["sharing_tier_label", "sharing_request_url", "sharing_date", "sharing_account_help"]


def sharing_tier_label(tier: str) -> str:
    """The translated label of a tier."""
    return {
        policy.OPEN: tk._("Open"),
        policy.CONDITIONAL: tk._("On request"),
        policy.NOT_SHARED: tk._("Not shared"),
    }.get(tier, tier)


def sharing_request_url(pkg: dict[str, Any] | str) -> str:
    """The access-request page of a dataset (where masked resource URLs point)."""
    return masking.request_url(pkg if isinstance(pkg, str) else (pkg.get("name") or pkg.get("id")))


def sharing_date(value: Any, with_time: bool = False) -> str:
    """A date or moment in the portal's time zone, always ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM`` with time)."""
    return dates.local_text(value, with_time)


def sharing_account_help() -> str:
    """The login page's word on getting an account while registration is closed (configurable)."""
    return config.account_help() or tk._(
        "Accounts are not open for self-registration. Ask the data administrator of your department "
        "for an account, or contact the portal's operator."
    )
