"""Readable dataset URL names for Chinese titles (SPEC §6): pinyin, else the resource code.

CKAN names allow only ``[a-z0-9_-]``; a Chinese title would give an empty or random slug. The
transliteration comes from pypinyin; collisions get ``-2``, ``-3`` ... (never a random suffix).
"""
from __future__ import annotations

import re
from typing import Any, Optional

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
        # imported here: loading its phrase dictionary would add ~0.4 s to every CKAN start (web, worker, CLI)
        from pypinyin import Style, lazy_pinyin

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
    """``base`` or ``base-2``, ``base-3``, ...: the first name no other dataset uses.

    Two indexed queries however many datasets share the title (a catalogue import brings hundreds of
    企业名录): the names from ``base`` up to ``base.`` (``.`` follows ``-``; in byte order these are ``base``
    and ``base-…``), then the chosen one checked exactly (under another collation the range is only a hint).
    """
    base = base or "dataset"
    name = model.Package.name
    taken = {
        found for found, pkg_id in model.Session.query(name, model.Package.id).filter(name >= base, name < base + ".")
        if pkg_id != exclude_id and (found == base or found.startswith(base + "-"))
    }
    while True:
        candidate = first_free(base, taken)
        pkg = model.Session.query(model.Package.id).filter(name == candidate).first()
        if pkg is None or pkg[0] == exclude_id:
            return candidate
        taken.add(candidate)


def first_free(base: str, taken: set[str]) -> str:
    """``base``, else ``base-2``, ``base-3`` …: the first that is not in ``taken``."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
