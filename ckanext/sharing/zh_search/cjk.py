"""Character classes and token patterns of Chinese (and Latin) text in queries, shared by the
query rewrite and the highlighter."""
from __future__ import annotations

import re

# Han (incl. extensions and compatibility ideographs), Kana and Hangul: the scripts Solr's
# CJKBigramFilter turns into bigrams.
CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002ffff"
)
CJK_CHAR = re.compile(f"[{CJK}]")
CJK_RUN = re.compile(f"[{CJK}]+")
HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
# Characters with a meaning in Lucene query syntax: a bare term ends at any of them.
SYNTAX = set('+-&|!(){}[]^"~*?:\\/')
LATIN_TERM = re.compile(r"[0-9A-Za-z][0-9A-Za-z_]+")
FIELD_PREFIX = re.compile(r"[\w.]+:")
OPERATORS = {"AND", "OR", "NOT", "TO"}
