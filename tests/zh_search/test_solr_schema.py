"""The CJK Solr schema: derived from the installed CKAN's schema, served by the real test core."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import requests

from ckanext.sharing.zh_search import solr_schema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _ckan_schema() -> str:
    with open(solr_schema.sharing_ckan_schema_path(), encoding="utf-8") as fh:
        return fh.read()


def _types(root: ET.Element) -> dict[str, ET.Element]:
    return {ft.get("name"): ft for ft in root.iter() if ft.tag in ("fieldType", "fieldtype")}


def _chain(analyzer: ET.Element) -> list[str]:
    return [el.get("class") for el in analyzer if el.tag in ("tokenizer", "filter")]


def test_generated_schema_keeps_ckan_name_fields_and_english_filters():
    """Generated schema keeps CKAN name fields and english filters."""
    stock = ET.fromstring(_ckan_schema().encode())
    gen_text = solr_schema.sharing_generate_schema(_ckan_schema())
    gen = ET.fromstring(gen_text.encode())

    # CKAN's version check reads the name attribute.
    assert gen.get("name") == stock.get("name") and gen.get("name", "").startswith("ckan-")
    assert gen.find("uniqueKey").text == "index_id"
    # Fields and copyFields are CKAN's, untouched.
    def fields(r):
        return sorted((f.tag, tuple(sorted(f.attrib.items()))) for f in r.iter() if f.tag in ("field", "dynamicField", "copyField"))
    assert fields(gen) == fields(stock)
    assert "Licensed to the Apache Software Foundation" in gen_text

    stock_types, gen_types = _types(stock), _types(gen)
    assert set(gen_types) == set(stock_types)
    for name in ("text", "text_general"):
        ft = gen_types[name]
        assert ft.get("autoGeneratePhraseQueries") == "true"
        for kind in ("index", "query"):
            g = _chain(ft.find(f"analyzer[@type='{kind}']"))
            s = _chain(stock_types[name].find(f"analyzer[@type='{kind}']"))
            assert g[:3] == ["solr.StandardTokenizerFactory", "solr.CJKWidthFilterFactory", "solr.CJKBigramFilterFactory"]
            # Every filter CKAN had (stemming, lower-casing, synonyms ...) is still there, in order.
            assert g[3:] == s[1:]
    assert "solr.SnowballPorterFilterFactory" in _chain(gen_types["text"].find("analyzer[@type='index']"))
    # Other types are CKAN's.
    def shape(el):
        return [(e.tag, sorted(e.attrib.items())) for e in el.iter() if isinstance(e.tag, str)]
    for name in set(stock_types) - {"text", "text_general"}:
        assert shape(gen_types[name]) == shape(stock_types[name]), name


def test_generator_refuses_a_schema_it_does_not_understand():
    """Generator refuses a schema it does not understand."""
    with pytest.raises(ValueError):
        solr_schema.sharing_generate_schema('<schema name="x"><types></types></schema>')
    odd = _ckan_schema().replace("solr.WhitespaceTokenizerFactory", "solr.KeywordTokenizerFactory")
    with pytest.raises(ValueError):
        solr_schema.sharing_generate_schema(odd)
    with pytest.raises(ValueError):
        solr_schema.sharing_generate_schema("<html/>")


def test_plain_module_entry_point_needs_no_ckan_ini(tmp_path):
    """Plain module entry point needs no CKAN ini."""
    out = tmp_path / "schema.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
    done = subprocess.run([sys.executable, "-m", "ckanext.sharing.zh_search.solr_schema", str(out)], env=env,
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == solr_schema.sharing_generate_schema(_ckan_schema())
    bad = subprocess.run([sys.executable, "-m", "ckanext.sharing.zh_search.solr_schema"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_cloud_variant_makes_version_a_docvalues_long_and_changes_nothing_else():
    """The SolrCloud schema declares _version_ a docValues plong (replicas read it back); every other line is the CJK schema's."""
    generated = solr_schema.sharing_generate_schema(_ckan_schema())
    cloud = solr_schema.sharing_cloud_schema(generated)
    fields = {f.get("name"): f for f in ET.fromstring(cloud.encode("utf-8")).iter("field")}
    version = fields["_version_"]
    assert (version.get("type"), version.get("docValues"), version.get("indexed"), version.get("stored")) == \
        ("plong", "true", "false", "false")
    assert _types(ET.fromstring(cloud.encode("utf-8")))["plong"].get("class") == "solr.LongPointField"
    assert [line for line in generated.splitlines() if "_version_" not in line] == \
        [line for line in cloud.splitlines() if "_version_" not in line]
    with pytest.raises(ValueError):
        solr_schema.sharing_cloud_schema(generated.replace('name="_version_"', 'name="_ver_"'))


def test_bin_stack_generates_the_same_schema():
    """Bin stack generates the same schema."""
    done = subprocess.run([os.path.join(ROOT, "bin", "stack"), "solr-schema"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip().splitlines()[-1]
    with open(path, encoding="utf-8") as fh:
        assert fh.read() == solr_schema.sharing_generate_schema(_ckan_schema())


@pytest.mark.ckan_config("ckan.plugins", "activity datastore sharing")
@pytest.mark.usefixtures("with_plugins")
def test_ckan_command_writes_the_schema(cli, tmp_path):
    """CKAN command writes the schema."""
    from ckanext.sharing.cli import sharing

    out = tmp_path / "cjk.xml"
    result = cli.invoke(sharing, ["solr-schema", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == solr_schema.sharing_generate_schema(_ckan_schema())


def test_test_core_serves_the_cjk_schema_and_passes_ckans_version_check():
    """Test core serves the cjk schema and passes CKAN's version check."""
    from ckan.common import config
    from ckan.lib.search import check_solr_schema_version

    url = config.get("solr_url").rstrip("/")
    served = requests.get(f"{url}/admin/file/", params={"file": "schema.xml"}, timeout=30).text
    assert "CJKBigramFilterFactory" in served
    assert check_solr_schema_version() is True

    # Solr's own analysis of an unspaced title: the words inside it are tokens now.
    resp = requests.get(f"{url}/analysis/field", params={
        "analysis.fieldtype": "text", "analysis.fieldvalue": "行业在岗人数统计 Population Statistics", "wt": "json"},
        timeout=30).json()
    stages = resp["analysis"]["field_types"]["text"]["index"]
    final = {t["text"] for t in stages[-1]}
    assert {"人数", "在岗", "统计", "行业", "popul", "statist"} <= final
    assert "行业在岗人数统计" not in final
