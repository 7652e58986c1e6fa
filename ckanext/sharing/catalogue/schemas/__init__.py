"""ckanext-scheming schemas and presets of ckanext-sharing (YAML files in this package).

:func:`sharing_sample_record` gives a valid catalogue record, so the demo loader and tests of
other modules can create datasets under ``catalogue.yaml`` without repeating its rules.
"""
from __future__ import annotations

from typing import Any


def sharing_sample_record(res_code: str = "101001001/000001", **overrides: Any) -> dict[str, Any]:
    """A minimal valid open catalogue record (add ``owner_org``); ``overrides`` replace fields."""
    record: dict[str, Any] = {
        "title": "人口基本信息",
        "res_code": res_code,
        "res_class": res_code[:1],
        "notes": "全市常住人口的基本信息。",
        "format_category": "电子表格",
        "data_items": [
            {"item_name": "统计年度", "item_type": "C", "item_length": "4", "item_description": "年度"},
            {"item_name": "常住人口", "item_type": "I", "item_length": "10", "item_description": "万人"},
        ],
        "sharing_tier": "open",
        "share_method": ["文件下载"],
        "update_cycle": "每年",
        "publish_date": "2024-01-15",
        "theme": "人口",
        "contact_name": "张三",
        "contact_phone": "0591-87654321",
        "contact_email": "data@example.gov.cn",
    }
    record.update(overrides)
    return record
