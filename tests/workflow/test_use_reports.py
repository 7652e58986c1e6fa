"""Use records and their retention (Regulation Art. 27, 29): the grantee reports use, storage and
destruction; ended grants without destruction are flagged ``report_due`` once; nothing younger than
``ckanext.sharing.retention_years`` can be deleted by any action, command or SQL statement."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from ckan import logic, model
from ckan.lib import jobs as ckan_jobs
from ckan.tests.helpers import call_action

from ckanext.sharing.cli import sharing as sharing_cli
from ckanext.sharing.ledger import events
from ckanext.sharing.model.obligations import SharingUseReport
from ckanext.sharing.workflow import clock, use_reports

from tests.workflow.obligations_support import ledger_rows
from tests.workflow.support import PLUGINS, api, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

REPORT = {"scenario": "季度人口报告", "process": "汇总统计，不含个人信息", "outcome": "报告按期发布",
          "storage": "内网数据库，加密存储"}


def _grant(app, w, role: str = "requester", **body) -> dict:
    req = api(app, "sharing_request_create", w.tokens[role], **request_body(w, **body))["result"]
    return api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]


def test_art29_use_reports_filed_read_and_due_after_the_end(app):
    """Art. 29: the grantee records use, storage and destruction; the provider reads them; an ended grant without destruction is flagged report_due once."""
    w = build_world(app)
    grant = _grant(app, w, organization_id=w.orgs["a"]["id"])
    # a member of the grantee organization reports while the data is in use
    first = api(app, "sharing_use_report_create", w.tokens["colleague"], grant_id=grant["id"], **REPORT)["result"]
    assert first["destruction"] is None and first["reporter_name"] == w.users["colleague"]["name"]
    assert len(ledger_rows(events.USE_REPORT_CREATE, grant_id=grant["id"])) == 1
    listed = api(app, "sharing_use_report_list", w.tokens["admin_b"], grant_id=grant["id"])["result"]
    assert [r["id"] for r in listed["results"]] == [first["id"]]
    assert api(app, "sharing_use_report_list", w.tokens["plain"])["result"]["count"] == 0
    assert api(app, "sharing_use_report_list", w.tokens["admin_c"])["result"]["count"] == 0

    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant["id"], reason="项目结束")
    other = _grant(app, w, "plain")
    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=other["id"], reason="项目结束")
    model.Session.expire_all()
    assert [d["grant_id"] for d in use_reports.due_for_user(model.User.get(w.users["requester"]["id"]))] \
        == [grant["id"]]
    ckan_jobs.get_queue().empty()
    # not before report_working_days working days after the end
    assert use_reports.flag_due(clock.now() + dt.timedelta(days=3)) == []
    later = clock.now() + dt.timedelta(days=30)
    assert sorted(use_reports.flag_due(later)) == sorted([grant["id"], other["id"]])
    assert [j.func_name for j in ckan_jobs.get_queue().jobs] == ["ckanext.sharing.workflow.use_reports.notify_due"] * 2
    assert use_reports.flag_due(later) == []
    assert len(ledger_rows(events.USE_REPORT_DUE, grant_id=grant["id"])) == 1

    # a report stating destruction settles it: no longer listed as due
    api(app, "sharing_use_report_create", w.tokens["requester"], grant_id=grant["id"],
        destruction="2026-12-01 删除全部副本 / all copies deleted", **REPORT)
    model.Session.expire_all()
    assert use_reports.due_for_user(model.User.get(w.users["requester"]["id"])) == []


def test_who_may_report_and_read(app):
    """sharing_use_report_create: 403 for anonymous, a plain user, an editor, another organization's admin and the provider's admin; bad input names the field."""
    w = build_world(app)
    grant = _grant(app, w)
    for role in (None, "plain", "editor_b", "admin_c", "admin_b", "colleague"):
        resp = api(app, "sharing_use_report_create", w.tokens[role] if role else None, status=403,
                   grant_id=grant["id"], **REPORT)
        assert resp["error"]["__type"] == "Authorization Error", role
    for role in (None, "plain", "editor_b", "admin_c", "colleague"):
        api(app, "sharing_use_report_list", w.tokens[role] if role else None, status=403, grant_id=grant["id"])
    api(app, "sharing_use_report_create", w.tokens["requester"], status=404, grant_id="no-such-grant", **REPORT)
    missing = {k: v for k, v in REPORT.items() if k != "storage"}
    assert "storage" in api(app, "sharing_use_report_create", w.tokens["requester"], status=409,
                            grant_id=grant["id"], **missing)["error"]
    assert "scenario" in api(app, "sharing_use_report_create", w.tokens["requester"], status=409,
                             grant_id=grant["id"], **{**REPORT, "scenario": "  "})["error"]


def _old_report(grant: dict, years: float) -> str:
    """A report filed ``years`` ago (inserted as it would have been then)."""
    row = SharingUseReport(id=str(uuid.uuid4()), grant_id=grant["id"], package_id=grant["package_id"],
                           owner_org=grant["owner_org"], reporter_id=grant["user_id"] or "x",
                           created=clock.now() - dt.timedelta(days=int(365.25 * years)), **REPORT)
    model.Session.add(row)
    model.Session.commit()
    return row.id


def _exists(report_id: str) -> bool:
    model.Session.expire_all()
    return model.Session.get(SharingUseReport, report_id) is not None


def test_art29_nothing_younger_than_retention_can_be_deleted(app, cli, ckan_config, monkeypatch):
    """Art. 29: no action, command or SQL statement deletes a use report younger than retention_years; the purge removes only older ones."""
    w = build_world(app)
    grant = _grant(app, w)
    young = call_action("sharing_use_report_create", ctx(w, "requester"), grant_id=grant["id"], **REPORT)["id"]
    four = _old_report(grant, 4)

    # actions: none deletes a report; deleting what a report refers to leaves it
    registered = [n for n in logic._actions if "use_report" in n]
    assert sorted(registered) == ["sharing_use_report_create", "sharing_use_report_list"]
    sysadmin = {"user": w.users["sysadmin"]["name"]}
    call_action("package_delete", sysadmin, id=grant["package_id"])
    for pkg in w.pkgs.values():
        call_action("dataset_purge", sysadmin, id=pkg["id"])
    call_action("user_delete", sysadmin, id=w.users["requester"]["id"])
    call_action("organization_purge", sysadmin, id=w.orgs["b"]["id"])
    assert _exists(young) and _exists(four)

    # SQL: DELETE of a young row, UPDATE, TRUNCATE are refused by the database
    for statement in ("DELETE FROM sharing_use_report WHERE id = :id",
                      "UPDATE sharing_use_report SET storage = 'x' WHERE id = :id",
                      "TRUNCATE sharing_use_report"):
        with pytest.raises(DBAPIError, match="keeps its records"):
            model.Session.execute(sa.text(statement), {"id": young})
        model.Session.rollback()
    # ... and a session cannot lower the floor of three years
    model.Session.execute(sa.text("SET LOCAL sharing.retention_years = '1'"))
    with pytest.raises(DBAPIError, match="keeps its records"):
        model.Session.execute(sa.text("DELETE FROM sharing_use_report WHERE id = :id"), {"id": young})
    model.Session.rollback()

    # the command with retention_years = 5 keeps the four-year-old report too
    monkeypatch.setitem(ckan_config, "ckanext.sharing.retention_years", "5")
    result = cli.invoke(sharing_cli, ["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "0 use reports older than 5 years" in result.output
    assert _exists(young) and _exists(four)
    # with the default three years it deletes the old one only, with a ledger row
    monkeypatch.setitem(ckan_config, "ckanext.sharing.retention_years", "3")
    result = cli.invoke(sharing_cli, ["retention", "purge"])
    assert "1 use reports older than 3 years" in result.output, result.output
    assert _exists(young) and not _exists(four)
    model.Session.expire_all()
    assert len(ledger_rows(events.USE_REPORT_PURGE)) == 1
    # a configured value under the Regulation's three years counts as three
    monkeypatch.setitem(ckan_config, "ckanext.sharing.retention_years", "1")
    two = _old_report(grant, 2)
    cli.invoke(sharing_cli, ["retention", "purge"])
    assert _exists(two) and _exists(young)
