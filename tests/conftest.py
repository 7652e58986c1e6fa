"""Test set-up shared by the whole suite.

The database is CKAN's own test database on the real PostgreSQL (see ``make test``); CKAN's
``reset_db`` only rebuilds core tables, so the plugin migrations (activity, sharing) are applied
after every reset, exactly as ``ckan db upgrade -p <plugin>`` would.
"""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy.orm import close_all_sessions

import ckanext.activity
import ckanext.sharing
from ckan import model
from ckan.tests import factories
from ckan.tests import helpers

# fixtures shared by the suite: live portals (tests/live.py) and browser tests (tests/browser.py)
from tests.browser import browser, journey, journey_log, pytest_runtest_makereport, screenshot  # noqa: F401
from tests.live import live_portal, live_portals, live_worker  # noqa: F401


_core_reset_db = helpers.reset_db


# The ledger's tables refuse UPDATE, DELETE and TRUNCATE (migration 0002); use reports (0004) keep their rows.
_APPEND_ONLY = ("sharing_audit", "sharing_audit_node", "sharing_audit_checkpoint", "sharing_use_report")


def _append_only_triggers(action: str) -> None:
    """CKAN's reset deletes every row of every model table, which the ledger refuses (as it must):
    around the reset its triggers are switched off, as the tables' owner may do."""
    close_all_sessions()
    with model.meta.engine.begin() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        for table in _APPEND_ONLY:
            if table in existing:
                conn.execute(sa.text(f"ALTER TABLE {table} {action} TRIGGER USER"))


def _reset_all() -> None:
    factories.fake.unique.clear()
    _append_only_triggers("DISABLE")
    _core_reset_db()
    _append_only_triggers("ENABLE")
    for module in (ckanext.activity, ckanext.sharing):
        _upgrade(os.path.join(os.path.dirname(module.__file__), "migration", module.__name__.split(".")[-1]))


def _upgrade(migration_dir: str) -> None:
    """``ckan db upgrade -p <plugin>`` without needing the plugin loaded at that moment."""
    cfg = AlembicConfig(os.path.join(migration_dir, "alembic.ini"))
    cfg.set_main_option("script_location", migration_dir)
    cfg.set_main_option("sqlalchemy.url", model.meta.engine.url.render_as_string(hide_password=False))
    alembic_command.upgrade(cfg, "head")


@pytest.fixture(scope="session")
def reset_db():
    """Replace CKAN's fixture: reset core tables, then bring plugin tables to head."""
    return _reset_all

