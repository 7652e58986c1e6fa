"""What the index gets for Chinese search: the pinyin sort key, provider and data-item names in ``text``."""
from __future__ import annotations

import json
from typing import Any

from ckanext.sharing.zh_search import sort


def _data_item_text(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                out.extend(str(item[k]) for k in ("item_name", "item_description") if item.get(k))
            elif isinstance(item, str):
                out.append(item)
    return out


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Pinyin sort key in ``title_string``; provider and data-item names into the catch-all ``text``.

    Runs after masking, and adds nothing that holds a resource URL.
    """
    title = pkg_dict.get("title")
    if isinstance(title, str) and title:
        pkg_dict["title_string"] = sort.sort_key(title)

    extra: list[str] = []
    try:
        data = json.loads(pkg_dict.get("validated_data_dict") or "{}")
    except ValueError:
        data = {}
    org = data.get("organization") if isinstance(data, dict) else None
    if isinstance(org, dict) and org.get("title"):
        extra.append(str(org["title"]))
    items = pkg_dict.get("data_items")
    if items is None and isinstance(data, dict):
        items = data.get("data_items")
    extra.extend(_data_item_text(items))
    if isinstance(pkg_dict.get("data_items"), list):
        # A list of dicts cannot go into Solr's catch-all string field; the names are in text
        # and the full items stay in validated_data_dict.
        pkg_dict.pop("data_items")
    if extra:
        current = pkg_dict.get("text")
        base = current if isinstance(current, list) else ([current] if current else [])
        pkg_dict["text"] = base + extra
    return pkg_dict
