"""The audit ledger page /audit-ledger (ledger/page.py): who sees it, filters, paging, detail, CSV export,
verification status and the outbox's failures; over HTTP, and once in Chromium in both languages."""
from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from ckan import model
from ckan.tests import factories

from ckanext.sharing.ledger import chain, events, tree
from ckanext.sharing.ledger import checkpoint as cpt
from ckanext.sharing.model.outbox import SharingOutbox

from tests.browser import console_errors, login
from tests.live import make_user

PLUGINS = "activity datastore sharing"


def _world() -> dict[str, Any]:
    """Two organizations with an admin each, a sysadmin, a plain user; ledger rows of both organizations."""
    run = uuid.uuid4().hex[:6]
    users = {r: factories.User(name=f"{r}-{run}", sysadmin=(r == "sysadmin")) for r in ("sysadmin", "admin_a", "admin_b", "plain")}
    tokens = {r: factories.APIToken(user=u["name"])["token"] for r, u in users.items()}
    orgs = {k: factories.Organization(name=f"ledger-{k}-{run}", users=[{"name": users[f"admin_{k}"]["name"],
                                                                      "capacity": "admin"}]) for k in ("a", "b")}
    for i in range(3):
        chain.append(events.REQUEST_CREATE, actor_name=f"alice-{run}", organization_id=orgs["a"]["id"],
                     request_id=f"req-a-{i}", detail={"purpose": f"统计分析 {i}"})
    chain.append(events.TIER_CHANGE, actor_name=f"bob-{run}", organization_id=orgs["b"]["id"],
                 detail={"old": "open", "new": "conditional", "secret_b": run})
    model.Session.commit()
    return {"users": users, "tokens": tokens, "orgs": orgs, "run": run}


def _get(app, path: str, token: str | None, status: int = 200, **params: Any):
    return app.get(path, query_string=params, headers={"Authorization": token} if token else {}, status=status)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestLedgerPage:
    def test_only_ledger_readers_get_the_page(self, app):
        """Anonymous visitors and users who read no ledger get 403; sysadmins and organization admins 200."""
        w = _world()
        _get(app, "/audit-ledger", None, status=403)
        _get(app, "/audit-ledger", w["tokens"]["plain"], status=403)
        _get(app, "/audit-ledger/export.csv", w["tokens"]["plain"], status=403)
        assert "ledger-rows" in _get(app, "/audit-ledger", w["tokens"]["sysadmin"]).body
        assert "ledger-rows" in _get(app, "/audit-ledger", w["tokens"]["admin_a"]).body

    def test_an_organization_admin_sees_only_their_rows(self, app):
        """An organization admin's page and CSV hold their organization's rows, never another's."""
        w = _world()
        page = _get(app, "/audit-ledger", w["tokens"]["admin_a"]).body
        assert page.count('data-row-id="') == 3
        assert f"alice-{w['run']}" in page and f"bob-{w['run']}" not in page
        text = _get(app, "/audit-ledger/export.csv", w["tokens"]["admin_a"]).body
        assert text.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert {r["organization_id"] for r in rows} == {w["orgs"]["a"]["id"]} and len(rows) == 3
        _get(app, "/audit-ledger", w["tokens"]["admin_a"], status=403, organization_id=w["orgs"]["b"]["id"])

    def test_filters_detail_and_csv_follow_the_filter(self, app):
        """Filtering by event and organization narrows the rows; each row's detail is shown; the CSV link keeps
        the filter."""
        w = _world()
        page = _get(app, "/audit-ledger", w["tokens"]["sysadmin"], action=events.TIER_CHANGE,
                    organization_id=w["orgs"]["b"]["id"]).body
        assert page.count('data-row-id="') == 1
        assert f"bob-{w['run']}" in page and f"alice-{w['run']}" not in page
        assert "&#34;secret_b&#34;" in page or '"secret_b"' in page  # the row's detail JSON
        assert "export.csv?action=tier_change" in page.replace("&amp;", "&")
        text = _get(app, "/audit-ledger/export.csv", w["tokens"]["sysadmin"], action=events.REQUEST_CREATE).body
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert [r["action"] for r in rows] == ["request_create"] * 3
        assert {r["actor_name"] for r in rows} == {f"alice-{w['run']}"}

    def test_date_filter_and_bad_date(self, app):
        """A date range before every row empties the page; a malformed date is an error naming the field."""
        w = _world()
        empty = _get(app, "/audit-ledger", w["tokens"]["sysadmin"], until="2001-01-01").body
        assert 'data-row-id="' not in empty
        bad = _get(app, "/audit-ledger", w["tokens"]["sysadmin"], since="not-a-date").body
        assert "ledger-errors" in bad and "since" in bad

    def test_paging(self, app):
        """More rows than a page hold are paged, the newest first."""
        w = _world()
        for i in range(55):
            chain.append(events.DATA_ACCESS, actor_name=f"reader-{i}", organization_id=w["orgs"]["a"]["id"])
        model.Session.commit()
        first = _get(app, "/audit-ledger", w["tokens"]["sysadmin"]).body
        assert first.count('data-row-id="') == 50 and "reader-54" in first and 'id="ledger-older"' in first
        second = _get(app, "/audit-ledger", w["tokens"]["sysadmin"], page=2).body
        assert second.count('data-row-id="') == 9 and "reader-0" in second

    def test_verification_status(self, app):
        """Without a checkpoint the page says so; after one is signed it reports the tree consistent with it."""
        w = _world()
        assert 'data-status="no-checkpoint"' in _get(app, "/audit-ledger", w["tokens"]["sysadmin"]).body
        note, checkpoint = tree.sign_head(model.Session, cpt.SignerKey.generate("test.example/sharing-audit"))
        tree.store_checkpoint(model.Session, note, checkpoint)
        chain.append(events.DATA_ACCESS, actor_name="after")
        model.Session.commit()
        page = _get(app, "/audit-ledger", w["tokens"]["sysadmin"]).body
        assert 'data-status="consistent"' in page

    def test_outbox_failures_shown_to_sysadmins_only(self, app):
        """A failed e-mail delivery (state, attempts, error) is on the sysadmin's page, not on an org admin's."""
        w = _world()
        model.Session.add(SharingOutbox(job="ckanext.sharing.workflow.notify:new_request", args=["x"],
                                        title="sharing: new_request", state="retrying", attempts=3,
                                        last_error="Traceback …\nMailerException: SMTP server could not be connected"))
        model.Session.commit()
        page = _get(app, "/audit-ledger", w["tokens"]["sysadmin"]).body
        assert 'id="outbox-failed"' in page and "SMTP server could not be connected" in page
        assert 'id="outbox-status"' not in _get(app, "/audit-ledger", w["tokens"]["admin_a"]).body


def test_ledger_page_in_chromium_both_languages(live_portal, browser, screenshot):
    """A sysadmin filters the ledger by event in Chinese and in English (events named in the page's language
    beside their codes), opens a row's detail; no console error."""
    admin = make_user(sysadmin=True)
    run = uuid.uuid4().hex[:6]
    chain.append(events.REQUEST_CREATE, actor_name=f"申请人-{run}", detail={"purpose": "人口统计"})
    chain.append(events.DATA_ACCESS, actor_name=f"reader-{run}", detail={"channel": "download"})
    model.Session.commit()
    login(browser, live_portal, admin)

    browser.get(live_portal.url + "/zh_Hans_CN/audit-ledger")
    assert "审计" in browser.find_element(By.TAG_NAME, "h1").text
    Select(browser.find_element(By.ID, "f-action")).select_by_value(events.REQUEST_CREATE)
    browser.find_element(By.CSS_SELECTOR, "#ledger-filters button[type=submit]").click()
    # the filter is a GET form: wait for the filtered page, not the one the click left
    WebDriverWait(browser, 30).until(ec.url_contains("action=" + events.REQUEST_CREATE))
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#ledger-rows tbody tr")))
    rows = browser.find_elements(By.CSS_SELECTOR, "#ledger-rows tbody tr")
    assert rows and all("request_create" in r.text for r in rows)
    assert all("提交申请" in r.text for r in rows), "the event's name in Chinese beside its code"
    assert f"申请人-{run}" in browser.find_element(By.ID, "ledger-rows").text
    summary = rows[0].find_element(By.TAG_NAME, "summary")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
    screenshot(browser, "zh-before-detail")
    browser.execute_script("arguments[0].click();", summary)  # as a click (a footer overlaps it in headless Chromium)
    assert "人口统计" in rows[0].text
    assert "action=request_create" in browser.find_element(By.ID, "ledger-csv").get_attribute("href")
    screenshot(browser, "zh")
    assert console_errors(browser) == []

    browser.get(live_portal.url + "/en/audit-ledger?action=data_access")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Audit ledger"
    assert f"reader-{run}" in browser.find_element(By.ID, "ledger-rows").text
    assert "Data accessed" in browser.find_element(By.ID, "ledger-rows").text
    assert f"申请人-{run}" not in browser.find_element(By.ID, "ledger-rows").text
    assert browser.find_element(By.ID, "ledger-status").text
    screenshot(browser, "en")
    assert console_errors(browser) == []
