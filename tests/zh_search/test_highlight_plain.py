"""The highlighter's plain-text shortcut (issue 16) gives exactly what CKAN's Markdown extraction gives."""
from __future__ import annotations

import pytest

from ckan.lib.helpers import markdown_extract

from ckanext.sharing.dev import demo
from ckanext.sharing.zh_search import highlight

SAMPLES = [
    "全市常住人口普查数据，包括年龄、性别和户籍。",
    "第一段：统计口径说明。\n\n第二段：数据更新频率为每月。",
    "  行首空格 与   多个空格\n换行  \n硬换行",
    "Population census, 2020 edition: age and sex (by district).",
    "网址 http://data.example.gov.cn/a-b/c.csv 与 3.5 万条记录",
    "**加粗** 与 _强调_ 与 [链接](http://example.org)",
    "1. 第一项\n2. 第二项",
    "- 列表项\n- 另一项",
    "<b>人口</b> & 统计",
    "标题\n===\n正文",
    "> 引用的文字",
]


def _folded(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("text", SAMPLES)
def test_plain_text_equals_markdown_extract(text):
    """For every abstract, the text the snippet is cut from is the words markdown_extract gives."""
    assert _folded(highlight._plain(text)) == _folded(str(markdown_extract(text, extract_length=0)))


def test_shortcut_is_taken_for_plain_abstracts_only():
    """Plain abstracts skip the Markdown pass; text with Markdown or HTML syntax still gets it."""
    assert highlight._plain(SAMPLES[0]) is SAMPLES[0]
    assert highlight._plain(SAMPLES[5]) != SAMPLES[5]
    assert highlight._plain(SAMPLES[8]) != SAMPLES[8]


@pytest.mark.skipif(demo.cnpds_dir() is None, reason="real records (../shared/data/cnpds) not present")
def test_real_abstracts_equal_markdown_extract():
    """On 1,000 real catalogue abstracts the shortcut and markdown_extract give the same words."""
    for spec in demo.real_specs(1000, demo.cnpds_dir()).datasets:
        notes = spec["notes"]
        assert _folded(highlight._plain(notes)) == _folded(str(markdown_extract(notes, extract_length=0))), notes
