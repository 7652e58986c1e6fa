"""Template helpers of ckanext-sharing (all prefixed ``sharing_``)."""
from __future__ import annotations

import re
from typing import Any, Callable

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from markupsafe import Markup

from ckanext.sharing import config
from ckanext.sharing.access import activity, masking, tiers
from ckanext.sharing.ui import activity_types, avatars, dates, errors, guide, home, landing, resource_keys
from ckanext.sharing.stats.helpers import sharing_download_counts  # noqa: F401 (registered by __all__)

__all__ = ["sharing_tier_label", "sharing_tier_choices", "sharing_request_url", "sharing_date", "sharing_account_help",
           "format_resource_items", "sharing_grants_of", "sharing_pending_to_decide", "get_featured_organizations",
           "get_featured_groups", "sharing_download_counts", "sharing_active_suspensions", "sharing_home",
           "sharing_guide", "sharing_activity_type_label", "sharing_error_message", "user_image",
           "activity_list_select", "sharing_field_change", "sharing_resource_key_label"]

# Chained helpers of the activity plugin: chaining onto a helper that is not there fails CKAN's start-up.
_ACTIVITY_CHAINS = ("activity_list_select",)


def registered() -> dict[str, Callable[..., Any]]:
    """The helpers to register (``blanket.helpers``): all of ``__all__``, the activity plugin's chained ones only
    where that plugin is loaded (``sharing`` runs without it, as CKAN's own suites load it)."""
    with_activity = p.plugin_loaded("activity")
    return {name: globals()[name] for name in __all__ if with_activity or name not in _ACTIVITY_CHAINS}


def sharing_tier_label(tier: str) -> str:
    """The translated name of a tier in the configured label set (``ckanext.sharing.tier_labels``)."""
    return tiers.label(tier)


def sharing_tier_choices(field: dict[str, Any]) -> list[dict[str, str]]:
    """scheming ``choices_helper`` of the ``sharing_tier`` preset: the tiers in the configured names."""
    return tiers.label_choices()


def sharing_request_url(pkg: dict[str, Any] | str) -> str:
    """The access-request page of a dataset (where masked resource URLs point)."""
    return masking.request_url(pkg if isinstance(pkg, str) else (pkg.get("name") or pkg.get("id")))


def sharing_date(value: Any, with_time: bool = False, with_seconds: bool = False) -> str:
    """A date or moment in the portal's time zone, always ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM`` with time,
    ``YYYY-MM-DD HH:MM:SS`` with seconds)."""
    return dates.local_text(value, with_time, with_seconds)


def sharing_activity_type_label(activity_type: str) -> str:
    """The name of an activity type in the page's language (core's filter shows the raw type)."""
    return activity_types.label(activity_type)


def sharing_field_change(dataset_type: str, key: str, value: Any) -> dict[str, str]:
    """A changed dataset field's label and value on the Changes page (not its key and raw value)."""
    return activity_types.field_change(dataset_type, key, value)


def sharing_resource_key_label(key: str) -> str:
    """A resource key's name in the page's language (the Changes page's resource entries)."""
    return resource_keys.label(key)


def sharing_error_message(code: Any, content: Any) -> Any:
    """An error page's message, translated when it is werkzeug's default English description."""
    return errors.message(code, content)


def sharing_account_help() -> str:
    """The login page's word on getting an account while registration is closed (configurable)."""
    return config.account_help() or tk._(
        "Accounts are not open for self-registration. Ask the data administrator of your department "
        "for an account, or contact the portal's operator."
    )


# Resource keys that are bookkeeping, not information for a reader ("Datastore active True", issue 11).
_INTERNAL_RESOURCE_KEYS = frozenset({"datastore_active", "datastore_contains_all_records_of_source",
                                     "sharing_restricted", "url_type", "package_id", "position", "state"})
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def _visible_to_the_user(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Core's featured organization/group of the home page, read with ``ignore_auth``: only the datasets the
    user may see, masked, and a dataset count that does not count hidden ones (SPEC §3; found by the crawler)."""
    for group in groups:
        group["packages"] = masking.for_current_user(group.get("packages") or [])
        if "package_count" in group:
            fq = f'owner_org:"{group["id"]}"' if group.get("is_organization") else f'groups:"{group.get("name")}"'
            group["package_count"] = tk.get_action("package_search")({}, {"fq": fq, "rows": 0})["count"]
    return groups


@tk.chained_helper
def get_featured_organizations(next_helper: Callable[..., Any], count: int = 1) -> list[dict[str, Any]]:
    """Core's featured organizations without what the user may not see."""
    return _visible_to_the_user(next_helper(count=count))


@tk.chained_helper
def get_featured_groups(next_helper: Callable[..., Any], count: int = 1) -> list[dict[str, Any]]:
    """Core's featured groups without what the user may not see."""
    return _visible_to_the_user(next_helper(count=count))


@tk.chained_helper
def format_resource_items(next_helper: Callable[..., Any], items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Core's resource table without internal keys, its keys named in the page's language, its moments in the
    one date format of our pages."""
    kept = [
        (key, sharing_date(value, with_time=True) if isinstance(value, str) and _ISO_MOMENT.match(value) else value)
        for key, value in items if key not in _INTERNAL_RESOURCE_KEYS
    ]
    # core names the rest by key ("Mimetype", "Size"): name them in the page's language, except the keys
    # scheming's template filters out by their core spelling
    return [(key if key in resource_keys.SHOWN_BY_CORE else resource_keys.label(key), value)
            for key, value in next_helper(kept)]


def sharing_grants_of(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The grant of each approved request the current user may see, by request id (the queue shows
    the approved period, which can be shorter than the requested one)."""
    user = tk.current_user
    context = {"user": user.name if user and user.is_authenticated else ""}
    grants: dict[str, dict[str, Any]] = {}
    for req in requests:
        if not req.get("grant_id"):
            continue
        try:
            grants[req["id"]] = tk.get_action("sharing_grant_show")(dict(context), {"id": req["grant_id"]})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            continue
    return grants


def sharing_pending_to_decide() -> int:
    """How many pending requests the current user decides (the header badge of deciders)."""
    return sum(landing.pending_by_org().values())


def sharing_active_suspensions() -> list[dict[str, Any]]:
    """The active suspensions the current user may see (Art. 27; the authority's page)."""
    user = tk.current_user
    if not (user and user.is_authenticated):
        return []
    return tk.get_action("sharing_suspension_list")({"user": user.name}, {"state": "active", "limit": 1000})["results"]


def sharing_home() -> dict[str, Any]:
    """The home page's figures, featured departments and recent datasets, as the visitor may see them."""
    return home.figures()


def sharing_guide() -> dict[str, Any]:
    """The configured figures the tier/process explanation page states (deadlines in working days)."""
    return guide.figures()


@tk.chained_helper
def user_image(next_helper: Callable[..., Any], user_id: str, size: int = 100) -> Any:
    """Core's user picture, but never from another site unless configured (:mod:`ckanext.sharing.ui.avatars`)."""
    return avatars.user_image(next_helper, user_id, size)


@tk.chained_helper
def activity_list_select(next_helper: Callable[..., Any], pkg_activity_list: list[dict[str, Any]],
                         current_activity_id: str) -> list[Markup]:
    """The Changes page's version choices: the activities that hold a version of the dataset, not its
    resource-view activities (a range ending on one never reached its end, issue 11), each named by its
    moment in the portal's one date format (core's were "2026年12月2日 +0800 22:21:53")."""
    return [Markup('<option value="{}"{}>{}</option>').format(
                a["id"], Markup(" selected") if a["id"] == current_activity_id else "",
                sharing_date(a["timestamp"], with_seconds=True))
            for a in pkg_activity_list if activity.is_dataset_version(str(a.get("activity_type", "")))]
