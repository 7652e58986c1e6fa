"""Chinese words typed into a Lucene-syntax query are searched as words (SPEC §6, search)."""
from __future__ import annotations

import unicodedata
from typing import Any, Optional

from ckanext.sharing.zh_search import cjk
from ckanext.sharing.zh_search import sort as pinyin_sort


def quote_cjk(q: str) -> str:
    """Quote bare query terms that hold CJK text and would analyse to more than one token.

    Why: CKAN sends a query containing ``:`` to Solr's Lucene parser, which ignores the schema's
    ``autoGeneratePhraseQueries``; ``title:人口普查`` would then match any title holding the bigrams
    人口, 口普 and 普查 anywhere. Quoting makes it the phrase (the word) the user typed. Terms next to
    wildcard/fuzzy/boost syntax, inside quotes or ranges, and local-parameter queries are left alone.
    """
    if not q or q.lstrip().startswith("{!") or "\\" in q or not cjk.CJK_CHAR.search(q):
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
        if c.isspace() or c in cjk.SYNTAX:
            out.append(c)
            i += 1
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in cjk.SYNTAX:
            j += 1
        term = q[i:j]
        before = q[i - 1] if i > 0 else " "
        after = q[j] if j < n else " "
        multi = len(cjk.CJK_RUN.findall(term)) > 1 or any(len(r) > 2 for r in cjk.CJK_RUN.findall(term)) or (
            cjk.CJK_CHAR.search(term) and cjk.LATIN_TERM.search(cjk.CJK_RUN.sub(" ", term))
        )
        if depth == 0 and multi and after not in "*?~^" and before not in "*?":
            out.append(f'"{term}"')
        else:
            out.append(term)
        i = j
    return "".join(out)


def query_terms(q: Optional[str]) -> list[str]:
    """The words of a user query worth highlighting: CJK runs of 2+ characters and Latin words.

    Field names, operators, single CJK characters (which the bigram index does not match inside
    words) and local-parameter queries give no terms.
    """
    if not q or not isinstance(q, str) or q.lstrip().startswith("{!") or q.strip() in ("*:*", '""', "''"):
        return []
    text = cjk.FIELD_PREFIX.sub(" ", unicodedata.normalize("NFKC", q))
    terms: list[str] = []
    for run in cjk.CJK_RUN.findall(text):
        if len(run) >= 2 and run not in terms:
            terms.append(run)
    for word in cjk.LATIN_TERM.findall(cjk.CJK_RUN.sub(" ", text)):
        if word not in cjk.OPERATORS and word.lower() not in (t.lower() for t in terms):
            terms.append(word)
    return terms[:20]


def before_dataset_search(search_params: dict[str, Any]) -> dict[str, Any]:
    """Quote multi-token CJK terms of Lucene-syntax queries; map ``title`` sorts to the pinyin key."""
    q = search_params.get("q")
    if isinstance(q, str) and q:
        search_params["q"] = quote_cjk(q)
    sort = search_params.get("sort")
    if isinstance(sort, str) and "title" in sort:
        search_params["sort"] = pinyin_sort.rewrite_sort(sort)
    return search_params
