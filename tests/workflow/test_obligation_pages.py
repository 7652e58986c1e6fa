"""The obligation pages over HTTP with a browser's cookie session and CSRF token: delivery state and
the deliver form on the grants page, the grantee's use reports, "report an error" on a dataset, the
deciders' corrections, the suspensions page (Regulation Art. 22, 26, 27, 29)."""
from __future__ import annotations

import datetime as dt

import pytest

from ckan import model
from ckan.tests.helpers import call_action

from ckanext.sharing.model.obligations import SharingCorrection, SharingUseReport
from ckanext.sharing.workflow import clock, use_reports

from tests.workflow.support import PLUGINS, api, build_world, csrf_token, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _offline_grant(app, w) -> dict:
    pkg = api(app, "package_create", w.tokens["admin_b"], name=f"{w.pkgs['conditional']['name']}-x",
              owner_org=w.orgs["b"]["id"], sharing_tier="conditional", share_condition="exchange")["result"]
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w, package_id=pkg["id"]))["result"]
    return api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]


def test_grants_page_shows_delivery_and_records_it(app):
    """Art. 22: the grants page shows each grant's delivery state; a decider records a delivery with the form."""
    w = build_world(app)
    grant = _offline_grant(app, w)
    login(app, w, "admin_b")
    page = app.get(f"/organization/{w.orgs['b']['name']}/access-grants")
    assert "sharing-undelivered" in page.body and "sharing-deliver-form" in page.body
    app.post(f"/access-grant/{grant['id']}/deliver", data={"method": "库表交换", "note": "前置机",
                                                            "_csrf_token": csrf_token(page.body)})
    page = app.get(f"/organization/{w.orgs['b']['name']}/access-grants")
    assert "sharing-delivered" in page.body and "库表交换" in page.body
    assert api(app, "sharing_grant_show", w.tokens["admin_b"], id=grant["id"])["result"]["delivered"]["note"] == "前置机"
    # the grantee sees the state and may not record a delivery
    login(app, w, "requester")
    mine = app.get("/dashboard/access-requests")
    assert "sharing-delivered" in mine.body and "sharing-deliver-form" not in mine.body
    app.post(f"/access-grant/{grant['id']}/deliver", data={"method": "接口",
             "_csrf_token": csrf_token(app.get("/dashboard/use-reports").body)},
             status=403)


def test_use_reports_page_lists_due_and_files_a_report(app):
    """Art. 29: the grantee's dashboard lists the reports due and files one through its form."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]
    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant["id"], reason="done")
    login(app, w, "requester")
    page = app.get("/dashboard/use-reports")
    assert f'data-grant-id="{grant["id"]}"' in page.body and "sharing-use-report-form" in page.body
    app.post("/dashboard/use-reports", data={"grant_id": grant["id"], "scenario": "统计", "process": "汇总",
                                             "outcome": "报告", "storage": "内网", "destruction": "已删除",
                                             "_csrf_token": csrf_token(page.body)})
    model.Session.expire_all()
    assert model.Session.query(SharingUseReport).filter_by(grant_id=grant["id"]).count() == 1
    page = app.get("/dashboard/use-reports")
    assert f'data-grant-id="{grant["id"]}"' not in page.body and "已删除" in page.body


def test_report_an_error_and_answer_it_on_the_pages(app):
    """Art. 26: a dataset page links "report an error"; the form records it; the deciders answer it on their page."""
    w = build_world(app)
    login(app, w, "plain")
    read = app.get(f"/dataset/{w.pkgs['open']['name']}")
    assert "sharing-correction-link" in read.body
    page = app.get(f"/dataset/{w.pkgs['open']['name']}/correction")
    app.post(f"/dataset/{w.pkgs['open']['name']}/correction",
             data={"description": "人口数错误", "_csrf_token": csrf_token(page.body)})
    model.Session.expire_all()
    corr = model.Session.query(SharingCorrection).filter_by(package_id=w.pkgs["open"]["id"]).one()
    # conditional data without access: no form
    page = app.get(f"/dataset/{w.pkgs['conditional']['name']}/correction")
    assert "sharing-correction-form" not in page.body

    login(app, w, "admin_b")
    queue = app.get(f"/organization/{w.orgs['b']['name']}/corrections")
    assert f'data-correction-id="{corr.id}"' in queue.body and "sharing-answer-form" in queue.body
    app.post(f"/organization/{w.orgs['b']['name']}/corrections",
             data={"id": corr.id, "answer": "已更正", "corrected": "true", "_csrf_token": csrf_token(queue.body)})
    model.Session.expire_all()
    assert model.Session.get(SharingCorrection, corr.id).state == "answered"
    login(app, w, "admin_c")
    app.get(f"/organization/{w.orgs['b']['name']}/corrections", status=403)


def test_suspensions_page(app):
    """Art. 27: the authority suspends and lifts on the suspensions page; a plain user sees none and may not suspend."""
    w = build_world(app)
    login(app, w, "sysadmin")
    page = app.get("/sharing/suspensions")
    app.post("/sharing/suspensions", data={"organization_id": w.orgs["a"]["name"], "reason": "滥用",
                                           "_csrf_token": csrf_token(page.body)})
    page = app.get("/sharing/suspensions")
    assert "sharing-state-active" in page.body and "滥用" in page.body
    susp = call_action("sharing_suspension_list", {"user": w.users["sysadmin"]["name"]})["results"][0]
    app.post("/sharing/suspensions", data={"lift": susp["id"], "reason": "整改", "_csrf_token": csrf_token(page.body)})
    assert "sharing-state-lifted" in app.get("/sharing/suspensions").body
    login(app, w, "plain")
    page = app.get("/sharing/suspensions")
    assert "sharing-suspension " not in page.body
    app.post("/sharing/suspensions", data={"organization_id": w.orgs["a"]["name"], "reason": "x",
                                           "_csrf_token": csrf_token(page.body)}, status=403)


def test_due_list_dates(app):
    """The dashboard's due date is the end + report_working_days working days (Art. 29)."""
    w = build_world(app)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]
    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant["id"], reason="done")
    model.Session.expire_all()
    due = use_reports.due_for_user(model.User.get(w.users["requester"]["id"]))[0]
    assert due["report_due_date"] == clock.add_workdays(clock.today(), 10).isoformat()
    assert due["report_due"] is False
    assert dt.date.fromisoformat(due["report_due_date"]) > clock.today()
