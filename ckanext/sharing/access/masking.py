"""Masking of data-carrying fields in dataset dicts and in the search index.

What is data (SPEC §1): a resource's ``url`` (for a link the URL *is* the data) and any copy of it.
For a user the policy answers METADATA for, each such resource gets ``url`` = the dataset's
access-request page and ``sharing_restricted: true``.

The search index never holds a real URL of a conditional dataset (:func:`before_dataset_index`),
so ``fl``, ``facet.field`` and ``q`` on any stored field cannot reveal one; users the policy lets
see the data get the real URLs back from the database (:func:`restore_urls`).
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Optional

from ckan import model, plugins
from ckan.lib.helpers import url_for
from ckan.lib import munge
import ckan.plugins.toolkit as tk

from ckanext.sharing.access import facts, policy

# Resource keys that can carry the data's location besides ``url``.
_URL_COPIES = ("original_url", "download_url", "access_url")


def request_url(package_ref: str) -> str:
    """Absolute URL of the dataset's access-request page (id or name), the one place it is built.

    Built from ``ckan.site_url`` rather than ``url_for`` because the index is written from CLI and
    worker processes too, where no request context exists.
    """
    return f"{tk.config['ckan.site_url'].rstrip('/')}/dataset/{package_ref}/request-access"


def mask_resource(res: dict[str, Any], url: str) -> None:
    """Replace every location of one resource with the request page and flag it restricted."""
    res["url"] = url
    res["sharing_restricted"] = True
    for key in _URL_COPIES:
        if res.get(key):
            res[key] = url


def mask_package(pkg: dict[str, Any], resource_ids: Optional[Iterable[str]] = None) -> dict[str, Any]:
    """Mask all (or the given) resources of a package dict in place; returns it."""
    url = request_url(pkg["id"])
    only = set(resource_ids) if resource_ids is not None else None
    for res in pkg.get("resources") or []:
        if only is None or res.get("id") in only:
            mask_resource(res, url)
    return pkg


def _real_url(res: model.Resource, package_type: str) -> str:
    """The URL CKAN's own dictization gives (uploads: the qualified download URL; DataStore-only tables:
    their dump, as the datastore plugin's ``before_resource_show`` gives, SPEC §3b)."""
    if res.url_type == "datastore" and plugins.plugin_loaded("datastore"):
        return url_for("datastore.dump", resource_id=res.id, qualified=True)
    if res.url_type == "upload":
        filename = munge.munge_filename((res.url or "").rsplit("/")[-1])
        return url_for(
            f"{package_type}_resource.download",
            id=res.package_id,
            resource_id=res.id,
            filename=filename,
            qualified=True,
        )
    return res.url or ""


def restore_urls(pkgs_and_ids: Iterable[tuple[dict[str, Any], Iterable[str]]]) -> None:
    """Put the real URLs back for the given resources (one query for all datasets)."""
    todo = [(pkg, set(ids)) for pkg, ids in pkgs_and_ids]
    wanted = {rid for _, ids in todo for rid in ids}
    if not wanted:
        return
    rows = {r.id: r for r in model.Session.query(model.Resource).filter(model.Resource.id.in_(wanted))}
    for pkg, ids in todo:
        for res in pkg.get("resources") or []:
            row = rows.get(res.get("id"))
            if row is None or res.get("id") not in ids:
                continue
            res["url"] = _real_url(row, pkg.get("type") or "dataset")
            res["sharing_restricted"] = False
            for key in _URL_COPIES:
                if key in res and row.extras.get(key):
                    res[key] = row.extras[key]


def apply_decisions(pkg: dict[str, Any], subject: policy.Subject) -> None:
    """Mask or restore each resource of one dataset dict for one subject."""
    tier = facts.tier_of_dict(pkg)
    pkg["sharing_tier"] = tier
    resources = pkg.get("resources") or []
    restore: list[str] = []
    mask: list[str] = []
    for res in resources:
        decision = policy.decide(tier, subject, res.get("id"))
        if decision.full:
            if res.get("sharing_restricted"):
                restore.append(res["id"])
            else:
                res["sharing_restricted"] = False
        else:
            mask.append(res["id"])
    if mask:
        mask_package(pkg, mask)
    if restore:
        restore_urls([(pkg, restore)])


def after_dataset_show(context: Mapping[str, Any], pkg: dict[str, Any]) -> None:
    """Mask ``package_show`` (and so ``resource_show``, the dataset and resource pages, downloads).

    Internal calls with ``ignore_auth`` (indexing, activity snapshots, the read-modify-write of
    ``resource_create``/``package_patch``) get the real dict: they never reach a user as such, and
    masking them would write request-page URLs back into the database.
    """
    if context.get("ignore_auth"):
        pkg["sharing_tier"] = facts.tier_of_dict(pkg)
        return
    tier = facts.tier_of_dict(pkg)
    if tier == policy.OPEN and not any(r.get("sharing_restricted") for r in pkg.get("resources") or []):
        pkg["sharing_tier"] = tier
        for res in pkg.get("resources") or []:
            res["sharing_restricted"] = False
        return
    user = facts.user_from_context(context)
    apply_decisions(pkg, facts.subject(user, pkg["id"], pkg.get("owner_org")))


def after_dataset_search(results: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Search results come from the (masked) index: give full-access users their real URLs back."""
    rows = [r for r in results.get("results") or [] if isinstance(r, dict) and "id" in r]
    restricted = []
    for pkg in rows:
        if "resources" in pkg or "sharing_tier" in pkg or "extras" in pkg:
            pkg["sharing_tier"] = facts.tier_of_dict(pkg)
        resources = pkg.get("resources") or []
        if any(res.get("sharing_restricted") for res in resources):
            restricted.append(pkg)
        else:
            for res in resources:
                res["sharing_restricted"] = False
    if not restricted:
        return results
    user = facts.user_from_context(None)
    if user is None:
        return results
    subjects = facts.subjects(user, [(p["id"], p.get("owner_org")) for p in restricted])
    for pkg in restricted:
        apply_decisions(pkg, subjects[pkg["id"]])
    return results


def _mask_json(doc: str, url: str) -> str:
    data = json.loads(doc)
    for res in data.get("resources") or []:
        mask_resource(res, url)
    return json.dumps(data)


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Strip real resource URLs of a conditional dataset from every field sent to Solr."""
    data = json.loads(pkg_dict.get("validated_data_dict") or pkg_dict.get("data_dict") or "{}")
    tier = facts.tier_of_dict(data or pkg_dict)
    pkg_dict["sharing_tier"] = tier
    if not policy.masked_in_index(tier):
        return pkg_dict
    url = request_url(pkg_dict["id"])
    for key in ("data_dict", "validated_data_dict"):
        if pkg_dict.get(key):
            pkg_dict[key] = _mask_json(pkg_dict[key], url)
    if pkg_dict.get("res_url"):
        pkg_dict["res_url"] = [url for _ in pkg_dict["res_url"]]
    for key in list(pkg_dict):
        if key.startswith("res_extras_") and "url" in key:
            pkg_dict[key] = [url for _ in pkg_dict[key]] if isinstance(pkg_dict[key], list) else url
    return pkg_dict
