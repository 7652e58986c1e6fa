"""Correction requests (纠错, Regulation Art. 26): anyone who may get the data reports an error, the
provider's deciders are told and answer once within 10 working days; overdue ones are flagged once."""
from __future__ import annotations

import datetime as dt

import pytest

from ckan.lib import jobs as ckan_jobs
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import events
from ckanext.sharing.workflow import clock, corrections

from tests.workflow.obligations_support import ledger_rows
from tests.workflow.support import PLUGINS, api, build_world, ctx
from tests.workflow.test_concurrency import _race

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def test_art26_correction_reported_answered_in_ten_working_days(app, ckan_config, monkeypatch):
    """Art. 26: a correction request is due 10 working days later (holidays and 调休 counted), the provider's deciders are e-mailed and answer it once."""
    today = clock.today()
    holiday = clock.add_workdays(today, 2)
    monkeypatch.setitem(ckan_config, "ckanext.sharing.holidays", holiday.isoformat())
    w = build_world(app)
    ckan_jobs.get_queue().empty()
    created = api(app, "sharing_correction_create", w.tokens["plain"], package_id=w.pkgs["open"]["name"],
                  description="2025年第三季度人口数缺失 / Q3 figures missing")["result"]
    assert created["state"] == "open" and created["package_id"] == w.pkgs["open"]["id"]
    assert created["due_date"] == clock.add_workdays(today, 10, [holiday]).isoformat()
    assert [j.func_name for j in ckan_jobs.get_queue().jobs] == [
        "ckanext.sharing.workflow.corrections.notify_deciders"]
    assert len(ledger_rows(events.CORRECTION_CREATE)) == 1
    queue = api(app, "sharing_correction_list", w.tokens["admin_b"], organization_id=w.orgs["b"]["name"],
                state="open")["result"]
    assert [c["id"] for c in queue["results"]] == [created["id"]]

    answered = api(app, "sharing_correction_answer", w.tokens["admin_b"], id=created["id"],
                   answer="已补录 / added", corrected=True)["result"]
    assert (answered["state"], answered["corrected"]) == ("answered", True)
    assert "ckanext.sharing.workflow.corrections.notify_requester" in [
        j.func_name for j in ckan_jobs.get_queue().jobs]
    twice = api(app, "sharing_correction_answer", w.tokens["admin_b"], status=409, id=created["id"],
                answer="again", corrected=False)
    assert "id" in twice["error"]
    mine = api(app, "sharing_correction_list", w.tokens["plain"], mine=True)["result"]["results"]
    assert [(c["id"], c["answer"]) for c in mine] == [(created["id"], "已补录 / added")]


def test_overdue_corrections_are_flagged_once(app):
    """Art. 26, 39: an unanswered correction request past its due date gets one ledger row and one e-mail, once."""
    w = build_world(app)
    late = call_action("sharing_correction_create", ctx(w, "plain"), package_id=w.pkgs["open"]["id"],
                       description="wrong")
    done = call_action("sharing_correction_create", ctx(w, "plain"), package_id=w.pkgs["open"]["id"],
                       description="also wrong")
    call_action("sharing_correction_answer", ctx(w, "admin_b"), id=done["id"], answer="ok", corrected=False)
    ckan_jobs.get_queue().empty()
    later = clock.now() + dt.timedelta(days=30)
    assert corrections.flag_overdue(later) == [late["id"]]
    assert [j.func_name for j in ckan_jobs.get_queue().jobs] == [
        "ckanext.sharing.workflow.corrections.notify_deciders"]
    assert corrections.flag_overdue(later) == []
    assert len(ledger_rows(events.CORRECTION_OVERDUE)) == 1


def test_who_may_report_and_answer(app):
    """Correction actions: 403 for anonymous, users without the data, an editor, another organization's admin and the requester where they may not act."""
    w = build_world(app)
    body = {"package_id": w.pkgs["conditional"]["id"], "description": "wrong"}
    # only who may get the data reports about it: not anonymous, nor a plain user of conditional data
    for role in (None, "plain", "admin_c"):
        resp = api(app, "sharing_correction_create", w.tokens[role] if role else None, status=403, **body)
        assert resp["error"]["__type"] == "Authorization Error", role
    api(app, "sharing_correction_create", None, status=403, package_id=w.pkgs["open"]["id"], description="x")
    api(app, "sharing_correction_create", w.tokens["plain"], status=404, package_id=w.pkgs["not_shared"]["id"],
        description="x")
    corr = api(app, "sharing_correction_create", w.tokens["member_b"], **body)["result"]
    for role in (None, "plain", "editor_b", "admin_c", "member_b"):
        api(app, "sharing_correction_answer", w.tokens[role] if role else None, status=403, id=corr["id"],
            answer="a", corrected=True)
    for role in (None, "plain", "admin_c", "editor_b"):
        api(app, "sharing_correction_list", w.tokens[role] if role else None, status=403,
            organization_id=w.orgs["b"]["id"])
    assert api(app, "sharing_correction_list", w.tokens["admin_c"])["result"]["count"] == 0
    assert "resource_id" in api(app, "sharing_correction_create", w.tokens["member_b"], status=409,
                                resource_id="not-a-resource", **body)["error"]
    assert "description" in api(app, "sharing_correction_create", w.tokens["member_b"], status=409,
                                package_id=w.pkgs["open"]["id"], description=" ")["error"]


def test_simultaneous_answers_end_in_one(app):
    """Two deciders answering one correction request at once: one answer wins (row lock), one ledger row."""
    w = build_world(app)
    for _ in range(3):
        corr = call_action("sharing_correction_create", ctx(w, "plain"), package_id=w.pkgs["open"]["id"],
                           description="wrong")
        before = len(ledger_rows(events.CORRECTION_ANSWER))
        results = _race(app, [
            ("sharing_correction_answer", {"user": w.users["admin_b"]["name"]},
             {"id": corr["id"], "answer": "one", "corrected": True}),
            ("sharing_correction_answer", {"user": w.users["sysadmin"]["name"]},
             {"id": corr["id"], "answer": "two", "corrected": False}),
        ])
        assert sorted(r[0] for r in results) == ["invalid", "ok"], results
        assert len(ledger_rows(events.CORRECTION_ANSWER)) == before + 1
