"""Test set-up shared by the whole suite.

The database is CKAN's own test database on the real PostgreSQL (see ``make test``); CKAN's
``reset_db`` only rebuilds core tables, so the plugin migrations (activity, sharing) are applied
after every reset, exactly as ``ckan db upgrade -p <plugin>`` would.
"""
from __future__ import annotations

import pytest

from ckan.cli.db import _run_migrations
from ckan.tests import factories
from ckan.tests import helpers


def _reset_all() -> None:
    factories.fake.unique.clear()
    helpers.reset_db()
    for plugin in ("activity", "sharing"):
        _run_migrations(plugin)


@pytest.fixture(scope="session")
def reset_db():
    """Replace CKAN's fixture: reset core tables, then bring plugin tables to head."""
    return _reset_all
