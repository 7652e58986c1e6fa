"""Migration 0002 on a ledger that already has rows (as every running portal has): the rows are
numbered in id order, their tree is built once and verifies, and the old chain still verifies."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import ckanext.sharing
from ckan import model

from ckanext.sharing.ledger import chain, events, tree, verification

pytestmark = pytest.mark.usefixtures("clean_db")


def _alembic() -> Config:
    migrations = os.path.join(os.path.dirname(ckanext.sharing.__file__), "migration", "sharing")
    cfg = Config(os.path.join(migrations, "alembic.ini"))
    cfg.set_main_option("script_location", migrations)
    cfg.set_main_option("sqlalchemy.url", model.meta.engine.url.render_as_string(hide_password=False))
    return cfg


def test_upgrade_builds_the_tree_over_existing_rows():
    """Rows written before 0002 (with gaps in their ids) get positions 0…n-1 and a tree that verifies."""
    model.Session.remove()
    command.downgrade(_alembic(), "0001sharing")
    prev = chain.GENESIS
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    with model.meta.engine.begin() as conn:
        for n, row_id in enumerate((3, 4, 9, 10, 11, 20, 21)):
            row = {"id": row_id, "created": start + dt.timedelta(minutes=n), "actor_id": None, "actor_name": "old",
                   "action": events.TIER_CHANGE, "package_id": "p", "resource_id": None, "organization_id": "o",
                   "request_id": None, "grant_id": None, "detail": {"old": "open", "new": "conditional", "n": n}}
            h = chain.row_hash(row, prev)
            conn.execute(sa.text(
                "INSERT INTO sharing_audit (id, created, actor_name, action, package_id, organization_id, detail, "
                "prev_hash, hash) VALUES (:id, :created, :actor_name, :action, :package_id, :organization_id, "
                "CAST(:detail AS jsonb), :prev, :hash)"), dict(row, detail=json.dumps(row["detail"]), prev=prev, hash=h))
            prev = h
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('sharing_audit', 'id'), 21)"))
    command.upgrade(_alembic(), "head")
    positions = model.Session.execute(sa.text("SELECT id, leaf_index FROM sharing_audit ORDER BY id")).all()
    assert [tuple(p) for p in positions] == [(3, 0), (4, 1), (9, 2), (10, 3), (11, 4), (20, 5), (21, 6)]
    assert tree.read_head(model.Session).size == 7
    chain.append(events.DATA_ACCESS, actor_name="new")  # appends go on from there
    model.Session.commit()
    report = verification.verify_ledger([])
    assert report.ok, [p.message for p in report.problems]
    assert report.size == 8 and chain.verify()[0]
