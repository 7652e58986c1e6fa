"""``sharing_change_reason`` is validated before it reaches the ledger (issue 10, hole 7)."""
from __future__ import annotations

import pytest

from ckanext.sharing.ledger import chain
from ckanext.sharing.model import SharingAudit
from ckan import model

from tests.workflow.support import PLUGINS, api, build_world

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


@pytest.mark.parametrize("reason", [1.1, {"a": 1}, ["x"], "x" * 2001, "a\x00b", "\ud800"])
def test_bad_change_reason_is_refused_naming_the_field(app, reason):
    """A reason that is not a bounded storable string is a 409 naming sharing_change_reason."""
    w = build_world(app)
    pkg = w.pkgs["conditional"]
    before = model.Session.query(SharingAudit).count()
    err = api(app, "package_patch", w.tokens["admin_b"], status=409, id=pkg["id"], sharing_tier="open",
              sharing_change_reason=reason)["error"]
    assert "sharing_change_reason" in err
    assert model.Session.query(SharingAudit).count() == before
    assert chain.verify()[0]


def test_good_change_reason_is_recorded_and_verifies(app):
    """A string reason is stored in the tier-change row and the chain still verifies."""
    w = build_world(app)
    api(app, "package_patch", w.tokens["admin_b"], id=w.pkgs["conditional"]["id"], sharing_tier="open",
        sharing_change_reason="  公开 / made open  ")
    row = model.Session.query(SharingAudit).filter_by(action="tier_change").order_by(SharingAudit.id.desc()).first()
    assert row.detail["reason"] == "公开 / made open"
    assert chain.verify()[0]
