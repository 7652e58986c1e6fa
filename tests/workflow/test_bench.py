"""bench/grants.py runs against a real database and reports its rows (a quick pass, so it cannot rot)."""
from __future__ import annotations

import pytest

from tests.bench_support import bench_ini, bench_module
from tests.workflow.support import PLUGINS, build_world

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def test_grants_bench_reports_its_rows(app, tmp_path, monkeypatch, ckan_config):
    """Grants bench reports its rows."""
    build_world(app)
    ini = bench_ini(tmp_path / "bench.ini", ckan_config, PLUGINS)
    monkeypatch.setenv("BENCH_GRANTS_QUICK", "1")
    grants = bench_module("grants")
    rows = {row[0]: row for row in grants.run(str(ini))}
    for metric in ("access check, 10,000 grants in database (µs)", "access check, grantee holds 10,000 grants (µs)"):
        _, one, many, note = rows[metric]
        assert one > 0 and many > 0 and note.startswith("ratio "), rows[metric]
    assert rows["audit ledger append + commit (µs, median)"][2] > 0
    assert any(m.startswith("download over HTTP: skipped") for m in rows)  # no portal served in the tests
