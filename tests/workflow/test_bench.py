"""bench/grants.py runs against a real database and reports its rows (a quick pass, so it cannot rot)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.workflow.support import PLUGINS, build_world

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def test_grants_bench_reports_its_rows(app, tmp_path, monkeypatch, ckan_config):
    """Grants bench reports its rows."""
    build_world(app)
    # run() hands the child only the ini (no CKAN_* variables): write the test database's settings into it
    ini = tmp_path / "bench.ini"
    keys = ("sqlalchemy.url", "ckan.datastore.write_url", "ckan.datastore.read_url", "solr_url", "ckan.redis.url",
            "ckan.storage_path")
    ini.write_text("[app:main]\nuse = config:{}\nckan.plugins = {}\nckan.site_url = http://127.0.0.1:9\n{}\n".format(
        ROOT / "test.ini", PLUGINS, "\n".join(f"{k} = {ckan_config[k]}" for k in keys)))
    monkeypatch.setenv("BENCH_GRANTS_QUICK", "1")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import grants
    finally:
        sys.path.remove(str(ROOT / "bench"))
    rows = {row[0]: row for row in grants.run(str(ini))}
    for metric in ("access check, 10,000 grants in database (µs)", "access check, grantee holds 10,000 grants (µs)"):
        _, one, many, note = rows[metric]
        assert one > 0 and many > 0 and note.startswith("ratio "), rows[metric]
    assert rows["audit ledger append + commit (µs, median)"][2] > 0
    assert any(m.startswith("download over HTTP: skipped") for m in rows)  # no portal served in the tests
