"""Core actions chained for the tiers and masking (SPEC §1, §3): create/update take a tier, views and
resource search hide what the caller may not get."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import Context, DataDict

from ckanext.sharing.access import facts, masking, policy, tiers
from ckanext.sharing.workflow import transitions

Action = Callable[[Context, DataDict], Any]

# Context key carrying a tier change from the chained action to the dataset hooks.
TIER_CHANGE_KEY = "sharing_tier_change"


# The actions this module registers.
__all__ = [
    "package_create",
    "package_update",
    "resource_view_list",
    "resource_search",
    "status_show",
]


def available() -> bool:
    """Core actions are always there."""
    return True


# --- the tier on create / update ------------------------------------------------------------


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``package_create`` with ``sharing_tier`` (and ``private`` derived from it)."""
    reason = data_dict.pop("sharing_change_reason", None)
    new, _ = tiers.prepare(data_dict, None)
    context[TIER_CHANGE_KEY] = {"old": None, "new": new, "reason": reason}  # type: ignore[literal-required]
    return next_action(context, data_dict)


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``package_update`` with ``sharing_tier``; an update that sends no tier keeps the stored one."""
    reason = data_dict.pop("sharing_change_reason", None)
    ref = data_dict.get("id") or data_dict.get("name")
    existing = model.Package.get(ref) if ref else None
    if existing is None:
        return next_action(context, data_dict)  # CKAN raises NotFound / validation as usual
    new, old = tiers.prepare(data_dict, existing)
    if new != old:
        context[TIER_CHANGE_KEY] = {"old": old, "new": new, "reason": reason}  # type: ignore[literal-required]
    return next_action(context, data_dict)


def after_dataset_saved(context: Mapping[str, Any], data: Mapping[str, Any]) -> None:
    """``after_dataset_create``/``after_dataset_update``: record the tier change the chained action noted.

    These hooks run inside core's transaction, before its commit, so the ledger row and the follow-up
    (cancelled requests, revoked grants) commit or roll back with the change itself (issue 9).
    """
    change = context.get(TIER_CHANGE_KEY)  # type: ignore[union-attr]
    if not change:
        return
    del context[TIER_CHANGE_KEY]  # type: ignore[attr-defined]
    pkg = context.get("package") or model.Package.get(data.get("id") or data.get("name") or "")
    if pkg is None:
        return
    transitions.tier_changed(context, pkg.id, pkg.owner_org, change["old"], change["new"], change["reason"])


# --- resource views: no view that renders data for metadata-only users -----------------------


@tk.side_effect_free
@tk.chained_action
def resource_view_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``resource_view_list``: no view that renders data for a metadata-only user (SPEC §3)."""
    views = next_action(context, data_dict)
    res = model.Resource.get(data_dict.get("id") or "")
    if res is None or res.package is None:
        return views
    if not facts.decide_for_package(context, res.package, res.id).full:
        return []
    return views


# --- resource_search: a plain SQL search over resource fields, url included -------------------


@tk.side_effect_free
@tk.chained_action
def resource_search(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """Mask results of datasets whose data the user may not get; when the query itself matches on
    ``url``, drop them (the match alone would disclose the URL)."""
    result = next_action(context, data_dict)
    query = data_dict.get("query") or []
    terms = [query] if isinstance(query, str) else list(query)
    by_url = any(str(t).split(":", 1)[0].strip() in ("url", "original_url") for t in terms)
    results = result.get("results") or []
    # the internal search API (context["search_query"]) gets Resource objects, the Action API dicts
    refs = [(r.package_id, r.id, True) if isinstance(r, model.Resource) else (r.get("package_id"), r.get("id"), False)
            for r in results]
    pkg_ids = {pid for pid, _, _ in refs if pid}
    pkgs = {p.id: p for p in model.Session.query(model.Package).filter(model.Package.id.in_(pkg_ids))} if pkg_ids else {}
    subjects = facts.subjects(facts.user_from_context(context), [(p.id, p.owner_org) for p in pkgs.values()])
    kept = []
    for res, (pid, rid, is_object) in zip(results, refs):
        pkg = pkgs.get(pid)
        if pkg is None:
            continue
        decision = policy.decide(facts.tier_of_package(pkg), subjects[pkg.id], rid)
        if decision.full:
            kept.append(res)
        elif decision.access is policy.Access.METADATA and not by_url and not is_object:
            masking.mask_resource(res, masking.request_url(pkg.id))
            kept.append(res)  # objects are never masked in place (that would write to the database)
    removed = len(result.get("results") or []) - len(kept)
    result["results"] = kept
    result["count"] = max(0, result.get("count", 0) - removed)
    return result


@tk.side_effect_free
@tk.chained_action
def status_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's site status plus ``sharing_version``, the running release of this extension (SPEC §3b), so a
    harvester or an operator can tell which masking rules answer. Hidden like ``ckan_version`` when
    ``ckan.hide_version`` is set, except for sysadmins."""
    import ckanext.sharing

    result = next_action(context, data_dict)
    if "ckan_version" in result:
        result["sharing_version"] = ckanext.sharing.__version__
    return result
