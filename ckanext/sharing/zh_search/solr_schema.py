"""A CJK-aware Solr schema, derived from the schema.xml of the installed CKAN.

Why: CKAN's ``text`` and ``text_general`` field types split on whitespace only, so an unspaced
Chinese title (行业在岗人数统计) is one token and searching 人数 finds nothing. This module rewrites
just the tokenizer of those analysers: Lucene's StandardTokenizer (UAX#29: every Han character is
its own token), then CJKWidthFilter (full-width Latin, half-width Katakana) and CJKBigramFilter
(adjacent Han/Kana/Hangul characters become overlapping bigrams). Every other filter of CKAN's
chain is kept in place, so English is still split, case-folded and stemmed as before, and the
schema ``name`` (CKAN's version check) is untouched. Because the schema is produced from the
installed CKAN at set-up time, a CKAN upgrade carries over.

The analysers set ``autoGeneratePhraseQueries``, so a Chinese word of n characters is queried as a
phrase of its n-1 bigrams: it matches exactly the texts that contain the word, not texts that
merely share some of its characters.

Usage: ``python -m ckanext.sharing.zh_search.solr_schema OUT`` (no ckan.ini needed) or
``ckan sharing solr-schema OUT``.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import sys
import xml.etree.ElementTree as ET
from typing import Iterable, Optional

__all__ = [
    "SHARING_SCHEMA_REVISION",
    "SHARING_CJK_FIELD_TYPES",
    "sharing_ckan_schema_path",
    "sharing_cloud_schema",
    "sharing_generate_schema",
    "sharing_write_schema",
]

#: Bump when the transformation changes, so bin/stack regenerates the cores' schemas.
SHARING_SCHEMA_REVISION = "1"

#: The field types of CKAN's schema whose analysers become CJK-aware. ``text`` serves title,
#: notes, the catch-all ``text`` field and ``extras_*``; ``text_general`` serves author,
#: maintainer and resource names/descriptions.
SHARING_CJK_FIELD_TYPES = ("text", "text_general")

_WHITESPACE = "solr.WhitespaceTokenizerFactory"
_MARKER = "ckanext-sharing CJK schema"


def sharing_ckan_schema_path() -> str:
    """Path of ``config/solr/schema.xml`` inside the installed ``ckan`` package (import-free of config)."""
    import importlib.util

    spec = importlib.util.find_spec("ckan")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ckan package is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "config", "solr", "schema.xml")


def _cjk_filters() -> list[ET.Element]:
    width = ET.Element("filter", {"class": "solr.CJKWidthFilterFactory"})
    bigram = ET.Element(
        "filter",
        {
            "class": "solr.CJKBigramFilterFactory",
            "han": "true",
            "hiragana": "true",
            "katakana": "true",
            "hangul": "true",
            "outputUnigrams": "false",
        },
    )
    return [width, bigram]


def _rewrite_analyzer(analyzer: ET.Element) -> None:
    """Swap the whitespace tokenizer for StandardTokenizer + CJK width/bigram filters, keep the rest."""
    children = list(analyzer)
    for idx, child in enumerate(children):
        if child.tag == "tokenizer":
            if child.get("class") not in (_WHITESPACE, "solr.StandardTokenizerFactory"):
                raise ValueError(f"unexpected tokenizer {child.get('class')!r} in CKAN's schema")
            child.attrib.clear()
            child.set("class", "solr.StandardTokenizerFactory")
            child.set("maxTokenLength", "255")
            for offset, flt in enumerate(_cjk_filters(), start=1):
                analyzer.insert(idx + offset, flt)
            return
    raise ValueError("analyzer without a tokenizer in CKAN's schema")


def _field_types(root: ET.Element) -> Iterable[ET.Element]:
    for parent in [root, *root.findall("types")]:
        for el in parent:
            if el.tag in ("fieldType", "fieldtype"):
                yield el


def sharing_generate_schema(ckan_schema_xml: str | bytes) -> str:
    """Return the CJK-aware schema text derived from the given CKAN schema.xml text.

    Raises ValueError if the CKAN schema no longer has the shape this transformation expects
    (so an incompatible CKAN upgrade fails loudly at set-up instead of silently searching badly).
    """
    data = ckan_schema_xml.encode("utf-8") if isinstance(ckan_schema_xml, str) else ckan_schema_xml
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.fromstring(data, parser=parser)
    if root.tag != "schema":
        raise ValueError("not a Solr schema.xml")
    found: set[str] = set()
    for ft in _field_types(root):
        name = ft.get("name")
        if name not in SHARING_CJK_FIELD_TYPES:
            continue
        analyzers = ft.findall("analyzer")
        if not analyzers:
            raise ValueError(f"field type {name!r} has no analyzer")
        for analyzer in analyzers:
            _rewrite_analyzer(analyzer)
        ft.set("autoGeneratePhraseQueries", "true")
        found.add(name)
    missing = set(SHARING_CJK_FIELD_TYPES) - found
    if missing:
        raise ValueError(f"CKAN's schema has no field type(s) {sorted(missing)}")

    digest = hashlib.sha1(data).hexdigest()[:12]
    root.insert(
        0,
        ET.Comment(
            f" {_MARKER} rev {SHARING_SCHEMA_REVISION}, generated by ckanext.sharing.zh_search.solr_schema from CKAN's "
            f"schema.xml (sha1 {digest}). Do not edit: regenerate with `ckan sharing solr-schema`. "
        ),
    )
    ET.indent(root, space="    ")
    buf = io.StringIO()
    ET.ElementTree(root).write(buf, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8" ?>\n' + _prolog_comments(data) + buf.getvalue() + "\n"


def sharing_cloud_schema(schema_xml: str) -> str:
    """The schema for SolrCloud: ``schema_xml`` with ``_version_`` as a docValues long (SPEC §8).

    CKAN's schema declares ``_version_`` a string. A single node never reads it back, but a SolrCloud
    replica looks up the stored version of a document it is sent again (``VersionInfo.getVersionFromIndex``
    needs ``longVal``): with a string the replica answers the leader's forwarded update with an
    ``UnsupportedOperationException``, goes into recovery and fails to recover the same way, and searches miss
    documents. Only the SolrCloud configset gets this variant (its collections are created new on every start);
    single-node cores keep CKAN's field, so their existing indexes stay readable."""
    text = re.sub(r"<field\s+name=\"_version_\"[^>]*/>",
                  '<field name="_version_" type="plong" indexed="false" stored="false" docValues="true" />',
                  schema_xml, count=1)
    if text == schema_xml:
        raise ValueError("the schema has no <field name=\"_version_\" .../> to rewrite for SolrCloud")
    if not re.search(r"<fieldType\s+name=\"plong\"\s+class=\"solr\.LongPointField\"", text):
        raise ValueError("the schema has no plong (LongPointField) field type for SolrCloud's _version_")
    return text


def _prolog_comments(data: bytes) -> str:
    """The comments before ``<schema`` (CKAN's licence header), which ElementTree does not keep."""
    text = data.decode("utf-8", "replace")
    head = text[: text.find("<schema")] if "<schema" in text else ""
    comments = [m.group(0) for m in re.finditer(r"<!--.*?-->", head, re.S)]
    return "".join(c + "\n" for c in comments)


def sharing_write_schema(out: str, source: Optional[str] = None) -> str:
    """Generate from ``source`` (default: the installed CKAN's schema) into ``out`` ('-' = stdout)."""
    src = source or sharing_ckan_schema_path()
    with open(src, "rb") as fh:
        text = sharing_generate_schema(fh.read())
    if out == "-":
        sys.stdout.write(text)
        return out
    tmp = f"{out}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    return out


def _main(argv: list[str]) -> int:
    if argv[:1] == ["--cloud"] and len(argv) == 3:  # --cloud IN OUT: the SolrCloud variant of a schema file
        try:
            with open(argv[1], encoding="utf-8") as fh:
                text = sharing_cloud_schema(fh.read())
            with open(argv[2], "w", encoding="utf-8") as fh:
                fh.write(text)
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"solr_schema: {exc}\n")
            return 1
        return 0
    if len(argv) not in (1, 2) or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python -m ckanext.sharing.zh_search.solr_schema OUT [CKAN_SCHEMA_XML]\n"
                         "       python -m ckanext.sharing.zh_search.solr_schema --cloud SCHEMA_XML OUT\n")
        return 2
    try:
        sharing_write_schema(argv[0], argv[1] if len(argv) == 2 else None)
    except (OSError, ValueError, ET.ParseError, RuntimeError) as exc:
        sys.stderr.write(f"solr_schema: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
