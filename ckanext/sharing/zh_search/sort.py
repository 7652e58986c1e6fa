"""Pinyin order for Chinese titles: the ``title_string`` sort key and the sort rewrite."""
from __future__ import annotations

import unicodedata
from typing import Optional

from ckanext.sharing.zh_search import cjk

SORT_KEY_MAX = 240


def sort_key(text: Optional[str]) -> str:
    """A key that sorts Chinese titles in pinyin order (syllable, then tone, then character).

    Why: Solr sorts strings by code point, which for Chinese is an order nobody reads by.
    Each Han syllable becomes e.g. ``ren2``; the tone digit also ends the syllable, so ``a1``
    sorts before ``ai4``. Other text is folded (NFKC, lower case, punctuation dropped), and the
    original title follows after a space to break ties between homophones deterministically.
    """
    if not text:
        return ""
    from pypinyin import Style, lazy_pinyin

    norm = unicodedata.normalize("NFKC", text).strip()
    parts: list[str] = []
    for chunk in lazy_pinyin(norm, style=Style.TONE3, neutral_tone_with_five=True, errors="default"):
        if cjk.HAN_RUN.fullmatch(chunk):  # pinyin unknown for this character: keep it as is
            parts.append(chunk)
        elif chunk and chunk[-1].isdigit() and chunk[:-1].isalpha() and chunk.isascii() and chunk.islower():
            parts.append(chunk)
        else:
            parts.append("".join(c for c in chunk.lower() if c.isalnum()))
    key = "".join(parts)
    return f"{key} {norm}"[:SORT_KEY_MAX]


def rewrite_sort(sort: str) -> str:
    """``title asc`` cannot sort (title is analysed text): use the pinyin key in ``title_string``."""
    clauses = []
    for clause in sort.split(","):
        bits = clause.split()
        if bits and bits[0] == "title":
            bits[0] = "title_string"
        clauses.append(" ".join(bits))
    return ", ".join(clauses)
