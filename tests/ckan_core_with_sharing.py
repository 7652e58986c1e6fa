"""Pytest plugin: run CKAN's own test-suite (``ckan.tests``) with ``sharing`` loaded in every test.

Used as ``pytest -p tests.ckan_core_with_sharing --pyargs ckan.tests.<package>`` (``make test-core``).
CKAN's tests normally run without plugins; here each test gets its own plugins plus activity,
datastore and sharing, and every database reset also applies the plugin migrations.
"""
from __future__ import annotations

import os

import pytest

import ckan.plugins as plugins

from tests.conftest import _reset_all

# SHARING_CORE_PLUGINS="activity datastore" gives the baseline run to compare against.
EXTRA = tuple(os.environ.get("SHARING_CORE_PLUGINS", "activity datastore sharing").split())


def pytest_configure(config: pytest.Config) -> None:
    """CKAN's own ``reset_db`` fixture returns ``ckan.tests.helpers.reset_db``: make that one apply
    the plugin migrations too (a fixture of the same name in a ``-p`` plugin does not win)."""
    from ckan.tests import helpers

    helpers.reset_db = _reset_all


@pytest.fixture(autouse=True)
def _sharing_loaded(ckan_config, monkeypatch):
    current = ckan_config.get("ckan.plugins") or []
    names = current.split() if isinstance(current, str) else list(current)
    names += [n for n in EXTRA if n not in names]
    monkeypatch.setitem(ckan_config, "ckan.plugins", names)
    plugins.load_all()
    yield
    plugins.unload_all()
