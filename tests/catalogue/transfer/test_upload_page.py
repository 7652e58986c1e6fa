"""The upload page's journey in a real browser (SPEC §12, issue 15): upload → preview → confirm → progress →
report, by an organization admin, with a live job worker; and who may see an import."""
from __future__ import annotations

import uuid

import pytest

from ckanext.sharing.dev.demo import make_uscc

from tests.browser import browser, console_errors, login, screenshot  # noqa: F401 (fixtures)
from tests.catalogue.transfer import files
from tests.catalogue.transfer.test_import import row
from tests.live import make_user

WAIT = 180
CODES = 800000  # offset of this module's 信息资源代码 (101001001/8000NN)


def _wait_for(driver, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


@pytest.fixture(scope="module")
def department(live_portal):
    sysadmin = make_user(sysadmin=True)
    admin = make_user()
    org = live_portal.action("organization_create", sysadmin.token, name="import-bureau", title="示范局",
                             uscc=make_uscc(uuid.uuid4().hex), users=[{"name": admin.name, "capacity": "admin"}])
    return org, admin, sysadmin


def test_upload_preview_confirm_progress_report(live_portal, live_worker, department, browser, screenshot, tmp_path):
    """An organization admin uploads a CSV, sees the preview (nothing written), confirms, watches the progress
    bar (also after a reload) and gets the report; the good rows are datasets, the bad one says why."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    org, admin, sysadmin = department
    # resource codes no other test writes: the live database is the session's, and a code already used is refused
    rows = [row(CODES + n, 信息资源提供方="") for n in range(1, 121)]
    rows[4] = row(CODES + 5, 发布日期="2023-02-30")
    path = tmp_path / "目录.csv"
    path.write_bytes(files.to_csv(rows))
    login(browser, live_portal, admin)
    browser.get(live_portal.url + "/catalogue/import/")
    screenshot(browser, "form")
    browser.find_element(By.ID, "field-file").send_keys(str(path))
    Select(browser.find_element(By.ID, "field-organization")).select_by_value(org["id"])
    browser.find_element(By.CSS_SELECTOR, "#sharing-catalogue-import button[type=submit]").click()
    _wait_for(browser, "#sharing-import-confirm")
    screenshot(browser, "preview")
    counts = {e.get_attribute("data-outcome"): e.find_element(By.TAG_NAME, "span").text
              for e in browser.find_elements(By.CSS_SELECTOR, ".sharing-import-counts li")}
    assert counts == {"created": "119", "updated": "0", "unchanged": "0", "refused": "1"}
    refused = browser.find_element(By.CSS_SELECTOR, "tr[data-outcome=refused]").text
    assert "Publish date" in refused and "5" in refused
    assert live_portal.action("package_search", sysadmin.token, fq=f"owner_org:{org['id']}")["count"] == 0

    confirm = browser.find_element(By.CSS_SELECTOR, "#sharing-import-confirm button[type=submit]")
    confirm.click()
    # the preview page gone first: it has a .sharing-import-summary of its own (the dry run's), which the wait
    # below would otherwise find before the click's navigation ends
    WebDriverWait(browser, WAIT).until(ec.staleness_of(confirm))
    bar = _wait_for(browser, "#sharing-import-bar, .sharing-import-summary")
    screenshot(browser, "progress")
    assert bar.get_attribute("id") == "sharing-import-bar"  # queued: the bar shows rows done / total
    browser.refresh()  # the job is found again after a reload
    _wait_for(browser, ".sharing-import-summary")
    screenshot(browser, "report")
    counts = {e.get_attribute("data-outcome"): e.find_element(By.TAG_NAME, "span").text
              for e in browser.find_elements(By.CSS_SELECTOR, ".sharing-import-counts li")}
    assert counts == {"created": "119", "updated": "0", "unchanged": "0", "refused": "1"}
    assert not browser.find_elements(By.ID, "sharing-import-confirm")
    assert live_portal.action("package_search", sysadmin.token, fq=f"owner_org:{org['id']}")["count"] == 119
    progress = live_portal.get(browser.current_url.replace(live_portal.url, "") + "/progress",
                               headers=admin.headers).json()
    assert progress["state"] == "done" and progress["done"] == progress["total"] == 120
    assert console_errors(browser) == []


def test_only_admins_and_the_uploader(live_portal, department):
    """Anonymous users and plain users cannot open the upload page; nobody else sees someone's import."""
    org, admin, sysadmin = department
    plain = make_user()
    assert live_portal.get("/catalogue/import/", allow_redirects=False).status_code == 403
    assert live_portal.get("/catalogue/import/", headers=plain.headers).status_code == 403
    assert live_portal.get("/catalogue/import/", headers=admin.headers).status_code == 200
    other_admin = make_user()
    live_portal.action("organization_create", sysadmin.token, name="other-bureau", title="另一个局",
                       users=[{"name": other_admin.name, "capacity": "admin"}])
    assert live_portal.get("/catalogue/import/0123456789abcdef01234567", headers=other_admin.headers).status_code == 404
