"""Two deciders acting on the same request at the same moment end in exactly one decision and at
most one grant (row lock on the request + unique grant per request), and the ledger stays one chain."""
from __future__ import annotations

import threading

import pytest

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import chain as audit, events
from ckanext.sharing.model import SharingGrant, SharingRequest

from tests.workflow.support import PLUGINS, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _race(app, calls: list[tuple[str, dict, dict]]) -> list[tuple[str, object]]:
    """Run the actions in parallel threads (own DB sessions), released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object]] = [("", None)] * len(calls)

    def run(i: int, action: str, context: dict, body: dict) -> None:
        with app.flask_app.test_request_context():
            try:
                barrier.wait(timeout=10)
                results[i] = ("ok", tk.get_action(action)(context, body))
            except tk.ValidationError as e:
                results[i] = ("invalid", e.error_dict)
            except Exception as e:  # noqa: BLE001 - anything else is a failure the test reports
                results[i] = ("error", repr(e))
            finally:
                model.Session.remove()

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.parametrize("second", ["sharing_request_reject", "sharing_request_approve"])
def test_simultaneous_decisions_end_in_one(app, second):
    """Simultaneous decisions end in one."""
    w = build_world(app)
    for _ in range(4):
        req = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
        body2 = {"id": req["id"], "reason": "同时 / at once"} if second.endswith("reject") else {"id": req["id"]}
        results = _race(app, [
            ("sharing_request_approve", {"user": w.users["admin_b"]["name"]}, {"id": req["id"]}),
            (second, {"user": w.users["sysadmin"]["name"]}, body2),
        ])
        outcomes = sorted(r[0] for r in results)
        assert outcomes == ["invalid", "ok"], results
        loser = next(r[1] for r in results if r[0] == "invalid")
        assert "id" in loser
        model.Session.expire_all()
        state = model.Session.get(SharingRequest, req["id"]).state
        grants = model.Session.query(SharingGrant).filter_by(request_id=req["id"]).all()
        assert len(grants) == (1 if state == "approved" else 0)
        assert state in ("approved", "rejected")
        decisions = call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.REQUEST_APPROVE)["results"] + \
            call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.REQUEST_REJECT)["results"]
        assert len([d for d in decisions if d["request_id"] == req["id"]]) == 1
        for grant in grants:  # free the requester for the next round
            call_action("sharing_grant_revoke", ctx(w, "admin_b"), id=grant.id, reason="next round")
    assert audit.verify()[0]


def test_concurrent_requests_by_the_same_user_make_one(app):
    """Concurrent requests by the same user make one."""
    w = build_world(app)
    body = request_body(w)
    user = {"user": w.users["requester"]["name"]}
    results = _race(app, [("sharing_request_create", dict(user), dict(body)) for _ in range(4)])
    assert sorted(r[0] for r in results) == ["invalid", "invalid", "invalid", "ok"], results
    assert model.Session.query(SharingRequest).filter_by(state="pending").count() == 1
    assert audit.verify()[0]
