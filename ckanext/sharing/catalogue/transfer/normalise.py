"""Values from departments' spreadsheets → catalogue field values (SPEC §12, §6).

Only synonyms and notations are translated here (开放属性 values into tiers, 每天 into 每日, Excel serial
numbers into ISO dates, 'xls, csv' into a list …). Whether a value is acceptable is decided by the catalogue
schema's validators when the importer calls ``package_create`` / ``package_update``: a value this module
does not recognise is passed on unchanged, so the row is refused with the schema's own message.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Any, Iterable, Mapping, Optional

from ckanext.sharing.access import policy, tiers

EMPTY = frozenset({"", "暂无", "无", "none", "null", "nan", "nat", "-", "--", "/", "—", "n/a", "未知", "空"})

# 开放属性 / 共享类型 values seen in departments' catalogues beyond the SPEC §1 synonyms (tiers.SYNONYMS).
TIER_WORDS: dict[str, str] = {
    "可开放": policy.OPEN, "完全开放": policy.OPEN, "无特殊条件": policy.OPEN, "无条件": policy.OPEN,
    "公开": policy.OPEN, "public": policy.OPEN, "普遍开放": policy.OPEN,
    "有条件": policy.CONDITIONAL, "开放条件": policy.CONDITIONAL, "请补充开放条件": policy.CONDITIONAL,
    "申请后开放": policy.CONDITIONAL, "半开放": policy.CONDITIONAL, "依申请共享": policy.CONDITIONAL,
    "restricted": policy.CONDITIONAL, "on request": policy.CONDITIONAL,
    "不开放": policy.NOT_SHARED, "不予开放": policy.NOT_SHARED, "不可开放": policy.NOT_SHARED,
    "暂不开放": policy.NOT_SHARED, "禁止开放": policy.NOT_SHARED, "non-public": policy.NOT_SHARED,
    "not shared": policy.NOT_SHARED,
}
# Longer free texts: the first fragment found decides (checked in this order: "不" before "开放").
TIER_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("不予", policy.NOT_SHARED), ("不共享", policy.NOT_SHARED), ("非开放", policy.NOT_SHARED),
    ("不开放", policy.NOT_SHARED), ("有条件", policy.CONDITIONAL), ("依申请", policy.CONDITIONAL),
    ("按需", policy.CONDITIONAL), ("授权", policy.CONDITIONAL), ("无条件", policy.OPEN), ("普遍", policy.OPEN),
)

CYCLES = ("实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期")
CYCLE_WORDS: dict[str, str] = {
    "每天": "每日", "日": "每日", "天": "每日", "日更新": "每日", "daily": "每日", "day": "每日",
    "即时": "实时", "实时更新": "实时", "real time": "实时", "realtime": "实时", "continuous": "实时",
    "周": "每周", "每星期": "每周", "weekly": "每周", "week": "每周",
    "月": "每月", "每个月": "每月", "monthly": "每月", "month": "每月",
    "季": "每季度", "季度": "每季度", "每季": "每季度", "quarterly": "每季度",
    "半年": "每半年", "每半年度": "每半年", "half-yearly": "每半年", "biannual": "每半年",
    "年": "每年", "年度": "每年", "每年度": "每年", "一年": "每年", "yearly": "每年", "annual": "每年",
    "不定时": "不定期", "其他": "不定期", "其它": "不定期", "按需": "不定期", "自定义": "不定期",
    "每半月": "不定期", "irregular": "不定期",
}

FORMAT_CATEGORIES = ("电子文件", "电子表格", "数据库", "图形图像", "流媒体", "自描述格式", "服务接口")
CATEGORY_WORDS: dict[str, str] = {
    "file": "电子文件", "文件": "电子文件", "文档": "电子文件", "document": "电子文件",
    "表格": "电子表格", "spreadsheet": "电子表格", "excel": "电子表格",
    "table": "数据库", "库表": "数据库", "数据库表": "数据库", "database": "数据库",
    "图片": "图形图像", "图像": "图形图像", "image": "图形图像", "视频": "流媒体", "音频": "流媒体",
    "api": "服务接口", "接口": "服务接口", "服务": "服务接口", "service": "服务接口",
}
# A file format (数据格式) → the format category when the row has none.
FORMAT_TO_CATEGORY: dict[str, str] = {
    "xls": "电子表格", "xlsx": "电子表格", "csv": "电子表格", "et": "电子表格", "ods": "电子表格",
    "json": "自描述格式", "xml": "自描述格式", "rdf": "自描述格式",
    "api": "服务接口", "table": "数据库", "db": "数据库", "sql": "数据库",
    "jpg": "图形图像", "png": "图形图像", "shp": "图形图像", "tif": "图形图像", "mp4": "流媒体",
    "doc": "电子文件", "docx": "电子文件", "pdf": "电子文件", "txt": "电子文件", "wps": "电子文件", "file": "电子文件",
}
METHOD_WORDS: dict[str, str] = {
    "接口": "接口", "api": "接口", "服务接口": "接口", "接口调用": "接口", "接口共享": "接口",
    "文件下载": "文件下载", "文件": "文件下载", "下载": "文件下载", "file": "文件下载", "download": "文件下载",
    "库表交换": "库表交换", "库表": "库表交换", "数据库交换": "库表交换", "批量交换": "库表交换",
    "database": "库表交换",
}
CLASS_WORDS: dict[str, str] = {"基础": "1", "主题": "2", "部门": "3"}
ITEM_TYPES: dict[str, str] = {
    "字符型": "C", "字符": "C", "文本": "C", "数值型": "N", "数值": "N", "数字": "N", "货币型": "Y", "日期型": "D",
    "日期": "D", "日期时间型": "T", "日期时间": "T", "时间": "T", "逻辑型": "L", "布尔": "L", "备注型": "M",
    "通用型": "G", "双精度型": "B", "整型": "I", "整数": "I", "浮点型": "F", "浮点": "F",
    "string": "C", "text": "C", "varchar": "C", "char": "C", "number": "N", "numeric": "N", "decimal": "N",
    "date": "D", "datetime": "T", "timestamp": "T", "boolean": "L", "bool": "L", "int": "I", "integer": "I",
    "bigint": "I", "float": "F", "double": "B",
}
# Names of data items that hold personal information (the Regulation wants them marked, SPEC §6).
PERSONAL_ITEM_HINTS = ("身份证", "证件号", "公民身份号码", "姓名", "手机", "住址", "家庭地址", "出生日期", "护照",
                       "银行卡", "社保卡号")
YES = frozenset({"是", "true", "yes", "y", "1", "√", "✓", "有", "涉及"})
NO = frozenset({"否", "false", "no", "n", "0", "×", "✗", "无", "不涉及"})
_SPLIT = re.compile(r"[,，、;；\n\r\t|]+")
_SPLIT_WORDS = re.compile(r"[,，、;；\n\r\t|\s]+")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Excel serials taken as dates: 1954-10-03 … 2119-01-08 (plausible catalogue dates, not counts).
_SERIAL_RANGE = (20000, 80000)
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _nfkc(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_empty(value: Any) -> bool:
    """No value: None, blank, an empty list, or a placeholder such as 暂无 / 无 / - ."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    if isinstance(value, (list, tuple, dict)):
        return not value
    return _nfkc(value).lower() in EMPTY


def text(value: Any) -> Optional[str]:
    """A cell as text: numbers without a trailing ``.0``, lists joined with 、; None when empty."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "、".join(t for t in (text(v) for v in value) if t)
    return str(value).strip()


def as_list(value: Any, words: bool = False) -> list[str]:
    """A list from a JSON list, a Python-style list text (``['xls', 'csv']``) or separated text."""
    if is_empty(value):
        return []
    if isinstance(value, (list, tuple)):
        return [t for t in (text(v) for v in value) if t]
    raw = str(value).strip()
    if raw.startswith("[") and raw.endswith("]"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = [a or b for a, b in re.findall(r"'([^']*)'|\"([^\"]*)\"", raw)]
        if isinstance(parsed, list):
            return [t for t in (text(v) for v in parsed) if t]
    parts = (_SPLIT_WORDS if words else _SPLIT).split(raw)
    return [p.strip() for p in parts if p.strip() and not is_empty(p)]


def tier(value: Any) -> Optional[str]:
    """共享类型 / 开放属性 → ``open`` | ``conditional`` | ``not_shared``; the raw text if not recognised,
    None when empty (SPEC §1: every synonym is accepted)."""
    if is_empty(value):
        return None
    raw = _nfkc(value)
    found = tiers.parse_tier(raw) or TIER_WORDS.get(raw) or TIER_WORDS.get(raw.lower())
    if found:
        return found
    for fragment, result in TIER_FRAGMENTS:
        if fragment in raw:
            return result
    return raw


def update_cycle(value: Any) -> Optional[str]:
    """更新周期: 每天 → 每日, 年 → 每年, 不定时 → 不定期, 'monthly' → 每月, '每月更新' → 每月 …"""
    if is_empty(value):
        return None
    raw = _nfkc(value)
    for candidate in (raw, raw.lower(), raw.removesuffix("更新").removesuffix("一次"), raw.removeprefix("按")):
        if candidate in CYCLES:
            return candidate
        if candidate in CYCLE_WORDS:
            return CYCLE_WORDS[candidate]
    return raw


def excel_serial(number: float) -> Optional[dt.date]:
    """An Excel date serial (days since 1899-12-30, the 1900 system) in the plausible range, else None."""
    if _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        return _EXCEL_EPOCH + dt.timedelta(days=int(number))
    return None


def date(value: Any) -> Optional[str]:
    """发布日期 → ``YYYY-MM-DD`` from dates, datetimes, Excel serials (number or digits), ``2023/1/17``,
    ``2023年1月17日``, ``20230117``, ISO times; the raw text if none of these (the schema refuses it)."""
    if is_empty(value):
        return None
    if isinstance(value, dt.date):  # a datetime is a date too: its day
        return dt.date(value.year, value.month, value.day).isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        found = excel_serial(float(value))
        return found.isoformat() if found else str(value)
    raw = _nfkc(value)
    match = _DATE_RE.match(raw) or _COMPACT_DATE_RE.match(raw)
    if match:
        try:
            return dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            return raw
    if re.fullmatch(r"\d{5}(\.\d+)?", raw):
        found = excel_serial(float(raw))
        if found:
            return found.isoformat()
    return raw


def formats(value: Any) -> list[str]:
    """数据格式 → lower-case formats without dots, each once (``['xls', 'json']``, ``XLS/CSV``)."""
    found: list[str] = []
    for part in as_list(value, words=True):
        for piece in re.split(r"[/]", part):
            piece = piece.strip().strip(".").lower()
            if piece and piece not in found:
                found.append(piece)
    return found


def format_category(value: Any, file_formats: Iterable[str] = ()) -> Optional[str]:
    """信息资源格式分类 from its value or synonym, else from the first file format that tells it."""
    if not is_empty(value):
        raw = _nfkc(value)
        if raw in FORMAT_CATEGORIES:
            return raw
        found = CATEGORY_WORDS.get(raw.lower()) or CATEGORY_WORDS.get(raw)
        if found:
            return found
        for category in FORMAT_CATEGORIES:
            if category in raw:
                return category
        return raw
    for fmt in file_formats:
        if fmt in FORMAT_TO_CATEGORY:
            return FORMAT_TO_CATEGORY[fmt]
    return None


def share_methods(value: Any) -> list[str]:
    """共享方式 → a list of 接口 / 文件下载 / 库表交换 (unknown words kept: the schema refuses them)."""
    found: list[str] = []
    for part in as_list(value):
        method = METHOD_WORDS.get(part.lower(), METHOD_WORDS.get(part, part))
        if method not in found:
            found.append(method)
    return found


def res_class(value: Any, res_code: Optional[str]) -> Optional[str]:
    """资源分类 1/2/3 from 信息资源分类 (``1``, ``基础信息资源``, a classification code ``101001001``) or
    from the first digit of the resource code."""
    raw = text(value)
    if raw:
        raw = _nfkc(raw)
        if raw[:1] in "123" and raw[:1].isdigit():
            return raw[:1]
        for word, digit in CLASS_WORDS.items():
            if word in raw:
                return digit
        return raw
    if res_code and res_code[:1] in ("1", "2", "3"):
        return res_code[:1]
    return None


def boolean(value: Any) -> Optional[bool]:
    """是/否, true/false, √/× → bool; None when empty or not a yes/no word."""
    if isinstance(value, bool):
        return value
    if is_empty(value) and not (isinstance(value, str) and value.strip() == "无"):
        return None
    raw = _nfkc(value).lower()
    if raw in YES:
        return True
    if raw in NO:
        return False
    return None


def item_type(value: Any) -> Optional[str]:
    """数据类型: ``C`` … ``F``, ``C 字符型``, ``字符型``, ``varchar(20)`` → the one-letter code."""
    raw = text(value)
    if not raw:
        return None
    raw = _nfkc(raw)
    if raw[0].isascii() and raw[0].isalpha() and (len(raw) == 1 or raw[1] in " -:："):
        return raw[0].upper()
    base = re.sub(r"\(.*\)$", "", raw).strip().lower()
    return ITEM_TYPES.get(base, ITEM_TYPES.get(raw, raw))


def personal_name(name: str) -> bool:
    """Does a data item's name say it holds personal information (身份证号, 姓名, 手机 …)?"""
    return any(hint in name for hint in PERSONAL_ITEM_HINTS)


_ITEM_KEYS = {
    "item_name": ("item_name", "name", "名称", "信息项名称", "数据项名称", "字段名称", "字段名"),
    "item_type": ("item_type", "type", "类型", "数据类型", "字段类型"),
    "item_length": ("item_length", "length", "长度", "数据长度", "字段长度"),
    "item_description": ("item_description", "description", "描述", "说明", "信息项描述"),
    "item_personal": ("item_personal", "personal", "涉及个人信息", "个人信息"),
}


def _item(parts: Mapping[str, Any]) -> Optional[dict[str, Any]]:
    """One data item from a mapping of (any spelling of) its subfields."""
    item: dict[str, Any] = {}
    for key, names in _ITEM_KEYS.items():
        for name in names:
            if name in parts and not is_empty(parts[name]):
                item[key] = parts[name]
                break
    name = text(item.get("item_name"))
    if not name:
        return None
    item["item_name"] = name
    if "item_type" in item:
        item["item_type"] = item_type(item["item_type"])
    if "item_length" in item:
        item["item_length"] = text(item["item_length"])
    if "item_description" in item:
        item["item_description"] = text(item["item_description"])
    personal = boolean(item.get("item_personal"))
    item["item_personal"] = personal if personal is not None else personal_name(name)
    return item


def data_items(value: Any) -> list[dict[str, Any]]:
    """信息项 from a JSON list (of names or of item dicts), from lines ``名称 | 类型 | 长度 | 描述 | 是/否``
    (the export's form), or from a column list ``姓名、性别、出生日期`` (names only)."""
    if is_empty(value):
        return []
    entries: list[Any]
    if isinstance(value, (list, tuple)):
        entries = list(value)
    else:
        raw = str(value).strip()
        parsed: Any = None
        if raw.startswith("["):
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        if isinstance(parsed, list):
            entries = parsed
        elif "|" in raw:
            entries = [line for line in re.split(r"[\r\n；;]+", raw) if line.strip()]
        else:
            entries = as_list(raw)
    items: list[dict[str, Any]] = []
    for entry in entries:
        if isinstance(entry, Mapping):
            item = _item(entry)
        elif isinstance(entry, str) and "|" in entry:
            cells = [c.strip() for c in entry.split("|")]
            item = _item(dict(zip(("item_name", "item_type", "item_length", "item_description", "item_personal"),
                                  cells)))
        else:
            item = _item({"item_name": entry})
        if item is not None:
            items.append(item)
    return items


def column_list(abstract: Optional[str]) -> list[dict[str, Any]]:
    """Data items from an abstract that is a column list (many portals write ``序号、名称、地址``): three
    to thirty short names; else none. Used only when a mapping file asks for it."""
    if not abstract:
        return []
    names = [p.strip() for p in _SPLIT_WORDS.split(abstract) if p.strip()]
    if not 3 <= len(names) <= 30 or any(len(n) > 16 for n in names):
        return []
    return data_items(list(dict.fromkeys(names)))


def data_item_lines(items: Iterable[Mapping[str, Any]]) -> str:
    """The export's text of data items, one per line: ``名称 | 类型 | 长度 | 描述 | 是/否`` (read back by
    :func:`data_items`)."""
    lines = []
    for item in items:
        cells = [text(item.get(k)) or "" for k in ("item_name", "item_type", "item_length", "item_description")]
        cells.append("是" if boolean(item.get("item_personal")) else "否")
        lines.append(" | ".join(c.replace("|", "/").replace("\n", " ") for c in cells))
    return "\n".join(lines)
