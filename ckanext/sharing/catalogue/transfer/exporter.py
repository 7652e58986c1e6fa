"""The catalogue written back (SPEC §12): one row per dataset in the column order of the 2017
《政务信息资源目录编制指南（试行）》 core metadata (REGULATION.md: 信息资源分类, 名称, 代码, 提供方, 提供方代码,
摘要, 格式, 信息项, 共享属性 (共享类型, 共享条件, 共享方式), 开放属性, 更新周期, 发布日期, 关联资源代码), Chinese
headers, then this portal's further fields. ``list_="shared"`` gives a department's 共享清单 (datasets other
departments can get: open and conditional), ``"open"`` its 开放清单 (open only). What is exported imports back
unchanged (``tests/catalogue/transfer``).
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterator, Optional

import ckan.plugins.toolkit as tk

from ckanext.sharing.access import policy
from ckanext.sharing.catalogue.transfer import headers as hdr
from ckanext.sharing.catalogue.transfer import normalise as norm

# (header field, how to get the value): the guide's order first.
GUIDE_COLUMNS = ("res_category", "title", "res_code", "organization", "organization_code", "notes",
                 "format_category", "data_items", "sharing_tier", "share_condition", "share_basis", "share_method",
                 "open_attribute", "update_cycle", "publish_date", "related_res_codes")
MORE_COLUMNS = ("data_grade", "share_scope", "contains_personal_info", "deidentified", "theme", "tags",
                "contact_name", "contact_phone", "contact_email", "name")
# Tier → 共享类型 (2025 Regulation Art. 14 terms) and 开放属性.
SHARING_TYPE = {policy.OPEN: "无条件共享", policy.CONDITIONAL: "有条件共享", policy.NOT_SHARED: "不予共享"}
OPEN_ATTRIBUTE = {policy.OPEN: "无条件开放", policy.CONDITIONAL: "有条件开放", policy.NOT_SHARED: "非开放"}
LISTS = {"shared": (policy.OPEN, policy.CONDITIONAL), "open": (policy.OPEN,)}
PAGE = 500


def columns(schema_fields: Optional[set[str]] = None) -> list[str]:
    """The exported fields: the guide's, then ours (``data_grade`` / ``share_scope`` only when the schema has them)."""
    more = [c for c in MORE_COLUMNS if c not in ("data_grade", "share_scope") or not schema_fields
            or c in schema_fields]
    return list(GUIDE_COLUMNS) + more


def _org(pkg: dict[str, Any], cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    org_id = pkg.get("owner_org") or ""
    if org_id not in cache:
        try:
            cache[org_id] = tk.get_action("organization_show")({"ignore_auth": True}, {
                "id": org_id, "include_datasets": False, "include_users": False})
        except tk.ObjectNotFound:
            cache[org_id] = {}
    return cache[org_id]


def row(pkg: dict[str, Any], fields: list[str], orgs: dict[str, dict[str, Any]]) -> list[Any]:
    """One dataset → the export's cells in ``fields`` order."""
    tier = pkg.get("sharing_tier") or policy.normalise_tier(None, pkg.get("private"))
    org = _org(pkg, orgs)
    values = {
        "res_category": (pkg.get("res_code") or "").split("/")[0] or pkg.get("res_class") or "",
        "organization": org.get("title") or org.get("name") or "",
        "organization_code": org.get("uscc") or "",
        "data_items": norm.data_item_lines(pkg.get("data_items") or []),
        "sharing_tier": SHARING_TYPE.get(tier, tier),
        "open_attribute": OPEN_ATTRIBUTE.get(tier, ""),
        "share_method": "、".join(pkg.get("share_method") or []),
        "related_res_codes": "、".join(pkg.get("related_res_codes") or []),
        "contains_personal_info": "是" if norm.boolean(pkg.get("contains_personal_info")) else "否",
        "deidentified": "是" if norm.boolean(pkg.get("deidentified")) else "否",
        "tags": "、".join(t["name"] for t in pkg.get("tags") or []),
    }
    return [values[f] if f in values else (norm.text(pkg.get(f)) or "") for f in fields]


def datasets(user: str, organization: Optional[str] = None, list_: Optional[str] = None) -> Iterator[dict[str, Any]]:
    """The datasets ``user`` may see (the CLI: the site user, everything), by organization and list."""
    fq = "+dataset_type:dataset"
    if organization:
        org = tk.get_action("organization_show")({"user": user}, {"id": organization, "include_datasets": False})
        fq += f' +owner_org:"{org["id"]}"'
    wanted = LISTS.get(list_ or "")
    start = 0
    while True:
        result = tk.get_action("package_search")({"user": user}, {
            "fq": fq, "rows": PAGE, "start": start, "sort": "name asc", "include_private": True})
        for pkg in result["results"]:
            tier = pkg.get("sharing_tier") or policy.normalise_tier(None, pkg.get("private"))
            if wanted is None or tier in wanted:
                yield pkg
        start += PAGE
        if start >= result["count"] or not result["results"]:
            return


def export(user: str, fmt: str = "xlsx", organization: Optional[str] = None, list_: Optional[str] = None) -> bytes:
    """The catalogue as XLSX or CSV (UTF-8 with a BOM, so Excel reads the Chinese headers) bytes."""
    from ckanext.sharing.catalogue.transfer.importer import schema_fields

    fields = columns(set(schema_fields()))
    header = [hdr.label(f) for f in fields]
    orgs: dict[str, dict[str, Any]] = {}
    rows = (row(pkg, fields, orgs) for pkg in datasets(user, organization, list_))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    title = {"shared": "共享清单", "open": "开放清单"}.get(list_ or "", "政务信息资源目录")
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cells in rows:
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
