"""Browser journey (issue 11) on the Chinese UI: a citizen requests a conditional dataset, the department admin
approves fewer days than asked, then the citizen — now a grantee — downloads the uploaded file (saved under
its Chinese name, charset declared), downloads the DataStore table's CSV export from the resource page's link,
and sees both previews (DataTables for the table, the text preview for the upload) with a clean console; the
same pages are spot-checked in English. Screenshots of each step go to .run/screenshots/."""
from __future__ import annotations

import datetime as dt
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from ckanext.sharing.catalogue.schemas import sharing_sample_record
from ckanext.sharing.dev.demo import make_uscc

from tests.browser import Journey, console_errors, login, new_browser
from tests.live import LivePortal, make_user
from tests.ui.test_zh_form import _click, _set, zh_portal  # noqa: F401 - the shared Chinese portal

WAIT = 30
UPLOAD = "站点,线路\n五一广场,1路\n福州火车站,2路\n"
ROWS = [{"线路": "1路", "站点": "五一广场"}, {"线路": "2路", "站点": "福州火车站"}]


@pytest.fixture(scope="module")
def granted(zh_portal: LivePortal) -> dict[str, Any]:  # noqa: F811
    """A department with its admin (the decider), a citizen, and a conditional dataset with an upload named
    公交站点.csv and a DataStore-only table (its default views made by the portal)."""
    run = uuid.uuid4().hex[:6]
    admin, decider = make_user(sysadmin=True), make_user(fullname="交通局 审批员")
    citizen = make_user(fullname="王市民")
    org = zh_portal.action("organization_create", admin.token, name=f"fz-jiaotong-{run}", title="福州市交通运输局",
                           uscc=make_uscc(f"grantee-{run}"), users=[{"name": decider.name, "capacity": "admin"}])
    pkg = zh_portal.action("package_create", admin.token, **sharing_sample_record(
        res_code="301002003/000077", owner_org=org["id"], name=f"gongjiao-{run}", title="公交线路与站点",
        sharing_tier="conditional", share_condition="仅用于公共出行服务", share_scope="本市政务部门及申请人",
        share_method=["文件下载"]))
    upload = zh_portal.action("resource_create", admin.token, files={"upload": ("公交站点.csv", UPLOAD)},
                              package_id=pkg["id"], format="CSV")
    table = zh_portal.action("datastore_create", admin.token, resource={"package_id": pkg["id"], "name": "公交线路表"},
                             fields=[{"id": "线路", "type": "text"}, {"id": "站点", "type": "text"}], records=ROWS,
                             force=True)
    return {"org": org, "pkg": pkg, "upload": upload, "table_id": table["resource_id"], "decider": decider,
            "citizen": citizen}


def _downloads(driver: Any, folder: Path) -> None:
    """Let the headless browser save downloads (also from tabs it opens) into ``folder``."""
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})


def _wait_file(folder: Path, name: str, seconds: float = WAIT) -> Path:
    """The downloaded file ``name`` once Chromium has finished writing it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        path = folder / name
        if path.exists() and not list(folder.glob("*.crdownload")):
            return path
        time.sleep(0.2)
    raise AssertionError(f"{name} not downloaded; the folder has {sorted(p.name for p in folder.iterdir())}")


def _fetch_headers(driver: Any, url: str) -> dict[str, str]:
    """The response headers the logged-in browser gets for ``url`` (its own request, with its cookies)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => done({status: String(r.status),"
        " type: r.headers.get('content-type') || '', disposition: r.headers.get('content-disposition') || ''}))"
        ".catch(e => done({status: 'error', type: String(e), disposition: ''}));", url)


def _preview_text(driver: Any, wanted: str) -> str:
    """The text of the resource page's first view (an iframe) once it shows ``wanted``; back to the page."""
    frame = WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[data-module='data-viewer']")))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)
    driver.switch_to.frame(frame)
    try:
        WebDriverWait(driver, WAIT).until(lambda d: wanted in (d.execute_script("return document.body.innerText") or ""))
        return driver.execute_script("return document.body.innerText")
    finally:
        driver.switch_to.default_content()


def _table_rows(driver: Any) -> list[str]:
    """The DataTables view's body rows (waits for its Ajax call to fill them)."""
    frame = WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[data-module='data-viewer']")))
    driver.execute_script("arguments[0].scrollIntoView({block: 'end'});", frame)
    driver.switch_to.frame(frame)
    try:
        # read in one script: DataTables redraws its rows while it settles (elements go stale between calls)
        rows = "return [...document.querySelectorAll('table tbody tr')].map(r => r.innerText);"
        WebDriverWait(driver, WAIT).until(lambda d: "福州火车站" in " ".join(d.execute_script(rows)))
        return driver.execute_script(rows)
    finally:
        driver.switch_to.default_content()


def test_grantee_downloads_exports_and_previews_in_chinese(zh_portal: LivePortal, granted: dict[str, Any],  # noqa: F811
                                                          journey: Journey, tmp_path: Path) -> None:
    """Request → approved for 30 of 60 days → the grantee saves 公交站点.csv (text/csv; charset=utf-8), saves the
    table's CSV export (UTF-8 with BOM) from the page's CSV link, and sees the text and DataTables previews; no
    console error in Chinese or in English."""
    pkg, upload, table_id = granted["pkg"], granted["upload"], granted["table_id"]
    upload_page = f"{zh_portal.url}/dataset/{pkg['name']}/resource/{upload['id']}"
    table_page = f"{zh_portal.url}/dataset/{pkg['name']}/resource/{table_id}"
    person, official = new_browser(lang="zh-CN"), new_browser(lang="zh-CN")
    _downloads(person, tmp_path)
    try:
        # before the grant: the resource offers the request, neither the file nor a preview
        login(person, zh_portal, granted["citizen"])
        person.get(upload_page)
        assert person.find_elements(By.CSS_SELECTOR, ".sharing-request-cta, .sharing-request-button")
        assert not person.find_elements(By.CSS_SELECTOR, "iframe[data-module='data-viewer']")
        assert "download/gong-jiao-zhan-dian.csv" not in person.page_source
        journey.step("1-before-grant", person)

        person.get(f"{zh_portal.url}/dataset/{pkg['name']}/request-access")
        for name, value in {"purpose": "公交出行信息服务", "use_scenario": "市民出行查询", "use_basis": "《政务数据共享条例》第二十条",
                            "use_scope": "本人", "share_method": "文件下载", "requested_days": "60"}.items():
            _set(person, name, value)
        journey.step("2-request-form", person)
        form = person.find_element(By.ID, "sharing-request-form")
        _click(person, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        WebDriverWait(person, WAIT).until(ec.staleness_of(form))
        req = zh_portal.action("sharing_request_list", granted["citizen"].token, mine=True)["results"][0]

        # the department admin approves 30 of the 60 days asked
        login(official, zh_portal, granted["decider"])
        official.get(f"{zh_portal.url}/access-request/{req['id']}")
        until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        official.execute_script("document.getElementById('field-approve-expires').value = arguments[0];", until)
        form = official.find_element(By.ID, "sharing-approve-form")
        _click(official, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        WebDriverWait(official, WAIT).until(ec.staleness_of(form))
        assert official.find_element(By.ID, "sharing-state").get_attribute("data-state") == "approved"
        journey.step("3-approved", official)
        assert console_errors(official) == []

        # the grantee: the upload's page previews the file and downloads it under its Chinese name
        person.get(upload_page)
        assert "五一广场" in _preview_text(person, "福州火车站")
        journey.step("4-upload-preview", person)
        link = person.find_element(By.CSS_SELECTOR, "a.resource-url-analytics.btn")
        href = link.get_attribute("href")
        assert href.endswith("/download/gong-jiao-zhan-dian.csv"), href
        headers = _fetch_headers(person, href)
        assert headers["status"] == "200" and headers["type"] == "text/csv; charset=utf-8", headers
        assert "filename*=UTF-8''" + urllib.parse.quote("公交站点.csv") in headers["disposition"], headers
        _click(person, link)
        saved = _wait_file(tmp_path, "公交站点.csv")
        assert saved.read_text(encoding="utf-8") == UPLOAD
        journey.step("5-upload-downloaded")
        assert console_errors(person) == []

        # the DataStore table: DataTables preview and the CSV export linked from the page
        person.get(table_page)
        rows = _table_rows(person)
        assert any("五一广场" in r and "1路" in r for r in rows) and len(rows) == 2, rows
        assert "_datastore_only_resource" not in person.page_source
        journey.step("6-table-preview", person)
        _click(person, person.find_element(By.ID, "dropdownDownloadFormat"))
        csv_link = WebDriverWait(person, WAIT).until(ec.visibility_of_element_located(
            (By.XPATH, "//ul[@aria-labelledby='dropdownDownloadFormat']//a[normalize-space()='CSV']")))
        assert f"/datastore/dump/{table_id}" in csv_link.get_attribute("href")
        journey.step("7-export-menu", person)
        _click(person, csv_link)
        export = _wait_file(tmp_path, f"{table_id}.csv").read_bytes()
        assert export.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for spreadsheet programs"
        text = export.decode("utf-8-sig")
        assert text.splitlines()[0].endswith("线路,站点") and "五一广场" in text and "福州火车站" in text, text
        person.switch_to.window(person.window_handles[0])
        journey.step("8-export-downloaded")
        assert console_errors(person) == []

        # spot check in English: both previews, the download and the export menu
        person.get(table_page.replace(zh_portal.url, zh_portal.url + "/en"))
        assert (person.find_element(By.TAG_NAME, "html").get_attribute("lang") or "").startswith("en")
        assert len(_table_rows(person)) == 2
        assert person.find_element(By.ID, "dropdownDownloadFormat")
        journey.step("9-en-table-preview", person)
        person.get(upload_page.replace(zh_portal.url, zh_portal.url + "/en"))
        assert "五一广场" in _preview_text(person, "福州火车站")
        assert "Download" in person.find_element(By.CSS_SELECTOR, "a.resource-url-analytics.btn").text
        journey.step("10-en-upload-preview", person)
        assert console_errors(person) == []
    finally:
        person.quit()
        official.quit()
