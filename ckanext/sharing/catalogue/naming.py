"""Readable dataset URL names for Chinese titles (SPEC §6): pinyin, else the resource code.

CKAN names allow only ``[a-z0-9_-]``; a Chinese title would give an empty or random slug. The
transliteration comes from pypinyin; collisions get ``-2``, ``-3`` ... (never a random suffix).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from pypinyin import Style, lazy_pinyin

from ckan import model

MAX_LENGTH = 90  # CKAN allows 100; leaves room for a collision suffix
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")


def _clean(text: str) -> str:
    text = _NOT_ALLOWED.sub("-", text.lower())
    text = _DASHES.sub("-", text).strip("-_")
    if len(text) > MAX_LENGTH:
        text = text[:MAX_LENGTH].rsplit("-", 1)[0] if "-" in text[:MAX_LENGTH] else text[:MAX_LENGTH]
    return text.strip("-_")


def slug(title: Any, res_code: Any = None) -> str:
    """A URL name from a title (each Chinese character → its pinyin syllable) or a resource code.

    ``人口基本信息`` → ``ren-kou-ji-ben-xin-xi``; Latin words and digits are kept. Falls back to
    ``res-<code>`` and finally ``dataset``: never empty.
    """
    if isinstance(title, str) and title.strip():
        # errors=...: keep non-Chinese runs (Latin, digits) as they are, split on anything else.
        syllables = lazy_pinyin(title.strip(), style=Style.NORMAL, errors=lambda chars: [chars])
        slug = _clean("-".join(s.strip() for s in syllables if s and s.strip()))
        if len(slug) >= 2:
            return slug
    if isinstance(res_code, str) and res_code.strip():
        slug = _clean("res-" + res_code.strip())
        if slug != "res":
            return slug
    return "dataset"


def unique_name(base: str, exclude_id: Optional[str] = None) -> str:
    """``base`` or ``base-2``, ``base-3``, ...: the first name no other dataset uses."""
    base = base or "dataset"
    candidate, n = base, 1
    while True:
        pkg = model.Session.query(model.Package.id).filter(model.Package.name == candidate).first()
        if pkg is None or pkg[0] == exclude_id:
            return candidate
        n += 1
        candidate = f"{base}-{n}"
