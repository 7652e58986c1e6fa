"""Deferred ledger appends (SPEC §5, §10): a batch writer's rows are appended, in order, when it asks,
and only those it keeps."""
from __future__ import annotations

import pytest

from ckan import model

from ckanext.sharing.ledger import chain
from ckanext.sharing.model import SharingAudit

from tests.workflow.support import PLUGINS

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db"),
]


def test_deferred_rows_are_appended_in_order_at_the_end():
    """With deferral on, append writes nothing; append_deferred writes the kept rows in call order and the
    chain verifies."""
    chain.append("test_before", detail={"n": 0})
    model.Session.commit()
    rows = chain.deferred_rows(model.Session)
    assert chain.append("test_event", detail={"n": 1}) is None
    chain.append("test_event", detail={"n": 2})
    chain.append("test_event", detail={"n": 3})
    del rows[2:]  # the third belonged to a change that was rolled back
    assert model.Session.query(SharingAudit).count() == 1
    assert chain.append_deferred(model.Session) == 2
    model.Session.commit()
    stored = [r.detail for r in model.Session.query(SharingAudit).order_by(SharingAudit.id)]
    assert stored == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert model.Session.info.get(chain.DEFERRED_KEY) is None
    chain.append("test_after", detail={"n": 4})  # deferral ended: appended at once
    model.Session.commit()
    ok, checked, problems = chain.verify()
    assert ok and checked == 4 and not problems


def test_a_batch_of_deferred_rows_is_one_append_that_verifies():
    """append_deferred writes 37 rows (details PostgreSQL renders differently: floats, key order, nesting)
    in two round trips, chained and leafed in order: the recomputed tree and chain match the stored head."""
    import sqlalchemy as sa

    from ckanext.sharing.ledger import tree, verification

    chain.append("test_before", detail={"n": -1})
    model.Session.commit()
    details = [{"n": n, "z": 1.50, "a": {"b": [n, None, "图"]}, "big": 2 ** 60 + n} for n in range(37)]
    chain.deferred_rows(model.Session)
    for n, detail in enumerate(details):
        chain.append("test_batch", actor_name=f"actor {n}", detail=detail)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(model.meta.engine, "before_cursor_execute", seen)
    try:
        assert chain.append_deferred(model.Session) == 37
    finally:
        sa.event.remove(model.meta.engine, "before_cursor_execute", seen)
    model.Session.commit()
    assert len([s for s in statements if "sharing_audit" in s]) == 2, statements
    rows = model.Session.query(SharingAudit).order_by(SharingAudit.leaf_index).all()
    assert [r.leaf_index for r in rows] == list(range(38))
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert [r.detail["n"] for r in rows] == list(range(-1, 37))
    assert [r.actor_name for r in rows[1:]] == [f"actor {n}" for n in range(37)]
    ok, checked, problems = chain.verify()
    assert ok and checked == 38 and not problems
    report = verification.verify_ledger([])
    assert report.ok, [p.message for p in report.problems[:5]]
    assert report.size == 38 and tree.read_head(model.Session).root == report.root
