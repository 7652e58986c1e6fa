"""Test helpers for the quick passes over ``bench/*.py`` (so the ``make bench`` rows cannot rot)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parents[1]
# the test database's settings a bench child needs: bench scripts hand their children only the ini (no CKAN_*)
KEYS = ("sqlalchemy.url", "ckan.datastore.write_url", "ckan.datastore.read_url", "solr_url", "ckan.redis.url",
        "ckan.storage_path")


def bench_ini(path: Path, ckan_config: Mapping[str, Any], plugins: str) -> Path:
    """An ini at ``path`` on test.ini with the test database's settings and ``plugins``."""
    path.write_text("[app:main]\nuse = config:{}\nckan.plugins = {}\nckan.site_url = http://127.0.0.1:9\n{}\n".format(
        ROOT / "test.ini", plugins, "\n".join(f"{k} = {ckan_config[k]}" for k in KEYS)))
    return path


def bench_module(name: str) -> ModuleType:
    """``bench/<name>.py`` imported as bench/run.py imports it (the bench folder on the path while importing)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "bench"))
