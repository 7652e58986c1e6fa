"""Actions: core ones chained for tiers and masking, and the workflow's own (``sharing_*``)."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import Context, DataDict

from ckanext.sharing import access, activity_filter, audit, policy, tiers

Action = Callable[[Context, DataDict], Any]


# --- the tier on create / update ------------------------------------------------------------


def _after_tier_change(context: Context, pkg_dict: dict[str, Any], old: str | None, new: str, reason: str | None):
    """Audit the change (old, new, actor, reason) and run the workflow follow-up (SPEC §1, §4)."""
    user = access.user_from_context(context)
    audit.record(
        audit.TIER_CHANGE,
        actor_id=user.id if user else None,
        actor_name=user.name if user else context.get("user"),
        package_id=pkg_dict["id"],
        organization_id=pkg_dict.get("owner_org"),
        detail={"old": old, "new": new, "reason": reason},
    )
    from ckanext.sharing import workflow

    workflow.on_tier_change(context, pkg_dict, old, new)
    model.Session.commit()


def _before_tier_change(context: Context, data: DataDict, existing: model.Package | None, old: str | None, new: str):
    """Checks that must pass before a dataset takes a new tier (personal-information guard)."""
    if new == policy.OPEN and old != policy.OPEN:
        from ckanext.sharing import pi_guard

        pi_guard.check_dataset_open(context, data, existing)


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    reason = data_dict.pop("sharing_change_reason", None)
    new, _ = tiers.prepare(data_dict, None)
    _before_tier_change(context, data_dict, None, None, new)
    result = next_action(context, data_dict)
    pkg_id = result if isinstance(result, str) else result["id"]
    pkg = model.Package.get(pkg_id)
    if pkg is not None:
        _after_tier_change(context, {"id": pkg.id, "owner_org": pkg.owner_org}, None, new, reason)
    return result


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    reason = data_dict.pop("sharing_change_reason", None)
    ref = data_dict.get("id") or data_dict.get("name")
    existing = model.Package.get(ref) if ref else None
    if existing is None:
        return next_action(context, data_dict)  # CKAN raises NotFound / validation as usual
    new, old = tiers.prepare(data_dict, existing)
    if new != old:
        _before_tier_change(context, data_dict, existing, old, new)
    result = next_action(context, data_dict)
    if new != old:
        _after_tier_change(context, {"id": existing.id, "owner_org": existing.owner_org}, old, new, reason)
    return result


# --- uploads to open datasets: the personal-information guard (SPEC §6) ---------------------


@tk.chained_action
def resource_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    from ckanext.sharing import pi_guard

    pi_guard.check_resource_upload(context, data_dict)
    return next_action(context, data_dict)


@tk.chained_action
def resource_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    from ckanext.sharing import pi_guard

    pi_guard.check_resource_upload(context, data_dict)
    return next_action(context, data_dict)


# --- resource views: no view that renders data for metadata-only users -----------------------


@tk.side_effect_free
@tk.chained_action
def resource_view_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    views = next_action(context, data_dict)
    res = model.Resource.get(data_dict.get("id") or "")
    if res is None or res.package is None:
        return views
    if not access.decide_for_package(context, res.package, res.id).full:
        return []
    return views


# --- activity: no restricted URL, old or new; nothing of hidden datasets ----------------------


def _activity_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return activity_filter.filter_list(context, next_action(context, data_dict))


@tk.side_effect_free
@tk.chained_action
def package_activity_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return _activity_list(next_action, context, data_dict)


@tk.side_effect_free
@tk.chained_action
def user_activity_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return _activity_list(next_action, context, data_dict)


@tk.side_effect_free
@tk.chained_action
def group_activity_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return _activity_list(next_action, context, data_dict)


@tk.side_effect_free
@tk.chained_action
def organization_activity_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return _activity_list(next_action, context, data_dict)


@tk.side_effect_free
@tk.chained_action
def recently_changed_packages_activity_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return _activity_list(next_action, context, data_dict)


@tk.side_effect_free
@tk.chained_action
def dashboard_activity_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return _activity_list(next_action, context, data_dict)


@tk.side_effect_free
@tk.chained_action
def activity_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    return activity_filter.filter_one(context, next_action(context, data_dict))


@tk.side_effect_free
@tk.chained_action
def activity_data_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activity_filter.require_full_for_activity(context, data_dict.get("id"))
    return next_action(context, data_dict)


@tk.side_effect_free
@tk.chained_action
def activity_diff(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activity_filter.require_full_for_activity(context, data_dict.get("id"))
    return next_action(context, data_dict)
