"""Delivery of approved data (Regulation Art. 22): ``delivery_due`` and ``delivered`` on every grant,
automatic for what the portal serves, ``sharing_grant_deliver`` for the rest, overdue flags once."""
from __future__ import annotations

import datetime as dt

import pytest

from ckan import model
from ckan.lib import jobs as ckan_jobs
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import events
from ckanext.sharing.workflow import clock, delivery, schedule

from tests.workflow.obligations_support import ledger_rows
from tests.workflow.support import PLUGINS, api, build_world, ctx, request_body
from tests.workflow.test_concurrency import _race

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _offline_grant(app, w, role: str = "requester") -> dict:
    """A grant on a conditional dataset with no resource on the portal (exchanged outside it)."""
    name = f"{w.pkgs['conditional']['name']}-offline-{role}"
    pkg = model.Package.get(name)
    if pkg is None:
        pkg_id = api(app, "package_create", w.tokens["admin_b"], name=name, owner_org=w.orgs["b"]["id"],
                     sharing_tier="conditional", share_condition="库表交换 only")["result"]["id"]
    else:
        pkg_id = pkg.id
    req = api(app, "sharing_request_create", w.tokens[role], **request_body(w, package_id=pkg_id))["result"]
    return api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]


def test_art22_delivery_due_automatic_and_recorded_delivery(app):
    """Art. 22: every grant is due for delivery 20 working days after approval; the portal's own data is delivered at approval, the rest by the deciders."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    served = api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]
    due = clock.add_workdays(clock.today(), 20)
    assert served["delivery_due"] == due.isoformat()
    assert served["delivered"]["method"] == "portal" and served["delivered"]["by"] == w.users["admin_b"]["id"]
    assert len(ledger_rows(events.GRANT_DELIVER, grant_id=served["id"])) == 1

    offline = _offline_grant(app, w, "colleague")
    assert offline["delivery_due"] == due.isoformat() and offline["delivered"] is None
    shown = api(app, "sharing_grant_show", w.tokens["colleague"], id=offline["id"])["result"]
    assert shown["delivered"] is None and shown["delivery_overdue"] is False

    ckan_jobs.get_queue().empty()
    done = api(app, "sharing_grant_deliver", w.tokens["admin_b"], id=offline["id"], method="库表交换",
               note="前置机 / front-end exchange server")["result"]
    assert done["delivered"]["method"] == "库表交换" and done["delivered"]["note"].startswith("前置机")
    assert [j.func_name for j in ckan_jobs.get_queue().jobs] == ["ckanext.sharing.workflow.delivery.notify_delivered"]
    assert len(ledger_rows(events.GRANT_DELIVER, grant_id=offline["id"])) == 1
    listed = api(app, "sharing_grant_list", w.tokens["colleague"], mine=True)["result"]["results"]
    assert {g["id"]: bool(g["delivered"]) for g in listed}[offline["id"]] is True
    again = api(app, "sharing_grant_deliver", w.tokens["admin_b"], status=409, id=offline["id"], method="接口")
    assert "id" in again["error"]


@pytest.mark.ckan_config("ckanext.sharing.delivery_working_days", "3")
def test_delivery_days_are_configuration(app):
    """Art. 22–23: the delivery deadline is ckanext.sharing.delivery_working_days working days."""
    w = build_world(app)
    grant = _offline_grant(app, w)
    assert grant["delivery_due"] == clock.add_workdays(clock.today(), 3).isoformat()


def test_overdue_deliveries_are_flagged_once(app):
    """Art. 22, 39: an undelivered grant past its due date gets one ledger row and one e-mail to the deciders, once."""
    w = build_world(app)
    late = _offline_grant(app, w)
    delivered = _offline_grant(app, w, "colleague")
    call_action("sharing_grant_deliver", ctx(w, "admin_b"), id=delivered["id"], method="接口")
    ckan_jobs.get_queue().empty()
    later = clock.now() + dt.timedelta(days=40)
    assert delivery.flag_overdue(later) == [late["id"]]
    assert [j.func_name for j in ckan_jobs.get_queue().jobs] == ["ckanext.sharing.workflow.delivery.notify_overdue"]
    assert delivery.flag_overdue(later) == []
    assert len(ledger_rows(events.DELIVERY_OVERDUE, grant_id=late["id"])) == 1
    assert ledger_rows(events.DELIVERY_OVERDUE, grant_id=delivered["id"]) == []
    # the scheduled job reports it under its own key (and does not flag it again)
    assert schedule.expire_and_remind()["deliveries_overdue"] == []


def test_only_the_providers_deciders_deliver(app):
    """sharing_grant_deliver: 403 for anonymous, a plain user, an editor, another organization's admin and the grantee."""
    w = build_world(app)
    grant = _offline_grant(app, w)
    for role in (None, "plain", "editor_b", "admin_c", "requester", "member_b"):
        resp = api(app, "sharing_grant_deliver", w.tokens[role] if role else None, status=403, id=grant["id"],
                   method="接口")
        assert resp["error"]["__type"] == "Authorization Error", role
    assert "method" in api(app, "sharing_grant_deliver", w.tokens["admin_b"], status=409, id=grant["id"],
                           method="email")["error"]
    api(app, "sharing_grant_deliver", w.tokens["admin_b"], status=404, id="no-such-grant", method="接口")
    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant["id"], reason="ended")
    assert "id" in api(app, "sharing_grant_deliver", w.tokens["admin_b"], status=409, id=grant["id"],
                       method="接口")["error"]


def test_simultaneous_deliveries_end_in_one(app):
    """Two deciders recording one delivery at once: one succeeds, the other is refused (row lock), one ledger row."""
    w = build_world(app)
    for role in ("requester", "colleague", "plain"):
        grant = _offline_grant(app, w, role)
        results = _race(app, [
            ("sharing_grant_deliver", {"user": w.users["admin_b"]["name"]}, {"id": grant["id"], "method": "接口"}),
            ("sharing_grant_deliver", {"user": w.users["sysadmin"]["name"]}, {"id": grant["id"], "method": "库表交换"}),
        ])
        assert sorted(r[0] for r in results) == ["invalid", "ok"], results
        assert len(ledger_rows(events.GRANT_DELIVER, grant_id=grant["id"])) == 1
