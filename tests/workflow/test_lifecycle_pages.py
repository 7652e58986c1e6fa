"""The lifecycle's pages over HTTP (SPEC §13): the decider's queue counts pending / returned / overdue with days
left; the requester escalates from the request page; the authority's page lists escalations and extension asks,
and its forms decide them; every form checks the CSRF token."""
from __future__ import annotations

import datetime as dt

import pytest

from ckan import model
from ckan.tests import factories

from ckanext.sharing.model import SharingRequest
from ckanext.sharing.workflow import clock

from tests.workflow.support import PLUGINS, PASSWORD, api, build_world, csrf_token, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckanext.sharing.authority_org", "authority-bureau"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _post_form(app, url: str, **fields: str):
    """POST one form of a page with the page's CSRF token, as the browser does."""
    token = csrf_token(app.get(url, headers={"Accept": "text/html"}).body)
    return app.post(url, data={"_csrf_token": token, **fields}, follow_redirects=False)


def test_queue_dashboard_authority_page_and_their_forms(app):
    """Queue counts and days left; escalate and extension forms; the authority page lists and decides (Art. 21, 28)."""
    w = build_world(app)
    officer = factories.User(password=PASSWORD)
    factories.Organization(name="authority-bureau", users=[{"name": officer["name"], "capacity": "admin"}])
    w.users["officer"] = officer
    returned = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "sharing_request_return", w.tokens["admin_b"], id=returned["id"], missing=["请补充文号"])
    late = api(app, "sharing_request_create", w.tokens["colleague"], **request_body(w))["result"]
    row = model.Session.get(SharingRequest, late["id"])
    row.due_date = clock.today() - dt.timedelta(days=7)
    model.Session.commit()

    login(app, w, "admin_b")
    queue = app.get(f"/organization/{w.orgs['b']['name']}/access-requests").body
    assert 'data-count="returned">Returned for completion: 1' in queue and "Overdue: 1" in queue
    assert "working days overdue" in queue and "clock stopped" in queue and "请补充文号" in queue
    # the decider asks for an extension through the request page
    resp = _post_form(app, f"/access-request/{late['id']}", decision="extend", working_days="3", reason="核对")
    assert resp.status_code == 302
    bad = _post_form(app, f"/access-request/{late['id']}", decision="extend", working_days="3", reason="again")
    assert 'data-field="working_days"' in bad.body  # once per request, shown under the field's label
    app.get("/sharing/authority", status=403)

    login(app, w, "colleague")
    page = app.get(f"/access-request/{late['id']}").body
    assert 'id="sharing-escalate-form"' in page and "Extension asked" in page
    app.post(f"/access-request/{late['id']}", data={"decision": "escalate", "reason": "no token"}, status=400)
    resp = _post_form(app, f"/access-request/{late['id']}", decision="escalate", reason="逾期未答复")
    assert resp.status_code == 302

    login(app, w, "officer")
    board = app.get("/sharing/authority").body
    assert f'data-request-id="{late["id"]}"' in board and "逾期未答复" in board
    assert "sharing-extension-asks" in board and "sharing_authority_suspensions" not in board
    dashboard = app.get("/dashboard/access-requests").body
    assert 'href="/sharing/authority"' in dashboard
    resp = _post_form(app, f"/access-request/{late['id']}", decision="resolve", resolution="reject", note="不予共享")
    assert resp.status_code == 302
    model.Session.expire_all()
    done = model.Session.get(SharingRequest, late["id"])
    assert (done.state, done.resolution, done.resolution_note) == ("rejected", "reject", "不予共享")
    timeline = app.get(f"/access-request/{late['id']}").body
    for action in ("request_create", "request_extend", "request_escalate", "request_resolve"):
        assert f'data-action="{action}"' in timeline
