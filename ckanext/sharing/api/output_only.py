"""Output-only values are never stored (SPEC §3b, issue 12: "the write path accepts output-only values").

What this extension computes for the reader — the resource flag ``sharing_restricted``, the search snippet
``sharing_highlight``, a masked resource's ``url`` (this portal's access-request page) — comes back to the
write actions whenever a client sends a dict it read (``package_show`` → ``package_update``, ``ckanapi dump`` →
``ckanapi load``, a harvest). They are dropped on ``package_create`` / ``package_update`` (and so on
``package_patch``, ``package_revise`` and the resource actions, which all end in ``package_update``):

- the output-only keys, at the dataset, in ``extras`` and in every resource;
- a resource ``url`` that is a request page of this portal: the stored URL of that resource when it exists
  in this dataset (a round trip changes nothing), else nothing (the new resource has no data, never a link
  to another dataset's request page).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from ckan import model

from ckanext.sharing.access import masking

# Keys the extension adds to what it returns; never input.
DATASET_KEYS = frozenset({"sharing_highlight"})
RESOURCE_KEYS = frozenset({"sharing_restricted", "sharing_highlight"})


def _request_page_pattern() -> re.Pattern[str]:
    """This portal's request-page URLs (absolute, or as a path), built from :func:`masking.request_url`."""
    head, tail = masking.request_url("\x00").split("\x00")
    path = re.sub(r"^[a-z]+://[^/]+", "", head)
    return re.compile(rf"^(?:{re.escape(head)}|{re.escape(path)})[^/?#]+{re.escape(tail)}/?(?:[?#].*)?$")


def is_request_page(url: Any) -> bool:
    """Is ``url`` an access-request page of this portal (what a masked resource's ``url`` is)?"""
    return isinstance(url, str) and bool(_request_page_pattern().match(url.strip()))


def _drop_extras(extras: Any, keys: frozenset[str]) -> Any:
    if not isinstance(extras, list):
        return extras
    return [e for e in extras if not (isinstance(e, dict) and e.get("key") in keys)]


def _resource(res: dict[str, Any], stored: dict[str, model.Resource]) -> None:
    for key in RESOURCE_KEYS:
        res.pop(key, None)
    if not is_request_page(res.get("url")):
        return
    row = stored.get(res.get("id") or "")
    if row is not None:
        res["url"], res["url_type"] = row.url, row.url_type
        return
    res["url"] = ""
    if res.get("url_type") in ("upload", "datastore"):
        res.pop("url_type")  # no file and no table came with it


def strip(data_dict: dict[str, Any], existing: Optional[model.Package]) -> None:
    """Drop every output-only value from a ``package_create`` / ``package_update`` dict, in place."""
    for key in DATASET_KEYS:
        data_dict.pop(key, None)
    if "extras" in data_dict:
        data_dict["extras"] = _drop_extras(data_dict["extras"], DATASET_KEYS | RESOURCE_KEYS)
    resources = data_dict.get("resources")
    if not isinstance(resources, list):
        return
    stored = {r.id: r for r in existing.resources} if existing is not None else {}
    for res in resources:
        if isinstance(res, dict):
            _resource(res, stored)
