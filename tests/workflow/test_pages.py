"""The workflow's pages over HTTP with a logged-in browser session: request form, my requests,
review queue (overdue first), decision page, grants with revoke; CSRF-protected forms."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from ckan import model
from ckan.tests.helpers import call_action

from ckanext.sharing.model import SharingGrant, SharingRequest

from tests.workflow.support import ART20_FIELDS, PLUGINS, build_world, csrf_token, ctx, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _enforce_csrf(endpoint_module: str, name: str) -> None:
    """CKAN exempts a view from CSRF for good once any request logged in by API token reaches it
    (ckan/config/middleware/flask_app.py); undo that for our view so the check is really made here."""
    from ckan.config.middleware.flask_app import csrf

    csrf._exempt_views.discard(f"{endpoint_module}.{name}")


def test_request_form_dashboard_and_withdraw(app):
    """Request form dashboard and withdraw."""
    w = build_world(app)
    pkg = w.pkgs["conditional"]
    url = f"/dataset/{pkg['name']}/request-access"

    anon = app.get(url, headers={"Accept": "text/html"})
    assert "Log in to request access" in anon.body and 'name="purpose"' not in anon.body
    # an anonymous POST goes to the login page, creating nothing
    app.post(url, data={"purpose": "p", "use_scenario": "u"}, follow_redirects=False, status=302)

    login(app, w, "requester")
    page = app.get(url, headers={"Accept": "text/html"})
    assert 'id="sharing-request-form"' in page.body
    for res in ("link", "upload", "table"):
        assert f'value="{w.res[res]["id"]}"' in page.body
    token = csrf_token(page.body)

    _enforce_csrf("ckanext.sharing.views", "request_access")
    app.post(url, data={"purpose": "p", "use_scenario": "u", "requested_days": "30"}, status=400)

    bad = app.post(url, data={"_csrf_token": token, "purpose": " ", "use_scenario": "u", "requested_days": "0"})
    assert 'data-field="purpose"' in bad.body and 'data-field="requested_days"' in bad.body
    assert model.Session.query(SharingRequest).count() == 0

    done = app.post(url, data={"_csrf_token": token, "purpose": "统计分析", "use_scenario": "季度报告",
                               **ART20_FIELDS, "requested_days": "20", "resource_ids": [w.res["upload"]["id"]]},
                    follow_redirects=False, status=302)
    assert done.headers["Location"].endswith("/dashboard/access-requests")
    req = model.Session.query(SharingRequest).one()
    assert (req.purpose, req.requested_days, req.resource_ids) == ("统计分析", 20, [w.res["upload"]["id"]])

    assert 'href="/dashboard/access-requests"' in app.get("/dashboard/datasets").body  # the dashboard tab
    board = app.get("/dashboard/access-requests")
    assert "统计分析" in board.body and f'data-request-id="{req.id}"' in board.body
    assert "Withdraw" in board.body
    again = app.get(url, headers={"Accept": "text/html"})
    assert "Your requests for this dataset" in again.body
    app.post(f"/access-request/{req.id}/withdraw", data={"_csrf_token": csrf_token(board.body)},
             follow_redirects=False, status=302)
    model.Session.expire_all()
    assert model.Session.get(SharingRequest, req.id).state == "withdrawn"


def test_review_queue_decision_and_revoke_pages(app):
    """Review queue decision and revoke pages."""
    w = build_world(app)
    with freeze_time(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)):
        late = call_action("sharing_request_create", ctx(w, "colleague"), **request_body(w))
    fresh = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    org = w.orgs["b"]["name"]

    # outsiders: another organization's admin, an editor, a plain user
    for role in ("admin_c", "editor_b", "plain"):
        login(app, w, role)
        assert "/access-requests" not in app.get(f"/organization/{org}").body
        assert "Requests to decide" not in app.get("/dashboard/access-requests").body
        app.get(f"/organization/{org}/access-requests", status=403)
        app.get(f"/organization/{org}/access-grants", status=403)
        app.get(f"/access-request/{fresh['id']}", status=403)

    login(app, w, "admin_b")
    # the way in: the dashboard lists what waits for a decision; the organization page has the tabs
    board = app.get("/dashboard/access-requests")
    assert f'data-org-id="{w.orgs["b"]["id"]}"' in board.body and "2 pending, 1 overdue" in board.body
    assert f'href="/organization/{org}/access-requests"' in app.get(f"/organization/{org}").body
    queue = app.get(f"/organization/{org}/access-requests")
    body = queue.body
    assert body.index(f'data-request-id="{late["id"]}"') < body.index(f'data-request-id="{fresh["id"]}"')
    assert "Overdue" in body and "1 request is overdue." in body

    page = app.get(f"/access-request/{fresh['id']}")
    assert 'id="sharing-approve-form"' in page.body and 'id="sharing-reject-form"' in page.body
    token = csrf_token(page.body)
    _enforce_csrf("ckanext.sharing.views", "decide")
    app.post(f"/access-request/{fresh['id']}", data={"decision": "approve"}, status=400)
    # too long a period: a validation message, no grant
    too_long = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    bad = app.post(f"/access-request/{fresh['id']}", data={"_csrf_token": token, "decision": "approve",
                                                            "expires": too_long})
    assert 'data-field="expires"' in bad.body
    until = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    app.post(f"/access-request/{fresh['id']}", data={
        "_csrf_token": token, "decision": "approve", "expires": until, "resource_ids": [w.res["table"]["id"]],
    }, follow_redirects=False, status=302)
    grant = model.Session.query(SharingGrant).one()
    assert grant.resource_ids == [w.res["table"]["id"]]
    assert grant.expires.date().isoformat() == until

    rejected = app.post(f"/access-request/{late['id']}", data={"_csrf_token": token, "decision": "reject",
                                                               "reason": "用途不明确"})
    assert "用途不明确" in rejected.body and 'data-state="rejected">Rejected' in rejected.body

    grants = app.get(f"/organization/{org}/access-grants")
    assert f'data-grant-id="{grant.id}"' in grants.body and "Revoke" in grants.body
    app.post(f"/access-grant/{grant.id}/revoke", data={"_csrf_token": csrf_token(grants.body), "reason": "完成"},
             follow_redirects=False, status=302)
    model.Session.expire_all()
    assert model.Session.get(SharingGrant, grant.id).state == "revoked"

    # the requester sees the decision on their own page, not the forms
    login(app, w, "requester")
    mine = app.get(f"/access-request/{fresh['id']}")
    assert 'data-state="approved">Approved' in mine.body and 'id="sharing-approve-form"' not in mine.body
    # and in Chinese
    zh = app.get(f"/zh_Hans_CN/access-request/{fresh['id']}")
    assert 'data-state="approved">已批准' in zh.body, zh.body[:200]
