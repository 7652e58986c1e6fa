"""bench/catalogue_import.py runs against a real database and reports one row per ``ckan.search.solr_commit``
setting (a quick pass on a few real records, so the ``make bench`` row cannot rot). Needs ../shared/data/cnpds."""
from __future__ import annotations

import re

import pytest

from tests.bench_support import bench_ini, bench_module
from tests.catalogue.transfer import files
from tests.catalogue.transfer.test_import import PLUGINS

pytestmark = [
    pytest.mark.skipif(files.cnpds_dir() is None, reason="../shared/data/cnpds (the real records) is absent"),
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def test_import_bench_reports_both_solr_commit_rows(tmp_path, ckan_config, monkeypatch):
    """Both rows (commit per write, no commit per write) report rates, and ours and ckanapi create the same rows."""
    ini = bench_ini(tmp_path / "bench.ini", ckan_config, PLUGINS)
    monkeypatch.setenv("SHARING_CNPDS_DIR", str(files.cnpds_dir()))
    catalogue_import = bench_module("catalogue_import")
    rows = catalogue_import.run(str(ini), records=40)
    assert [r[0] for r in rows] == [metric for _, metric, _ in catalogue_import.SETTINGS]
    for (value, _, _), (metric, theirs, ours, note) in zip(catalogue_import.SETTINGS, rows):
        assert theirs > 0 and ours > 0, (metric, note)
        assert f"ckan.search.solr_commit = {value}" in note
        created = re.search(r"ours created (\d+) in .*, ckanapi (\d+)/", note)
        assert created and int(created[1]) == int(created[2]) > 0, note
