"""Header recognition and value normalisation of the catalogue import (SPEC §12, issue 15)."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sharing.catalogue.transfer import headers as hdr
from ckanext.sharing.catalogue.transfer import normalise as norm

from tests.catalogue.transfer import files


@pytest.mark.skipif(files.cnpds_dir() is None, reason="../shared/data/cnpds (the real records) is absent")
def test_every_real_key_is_mapped_or_ignored():
    """Every key occurring in the 40,912 real records is a known column (mapped to a field or listed as ignored)."""
    keys: set[str] = set()
    for path in files.cnpds_files():
        for record in files.cnpds_records(path):
            keys.update(record)
    assert len(keys) > 50
    unknown = sorted(k for k in keys if hdr.field_for(k) is None)
    assert unknown == []


@pytest.mark.skipif(files.cnpds_dir() is None, reason="../shared/data/cnpds (the real records) is absent")
def test_every_real_opening_attribute_gives_a_tier_or_nothing():
    """Every 开放属性-like value in the real records gives a tier, or is empty/placeholder (无, None)."""
    seen: dict[str, object] = {}
    for path in files.cnpds_files():
        for record in files.cnpds_records(path):
            for key, value in record.items():
                if hdr.field_for(key) in ("open_attribute", "sharing_tier") and value not in seen:
                    seen[value] = norm.tier(value)
    bad = {v: t for v, t in seen.items() if t not in (None, "open", "conditional", "not_shared")}
    assert bad == {}
    assert seen["依申请开放"] == "conditional" and seen["无条件开放"] == "open"


def test_synonyms_of_spec_12():
    """The SPEC §12 synonyms name their fields, decorated or full-width headers included."""
    for name, field in [("信息资源名称", "title"), ("数据集名称", "title"), ("资源名称", "title"), ("标题", "title"),
                        ("摘要", "notes"), ("描述", "notes"), ("数据摘要", "notes"), ("数据提供方", "organization"),
                        ("来源部门", "organization"), ("数源单位", "organization"), ("提供单位", "organization"),
                        ("开放属性", "open_attribute"), ("共享类型", "sharing_tier"), ("开放条件", "open_attribute"),
                        ("更新周期", "update_cycle"), ("更新频率", "update_cycle"), ("更新频度", "update_cycle"),
                        ("信息资源代码", "res_code"), ("*信息资源名称（必填）", "title"), ("Title", "title"),
                        ("数据分级", "data_grade"), ("分级", "data_grade"), ("共享范围", "share_scope"),
                        ("共享条件", "share_condition"), (" 共享 方式：", "share_method")]:
        assert hdr.field_for(name) == field, name
    assert hdr.field_for("详情页网址") == hdr.IGNORE
    assert hdr.field_for("完全不认识的列") is None
    assert hdr.field_for("完全不认识的列", {"完全不认识的列": "theme"}) == "theme"


def test_tiers_from_every_synonym():
    """Tiers come from the SPEC §1 synonyms and the portals' 开放属性 values; unknown text is kept for the schema."""
    cases = {"普遍共享": "open", "无条件共享": "open", "无条件开放": "open", "可开放": "open", "完全开放": "open",
             "按需共享": "conditional", "有条件共享": "conditional", "有条件开放": "conditional",
             "依申请开放": "conditional", "授权共享": "conditional", "申请后开放": "conditional",
             "不共享": "not_shared", "不予共享": "not_shared", "非共享": "not_shared", "非开放": "not_shared",
             "有条件开放（需申请）": "conditional", "open": "open", " 不予开放 ": "not_shared"}
    assert {k: norm.tier(k) for k in cases} == cases
    assert norm.tier("随便") == "随便"
    assert norm.tier("暂无") is None and norm.tier("") is None


def test_update_cycles():
    """每天/每日/实时/不定期 and the portals' spellings become the schema's cycles."""
    cases = {"每天": "每日", "每日": "每日", "实时": "实时", "不定期": "不定期", "不定时": "不定期", "年": "每年",
             "每月更新": "每月", "季度": "每季度", "半年": "每半年", "其他": "不定期", "Monthly": "每月"}
    assert {k: norm.update_cycle(k) for k in cases} == cases
    assert norm.update_cycle("每两年") == "每两年"


def test_dates_including_excel_serials():
    """Dates come from ISO text, 2023/1/17, 2023年1月17日, 20230117, datetimes and Excel serial numbers."""
    assert norm.date("2023-01-17") == "2023-01-17"
    assert norm.date("2023/1/7") == "2023-01-07"
    assert norm.date("2023年1月17日") == "2023-01-17"
    assert norm.date("2023-01-17 10:20:00") == "2023-01-17"
    assert norm.date("20230117") == "2023-01-17"
    assert norm.date(dt.datetime(2023, 1, 17, 8)) == "2023-01-17"
    assert norm.date(44943) == "2023-01-17"
    assert norm.date(44943.5) == "2023-01-17"
    assert norm.date("44943") == "2023-01-17"
    assert norm.date("2023-02-30") == "2023-02-30"  # kept: the schema refuses it with its message
    assert norm.date(12) == "12"


def test_formats_and_categories():
    """Formats are lists from JSON lists, list text or separated text; they give the format category."""
    assert norm.formats(["XLS", "json"]) == ["xls", "json"]
    assert norm.formats("['xls', 'json', 'csv']") == ["xls", "json", "csv"]
    assert norm.formats("XLS/CSV, .json") == ["xls", "csv", "json"]
    assert norm.format_category(None, ["xls"]) == "电子表格"
    assert norm.format_category("api") == "服务接口"
    assert norm.format_category("电子表格") == "电子表格"
    assert norm.format_category(None, []) is None


def test_data_items_from_a_column_list_and_from_lines():
    """数据项 come from a column list (names), from the export's lines, and from JSON item lists."""
    items = norm.data_items("姓名、性别，出生日期;单位")
    assert [i["item_name"] for i in items] == ["姓名", "性别", "出生日期", "单位"]
    assert items[0]["item_personal"] is True and items[1]["item_personal"] is False
    lines = norm.data_items("统计年度 | C | 4 | 年度 | 否\n常住人口 | 整型 | 10 | 万人 | 否")
    assert lines[1] == {"item_name": "常住人口", "item_type": "I", "item_length": "10", "item_description": "万人",
                        "item_personal": False}
    assert norm.data_items(norm.data_item_lines(lines)) == lines
    assert norm.data_items('[{"名称": "地址", "类型": "varchar(200)"}]')[0]["item_type"] == "C"


def test_share_methods_classes_and_booleans():
    """共享方式 synonyms, 资源分类 from codes or words, and yes/no words are normalised."""
    assert norm.share_methods("API、文件") == ["接口", "文件下载"]
    assert norm.res_class("101001001", None) == "1" and norm.res_class("部门信息资源", None) == "3"
    assert norm.res_class(None, "201001/000001") == "2"
    assert norm.boolean("是") is True and norm.boolean("否") is False and norm.boolean("") is None


def test_csv_quotes_newlines_and_gzip_json():
    """Quoted CSV cells keep their quotes and line breaks (Excel's quoting, whatever the sniffer guesses);
    gzipped JSON is read as JSON."""
    import gzip
    import json

    from ckanext.sharing.catalogue.transfer import readers

    text = '信息资源名称,信息资源摘要,共享类型\n"甲""表""",\"第一行\n第二行",无条件共享\n乙表,说明,有条件共享\n'
    table = readers.read(text.encode("gb18030"), "x.csv")
    assert [dict(r)["信息资源名称"] for _, r in table.rows] == ['甲"表"', "乙表"]
    assert dict(table.rows[0][1])["信息资源摘要"] == "第一行\n第二行"
    data = gzip.compress(json.dumps([{"标题": "甲", "开放属性": "无条件开放"}], ensure_ascii=False).encode())
    assert readers.read(data, "x.json.gz").rows[0][1] == [("标题", "甲"), ("开放属性", "无条件开放")]
