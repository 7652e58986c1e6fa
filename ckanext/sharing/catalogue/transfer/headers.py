"""Which catalogue field a column is (SPEC §12): the Chinese and English names and the synonyms of every
field, as departments' templates and the public catalogues of open-data portals write them.

Every key that occurs in the real records of ``../shared/data/cnpds`` is either in :data:`FIELDS` or in
:data:`IGNORED` (``tests/catalogue/transfer/test_headers.py`` checks it). A mapping file
(``--mapping``) adds names for the rest.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping, Optional

# field → names (the first is the 2017 guide's / the export's header; then English and synonyms).
# Fields that are not catalogue schema fields: ``organization`` (the provider's name), ``organization_code``
# (its 统一社会信用代码), ``res_category`` (信息资源分类, the classification code), ``formats`` (file formats),
# ``open_attribute`` (开放属性, a second source of the tier).
FIELDS: dict[str, tuple[str, ...]] = {
    "res_category": ("信息资源分类", "resource category", "classification", "分类码", "资源分类码"),
    "title": ("信息资源名称", "title", "name of resource", "resource name", "数据集名称", "资源名称", "标题", "名称",
              "数据名称", "资源信息名称", "目录名称", "信息资源", "数据集"),
    "res_code": ("信息资源代码", "resource code", "res_code", "资源代码", "目录代码", "目录编码", "资源编码", "编码",
                 "信息资源编码"),
    "organization": ("信息资源提供方", "provider", "organization", "publisher", "数据提供方", "来源部门", "数源单位",
                     "提供单位", "所属部门", "所属单位", "提供机构", "资源提供方", "提供部门", "提供方", "责任部门",
                     "数据来源部门", "数源部门", "部门"),
    "organization_code": ("信息资源提供方代码", "provider code", "uscc", "统一社会信用代码", "提供方代码",
                          "部门代码"),
    "notes": ("信息资源摘要", "abstract", "description", "notes", "摘要", "数据摘要", "描述", "摘要信息", "摘要描述",
              "资源描述", "内容简介", "资源摘要", "目录摘要", "简介", "资源简介"),
    "format_category": ("信息资源格式", "format category", "format_category", "信息资源格式分类", "资源格式分类",
                        "格式分类", "资源类型"),
    "formats": ("数据格式", "formats", "format", "资源格式", "文件格式", "格式"),
    "data_items": ("信息项信息", "data items", "data_items", "信息项", "数据项", "信息项名称", "数据项名称", "字段",
                   "字段名称", "字段列表"),
    "sharing_tier": ("共享类型", "sharing type", "sharing tier", "sharing_tier", "共享属性", "共享级别"),
    "share_condition": ("共享条件", "sharing condition", "share_condition", "使用条件"),
    "share_basis": ("不予共享依据", "basis for not sharing", "share_basis", "不共享依据", "不予共享理由"),
    "share_method": ("共享方式", "sharing method", "share_method", "共享方式类型"),
    "open_attribute": ("开放属性", "open attribute", "opening", "开放条件", "开放类型", "开放方式", "开放状态",
                       "是否向社会开放", "是否开放", "开放级别"),
    "update_cycle": ("更新周期", "update cycle", "update_cycle", "frequency", "更新频率", "更新频度", "资源更新频率"),
    "publish_date": ("发布日期", "publish date", "publish_date", "issued", "发布时间", "创建时间", "创建日期",
                     "上传时间"),
    "related_res_codes": ("关联资源代码", "related resource codes", "related_res_codes", "关联资源"),
    "data_grade": ("数据分级", "data grade", "data_grade", "分级", "数据级别", "安全级别"),
    "share_scope": ("共享范围", "sharing scope", "share_scope", "共享对象"),
    "contains_personal_info": ("涉及个人信息", "contains personal information", "contains_personal_info", "个人信息"),
    "deidentified": ("已脱敏", "de-identified", "deidentified", "是否脱敏"),
    "theme": ("主题分类", "theme", "数据领域", "主题名称", "所属主题", "所属领域", "领域", "重点领域", "领域分类",
              "数据主题", "主题"),
    "tags": ("关键字", "keywords", "tags", "标签", "关键词"),
    "contact_name": ("联系人", "contact person", "contact_name", "联系人姓名"),
    "contact_phone": ("联系电话", "contact phone", "contact_phone", "联系方式", "部门电话", "电话"),
    "contact_email": ("联系邮箱", "contact e-mail", "contact email", "contact_email", "部门邮箱", "邮箱",
                      "电子邮箱"),
    "name": ("网址名", "url name", "dataset name", "name"),
}

# Columns recognised as known but not imported: the portal keeps its own values for these (times of its own
# records, counts, portal pages) or they have no field in the catalogue (SPEC §6).
IGNORED: frozenset[str] = frozenset({
    "详情页网址", "更新时间", "最近更新", "更新日期", "资源更新日期", "数据量", "文件数", "版本号", "资源目录",
    "所属行业", "行业分类", "数据行业", "行业类型", "场景分类", "应用场景", "序号", "编号", "备注", "操作",
    "浏览量", "下载量", "访问量", "评分",
})

_SPACE = re.compile(r"[\s\u3000]+")
_DECORATION = re.compile(r"[*＊:：]|[（(](必填|选填|可选|必选|required|optional)[）)]", re.IGNORECASE)


def clean(name: object) -> str:
    """A header as compared: NFKC (full-width → half-width), no spaces, no required-marks (``*``, ``（必填）``),
    lower case."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = _DECORATION.sub("", text)
    return _SPACE.sub("", text).strip().lower()


def _index() -> dict[str, str]:
    """Cleaned name → field, over every synonym."""
    index: dict[str, str] = {}
    for field_name, names in FIELDS.items():
        for name in names:
            index.setdefault(clean(name), field_name)
    return index


_INDEX = _index()
_IGNORED = frozenset(clean(n) for n in IGNORED)
IGNORE = "ignore"


def field_for(header: object, mapping: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The field a header names, ``"ignore"`` for a known column that is not imported, None if unknown.

    ``mapping`` (header → field or ``ignore``, from a mapping file) wins over the built-in table."""
    key = clean(header)
    if not key:
        return None
    if mapping:
        for name, target in mapping.items():
            if clean(name) == key:
                return str(target)
    if key in _INDEX:
        return _INDEX[key]
    if key in _IGNORED:
        return IGNORE
    return None


def rank(header: object, mapping: Optional[Mapping[str, str]] = None) -> int:
    """How plainly a header names its field, lower first: -1 for a mapping file's column, else the position of
    the name among the field's synonyms in :data:`FIELDS` (发布日期 0 before 创建日期 6, 主题分类 0 before 领域 6).
    When a row fills two columns of one field this picks the value, so it does not depend on the column order
    (a JSON record's own key order, a sheet's column order; SPEC §12)."""
    key = clean(header)
    if mapping and any(clean(name) == key for name in mapping):
        return -1
    target = _INDEX.get(key)
    if target is None:
        return len(_INDEX)
    return next(i for i, name in enumerate(FIELDS[target]) if clean(name) == key)


def map_headers(headers: Iterable[object], mapping: Optional[Mapping[str, str]] = None) -> dict[str, list[int]]:
    """Field → the indexes of the columns that name it, in file order (a file may carry both 标题 and
    资源名称: the first non-empty one gives the value, :func:`pick`)."""
    found: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        target = field_for(header, mapping)
        if target and target != IGNORE:
            found.setdefault(target, []).append(index)
    return found


def unknown(headers: Iterable[object], mapping: Optional[Mapping[str, str]] = None) -> list[str]:
    """The non-empty headers neither mapped nor ignored (the report lists them, so a mapping file can name them)."""
    return [str(h).strip() for h in headers if clean(h) and field_for(h, mapping) is None]


def label(field_name: str) -> str:
    """The export's (Chinese) header of a field."""
    return FIELDS[field_name][0]
