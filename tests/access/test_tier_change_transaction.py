"""A tier change, its ledger row and its workflow follow-up are one transaction (issue 9, SPEC §5)."""
from __future__ import annotations

import pytest

from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import events
from ckanext.sharing.model import SharingAudit, SharingRequest
from ckanext.sharing.workflow.states import REQUEST_PENDING

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "activity datastore sharing"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _conditional_with_pending_request() -> tuple[dict, dict, dict]:
    admin = factories.User()
    requester = factories.User()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"}])
    pkg = call_action("package_create", {"user": admin["name"]}, name="tx-ds", owner_org=org["id"],
                      sharing_tier="conditional", share_condition="仅限政务用途")
    call_action("sharing_request_create", {"user": requester["name"]}, package_id=pkg["id"],
                purpose="核对", use_scenario="协同办理", use_basis="条例第二十条", use_scope="本部门",
                share_method="接口", requested_days=30)
    return admin, pkg, org


def _tier_rows(pkg_id: str) -> list[SharingAudit]:
    return (model.Session.query(SharingAudit)
            .filter_by(package_id=pkg_id, action=events.TIER_CHANGE).order_by(SharingAudit.id).all())


def test_rolled_back_tier_change_leaves_no_ledger_row_and_no_cancellation():
    """A tier change whose transaction rolls back leaves no ledger row, and its requests stay pending."""
    admin, pkg, _ = _conditional_with_pending_request()
    assert len(_tier_rows(pkg["id"])) == 1  # the creation
    call_action("package_update", {"user": admin["name"], "defer_commit": True},
                **dict(pkg, sharing_tier="open", resources=[]))
    model.Session.rollback()
    model.Session.expire_all()
    assert len(_tier_rows(pkg["id"])) == 1
    assert model.Package.get(pkg["id"]).extras.get("sharing_tier") == "conditional"
    states = [r.state for r in model.Session.query(SharingRequest).filter_by(package_id=pkg["id"])]
    assert states == [REQUEST_PENDING]


def test_committed_tier_change_commits_its_row_and_follow_up_together():
    """A committed tier change has its ledger row and its cancelled requests in the same commit."""
    admin, pkg, _ = _conditional_with_pending_request()
    call_action("package_update", {"user": admin["name"]}, **dict(pkg, sharing_tier="open", resources=[]))
    model.Session.remove()
    rows = _tier_rows(pkg["id"])
    assert [(r.detail["old"], r.detail["new"]) for r in rows] == [(None, "conditional"), ("conditional", "open")]
    states = [r.state for r in model.Session.query(SharingRequest).filter_by(package_id=pkg["id"])]
    assert states == ["cancelled"]
