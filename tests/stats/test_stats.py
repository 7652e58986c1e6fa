"""Statistics (issue 17): the figures of ``sharing_stats_*`` checked against counts made independently
from the tables and the ledger, who may see which overview, the per-day cache, the pages and their CSV,
download counts on dataset and resource pages, and that no not_shared title or requester name appears."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.sharing.stats import cache

from tests.workflow.support import PLUGINS, World, api, api_get, build_world, ctx, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _used_world(app) -> tuple[World, dict[str, dict]]:
    """Department B's conditional dataset: requested three times (one approved, one rejected, one pending
    and 40 days old, so overdue); the grantee downloads the upload twice and reads the DataStore once."""
    w = build_world(app)
    with freeze_time(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)):
        late = call_action("sharing_request_create", ctx(w, "colleague"), **request_body(w))
    approved = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    rejected = call_action("sharing_request_create", ctx(w, "plain"), **request_body(w))
    call_action("sharing_request_approve", ctx(w, "admin_b"), id=approved["id"])
    call_action("sharing_request_reject", ctx(w, "admin_b"), id=rejected["id"], reason="用途不符 / not the use")
    pkg, upload = w.pkgs["conditional"], w.res["upload"]
    for _ in range(2):
        app.get(f"/dataset/{pkg['id']}/resource/{upload['id']}/download",
                headers={"Authorization": w.tokens["requester"]}, status=200)
    api(app, "datastore_search", w.tokens["requester"], resource_id=w.res["table"]["id"])
    return w, {"late": late, "approved": approved, "rejected": rejected}


def _ledger_accesses(w: World, org_id: str) -> list[dict]:
    """The organization's data-access rows, read through the ledger's own action (not the statistics' SQL)."""
    return call_action("sharing_audit_list", ctx(w, "sysadmin"), organization_id=org_id, action="data_access",
                       limit=1000)["results"]


def test_figures_match_counts_made_from_the_tables(app):
    """Tier counts, requests, approval rate, accesses per month, most used / requested and 利用率 of the
    action equal counts made independently (Python over the created objects and the ledger's own list)."""
    w, reqs = _used_world(app)
    org_b = w.orgs["b"]
    stats = api_get(app, "sharing_stats_show", organization_id=org_b["name"])["result"]

    # datasets per tier: one of each, as created
    created = [w.pkgs[t] for t in ("open", "conditional", "not_shared")]
    expect_tiers = {t: sum(1 for p in created if p["sharing_tier"] == t) for t in ("open", "conditional", "not_shared")}
    assert stats["datasets"]["by_tier"] == expect_tiers
    assert stats["datasets"]["total"] == len(created)

    # requests: counted from the request rows by a different query
    states = model.Session.execute(sa.text("SELECT state FROM sharing_request WHERE owner_org = :o"),
                                   {"o": org_b["id"]}).scalars().all()
    totals = stats["totals"]
    assert totals["received"] == len(states) == 3
    assert totals["approved"] == states.count("approved") == 1
    assert totals["rejected"] == states.count("rejected") == 1
    assert totals["pending"] == states.count("pending") == 1
    assert totals["answered"] == 2 and totals["approval_rate"] == 0.5
    assert totals["overdue"] == 1  # the 40-day-old pending one
    assert totals["median_reply_days"] == 0  # both answered on the day they were sent
    assert totals["on_time_share"] == 1.0
    assert totals["overdue_share"] == pytest.approx(1 / 3, abs=1e-4)

    # data accesses this month, by kind, from the ledger's own list
    rows = _ledger_accesses(w, org_b["id"])
    channels = [r["detail"]["channel"] for r in rows]
    this_month = stats["months"][-1]
    assert this_month["month"] == dt.date.today().strftime("%Y-%m")
    assert this_month["downloads"] == sum(1 for c in channels if c.endswith("resource.download")) == 2
    assert this_month["apis"] == sum(1 for c in channels if c.startswith("datastore_")) == 1
    assert this_month["downloads"] + this_month["apis"] + this_month["views"] == len(rows)
    assert this_month["received"] == 2 and this_month["approved"] == 1 and this_month["rejected"] == 1
    assert sum(m["received"] for m in stats["months"]) == 3  # the 40-day-old one in an earlier month

    cond = w.pkgs["conditional"]
    assert stats["top_used"] == [{"package_id": cond["id"], "name": cond["name"], "title": cond["title"],
                                  "accesses": len(rows)}]
    assert stats["top_requested"] == [{"package_id": cond["id"], "name": cond["name"], "title": cond["title"],
                                       "requests": 3}]

    # 利用率: of the open + conditional datasets (2), the conditional one was used
    assert (totals["shared"], totals["used"], totals["utilisation"]) == (2, 1, 0.5)
    dept = {d["organization_id"]: d for d in api_get(app, "sharing_stats_show")["result"]["departments"]}
    assert dept[org_b["id"]]["utilisation"] == 0.5 and dept[org_b["id"]]["received"] == 3
    assert dept[w.orgs["a"]["id"]]["datasets"] == 0 and dept[w.orgs["a"]["id"]]["utilisation"] is None


def test_department_overview_queue_grants_and_per_grant_accesses(app):
    """The department overview counts the live queue (pending, overdue, due soon), active and ending grants
    and each grant's data accesses as the tables hold them."""
    w, reqs = _used_world(app)
    org_b = w.orgs["b"]
    grant_id = model.Session.execute(sa.text("SELECT id FROM sharing_grant WHERE request_id = :r"),
                                     {"r": reqs["approved"]["id"]}).scalar()
    model.Session.execute(sa.text("UPDATE sharing_grant SET expires = now() + interval '3 days' WHERE id = :g"),
                          {"g": grant_id})
    model.Session.commit()

    out = call_action("sharing_stats_department_show", ctx(w, "admin_b"), organization_id=org_b["name"])

    assert out["queue"] == {"pending": 1, "overdue": 1, "due_soon": 0, "returned": 0, "escalated": 0}
    assert out["grants"] == {"active": 1, "expiring": 1, "undelivered": 0, "delivery_overdue": 0}
    accesses = [r for r in _ledger_accesses(w, org_b["id"]) if r["grant_id"] == grant_id]
    assert [(g["grant_id"], g["accesses"]) for g in out["grant_accesses"]] == [(grant_id, len(accesses))]
    assert len(accesses) == 3

    # the pending request due today is "due within 2 working days", no longer overdue
    model.Session.execute(sa.text("UPDATE sharing_request SET due_date = current_date WHERE id = :r"),
                          {"r": reqs["late"]["id"]})
    model.Session.commit()
    again = call_action("sharing_stats_department_show", ctx(w, "admin_b"), organization_id=org_b["id"])
    assert again["queue"] == {"pending": 1, "overdue": 0, "due_soon": 1, "returned": 0, "escalated": 0}
    # the returned and escalated states (Art. 21, 28) and an undelivered grant (Art. 22) are counted
    model.Session.execute(sa.text("UPDATE sharing_request SET state = 'returned' WHERE id = :r"),
                          {"r": reqs["late"]["id"]})
    model.Session.execute(sa.text("UPDATE sharing_request SET state = 'escalated' WHERE id = :r"),
                          {"r": reqs["rejected"]["id"]})
    model.Session.execute(sa.text("UPDATE sharing_delivery SET delivered_at = NULL, due = current_date - 1 "
                                  "WHERE grant_id = :g"), {"g": grant_id})
    model.Session.commit()
    third = call_action("sharing_stats_department_show", ctx(w, "admin_b"), organization_id=org_b["id"])
    assert (third["queue"]["returned"], third["queue"]["escalated"], third["queue"]["pending"]) == (1, 1, 0)
    assert (third["grants"]["undelivered"], third["grants"]["delivery_overdue"]) == (1, 1)


def test_who_may_see_which_overview(app):
    """Public figures: everyone. A department's overview: its admins/deciders and sysadmins only. All
    departments: sysadmins only (until the authority role lands)."""
    w = build_world(app)
    org_b = w.orgs["b"]["name"]
    assert api_get(app, "sharing_stats_show")["success"]
    assert api_get(app, "sharing_stats_show", organization_id=org_b)["success"]
    api_get(app, "sharing_stats_show", status=404, organization_id="no-such-org")
    for role in ("admin_b", "sysadmin"):
        assert api_get(app, "sharing_stats_department_show", w.tokens[role], organization_id=org_b)["success"]
    for role in ("editor_b", "member_b", "admin_c", "plain"):
        api_get(app, "sharing_stats_department_show", w.tokens[role], status=403, organization_id=org_b)
    api_get(app, "sharing_stats_department_show", status=403, organization_id=org_b)
    assert api_get(app, "sharing_stats_department_list", w.tokens["sysadmin"])["success"]
    for role in ("admin_b", "plain"):
        api_get(app, "sharing_stats_department_list", w.tokens[role], status=403)
    api_get(app, "sharing_stats_department_list", w.tokens["sysadmin"], status=409, sort="no_such_column")


def test_department_list_sorts_by_any_column(app):
    """The authority's table sorts by a numeric column both ways, missing values last."""
    w, _ = _used_world(app)
    token = w.tokens["sysadmin"]
    desc = api_get(app, "sharing_stats_department_list", token, sort="received", order="desc")["result"]
    received = [d["received"] for d in desc["departments"]]
    assert received == sorted(received, reverse=True) and received[0] == 3
    asc = api_get(app, "sharing_stats_department_list", token, sort="utilisation", order="asc")["result"]
    util = [d["utilisation"] for d in asc["departments"]]
    known = [u for u in util if u is not None]
    assert known == sorted(known) and util[:len(known)] == known  # None last


def test_daily_cache_is_kept_for_the_day_and_says_when(app):
    """Cached figures are computed once a day (same ``computed`` time, unchanged by new requests until the
    cache is cleared); live ones (tier counts) change at once."""
    w = build_world(app)
    first = api_get(app, "sharing_stats_show")["result"]
    assert first["totals"]["received"] == 0 and "totals" in first["cache"]["cached"]
    call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    api(app, "package_create", w.tokens["admin_b"], name="one-more-open", title="One more", owner_org=w.orgs["b"]["id"],
        sharing_tier="open", notes="n")
    second = api_get(app, "sharing_stats_show")["result"]
    assert second["cache"]["computed"] == first["cache"]["computed"]
    assert second["totals"]["received"] == 0  # a day old at most, as the page says
    assert second["datasets"]["total"] == first["datasets"]["total"] + 1  # live
    cache.clear()
    third = api_get(app, "sharing_stats_show")["result"]
    assert third["totals"]["received"] == 1 and third["cache"]["computed"] > first["cache"]["computed"]


def test_no_not_shared_title_or_requester_name_in_any_statistics(app):
    """Neither the action answers nor the pages (nor their CSVs) name a not_shared dataset or a requester."""
    w, _ = _used_world(app)
    secret_title = w.pkgs["not_shared"]["title"]
    # make the not_shared dataset the most "used" and "requested" one in the tables
    model.Session.execute(sa.text(
        "INSERT INTO sharing_request (id, package_id, owner_org, requester_id, resource_ids, purpose, use_scenario, "
        "requested_days, state, created, modified) SELECT 'r' || g, :p, :o, :u, '[]', 'x', 'y', 5, 'rejected', now(), "
        "now() FROM generate_series(1, 5) g"), {"p": w.pkgs["not_shared"]["id"], "o": w.orgs["b"]["id"],
                                                "u": w.users["plain"]["id"]})
    model.Session.commit()
    cache.clear()
    names = [w.users[r][k] for r in ("requester", "colleague", "plain") for k in ("name", "id")]
    texts = [json.dumps(api_get(app, "sharing_stats_show")["result"], ensure_ascii=False),
             json.dumps(api_get(app, "sharing_stats_show", organization_id=w.orgs["b"]["id"])["result"],
                        ensure_ascii=False),
             json.dumps(api_get(app, "sharing_stats_department_list", w.tokens["sysadmin"])["result"],
                        ensure_ascii=False)]
    texts.append(app.get("/statistics").body)
    texts.append(app.get(f"/statistics?organization={w.orgs['b']['name']}").body)
    texts += [app.get(f"/statistics/{fig}.csv").body for fig in ("top_used", "top_requested", "themes")]
    login(app, w, "admin_b")
    texts.append(app.get(f"/organization/{w.orgs['b']['name']}/statistics").body)
    login(app, w, "sysadmin")
    texts.append(app.get("/statistics/departments").body)
    for text in texts:
        assert secret_title not in text
        for name in names:
            assert name not in text
    assert "requests" in texts[0]  # the answers are real, not empty


def test_pages_and_csv_carry_the_action_numbers(app):
    """The public page's tables and CSV downloads hold the action's numbers; the department and authority
    pages answer their deciders and the authority, 403 to others."""
    w, _ = _used_world(app)
    stats = api_get(app, "sharing_stats_show")["result"]
    page = app.get("/statistics").body
    assert 'data-sharing-chart="chart-spec-tiers"' in page and "_stats.js" in page
    for fig in ("tiers", "department_datasets", "requests", "request_months", "access_months", "top_used",
                "top_requested", "utilisation", "themes"):
        assert f'data-figure-table="{fig}"' in page, fig
    rows = list(csv.reader(io.StringIO(app.get("/statistics/request_months.csv").body.lstrip("\ufeff"))))
    assert rows[0] == ["Month", "Received", "Approved", "Rejected"]
    assert [[int(x) for x in r[1:]] for r in rows[1:]] == [[m["received"], m["approved"], m["rejected"]]
                                                            for m in stats["months"]]
    tiers = list(csv.reader(io.StringIO(app.get("/statistics/tiers.csv").body.lstrip("\ufeff"))))
    assert [int(r[1]) for r in tiers[1:]] == [stats["datasets"]["by_tier"][t] for t in ("open", "conditional",
                                                                                         "not_shared")]
    app.get("/statistics/nope.csv", status=404)
    org_b = w.orgs["b"]["name"]
    app.get(f"/organization/{org_b}/statistics", status=403)
    login(app, w, "member_b")
    app.get(f"/organization/{org_b}/statistics", status=403)
    app.get("/statistics/departments", status=403)
    login(app, w, "admin_b")
    dept = app.get(f"/organization/{org_b}/statistics").body
    assert 'data-figure-table="queue"' in dept and f'href="/organization/{org_b}/access-requests?state=pending"' in dept
    assert app.get(f"/organization/{org_b}/statistics/queue.csv").body.lstrip("\ufeff").startswith("Figure,Count")
    assert f'href="/organization/{org_b}/statistics"' in app.get(f"/organization/{org_b}").body  # the tab
    login(app, w, "sysadmin")
    auth = app.get("/statistics/departments?sort=received&order=desc").body
    assert 'data-figure-table="departments"' in auth and 'aria-sort="descending"' in auth


def test_download_counts_on_dataset_and_resource_pages(app):
    """The dataset page and each resource page show the ledger's downloads and data accesses."""
    w, _ = _used_world(app)
    pkg, upload, table = w.pkgs["conditional"], w.res["upload"], w.res["table"]
    assert 'data-downloads="2" data-accesses="3"' in app.get(f"/dataset/{pkg['name']}").body
    assert 'data-downloads="2" data-accesses="2"' in app.get(f"/dataset/{pkg['name']}/resource/{upload['id']}").body
    assert 'data-downloads="0" data-accesses="1"' in app.get(f"/dataset/{pkg['name']}/resource/{table['id']}").body


def test_pages_of_an_empty_portal_and_of_a_new_department(app):
    """With no dataset and no request (a new portal, a new department) every statistics page answers 200 and
    shows – for the rates that have nothing to divide, not a 500."""
    empty = app.get("/statistics", status=200).body
    assert 'data-key="approval_rate"' in empty
    sysadmin = factories.Sysadmin()
    org = factories.Organization(users=[{"name": sysadmin["name"], "capacity": "admin"}])
    headers = {"Authorization": factories.APIToken(user=sysadmin["name"])["token"]}
    cache.clear()  # the empty portal's figures of the first request are cached for the day
    for url in ("/statistics", f"/statistics?organization={org['name']}", "/statistics/departments",
                f"/organization/{org['name']}/statistics"):
        body = app.get(url, headers=headers, status=200).body
        assert "–" in body, url
    totals = call_action("sharing_stats_show", {"user": sysadmin["name"]}, organization_id=org["name"])["totals"]
    assert totals["approval_rate"] is None and totals["datasets"] == 0
