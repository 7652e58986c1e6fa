"""Activity streams without restricted data: activity snapshots are full package dicts written
with ``ignore_auth``, so every read path filters them for the acting user (SPEC §3, activity row).

HIDDEN datasets (by their tier *now*) drop out of lists entirely; METADATA users get the snapshot
with every resource masked, old URLs included.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping, Optional

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import facts, masking, policy


def _package_id(activity: Mapping[str, Any]) -> Optional[str]:
    data = activity.get("data") or {}
    pkg = data.get("package") if isinstance(data, dict) else None
    if isinstance(pkg, dict) and pkg.get("id"):
        return pkg["id"]
    kind = str(activity.get("activity_type", ""))
    if kind.endswith("package"):
        return activity.get("object_id")
    if kind.endswith("resource view"):  # object_id is the dataset (issue 10: these reached anonymous users)
        return activity.get("object_id") or (data.get("package_id") if isinstance(data, dict) else None)
    return None


# What a metadata-only user sees of a resource-view activity's data (a view's config can hold URLs).
_VIEW_FIELDS = ("id", "resource_id", "package_id", "view_type", "title")


def _decisions(context: Mapping[str, Any], package_ids: set[str]) -> dict[str, policy.Decision]:
    if not package_ids:
        return {}
    pkgs = model.Session.query(model.Package).filter(model.Package.id.in_(package_ids)).all()
    user = facts.user_from_context(context)
    subjects = facts.subjects(user, [(p.id, p.owner_org) for p in pkgs])
    return {p.id: policy.decide(facts.tier_of_package(p), subjects[p.id]) for p in pkgs}


def _restore_snapshot(pkg: dict[str, Any]) -> None:
    """A snapshot for a user with the data: its masked resources get their URL and data fields back from the
    current resource rows, the snapshot's own names and descriptions stay. Core takes snapshots through
    ``package_show``'s index cache, which never holds a conditional dataset's real URL, so without this the
    dataset's own editor saw its old versions as a stranger does (申请共享 on every resource, issue 11)."""
    masked = [r for r in pkg.get("resources") or [] if isinstance(r, dict) and r.get("sharing_restricted") and r.get("id")]
    if not masked:
        return
    current = {"resources": [{"id": r["id"], "sharing_restricted": True} for r in masked]}
    masking.restore_urls([(current, [r["id"] for r in masked])])
    for res, fresh in zip(masked, current["resources"]):
        if fresh.get("sharing_restricted") is False:  # the resource still exists
            res.update({k: v for k, v in fresh.items() if k not in res or k in ("url", "sharing_restricted")})


def comparable_snapshot(pkg: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as the Changes page compares it, for a user with the data: masked resources restored and
    the ``sharing_restricted`` flag left out (bookkeeping: a masked and a full snapshot of the same version
    must not differ)."""
    _restore_snapshot(pkg)
    for res in pkg.get("resources") or []:
        if isinstance(res, dict):
            res.pop("sharing_restricted", None)
    return pkg


def _apply(activity: dict[str, Any], decision: Optional[policy.Decision]) -> bool:
    """Mask one activity in place (restore a masked snapshot for full access); False if it must not be shown."""
    if decision is None:
        return True
    if decision.access is policy.Access.HIDDEN:
        return False
    if decision.full:
        data = activity.get("data") or {}
        pkg = data.get("package") if isinstance(data, dict) else None
        if isinstance(pkg, dict):  # a copy: the dict may be the ORM row's own JSON value
            activity["data"] = data = copy.deepcopy(data)
            _restore_snapshot(data["package"])
    else:
        data = activity.get("data") or {}
        pkg = data.get("package") if isinstance(data, dict) else None
        if isinstance(pkg, dict):
            masking.mask_package(pkg)
        elif str(activity.get("activity_type", "")).endswith("resource view") and isinstance(data, dict):
            activity["data"] = {k: data[k] for k in _VIEW_FIELDS if k in data}
    return True


def filter_list(context: Mapping[str, Any], activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {pid for a in activities if (pid := _package_id(a))}
    decisions = _decisions(context, ids)
    return [a for a in activities if _apply(a, decisions.get(_package_id(a) or ""))]


def filter_one(context: Mapping[str, Any], activity: dict[str, Any]) -> dict[str, Any]:
    pid = _package_id(activity)
    decisions = _decisions(context, {pid} if pid else set())
    if not _apply(activity, decisions.get(pid or "")):
        raise tk.ObjectNotFound(tk._("Activity not found"))
    return activity


def is_dataset_version(activity_type: str) -> bool:
    """Whether an activity of this type holds a version of its dataset (resource-view activities share the
    dataset's ``object_id`` but hold a view, not a dataset)."""
    return "package" in activity_type


def previous_version(activity: Any, object_type: str) -> Any:
    """The latest activity of the same object before ``activity`` that holds a version of it (core's
    ``activity_diff`` takes the latest of any kind, a resource-view activity included: a 404, issue 11)."""
    from ckanext.activity.model import Activity

    earlier = (model.Session.query(Activity)
               .filter(Activity.object_id == activity.object_id, Activity.timestamp < activity.timestamp)
               .order_by(Activity.timestamp.desc()))
    if object_type == "package":
        earlier = earlier.filter(Activity.activity_type.like("%package%"))
    for candidate in earlier.limit(50):
        if isinstance(candidate.data, dict) and object_type in candidate.data:
            return candidate
    return None


def require_full_for_activity(context: Mapping[str, Any], activity_id: Optional[str]) -> None:
    """Raw snapshots and diffs carry every field: only users with the data may read them."""
    if not activity_id:
        return
    from ckanext.activity.model import Activity

    act = model.Session.get(Activity, activity_id)
    if act is None:
        return
    pid = _package_id({"activity_type": act.activity_type, "object_id": act.object_id, "data": act.data})
    if not pid:
        return
    decision = _decisions(context, {pid}).get(pid)
    if decision is None or decision.full:
        return
    if decision.access is policy.Access.HIDDEN:
        raise tk.ObjectNotFound(tk._("Activity not found"))
    raise tk.NotAuthorized(tk._("The data of this dataset is shared on request"))
