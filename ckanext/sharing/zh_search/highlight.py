"""Matched terms highlighted in result titles and abstracts (``sharing_highlight``, HTML with ``<mark>``)."""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from markupsafe import Markup, escape

from ckanext.sharing.zh_search import cjk, query

SNIPPET = 180
TITLE_MAX = 80  # as CKAN's result list truncates titles


def _term_pattern(terms: Iterable[str]) -> Optional[re.Pattern[str]]:
    alts = []
    for term in sorted(set(terms), key=len, reverse=True):
        if cjk.CJK_CHAR.search(term):
            alts.append(re.escape(term))
        else:  # an English word: match its inflected forms too (the index stems them)
            stem = term[:-1] if len(term) > 3 and term.lower().endswith("s") else term
            alts.append(r"(?<![0-9A-Za-z])" + re.escape(stem) + r"[0-9A-Za-z]*")
    return re.compile("|".join(alts), re.IGNORECASE) if alts else None


def highlight(text: Optional[str], terms: Iterable[str]) -> Markup:
    """HTML-escaped ``text`` with every occurrence of ``terms`` wrapped in ``<mark>``."""
    text = text or ""
    pattern = _term_pattern(terms)
    if pattern is None:
        return escape(text)
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(str(escape(text[last:m.start()])))
        out.append(f'<mark class="sharing-hl">{escape(m.group(0))}</mark>')
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def snippet(text: Optional[str], terms: Iterable[str], length: int = SNIPPET) -> Markup:
    """A highlighted window of ``text`` (about ``length`` characters) around its first match."""
    plain = " ".join((text or "").split())
    pattern = _term_pattern(terms)
    start = 0
    if pattern is not None:
        m = pattern.search(plain)
        if m and m.end() > length:
            start = max(0, m.start() - length // 3)
    piece = plain[start:start + length]
    html = highlight(piece, terms)
    prefix = Markup("…") if start > 0 else Markup("")
    suffix = Markup("…") if start + length < len(plain) else Markup("")
    return prefix + html + suffix


def after_dataset_search(search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
    """Attach ``sharing_highlight`` (title and abstract snippet, HTML with ``<mark>``) to each result."""
    fl = search_params.get("fl")
    if fl and str(fl).split() not in (["id", "validated_data_dict"], ["id", "data_dict"]):
        return search_results  # a caller that chose its fields (``fl``) gets exactly those
    terms = query.query_terms(search_params.get("q"))
    if not terms:
        return search_results
    for pkg in search_results.get("results") or []:
        if not isinstance(pkg, dict) or "title" not in pkg:
            continue
        title = str(pkg.get("title") or pkg.get("name") or "")
        if len(title) > TITLE_MAX:
            title = title[: TITLE_MAX - 3] + "..."
        pkg["sharing_highlight"] = {
            "title": str(highlight(title, terms)),
            "notes": str(snippet(_plain(pkg.get("notes")), terms)),
        }
    return search_results


# Text holding none of these characters, and no line starting like a list, heading rule or quote, renders
# to itself in Markdown: CKAN's markdown_extract of it is the same words (issue 16: the Markdown pass was a
# tenth of an anonymous search's CPU; catalogue abstracts are plain text).
_MARKDOWN_CHARS = re.compile(r"[\\`*_\[\]<>&#!|~{}]")
_MARKDOWN_LINE = re.compile(r"(?m)^\s*(?:[-+=>]|\d+[.)])")


def _plain(notes: Any) -> str:
    """The abstract as plain text (it may be Markdown), as CKAN's result list shows it."""
    if not notes or not isinstance(notes, str):
        return ""
    if not _MARKDOWN_CHARS.search(notes) and not _MARKDOWN_LINE.search(notes):
        return notes  # snippet() folds the whitespace, as it does for markdown_extract's paragraphs
    try:
        from ckan.lib.helpers import markdown_extract

        return str(markdown_extract(notes, extract_length=0))
    except Exception:  # noqa: BLE001 - a rendering problem must not break a search
        return notes
