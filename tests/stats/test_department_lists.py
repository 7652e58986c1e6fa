"""The department overview's live figures and the lists behind them (issue 17): use reports due (Art. 29)
computed independently with the workflow's own calendar, every figure linking to a list of that length,
and per grant its number of data accesses."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from ckan import model
from ckan.tests.helpers import call_action

from ckanext.sharing.model import SharingGrant
from ckanext.sharing.stats import cache, queries
from ckanext.sharing.workflow import clock, use_reports

from tests.workflow.support import PLUGINS, World, api, build_world, ctx, login, request_body

# Holidays in the last weeks, so the working-day count of the report's due date matters.
_TODAY = dt.date.today()
HOLIDAYS = " ".join((_TODAY - dt.timedelta(days=d)).isoformat() for d in (5, 6, 12))

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckanext.sharing.holidays", HOLIDAYS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _grant_copy(grant_id: str, new_id: str, state: str, ended_days_ago: float) -> None:
    """Another grant on the same dataset (no request), ended (or revoked) ``ended_days_ago`` days ago."""
    model.Session.execute(sa.text(
        "INSERT INTO sharing_grant (id, package_id, owner_org, user_id, resource_ids, state, starts, expires, "
        "created, revoked_at) SELECT :new, package_id, owner_org, user_id, resource_ids, :state, starts - "
        "interval '60 days', CASE WHEN :state = 'revoked' THEN expires ELSE now() - :ago * interval '1 day' END, "
        "created - interval '60 days', CASE WHEN :state = 'revoked' THEN now() - :ago * interval '1 day' END "
        "FROM sharing_grant WHERE id = :g"), {"new": new_id, "state": state, "ago": ended_days_ago, "g": grant_id})


def _use_report(grant_id: str, destruction: str | None) -> None:
    model.Session.execute(sa.text(
        "INSERT INTO sharing_use_report (id, grant_id, package_id, owner_org, reporter_id, scenario, process, "
        "outcome, storage, destruction, created) SELECT 'rep-' || :g, g.id, g.package_id, g.owner_org, g.user_id, "
        "'s', 'p', 'o', 'st', :d, now() FROM sharing_grant g WHERE g.id = :g"), {"g": grant_id, "d": destruction})


def _world_with_ended_grants(app) -> tuple[World, str]:
    """Department B: one active grant (downloaded twice) and ended grants in every Art. 29 situation."""
    w = build_world(app)
    req = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    call_action("sharing_request_approve", ctx(w, "admin_b"), id=req["id"])
    grant_id = model.Session.execute(sa.text("SELECT id FROM sharing_grant WHERE request_id = :r"),
                                     {"r": req["id"]}).scalar()
    pkg, upload = w.pkgs["conditional"], w.res["upload"]
    for _ in range(2):
        app.get(f"/dataset/{pkg['id']}/resource/{upload['id']}/download",
                headers={"Authorization": w.tokens["requester"]}, status=200)
    for new_id, state, ago in (
        ("g-long-ago", "expired", 40),       # past due, no report
        ("g-revoked", "revoked", 30),         # past due (revocation ends a grant too)
        ("g-reported", "expired", 40),        # destruction reported: nothing due
        ("g-half", "expired", 40),            # a report without destruction: still due
        ("g-recent", "expired", 1),           # ended yesterday: awaited, not yet due
        ("g-expiring", "active", 0.01),       # its period just passed, not yet marked expired: awaited
    ):
        _grant_copy(grant_id, new_id, state, ago)
    _use_report("g-reported", "数据已销毁 / destroyed")
    _use_report("g-half", None)
    model.Session.commit()
    cache.clear()
    return w, grant_id


def test_use_reports_due_match_the_workflow_calendar(app):
    """The overview's use reports awaited / past due equal what workflow/use_reports.py's own due dates
    (clock.add_workdays over the configured holidays) and the reports in the table give, grant by grant."""
    w, _ = _world_with_ended_grants(app)
    org_id = w.orgs["b"]["id"]
    out = call_action("sharing_stats_department_show", ctx(w, "admin_b"), organization_id=org_id)

    destroyed = set(model.Session.execute(sa.text(
        "SELECT grant_id FROM sharing_use_report WHERE destruction IS NOT NULL AND destruction <> ''")).scalars())
    today = clock.today()
    awaited, due = set(), set()
    for grant in model.Session.query(SharingGrant).filter_by(owner_org=org_id):
        deadline = use_reports.report_due_date(grant)  # None while the grant runs
        if deadline is None or grant.id in destroyed:
            continue
        (due if deadline < today else awaited).add(grant.id)
    assert due == {"g-long-ago", "g-revoked", "g-half"} and awaited == {"g-recent", "g-expiring"}
    assert out["use_reports"] == {"reports_awaited": len(awaited), "reports_due": len(due)}
    assert "use_reports" in out["cache"]["live"]

    for figure, expected in (("reports_due", due), ("reports_awaited", awaited)):
        items = call_action("sharing_stats_department_show", ctx(w, "admin_b"), organization_id=org_id,
                            figure=figure)
        assert items["count"] == len(expected) and {r["id"] for r in items["results"]} == expected
        grants = {g.id: g for g in model.Session.query(SharingGrant).filter(SharingGrant.id.in_(expected))}
        for row in items["results"]:
            assert row["report_due_date"] == use_reports.report_due_date(grants[row["id"]]).isoformat()
    with pytest.raises(Exception, match="figure"):
        call_action("sharing_stats_department_show", ctx(w, "admin_b"), organization_id=org_id, figure="bogus")


def _queue_rows(page: str) -> list[tuple[str, str, int]]:
    """(label, link, count) of each row of the overview's queue table."""
    table = re.search(r'data-figure-table="queue".*?</table>', page, re.S).group(0)
    rows = re.findall(r'<th scope="row" data-key="figure"><a href="([^"]+)">([^<]+)</a></th>\s*'
                      r'<td data-key="count" data-value="(\d+)"', table)
    return [(label.strip(), html.unescape(link), int(n)) for link, label, n in rows]


def test_every_overview_figure_links_to_a_list_of_its_length(app):
    """Each live figure of the department overview (queue, grants, use reports) links to a list holding
    exactly that many requests or grants; the per-grant accesses equal the ledger's rows of each grant;
    the key figures, tier, month and grant rows all carry links."""
    w, grant_id = _world_with_ended_grants(app)
    org = w.orgs["b"]
    call_action("sharing_request_create", ctx(w, "colleague"), **request_body(w))  # one pending
    login(app, w, "admin_b")
    page = app.get(f"/organization/{org['name']}/statistics").body
    rows = _queue_rows(page)
    assert len(rows) == len(queries.FIGURES)
    counts = call_action("sharing_stats_department_show", ctx(w, "admin_b"), organization_id=org["id"])
    expected = {**counts["queue"], **counts["grants"], **counts["use_reports"]}
    assert sorted(n for _, _, n in rows) == sorted(expected.values())
    assert expected["pending"] == 1 and expected["active"] == 1 and expected["reports_due"] == 3
    for label, link, n in rows:
        listed = app.get(link).body
        if "/statistics/list/" in link:
            assert f'data-count="{n}"' in listed, (label, link)
            assert listed.count("data-item-id=") == n, (label, link)
        else:  # the decider's own queue, filtered by state
            assert "/access-requests?state=" in link
            assert listed.count("data-request-id=") == n, (label, link)

    # per grant: the active grants' list shows each grant's data accesses, as the ledger counts them
    ledger = call_action("sharing_audit_list", ctx(w, "sysadmin"), organization_id=org["id"], action="data_access",
                         limit=1000)["results"]
    active = app.get(f"/organization/{org['name']}/statistics/list/active").body
    shown = re.search(rf'data-item-id="{grant_id}".*?data-accesses="(\d+)"', active, re.S)
    assert shown and int(shown.group(1)) == sum(1 for r in ledger if r["grant_id"] == grant_id) == 2
    grant_table = re.search(r'data-figure-table="grant_accesses".*?</table>', page, re.S).group(0)
    assert f'href="/organization/{org["name"]}/statistics/list/active"' in grant_table
    assert re.search(r'data-key="accesses" data-value="2"', grant_table)

    for key in ("datasets", "received", "approval_rate", "median_reply_days", "overdue_share", "utilisation"):
        assert re.search(rf'data-key="{key}">\s*<div class="sharing-key-value"><a href=', page), key
    for fig in ("tiers", "request_months", "access_months"):
        table = re.search(rf'data-figure-table="{fig}".*?</table>', page, re.S).group(0)
        body = table.split("<tbody>")[1]
        assert body.count("<tr>") == body.count('<a href="'), fig
    month = dt.date.today().strftime("%Y-%m")
    months = re.search(r'data-figure-table="access_months".*?</table>', page, re.S).group(0)
    ledger_link = html.unescape(re.search(rf'<a href="([^"]+)">{month}</a>', months).group(1))
    assert ledger_link.startswith("/audit-ledger?action=data_access&organization_id=" + org["id"])
    api(app, "sharing_audit_list", w.tokens["admin_b"], organization_id=org["id"])  # the admin reads it

    # only the department's deciders see the lists
    login(app, w, "member_b")
    app.get(f"/organization/{org['name']}/statistics/list/reports_due", status=403)
    login(app, w, "admin_b")
    app.get(f"/organization/{org['name']}/statistics/list/bogus", status=404)
