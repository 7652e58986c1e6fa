"""The workflow's pages in Chinese (issue 11): labelled errors, dates in the portal's zone and one format."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from ckan.tests.helpers import call_action

from ckanext.sharing.workflow import clock

from tests.ui.forms import browser_post
from tests.workflow.support import PASSWORD, PLUGINS, build_world, csrf_token, ctx, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckan.display_timezone", "Asia/Shanghai"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _summary(html: str) -> list[str]:
    block = re.search(r'error-explanation">(.*?)</div>', html, re.S)
    assert block, "an error summary"
    return [re.sub(r"\s+", " ", li).strip() for li in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


def test_request_form_shows_every_error_with_its_label(app):
    """Spaces only in both texts: both refused at once, each under the field's label, no raw key."""
    w = build_world(app)
    login(app, w, "requester")
    url = f"/zh_Hans_CN/dataset/{w.pkgs['conditional']['name']}/request-access"
    page = app.get(url, headers={"Accept": "text/html"})
    fields = browser_post(page.body, "sharing-request-form", {"purpose": "   ", "use_scenario": " \t ",
                                                                   "use_basis": "依据", "use_scope": "范围"})
    resp = app.post(url, data=fields)
    assert resp.status_code == 200
    summary = _summary(resp.body)
    assert len(summary) == 2, summary
    labels = re.findall(r'<label class="form-label" for="field-(?:purpose|use-scenario)">.*?</span>\s*(.*?)</label>',
                        resp.body, re.S)
    assert len(labels) == 2
    for label, line in zip(labels, summary):
        assert line.startswith(label.strip() + ":"), (label, line)
    assert not any(line.startswith(("purpose", "use_scenario")) for line in summary)
    assert resp.body.count("error-block") == 2, "each error is also shown next to its field"


def test_grant_until_a_date_shows_that_date(app):
    """Approved 'until D' through the decision form: the decision page, the queue and the requester's
    dashboard show D (portal's zone), not D+1 07:59."""
    w = build_world(app)
    req = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w, requested_days=30))
    until = clock.today() + dt.timedelta(days=10)
    login(app, w, "admin_b")
    page = app.get(f"/zh_Hans_CN/access-request/{req['id']}")
    default = re.search(r'name="expires" type="date" value="([^"]+)"', page.body).group(1)
    assert default == (clock.today() + dt.timedelta(days=30)).isoformat(), "the default is the portal's today + days"
    fields = browser_post(page.body, "sharing-approve-form", {"expires": until.isoformat()})
    app.post(f"/zh_Hans_CN/access-request/{req['id']}", data=fields)
    shown = app.get(f"/zh_Hans_CN/access-request/{req['id']}").body
    assert until.isoformat() in shown
    assert (until + dt.timedelta(days=1)).isoformat() not in shown
    assert "(+0800)" not in shown
    queue = app.get(f"/zh_Hans_CN/organization/{w.orgs['b']['name']}/access-requests").body
    row = re.search(rf'data-request-id="{req["id"]}".*?</tr>', queue, re.S).group(0)
    assert until.isoformat() in row, "the queue shows the approved period, shorter than the requested 30 days"
    assert 'class="table-responsive"' in queue
    login(app, w, "requester")
    mine = app.get("/zh_Hans_CN/dashboard/access-requests").body
    assert until.isoformat() in mine and "(+0800)" not in mine


@pytest.mark.ckan_config("ckan.auth.route_after_login", "sharing_landing.landing")
def test_decider_lands_on_the_pending_queue_and_the_badge_counts_it(app):
    """After login a decider lands on the pending queue; the header badge counts the pending requests
    they decide (3), a requester's own page shows no badge."""
    w = build_world(app)
    for role in ("requester", "colleague", "plain"):
        call_action("sharing_request_create", ctx(w, role), **request_body(w))
    app.client = app.test_client()
    page = app.get("/user/login")
    resp = app.post("/user/login", data={"login": w.users["admin_b"]["name"], "password": PASSWORD,
                                         "_csrf_token": csrf_token(page.body)}, follow_redirects=True)
    assert resp.request.path == f"/organization/{w.orgs['b']['id']}/access-requests", resp.request.path
    assert resp.request.args.get("state") == "pending"
    badge = re.search(r'sharing-pending-badge.*?<span class="badge">(\d+)</span>', resp.body, re.S)
    assert badge and badge.group(1) == "3", re.findall(r'<li class="notifications.{0,400}', resp.body, re.S)
    login(app, w, "requester")
    landed = app.get("/dashboard/home", follow_redirects=True)
    assert landed.request.path == "/dashboard/access-requests"
    assert "sharing-pending-badge" not in landed.body

