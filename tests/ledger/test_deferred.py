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
