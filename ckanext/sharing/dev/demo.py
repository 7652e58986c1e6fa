"""The demo catalogue behind ``make run`` (``ckan sharing demo load`` / ``ckan sharing demo logins``).

Two sources, both loaded through the Action API with a sysadmin context so every validator runs:

* ``demo_data/catalogue.json`` — fictional departments of 示范市 and ~20 datasets written for this
  project (all three tiers, uploads, DataStore tables, links). Always loaded, so the demo works anywhere.
* the real catalogue records of ``../shared/data/cnpds`` (relative to the repository), when present:
  a few hundred of them, mapped field by field onto the government catalogue schema. The records are
  third-party data: they are read at load time and never copied into the repository.

Loading is idempotent: everything is looked up by name first and skipped when it exists.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from ckanext.sharing.catalogue import naming

log = logging.getLogger(__name__)

__all__ = [
    "DEMO_CATALOGUE",
    "cnpds_dir",
    "demo_catalogue",
    "load",
    "logins",
    "real_specs",
    "dataset_dict",
    "plain_dataset",
    "make_uscc",
    "load_workflow_examples",
]

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_CATALOGUE = Path(__file__).resolve().parent / "demo_data" / "catalogue.json"

# --- field names of the real records (they differ per portal) ---------------------------------
TITLE_KEYS = ("标题", "数据集名称", "资源名称", "信息资源名称", "资源信息名称", "目录名称")
ABSTRACT_KEYS = ("摘要", "数据摘要", "描述", "摘要信息", "摘要描述", "资源描述", "内容简介", "资源摘要", "目录摘要")
PROVIDER_KEYS = ("数据提供方", "来源部门", "数源单位", "提供单位", "所属部门", "所属单位", "信息资源提供方",
                 "提供机构", "资源提供方", "提供部门")
CYCLE_KEYS = ("更新频率", "更新周期", "更新频度", "资源更新频率")
DATE_KEYS = ("发布时间", "发布日期", "创建时间", "创建日期", "上传时间", "更新时间", "资源更新日期")
FORMAT_KEYS = ("数据格式", "资源格式")
TAG_KEYS = ("标签", "关键字")
THEME_KEYS = ("数据领域", "主题名称", "所属主题", "主题分类", "数据主题", "所属领域", "领域", "重点领域", "领域分类",
              "所属行业", "行业分类", "数据行业", "行业类型")
OPENING_KEYS = ("开放属性", "开放条件", "开放类型", "开放方式", "开放状态", "是否向社会开放")

# Opening attributes seen in the records that parse_tier does not know (SPEC §1 synonyms come first).
EXTRA_TIER_SYNONYMS = {
    "可开放": "open", "无特殊条件": "open", "完全开放": "open",
    "开放条件": "conditional", "请补充开放条件": "conditional", "申请后开放": "conditional", "半开放": "conditional",
}
CYCLES = ("实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期")
CYCLE_SYNONYMS = {"每天": "每日", "日": "每日", "周": "每周", "月": "每月", "季度": "每季度", "半年": "每半年",
                  "年": "每年", "不定时": "不定期", "其它": "不定期", "其他": "不定期", "自定义": "不定期",
                  "每半月": "不定期"}
FORMAT_CATEGORY = {
    "xls": "电子表格", "xlsx": "电子表格", "csv": "电子表格", "excel": "电子表格", "et": "电子表格",
    "json": "自描述格式", "xml": "自描述格式", "rdf": "自描述格式",
    "api": "服务接口", "table": "数据库", "db": "数据库",
    "jpg": "图形图像", "png": "图形图像", "shp": "图形图像", "mp4": "流媒体",
}
PERSONAL_HINTS = ("姓名", "身份证", "证件号", "手机", "住址", "家庭地址", "出生日期", "联系电话")
SHARE_CONDITION = "仅向履行法定职责的政务部门共享，申请时须说明用途和应用场景，经提供方审核同意后在授权期限内使用。"
SHARE_SCOPE = "本市履行法定职责、确需使用该数据的政务部门（演示）"
SHARE_BASIS = ("《中华人民共和国数据安全法》第二十一条、《中华人民共和国个人信息保护法》第三十四条："
               "涉及重要数据或个人信息，仅限提供方履行法定职责使用。（演示：按规则标为不共享）")
NOT_SHARED_EVERY = 12  # demo rule: one real record in 12 is shown as not_shared (open-data portals publish none)


def cnpds_dir() -> Optional[Path]:
    """Where the real records live (``$SHARING_CNPDS_DIR`` or ``../shared/data/cnpds``), or None."""
    candidates = [os.environ.get("SHARING_CNPDS_DIR") or "", str(REPO_ROOT.parent / "shared" / "data" / "cnpds")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir() and any(Path(candidate).glob("*.json.gz")):
            return Path(candidate)
    return None


def demo_catalogue() -> dict[str, Any]:
    """The shipped demo catalogue (fictional, written for this project)."""
    with DEMO_CATALOGUE.open(encoding="utf-8") as f:
        return json.load(f)


# --- codes and names ------------------------------------------------------------------------------


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organization code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value = 11 - sum(alphabet.index(c) * w for c, w in zip(body, weights)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_uscc(seed: str, division: str = "520100") -> str:
    """A syntactically valid 18-character USCC (GB 32100) for a government department, derived from
    ``seed`` (so the same department always gets the same code). Generated, not a real registration."""
    digest = int(hashlib.sha1(seed.encode("utf-8")).hexdigest(), 16)
    body = "%08d" % (digest % 10**8)
    base = "11" + division[:6].ljust(6, "0") + body + _org_code_check(body)
    from stdnum.cn import uscc

    number = base + uscc.calc_check_digit(base)
    uscc.validate(number)
    return number


def _slug(text: str, limit: int = 60) -> str:
    """Readable URL name part (the catalogue's one pinyin slug), cut to ``limit`` characters."""
    return naming.slug(text)[:limit].strip("-") or "dataset"


# --- the real records ---------------------------------------------------------------------------


def _first(record: dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = record.get(key)
        if value not in (None, "", [], "暂无", "None"):
            return value
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v]
    text = str(value).strip()
    if text.startswith("["):
        return [a or b for a, b in re.findall(r"'([^']+)'|\"([^\"]+)\"", text)]
    return [t for t in re.split(r"[\s,，;；、/]+", text) if t]


def _tier_of(value: Any) -> Optional[str]:
    from ckanext.sharing.access.tiers import parse_tier

    if value is None:
        return None
    text = str(value).strip()
    return parse_tier(text) or EXTRA_TIER_SYNONYMS.get(text)


def _cycle(value: Any) -> str:
    text = str(value or "").strip()
    if text in CYCLES:
        return text
    return CYCLE_SYNONYMS.get(text, "不定期")


def _date(record: dict[str, Any]) -> str:
    for key in DATE_KEYS:
        match = re.match(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", str(record.get(key) or ""))
        if match:
            try:
                return dt.date(*map(int, match.groups())).isoformat()
            except ValueError:
                continue
    return "2023-01-01"


def _data_items(abstract: str) -> list[dict[str, Any]]:
    """Column names when the abstract is a column list (many portals write it so), else generic items."""
    parts = [re.sub(r"[\"'“”‘’`\x00-\x1f]", "", p).strip().lstrip("_") for p in re.split(r"[,，、;；\s]+", abstract or "")]
    parts = [p for p in parts if p]  # also valid DataStore column names: no quotes, no leading "_"
    if 3 <= len(parts) <= 30 and all(len(p) <= 16 for p in parts):
        names = list(dict.fromkeys(parts))[:12]
    else:
        names = ["名称", "类别", "数量", "统计日期"]
    items = []
    for name in names:
        if any(h in name for h in ("日期", "时间")):
            kind, length = "D", 8
        elif any(h in name for h in ("数量", "面积", "金额", "人数", "数", "长度", "宽度", "率")):
            kind, length = "N", 12
        else:
            kind, length = "C", 100
        items.append({"item_name": name, "item_type": kind, "item_length": length, "item_description": name,
                      "item_personal": any(h in name for h in PERSONAL_HINTS)})
    return items


def _format_category(formats: list[str]) -> str:
    for fmt in formats:
        category = FORMAT_CATEGORY.get(fmt.lower().strip("."))
        if category:
            return category
    return "电子文件"


def _tags(record: dict[str, Any]) -> list[str]:
    tags = []
    for tag in _as_list(_first(record, TAG_KEYS)):
        tag = tag.strip()
        if 2 <= len(tag) <= 40 and re.fullmatch(r"[\w \-.]+", tag) and tag not in tags:
            tags.append(tag)
    return tags[:6]


@dataclass
class RealSelection:
    """Real records mapped to catalogue specs, with the departments they need."""

    organizations: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)


def _iter_records(source: Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path in sorted(source.glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records = json.load(f)
        for index, record in enumerate(records):
            yield path.name[: -len(".json.gz")], index, record


def real_specs(limit: int = 300, source: Optional[Path] = None, max_orgs: int = 0) -> RealSelection:
    """``limit`` real records as catalogue dataset specs, spread evenly over the portals.

    Deterministic (same records, names and codes every time). ``max_orgs`` > 0 keeps only the
    records of that many largest providers (the demo wants "a few departments"); 0 keeps all.
    """
    source = source or cnpds_dir()
    selection = RealSelection()
    if source is None or limit <= 0:
        return selection
    portals: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for portal, index, record in _iter_records(source):
        if _first(record, TITLE_KEYS) and _first(record, PROVIDER_KEYS):
            portals.setdefault(portal, []).append((index, record))
    if max_orgs > 0:
        counts: dict[tuple[str, str], int] = {}
        for portal, rows in portals.items():
            for _, record in rows:
                key = (portal, str(_first(record, PROVIDER_KEYS)).strip())
                counts[key] = counts.get(key, 0) + 1
        # the largest provider of the largest portals first: a few departments, several portals
        best: dict[str, tuple[int, str]] = {}
        for (portal, provider), n in counts.items():
            if n > best.get(portal, (0, ""))[0]:
                best[portal] = (n, provider)
        keep = sorted(best.items(), key=lambda kv: -kv[1][0])[:max_orgs]
        portals = {p: [(i, r) for i, r in portals[p] if str(_first(r, PROVIDER_KEYS)).strip() == prov]
                   for p, (_, prov) in keep}
    # round-robin over portals, evenly spaced inside each
    per_portal = {p: rows[:: max(1, len(rows) // max(1, -(-limit // max(1, len(portals)))))] for p, rows in portals.items()}
    picked: list[tuple[str, int, dict[str, Any]]] = []
    queues = {p: list(rows) for p, rows in sorted(per_portal.items())}
    while len(picked) < limit and any(queues.values()):
        for portal in sorted(queues):
            if queues[portal] and len(picked) < limit:
                index, record = queues[portal].pop(0)
                picked.append((portal, index, record))
    portal_no = {p: n for n, p in enumerate(sorted(portals), start=1)}
    orgs: dict[str, dict[str, Any]] = {}
    themes: dict[str, int] = {}
    used_names: set[str] = set()
    for portal, index, record in picked:
        provider = str(_first(record, PROVIDER_KEYS)).strip()[:100]
        org_key = f"{portal}:{provider}"
        if org_key not in orgs:
            orgs[org_key] = {
                "name": f"{_slug(provider, 50)}-{portal_no[portal]:02d}{len(orgs) + 1:03d}"[:100],
                "title": provider,
                "description": f"信息资源提供方（记录来自 {portal} 开放数据门户的公开目录）。",
                "seq": len(orgs) + 1,
            }
        org = orgs[org_key]
        title = str(_first(record, TITLE_KEYS)).strip()[:200]
        abstract = str(_first(record, ABSTRACT_KEYS) or "").strip() or title  # a blank abstract is none
        raw_tier = _first(record, OPENING_KEYS)
        tier = _tier_of(raw_tier) or "conditional"  # unknown or missing opening attribute: gate the data
        if (index + portal_no[portal]) % NOT_SHARED_EVERY == 0:
            tier = "not_shared"
        theme = str(_first(record, THEME_KEYS) or "").strip()
        if theme in ("默认主题", "默认行业"):
            theme = ""
        theme_no = themes.setdefault(theme or "-", len(themes) + 1)
        formats = _as_list(_first(record, FORMAT_KEYS))
        seq = portal_no[portal] * 100000 + index
        res_code = f"3{org['seq'] % 100:02d}{theme_no % 1000:03d}/{seq:07d}"
        name = f"{_slug(title, 70)}-{seq:07d}"
        if name in used_names:
            continue
        used_names.add(name)
        items = _data_items(abstract)
        spec: dict[str, Any] = {
            "name": name,
            "title": title,
            "notes": abstract,
            "org": org["name"],
            "res_class": "3",
            "res_code": res_code,
            "format_category": _format_category(formats),
            "sharing_tier": tier,
            "share_method": ["接口"] if "api" in [f.lower() for f in formats] else ["文件下载"],
            "update_cycle": _cycle(_first(record, CYCLE_KEYS)),
            "publish_date": _date(record),
            "theme": theme,
            "tags": _tags(record),
            "data_items": items,
            "opening_attribute": str(raw_tier or ""),
        }
        if tier == "conditional":
            spec["share_condition"] = SHARE_CONDITION
            spec["share_scope"] = SHARE_SCOPE
        if tier == "not_shared":
            spec["share_basis"] = SHARE_BASIS
        # open-data portals publish general data; the demo's not_shared ones cite important data (SHARE_BASIS)
        spec["data_grade"] = "重要数据" if tier == "not_shared" else "一般数据"
        # resources: generated rows (our own content) for some, a link to the record's portal page for others
        kind = ("upload", "datastore", "link")[seq % 3]
        if kind == "link":
            url = record.get("详情页网址") or f"https://data.demo-city.example.gov.cn/dataset/{name}"
            spec["resources"] = [{"kind": "link", "name": "门户详情页", "format": "HTML", "url": url}]
        else:
            spec["resources"] = [{"kind": kind, "name": f"{title[:60]}（示例数据）", "format": "CSV", "rows": None}]
        selection.datasets.append(spec)
    for org in orgs.values():
        org["uscc"] = make_uscc(org["name"])
        org.pop("seq", None)
    selection.organizations = list(orgs.values())
    return selection


# --- generated rows (own content) -------------------------------------------------------------


def _rows_for(items: list[dict[str, Any]], n: int, seed: str) -> list[list[Any]]:
    """Invented rows matching the data items: labels, small numbers, dates. Nothing that looks like an
    ID or phone number (the personal-information guard would rightly refuse it on open datasets)."""
    base = int(hashlib.md5(seed.encode("utf-8")).hexdigest()[:8], 16)
    rows = []
    for i in range(n):
        row: list[Any] = []
        for j, item in enumerate(items):
            kind = item.get("item_type")
            if kind in ("N", "I", "Y", "B", "F"):
                row.append((base + 37 * i + 11 * j) % 5000)
            elif kind in ("D", "T"):
                row.append((dt.date(2024, 1, 1) + dt.timedelta(days=(base + 17 * i) % 500)).isoformat())
            else:
                row.append(f"{item['item_name']}示例{i + 1}")
        rows.append(row)
    return rows


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _ds_type(kind: str, values: list[Any]) -> str:
    if kind in ("I",) or (values and all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        return "int"
    if kind in ("N", "Y", "B", "F") or (values and all(isinstance(v, (int, float)) for v in values)):
        return "numeric"
    if kind == "D":
        return "date"
    return "text"


# --- loading through the Action API ------------------------------------------------------------


@dataclass
class LoadReport:
    """What a load created and skipped (printed by the CLI)."""

    created: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, what: str, created: bool) -> None:
        bucket = self.created if created else self.skipped
        bucket[what] = bucket.get(what, 0) + 1


def _sysadmin_context() -> dict[str, Any]:
    import ckan.plugins.toolkit as tk

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return {"user": site_user["name"]}


def _existing(kind: str, names: list[str]) -> set[str]:
    """Names that already exist (one query, so a second load is fast)."""
    from ckan import model

    if not names:
        return set()
    if kind == "package":
        q = model.Session.query(model.Package.name).filter(model.Package.name.in_(names))
        q = q.filter(model.Package.state != "deleted")
    elif kind == "group":
        q = model.Session.query(model.Group.name).filter(model.Group.name.in_(names))
    else:
        q = model.Session.query(model.User.name).filter(model.User.name.in_(names))
    return {row[0] for row in q}


def _plugin_loaded(name: str) -> bool:
    import ckan.plugins as p

    return p.plugin_loaded(name)


def dataset_dict(spec: dict[str, Any], owner_org: str) -> dict[str, Any]:
    """A catalogue spec → the ``package_create`` dict of the government catalogue schema (SPEC §6)."""
    personal = any(item.get("item_personal") for item in spec.get("data_items") or [])
    data: dict[str, Any] = {
        "name": spec["name"],
        "title": spec["title"],
        "notes": spec["notes"],
        "owner_org": owner_org,
        "res_code": spec["res_code"],
        "res_class": spec["res_class"],
        "format_category": spec["format_category"],
        "data_items": spec.get("data_items") or [],
        "sharing_tier": spec["sharing_tier"],
        "share_method": spec.get("share_method") or ["文件下载"],
        "update_cycle": spec["update_cycle"],
        "publish_date": spec["publish_date"],
        "contains_personal_info": personal,
        "contact_name": "数据资源管理员",
        "contact_phone": "0851-86000000",
        "contact_email": "data@demo-city.example.gov.cn",
        "tag_string": ",".join(spec.get("tags") or []),
    }
    if personal and spec["sharing_tier"] == "open":
        data["deidentified"] = True  # published openly by its portal; the demo attests de-identification
    for key in ("share_condition", "share_scope", "share_basis", "data_grade", "theme"):
        if spec.get(key):
            data[key] = spec[key]
    from ckanext.sharing.dcat import demo_license_id

    licence = spec.get("license_id") or demo_license_id(spec["sharing_tier"])
    if licence:
        data["license_id"] = licence
    return data


def plain_dataset(spec: dict[str, Any], owner_org: str) -> dict[str, Any]:
    """The same record for plain CKAN (no catalogue schema): catalogue fields kept as extras,
    ``private`` for not_shared. Used by the benchmark's "without sharing" portal."""
    full = dataset_dict(spec, owner_org)
    core = {k: full.pop(k) for k in ("name", "title", "notes", "owner_org")}
    if full.get("license_id"):
        core["license_id"] = full.pop("license_id")
    core["tags"] = [{"name": t} for t in full.pop("tag_string").split(",") if t]
    extras = []
    for key, value in full.items():
        if value in (None, "", []):
            continue
        extras.append({"key": key, "value": value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)})
    core["extras"] = extras
    core["private"] = spec["sharing_tier"] == "not_shared"
    return core


def _add_resources(context: dict[str, Any], pkg_id: str, spec: dict[str, Any], report: LoadReport) -> None:
    import ckan.plugins.toolkit as tk
    from werkzeug.datastructures import FileStorage

    items = spec.get("data_items") or []
    header = [item["item_name"] for item in items] or ["名称", "数量"]
    for res in spec.get("resources") or []:
        kind = res.get("kind")
        rows = res.get("rows") or _rows_for(items or [{"item_name": h, "item_type": "C"} for h in header], 8, spec["name"])
        if kind == "link":
            tk.get_action("resource_create")(dict(context), {
                "package_id": pkg_id, "name": res["name"], "url": res["url"], "format": res.get("format", "")})
        elif kind == "upload":
            filename = re.sub(r"[^\w.\-]+", "_", res["name"])
            if not filename.lower().endswith(".csv"):
                filename = f"{filename[:60]}.csv"
            upload = FileStorage(stream=io.BytesIO(_csv_bytes(header, rows)), filename=filename, content_type="text/csv")
            tk.get_action("resource_create")(dict(context), {
                "package_id": pkg_id, "name": res["name"], "format": "CSV", "url": filename, "upload": upload})
        elif kind == "datastore":
            if not _plugin_loaded("datastore"):
                report.count("datastore (plugin off)", False)
                continue
            fields = []
            for col, name in enumerate(header):
                item_kind = items[col].get("item_type") if col < len(items) else "C"
                fields.append({"id": name, "type": _ds_type(item_kind, [r[col] for r in rows])})
            records = [dict(zip(header, row)) for row in rows]
            tk.get_action("datastore_create")(dict(context), {
                "resource": {"package_id": pkg_id, "name": res["name"], "format": "CSV"},
                "fields": fields, "records": records, "force": True})
        report.count(f"resource:{kind}", True)


def _create_missing(kind: str, items: list[dict[str, Any]], report: LoadReport,
                    create: Callable[[dict[str, Any]], None]) -> None:
    """``create`` each item whose name is not yet a ``kind`` (group or user) in the database; the report
    counts created and skipped ones (loading twice changes nothing)."""
    exists = _existing(kind, [item["name"] for item in items])
    for item in items:
        if item["name"] not in exists:
            create(item)
        report.count("organization" if kind == "group" else kind, item["name"] not in exists)


def _load_orgs(context: dict[str, Any], orgs: list[dict[str, Any]], report: LoadReport) -> None:
    import ckan.plugins.toolkit as tk

    _create_missing("group", orgs, report, lambda org: tk.get_action("organization_create")(dict(context), {
        "name": org["name"], "title": org["title"], "description": org.get("description", ""),
        "uscc": org.get("uscc") or make_uscc(org["name"], org.get("division", "520100")),
    }))


def _load_users(context: dict[str, Any], users: list[dict[str, Any]], report: LoadReport) -> None:
    import ckan.plugins.toolkit as tk

    def create(user: dict[str, Any]) -> None:
        data = {k: user[k] for k in ("name", "fullname", "email", "password")}
        if user.get("sysadmin"):
            data["sysadmin"] = True
        tk.get_action("user_create")(dict(context), data)
        if user.get("org"):
            tk.get_action("organization_member_create")(dict(context), {
                "id": user["org"], "username": user["name"], "role": user["capacity"]})

    _create_missing("user", users, report, create)


def _join(context: dict[str, Any], org_name: str, users: list[dict[str, Any]]) -> None:
    """Give ``users`` their capacity in one more organization (skipped when already members)."""
    import ckan.plugins.toolkit as tk
    from ckan import model

    org = model.Group.get(org_name)
    if org is None:
        return
    members = {m.table_id for m in model.Session.query(model.Member).filter_by(
        group_id=org.id, table_name="user", state="active")}
    for user in users:
        obj = model.User.get(user["name"])
        if obj is not None and obj.id not in members:
            tk.get_action("organization_member_create")(dict(context), {
                "id": org_name, "username": user["name"], "role": user["capacity"]})


def _load_datasets(context: dict[str, Any], specs: list[dict[str, Any]], report: LoadReport,
                   progress: Optional[Callable[[int, int], None]] = None) -> None:
    import ckan.plugins.toolkit as tk

    exists = _existing("package", [s["name"] for s in specs])
    org_ids: dict[str, str] = {}
    todo = [s for s in specs if s["name"] not in exists]
    for _ in range(len(specs) - len(todo)):
        report.count("dataset", False)
    for n, spec in enumerate(todo, start=1):
        if spec["org"] not in org_ids:
            org_ids[spec["org"]] = tk.get_action("organization_show")(dict(context), {"id": spec["org"]})["id"]
        pkg = None
        try:
            pkg = tk.get_action("package_create")(dict(context), dataset_dict(spec, org_ids[spec["org"]]))
            _add_resources(context, pkg["id"], spec, report)
            report.count("dataset", True)
        except tk.ValidationError as e:
            report.errors.append(f"{spec['name']}: {e.error_summary}")
            log.warning("demo dataset %s refused: %s", spec["name"], e.error_summary)
            if pkg is not None:  # no half-loaded dataset: the next load tries it again
                tk.get_action("dataset_purge")(dict(context), {"id": pkg["id"]})
        if progress:
            progress(n, len(todo))


def load(real: bool = True, limit: int = 300, source: Optional[Path] = None,
                      progress: Optional[Callable[[int, int], None]] = None) -> LoadReport:
    """Load the shipped catalogue, the demo users and (``real``) ``limit`` real records. Idempotent."""
    import time

    started = time.monotonic()
    report = LoadReport()
    context = _sysadmin_context()
    catalogue = demo_catalogue()
    selection = real_specs(limit, source, max_orgs=6) if real else RealSelection()
    _load_orgs(context, catalogue["organizations"] + selection.organizations, report)
    _load_users(context, catalogue["users"], report)
    if selection.organizations:
        # the department roles also hold in the largest real department, so real data shows each role too
        _join(context, selection.organizations[0]["name"],
              [u for u in catalogue["users"] if u.get("org") == catalogue["users"][1]["org"]])
    _load_datasets(context, catalogue["datasets"] + selection.datasets, report, progress)
    load_workflow_examples(context, report)
    load_lifecycle_examples(context, report)
    load_obligation_examples(context, report)
    report.seconds = time.monotonic() - started
    return report


def load_workflow_examples(context: dict[str, Any], report: Optional[LoadReport] = None) -> int:
    """Access requests in each state (pending, approved, rejected, expired) on the demo's conditional
    datasets — only once the workflow's actions exist; returns how many were created.
    Idempotent: does nothing when the demo requesters already have requests."""
    import ckan.plugins.toolkit as tk

    try:
        create = tk.get_action("sharing_request_create")
        approve = tk.get_action("sharing_request_approve")
        reject = tk.get_action("sharing_request_reject")
    except KeyError:
        return 0
    try:
        listing = tk.get_action("sharing_request_list")
        if any(listing({"user": who}, {"mine": True})["count"] for who in ("citizen", "transport_member")):
            return 0
    except (KeyError, TypeError, tk.ValidationError, tk.NotAuthorized, tk.ObjectNotFound):
        pass
    examples = [  # (requester, dataset, decision)
        ("citizen", "qiye-dengji-zhuce-xinxi", None),
        ("citizen", "chuzu-qiche-yingyun-shuju", "approve"),
        ("transport_member", "xingzheng-chufa-anjian-xinxi", "reject"),
        ("transport_member", "yaopin-lingshou-qiye-fenbu", "expire"),
        ("transport_member", "zhengwu-fuwu-shixiang-banliliang", None),
    ]

    def decided(decision: Optional[str]) -> Callable[[dict[str, Any]], None]:
        def then(request: dict[str, Any]) -> None:
            if decision in ("approve", "expire"):
                grant = approve(dict(context), {"id": request["id"], "reason": "演示：同意"})
                if decision == "expire":
                    _backdate_grant(grant["id"])
            elif decision == "reject":
                reject(dict(context), {"id": request["id"], "reason": "演示：用途与申请数据不相符"})
        return then

    return _requests(create, [(requester, dataset, 1 if decision == "expire" else 90, decided(decision))
                              for requester, dataset, decision in examples],
                     "access request", "demo request on %s not created: %s", report)


def _requests(
    create: Callable[..., dict[str, Any]], examples: list[tuple[str, str, int, Callable[[dict[str, Any]], None]]],
    label: str, failure: str, report: Optional[LoadReport],
) -> int:
    """Send one demo request per (requester, dataset, days, then) and run ``then`` on it; an example the
    workflow refuses is logged (``failure``) and skipped. Returns how many were made, also reported as ``label``."""
    import ckan.plugins.toolkit as tk

    made = 0
    for requester, dataset, days, then in examples:
        try:
            then(create({"user": requester}, {
                "package_id": dataset, "purpose": "演示：核对本部门业务数据", "use_scenario": "演示：政务服务协同办理",
                **_art20_fields(dataset), "requested_days": days}))
            made += 1
        except (tk.ValidationError, tk.NotAuthorized, tk.ObjectNotFound) as e:
            log.warning(failure, dataset, e)
    if report is not None and made:
        report.created[label] = made
    return made


def _art20_fields(dataset: str) -> dict[str, str]:
    """The fields a request states under the 2025 Regulation (Art. 20), with a 共享方式 the dataset offers."""
    from ckan import model

    from ckanext.sharing.workflow import transitions

    pkg = model.Package.get(dataset)
    method = transitions.offered_methods(pkg)[0] if pkg is not None else "文件下载"
    return {"use_basis": "演示：《政务数据共享条例》第二十条；本部门法定职责", "use_scope": "演示：本部门业务处室内部使用",
            "share_method": method}


def load_lifecycle_examples(context: dict[str, Any], report: Optional[LoadReport] = None) -> int:
    """Requests in the states of the 2025 Regulation (SPEC §4b): returned for completion (Art. 21), with an
    extension approved by the authority (Art. 21), escalated (Art. 28) and resolved by the authority
    (Art. 28). The authority acts as ``authority_officer`` when ``ckanext.sharing.authority_org`` names its
    department, else as the sysadmin. Idempotent: nothing is done once a returned request exists."""
    import ckan.plugins.toolkit as tk
    from ckan import model

    from ckanext.sharing.access import roles

    try:
        run = {name: tk.get_action(name) for name in (
            "sharing_request_create", "sharing_request_return", "sharing_request_extend", "sharing_extension_decide",
            "sharing_request_reject", "sharing_request_escalate", "sharing_request_resolve", "sharing_request_list")}
    except KeyError:
        return 0
    if run["sharing_request_list"](dict(context), {"state": "returned", "limit": 1})["count"]:
        return 0
    officer = model.User.get("authority_officer")
    authority = {"user": officer.name} if roles.is_authority(officer) else dict(context)
    steps: list[tuple[str, str, list[tuple[str, dict[str, Any], dict[str, Any]]]]] = [
        ("citizen", "xingzheng-chufa-anjian-xinxi", [
            ("sharing_request_return", dict(context), {"missing": [
                "演示：使用依据请写明法规条款或文件文号", "演示：使用范围请写明使用处室与人员", "演示：申请单须经本部门数据共享机构审核盖章"]})]),
        ("transport_member", "qiye-dengji-zhuce-xinxi", [
            ("sharing_request_extend", dict(context), {"working_days": 5, "reason": "演示：需核对历史登记数据的共享范围"}),
            ("sharing_extension_decide", authority, {"approve": True, "note": "演示：同意延长 5 个工作日"})]),
        ("citizen", "yaopin-lingshou-qiye-fenbu", [
            ("sharing_request_reject", dict(context), {"reason": "演示：申请用途与数据内容不符"}),
            ("sharing_request_escalate", {"user": "citizen"}, {"reason": "演示：用途已按条例写明，请求主管部门协调"})]),
        ("dept_member", "chuzu-qiche-yingyun-shuju", [
            ("sharing_request_reject", dict(context), {"reason": "演示：暂不具备共享条件"}),
            ("sharing_request_escalate", {"user": "dept_member"}, {"reason": "演示：依职责需要此数据"}),
            ("sharing_request_resolve", authority, {"decision": "approve", "note": "演示：经协调同意共享 30 天"})]),
    ]

    def stepped(actions: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> Callable[[dict[str, Any]], None]:
        def then(request: dict[str, Any]) -> None:
            for name, ctx, body in actions:
                run[name](dict(ctx), {"id": request["id"], **body})
        return then

    return _requests(run["sharing_request_create"],
                     [(requester, dataset, 30, stepped(actions)) for requester, dataset, actions in steps],
                     "lifecycle request", "demo lifecycle request on %s not complete: %s", report)


def _backdate_grant(grant_id: str) -> None:
    """The expired example: the API only grants into the future, so the demo moves this one grant's end
    into the past (expiry is enforced at access time; the expiry job then marks it expired)."""
    try:
        from ckan import model
        from ckanext.sharing.model import SharingGrant
    except ImportError:
        return
    grant = model.Session.get(SharingGrant, grant_id)
    if grant is not None:
        grant.expires = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
        model.Session.commit()


def load_obligation_examples(context: dict[str, Any], report: Optional[LoadReport] = None) -> int:
    """The Regulation's obligations in the demo (Art. 22, 26, 27, 29): a grant delivered by the portal
    (the citizen's approved example) and one to deliver by hand (an API to a link resource), a use report
    filed and one due (the expired example), a correction request open and one answered, a suspended
    requester. Idempotent: nothing happens once the citizen has a correction request."""
    import ckan.plugins.toolkit as tk

    try:
        act = {n: tk.get_action(f"sharing_{n}") for n in (
            "request_create", "request_approve", "grant_list", "use_report_create", "correction_create",
            "correction_answer", "correction_list", "suspension_create")}
    except KeyError:
        return 0
    made = 0
    try:
        if act["correction_list"]({"user": "citizen"}, {"mine": True})["count"]:
            return 0
        req = act["request_create"]({"user": "transport_member"}, {
            "package_id": "zhengwuyun-ziyuan-shiyong-qingkuang", "purpose": "演示：核对云资源台账",
            "use_scenario": "演示：部门资源统筹", "requested_days": 60,
            **_art20_fields("zhengwuyun-ziyuan-shiyong-qingkuang")})
        act["request_approve"](dict(context), {"id": req["id"], "reason": "演示：同意，接口另行开通"})
        report_body = {"scenario": "演示：出租车运营监管", "process": "演示：按月汇总运营里程，不含个人信息",
                       "outcome": "演示：形成月度监管报告", "storage": "演示：本部门内网数据库，加密存储"}
        for who in ("citizen", "transport_member"):
            for grant in act["grant_list"]({"user": who}, {"mine": True})["results"]:
                if grant["package_name"] in ("chuzu-qiche-yingyun-shuju", "yaopin-lingshou-qiye-fenbu"):
                    act["use_report_create"]({"user": who}, {"grant_id": grant["id"], **report_body})
                    made += 1
        for dataset, answer in (("gongjiao-xianlu-yu-zhandian", None), ("yiliao-jigou-minglu", "演示：已核实并更正")):
            corr = act["correction_create"]({"user": "citizen"}, {
                "package_id": dataset, "description": "演示：部分记录的地址与实际不符"})
            if answer:
                act["correction_answer"](dict(context), {"id": corr["id"], "answer": answer, "corrected": True})
            made += 1
        act["suspension_create"](dict(context), {
            "user_id": "transport_member", "provider_org_id": "demo-market-regulation",
            "reason": "演示：超出申请用途使用数据（第二十七条）"})
        made += 2
    except (tk.ValidationError, tk.NotAuthorized, tk.ObjectNotFound) as e:
        log.warning("demo obligation examples incomplete: %s", e)
    if report is not None and made:
        report.created["obligation example"] = made
    return made


def logins() -> list[dict[str, str]]:
    """The fixed demo logins (name, password, role), as printed by ``ckan sharing demo logins``."""
    return [{"name": u["name"], "password": u["password"], "role": u["role"], "organization": u.get("org", "")}
            for u in demo_catalogue()["users"]]
