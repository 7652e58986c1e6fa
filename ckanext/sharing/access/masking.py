"""Masking of data-carrying fields in dataset dicts and in the search index.

What is data (SPEC §1): a resource's ``url`` (for a link the URL *is* the data) and anything that can
carry a location (``cache_url``, ``original_url``, any extra). A user the policy answers METADATA for
sees only the fields of :data:`METADATA_FIELDS` (an allow-list, issue 10), ``url`` = the dataset's
access-request page and ``sharing_restricted: true``; every other key is removed.

The search index never holds a real URL of a conditional dataset (:func:`before_dataset_index`),
so ``fl``, ``facet.field`` and ``q`` on any stored field cannot reveal one; users the policy lets
see the data get the real URLs back from the database (:func:`restore_urls`).
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Optional

from ckan import model, plugins
from ckan.lib.dictization import model_dictize
from ckan.lib.helpers import url_for
import ckan.plugins.toolkit as tk

from ckanext.sharing.access import facts, policy

# What a metadata-only user may see of a resource (issue 10, hole 4): descriptive fields that carry
# no location and no content. Everything else (cache_url, original_url, download_url, access_url,
# hash, any extra) is removed; ``url`` is replaced by the request page.
METADATA_FIELDS = frozenset({
    "id", "package_id", "name", "description", "format", "mimetype", "mimetype_inner", "size",
    "created", "last_modified", "metadata_modified", "position", "state", "url_type", "resource_type",
    "datastore_active", "sharing_restricted",
})


def request_url(package_ref: str) -> str:
    """Absolute URL of the dataset's access-request page (id or name), the one place it is built.

    Built from ``ckan.site_url`` rather than ``url_for`` because the index is written from CLI and
    worker processes too, where no request context exists.
    """
    return f"{tk.config['ckan.site_url'].rstrip('/')}/dataset/{package_ref}/request-access"


def mask_resource(res: dict[str, Any], url: str) -> None:
    """Keep only the allow-listed fields of one resource, point ``url`` at the request page and flag
    it restricted (SPEC §3: what a metadata-only user gets of a resource)."""
    for key in [k for k in res if k not in METADATA_FIELDS]:
        del res[key]
    res["url"] = url
    res["sharing_restricted"] = True


def mask_package(pkg: dict[str, Any], resource_ids: Optional[Iterable[str]] = None) -> dict[str, Any]:
    """Mask all (or the given) resources of a package dict in place; returns it."""
    url = request_url(pkg["id"])
    only = set(resource_ids) if resource_ids is not None else None
    for res in pkg.get("resources") or []:
        if only is None or res.get("id") in only:
            mask_resource(res, url)
    return pkg


def _datastore_dump_url(res: dict[str, Any]) -> None:
    """A DataStore-only table's working URL is its dump, as the datastore plugin's ``before_resource_show``
    gives for open ones (SPEC §3b: full access gets a working ``url``)."""
    if res.get("url_type") == "datastore" and plugins.plugin_loaded("datastore"):
        res["url"] = url_for("datastore.dump", resource_id=res["id"], qualified=True)


def restore_urls(pkgs_and_ids: Iterable[tuple[dict[str, Any], Iterable[str]]]) -> None:
    """Give the given (masked) resources back in full, dictized from the database as CKAN does
    (uploads get the qualified download URL); one query for all datasets."""
    todo = [(pkg, set(ids)) for pkg, ids in pkgs_and_ids]
    wanted = {rid for _, ids in todo for rid in ids}
    if not wanted:
        return
    rows = {r.id: r for r in model.Session.query(model.Resource).filter(model.Resource.id.in_(wanted))}
    context = {"model": model, "session": model.Session}
    for pkg, ids in todo:
        for res in pkg.get("resources") or []:
            row = rows.get(res.get("id"))
            if row is None or res.get("id") not in ids:
                continue
            res.clear()
            res.update(model_dictize.resource_dictize(row, context))  # type: ignore[arg-type]
            _datastore_dump_url(res)
            res["sharing_restricted"] = False


def apply_decisions(pkg: dict[str, Any], subject: policy.Subject) -> None:
    """Mask or restore each resource of one dataset dict for one subject."""
    apply_all([(pkg, subject)])


def apply_all(pkgs_and_subjects: Iterable[tuple[dict[str, Any], policy.Subject]]) -> None:
    """:func:`apply_decisions` for a page of dataset dicts: the URLs to give back are read in one query
    for the whole page, not one per dataset (issue 16)."""
    restores = [(pkg, ids) for pkg, subject in pkgs_and_subjects if (ids := _mask_and_list_restores(pkg, subject))]
    if restores:
        restore_urls(restores)


def _mask_and_list_restores(pkg: dict[str, Any], subject: policy.Subject) -> list[str]:
    """Mask the resources of ``pkg`` the policy refuses to ``subject``; the ids of the masked ones it grants."""
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
    return restore


def for_current_user(pkgs: list[Any]) -> list[dict[str, Any]]:
    """Dataset dicts a core helper fetched with ``ignore_auth`` (the home page's featured organization and
    group list their newest datasets that way): hidden ones dropped, the others masked for the current user,
    as ``package_search`` would give them (SPEC §3: "any other page … that returns dataset dicts")."""
    rows = [p for p in pkgs if isinstance(p, dict) and p.get("id")]
    subjects = facts.subjects(facts.user_from_context(None), [(p["id"], p.get("owner_org")) for p in rows])
    kept = [pkg for pkg in rows
            if policy.decide(facts.tier_of_dict(pkg), subjects[pkg["id"]]).access is not policy.Access.HIDDEN]
    apply_all([(pkg, subjects[pkg["id"]]) for pkg in kept])
    return kept


def after_dataset_show(context: Mapping[str, Any], pkg: dict[str, Any]) -> None:
    """Mask ``package_show`` (and so ``resource_show``, the dataset and resource pages, downloads).

    Internal calls with ``ignore_auth`` (indexing, activity snapshots, the read-modify-write of
    ``resource_create``/``package_patch``) get the real dict: they never reach a user as such, and
    masking them would write request-page URLs back into the database.
    """
    if context.get("ignore_auth"):
        pkg["sharing_tier"] = facts.tier_of_dict(pkg)
        # package_show answers from the index when it is current, and the index holds masked resources:
        # give them back, or activity snapshots are masked for the dataset's own users (issue 11)
        masked = [r["id"] for r in pkg.get("resources") or [] if r.get("sharing_restricted") and r.get("id")]
        if masked:
            restore_urls([(pkg, masked)])
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
    apply_all([(pkg, subjects[pkg["id"]]) for pkg in restricted])
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
    # the same allow-list as the dict: no resource extra outside it reaches the index
    for key in list(pkg_dict):
        if key.startswith("res_extras_") and key[len("res_extras_"):] not in METADATA_FIELDS:
            del pkg_dict[key]
    return pkg_dict
