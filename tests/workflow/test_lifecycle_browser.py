"""Browser journey (issues 11 and 13) on the Chinese UI: a department user requests conditional data with the
fields of Art. 20; the provider's decider returns it listing what is missing (Art. 21); the requester sees the
list on the dashboard and resubmits; the decider approves fewer days than asked. Screenshots of each step
go to .run/screenshots/; the console stays clean."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Callable

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from ckanext.sharing.catalogue.schemas import sharing_sample_record
from ckanext.sharing.dev.demo import make_uscc

from tests.browser import console_errors, login, new_browser
from tests.live import LivePortal, make_user
from tests.ui.test_zh_form import _click, _set, zh_portal  # noqa: F401 - the shared Chinese portal

WAIT = 30


def _submit(driver: Any, form_id: str) -> None:
    """Click the submit button of one form of the page and wait for the next page."""
    form = driver.find_element(By.ID, form_id)
    _click(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    WebDriverWait(driver, WAIT).until(ec.staleness_of(form))


def _row(driver: Any, request_id: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f"tr[data-request-id='{request_id}']")


def test_request_return_resubmit_and_shorter_approval_in_the_browser(
        zh_portal: LivePortal, screenshot: Callable[[Any, str], Any]) -> None:
    """Art. 20/21 end to end in Chromium: request with use basis, scope and method; returned with a missing list
    shown on the dashboard; resubmitted (clock restarted); approved for 30 of the 60 days asked."""
    run = uuid.uuid4().hex[:6]
    admin, decider, requester = make_user(sysadmin=True), make_user(), make_user(fullname="交通局 数据专员")
    provider = zh_portal.action("organization_create", admin.token, name=f"fz-market-{run}", title="福州市市场监督管理局",
                                uscc=make_uscc(f"market-{run}"), users=[{"name": decider.name, "capacity": "admin"}])
    zh_portal.action("organization_create", admin.token, name=f"fz-transport-{run}", title="福州市交通运输局",
                     uscc=make_uscc(f"transport-{run}"), users=[{"name": requester.name, "capacity": "member"}])
    pkg = zh_portal.action("package_create", admin.token, **sharing_sample_record(
        res_code="301002003/000099", owner_org=provider["id"], name=f"qiye-xinxi-{run}", title="企业登记信息",
        sharing_tier="conditional", share_condition="仅用于政务服务", share_scope="本市政务部门",
        share_method=["接口", "文件下载"]))

    person, official = new_browser(lang="zh-CN"), new_browser(lang="zh-CN")
    try:
        # 1. the requester fills the form (Art. 20 fields) and asks for 60 days
        login(person, zh_portal, requester)
        person.get(f"{zh_portal.url}/dataset/{pkg['name']}/request-access")
        for name, value in {"purpose": "企业信用监管", "use_scenario": "跨部门联合检查",
                            "use_basis": "《政务数据共享条例》第二十条", "use_scope": "本局执法支队",
                            "share_method": "文件下载", "requested_days": "60"}.items():
            _set(person, name, value)
        screenshot(person, "1-request-form")
        _submit(person, "sharing-request-form")
        req = zh_portal.action("sharing_request_list", requester.token, mine=True)["results"][0]
        assert (req["share_method"], req["use_scope"], req["requested_days"]) == ("文件下载", "本局执法支队", 60)
        row = _row(person, req["id"])
        assert row.find_element(By.CSS_SELECTOR, ".sharing-days-left").get_attribute("data-days-left") == "10"
        screenshot(person, "2-dashboard-pending")

        # 2. the decider sees the Art. 20 fields and returns it, listing everything missing at once
        login(official, zh_portal, decider)
        official.get(f"{zh_portal.url}/access-request/{req['id']}")
        assert official.find_element(By.ID, "sharing-use-basis").text == "《政务数据共享条例》第二十条"
        assert official.find_element(By.ID, "sharing-share-method").text == "文件下载"
        _set(official, "missing", "请补充文件文号\n请注明使用人员名单")
        screenshot(official, "3-return-form")
        _submit(official, "sharing-return-form")
        assert official.find_element(By.ID, "sharing-state").get_attribute("data-state") == "returned"
        screenshot(official, "4-returned")

        # 3. the requester sees the list on the dashboard and resubmits
        person.get(zh_portal.url + "/dashboard/access-requests")
        missing = _row(person, req["id"]).find_element(By.CSS_SELECTOR, ".sharing-missing").text
        assert "请补充文件文号" in missing and "请注明使用人员名单" in missing
        screenshot(person, "5-dashboard-returned")
        person.get(f"{zh_portal.url}/access-request/{req['id']}")
        _set(person, "use_basis", "《政务数据共享条例》第二十条；闽市监〔2026〕12号")
        _set(person, "use_scope", "本局执法支队：张三、李四")
        screenshot(person, "6-resubmit-form")
        _submit(person, "sharing-resubmit-form")
        assert person.find_element(By.ID, "sharing-state").get_attribute("data-state") == "pending"

        # 4. the decider approves 30 of the 60 days
        official.get(f"{zh_portal.url}/access-request/{req['id']}")
        until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        official.execute_script("document.getElementById('field-approve-expires').value = arguments[0];", until)
        _submit(official, "sharing-approve-form")
        assert official.find_element(By.ID, "sharing-state").get_attribute("data-state") == "approved"
        events = [e.get_attribute("data-action") for e in official.find_elements(By.CSS_SELECTOR, ".sharing-event")]
        assert events == ["request_create", "request_return", "request_resubmit", "request_approve"]
        official.execute_script("document.getElementById('sharing-timeline').scrollIntoView();")
        screenshot(official, "7-approved-timeline")

        person.get(zh_portal.url + "/dashboard/access-requests")
        assert until in _row(person, req["id"]).find_element(By.CSS_SELECTOR, ".sharing-granted").text
        screenshot(person, "8-dashboard-approved")
        grant_id = zh_portal.action("sharing_request_show", requester.token, id=req["id"])["grant_id"]
        expires = zh_portal.action("sharing_grant_show", requester.token, id=grant_id)["expires"]
        assert dt.datetime.fromisoformat(expires) < dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=32)
        assert console_errors(person) == [] and console_errors(official) == []
    finally:
        person.quit()
        official.quit()
