"""Search-side behaviour: facets, query handling and index enrichment for Chinese text.

The Solr side (CJK bigram analysis) is :mod:`ckanext.sharing.solr_schema`; this module adds what the
analyser alone cannot give: Chinese words typed into a Lucene-syntax query are searched as words,
the "name"/"title" sorts follow pinyin order, catalogue fields (provider, data items) are searchable,
and results carry the matched terms highlighted in title and abstract.

(Access masking of the index lives in :mod:`ckanext.sharing.masking`; this module never decides access.)
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Iterable, Optional

import ckan.plugins.toolkit as tk
from markupsafe import Markup, escape

__all__ = [
    "sharing_sort_key",
    "sharing_quote_cjk",
    "sharing_query_terms",
    "sharing_highlight",
    "sharing_snippet",
    "dataset_facets",
    "before_dataset_search",
    "before_dataset_index",
    "after_dataset_search",
]

# Han (incl. extensions and compatibility ideographs), Kana and Hangul: the scripts Solr's
# CJKBigramFilter turns into bigrams.
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002ffff"
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
# Characters with a meaning in Lucene query syntax: a bare term ends at any of them.
_SYNTAX = set('+-&|!(){}[]^"~*?:\\/')
_LATIN_TERM = re.compile(r"[0-9A-Za-z][0-9A-Za-z_]+")
_FIELD_PREFIX = re.compile(r"[\w.]+:")
_OPERATORS = {"AND", "OR", "NOT", "TO"}
_SORT_KEY_MAX = 240
_SNIPPET = 180
_TITLE_MAX = 80  # as CKAN's result list truncates titles


# --- sorting --------------------------------------------------------------------------------

def sharing_sort_key(text: Optional[str]) -> str:
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
        if _HAN_RUN.fullmatch(chunk):  # pinyin unknown for this character: keep it as is
            parts.append(chunk)
        elif chunk and chunk[-1].isdigit() and chunk[:-1].isalpha() and chunk.isascii() and chunk.islower():
            parts.append(chunk)
        else:
            parts.append("".join(c for c in chunk.lower() if c.isalnum()))
    key = "".join(parts)
    return f"{key} {norm}"[:_SORT_KEY_MAX]


def _rewrite_sort(sort: str) -> str:
    """``title asc`` cannot sort (title is analysed text): use the pinyin key in ``title_string``."""
    clauses = []
    for clause in sort.split(","):
        bits = clause.split()
        if bits and bits[0] == "title":
            bits[0] = "title_string"
        clauses.append(" ".join(bits))
    return ", ".join(clauses)


# --- query ------------------------------------------------------------------------------------

def sharing_quote_cjk(q: str) -> str:
    """Quote bare query terms that hold CJK text and would analyse to more than one token.

    Why: CKAN sends a query containing ``:`` to Solr's Lucene parser, which ignores the schema's
    ``autoGeneratePhraseQueries``; ``title:人口普查`` would then match any title holding the bigrams
    人口, 口普 and 普查 anywhere. Quoting makes it the phrase (the word) the user typed. Terms next to
    wildcard/fuzzy/boost syntax, inside quotes or ranges, and local-parameter queries are left alone.
    """
    if not q or q.lstrip().startswith("{!") or "\\" in q or not _CJK_CHAR.search(q):
        return q
    out: list[str] = []
    i, n = 0, len(q)
    in_quote = False
    depth = 0  # inside [..] or {..} ranges
    while i < n:
        c = q[i]
        if in_quote:
            out.append(c)
            if c == '"':
                in_quote = False
            i += 1
            continue
        if c == '"':
            in_quote = True
            out.append(c)
            i += 1
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth = max(0, depth - 1)
        if c.isspace() or c in _SYNTAX:
            out.append(c)
            i += 1
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in _SYNTAX:
            j += 1
        term = q[i:j]
        before = q[i - 1] if i > 0 else " "
        after = q[j] if j < n else " "
        multi = len(_CJK_RUN.findall(term)) > 1 or any(len(r) > 2 for r in _CJK_RUN.findall(term)) or (
            _CJK_CHAR.search(term) and _LATIN_TERM.search(_CJK_RUN.sub(" ", term))
        )
        if depth == 0 and multi and after not in "*?~^" and before not in "*?":
            out.append(f'"{term}"')
        else:
            out.append(term)
        i = j
    return "".join(out)


def sharing_query_terms(q: Optional[str]) -> list[str]:
    """The words of a user query worth highlighting: CJK runs of 2+ characters and Latin words.

    Field names, operators, single CJK characters (which the bigram index does not match inside
    words) and local-parameter queries give no terms.
    """
    if not q or not isinstance(q, str) or q.lstrip().startswith("{!") or q.strip() in ("*:*", '""', "''"):
        return []
    text = _FIELD_PREFIX.sub(" ", unicodedata.normalize("NFKC", q))
    terms: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) >= 2 and run not in terms:
            terms.append(run)
    for word in _LATIN_TERM.findall(_CJK_RUN.sub(" ", text)):
        if word not in _OPERATORS and word.lower() not in (t.lower() for t in terms):
            terms.append(word)
    return terms[:20]


def _term_pattern(terms: Iterable[str]) -> Optional[re.Pattern[str]]:
    alts = []
    for term in sorted(set(terms), key=len, reverse=True):
        if _CJK_CHAR.search(term):
            alts.append(re.escape(term))
        else:  # an English word: match its inflected forms too (the index stems them)
            stem = term[:-1] if len(term) > 3 and term.lower().endswith("s") else term
            alts.append(r"(?<![0-9A-Za-z])" + re.escape(stem) + r"[0-9A-Za-z]*")
    return re.compile("|".join(alts), re.IGNORECASE) if alts else None


def sharing_highlight(text: Optional[str], terms: Iterable[str]) -> Markup:
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


def sharing_snippet(text: Optional[str], terms: Iterable[str], length: int = _SNIPPET) -> Markup:
    """A highlighted window of ``text`` (about ``length`` characters) around its first match."""
    plain = " ".join((text or "").split())
    pattern = _term_pattern(terms)
    start = 0
    if pattern is not None:
        m = pattern.search(plain)
        if m and m.end() > length:
            start = max(0, m.start() - length // 3)
    piece = plain[start:start + length]
    html = sharing_highlight(piece, terms)
    prefix = Markup("…") if start > 0 else Markup("")
    suffix = Markup("…") if start + length < len(plain) else Markup("")
    return prefix + html + suffix


# --- IFacets / IPackageController --------------------------------------------------------------

def dataset_facets(facets: dict[str, Any], package_type: str) -> dict[str, Any]:
    facets["sharing_tier"] = tk._("Sharing tier")
    return facets


def before_dataset_search(search_params: dict[str, Any]) -> dict[str, Any]:
    """Quote multi-token CJK terms of Lucene-syntax queries; map ``title`` sorts to the pinyin key."""
    q = search_params.get("q")
    if isinstance(q, str) and q:
        search_params["q"] = sharing_quote_cjk(q)
    sort = search_params.get("sort")
    if isinstance(sort, str) and "title" in sort:
        search_params["sort"] = _rewrite_sort(sort)
    return search_params


def _data_item_text(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                out.extend(str(item[k]) for k in ("item_name", "item_description") if item.get(k))
            elif isinstance(item, str):
                out.append(item)
    return out


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Pinyin sort key in ``title_string``; provider and data-item names into the catch-all ``text``.

    Runs after masking, and adds nothing that holds a resource URL.
    """
    title = pkg_dict.get("title")
    if isinstance(title, str) and title:
        pkg_dict["title_string"] = sharing_sort_key(title)

    extra: list[str] = []
    try:
        data = json.loads(pkg_dict.get("validated_data_dict") or "{}")
    except ValueError:
        data = {}
    org = data.get("organization") if isinstance(data, dict) else None
    if isinstance(org, dict) and org.get("title"):
        extra.append(str(org["title"]))
    items = pkg_dict.get("data_items")
    if items is None and isinstance(data, dict):
        items = data.get("data_items")
    extra.extend(_data_item_text(items))
    if isinstance(pkg_dict.get("data_items"), list):
        # A list of dicts cannot go into Solr's catch-all string field; the names are in text
        # and the full items stay in validated_data_dict.
        pkg_dict.pop("data_items")
    if extra:
        current = pkg_dict.get("text")
        base = current if isinstance(current, list) else ([current] if current else [])
        pkg_dict["text"] = base + extra
    return pkg_dict


def label_tier_facet(search_results: dict[str, Any]) -> None:
    """The ``sharing_tier`` facet shows translated tier names (按需共享 / On request), with or without scheming."""
    from ckanext.sharing.helpers import sharing_tier_label

    facet = (search_results.get("search_facets") or {}).get("sharing_tier") or {}
    for item in facet.get("items") or []:
        item["display_name"] = sharing_tier_label(item.get("name"))


def after_dataset_search(search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
    """Attach ``sharing_highlight`` (title and abstract snippet, HTML with ``<mark>``) to each result."""
    label_tier_facet(search_results)
    fl = search_params.get("fl")
    if fl and str(fl).split() not in (["id", "validated_data_dict"], ["id", "data_dict"]):
        return search_results  # a caller that chose its fields (``fl``) gets exactly those
    terms = sharing_query_terms(search_params.get("q"))
    if not terms:
        return search_results
    for pkg in search_results.get("results") or []:
        if not isinstance(pkg, dict) or "title" not in pkg:
            continue
        title = str(pkg.get("title") or pkg.get("name") or "")
        if len(title) > _TITLE_MAX:
            title = title[: _TITLE_MAX - 3] + "..."
        pkg["sharing_highlight"] = {
            "title": str(sharing_highlight(title, terms)),
            "notes": str(sharing_snippet(_plain(pkg.get("notes")), terms)),
        }
    return search_results


def _plain(notes: Any) -> str:
    """The abstract as plain text (it may be Markdown), as CKAN's result list shows it."""
    if not notes or not isinstance(notes, str):
        return ""
    try:
        from ckan.lib.helpers import markdown_extract

        return str(markdown_extract(notes, extract_length=0))
    except Exception:  # noqa: BLE001 - a rendering problem must not break a search
        return notes
