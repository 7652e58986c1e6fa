"""Browser journey (issue 11): on the Chinese UI an editor creates a catalogue dataset through the form,
with two data items (新增 adds the second) and a CSV upload named in Chinese; the console stays clean."""
from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import console_errors, login, new_browser
from tests.live import LivePortal, LivePortals, make_user

PLUGINS = ("activity datastore datatables_view text_view scheming_datasets scheming_organizations "
           "sharing sharing_catalogue")
USCC = "91350100M000100Y43"
WAIT = 30


@pytest.fixture(scope="module")
def zh_portal(live_portals: LivePortals) -> LivePortal:
    """A live portal with the catalogue schema whose default language is Chinese (as config/ckan.ini)."""
    return live_portals.get(plugins=PLUGINS, config={
        "ckan.locale_default": "zh_Hans_CN", "ckan.display_timezone": "Asia/Shanghai",
        "ckan.views.default_views": "datatables_view text_view",
        "scheming.dataset_fallback": "false",
    })


@pytest.fixture
def zh_browser() -> Any:
    driver = new_browser(lang="zh-CN")
    yield driver
    driver.quit()


def _set(driver: Any, name: str, value: str) -> None:
    """Type into a text control, or choose an option of a select, as a person would (events fired)."""
    element = driver.find_element(By.NAME, name)
    if element.tag_name == "select":
        driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            element, value)
    elif element.get_attribute("type") == "date":
        driver.execute_script("arguments[0].value = arguments[1];", element, value)
    else:
        # a repeating block's new item slides in: typing waits until it can take keys, not just until it exists
        WebDriverWait(driver, WAIT).until(ec.element_to_be_clickable(element))
        element.clear()
        element.send_keys(value)


def _click(driver: Any, element: Any) -> None:
    """Click a control (in the DOM, so a sticky header over it cannot take the click)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def test_editor_creates_a_catalogue_dataset_in_chinese(zh_portal: LivePortal, zh_browser: Any, tmp_path: Any,
                                                       screenshot: Callable[[Any, str], Any]) -> None:
    """Chinese form: modules run (no console error), 新增 adds a data item and 移除 removes one, the save succeeds, the Chinese-named
    CSV is uploaded under a pinyin file name with its Chinese name, and the dataset page shows both items."""
    admin = make_user(sysadmin=True)
    editor = make_user()
    org = zh_portal.action("organization_create", admin.token, name=f"fz-data-{uuid.uuid4().hex[:6]}",
                           title="福州市数据管理局", uscc=USCC,
                           users=[{"name": editor.name, "capacity": "editor"}])
    login(zh_browser, zh_portal, editor)
    zh_browser.get(zh_portal.url + "/dataset/new")
    assert zh_browser.find_element(By.TAG_NAME, "html").get_attribute("lang").startswith("zh")
    # CKAN's modules started: the slug preview replaced the URL field's input group
    WebDriverWait(zh_browser, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".slug-preview")))
    assert not zh_browser.find_elements(By.NAME, "private"), "no visibility control: the tier decides"
    screenshot(zh_browser, "1-form")
    assert console_errors(zh_browser) == []

    title = f"公交站点信息{uuid.uuid4().hex[:4]}"
    for name, value in {
        "title": title, "res_code": "301002003/000007", "res_class": "3", "owner_org": org["id"],
        "notes": "全市公交站点的位置与线路。", "format_category": "电子表格", "sharing_tier": "conditional",
        "share_condition": "用于政务服务", "share_scope": "本市政务部门", "update_cycle": "每月", "publish_date": "2026-11-01",
        "contact_name": "李四", "contact_phone": "0591-87654321", "contact_email": "data@fz.gov.cn",
        "data_items-0-item_name": "站点名称",
    }.items():
        _set(zh_browser, name, value)
    _click(zh_browser, zh_browser.find_element(By.CSS_SELECTOR, "input[name=share_method][value='接口']"))
    _click(zh_browser, zh_browser.find_element(By.NAME, "repeating-add"))
    WebDriverWait(zh_browser, WAIT).until(ec.presence_of_element_located((By.NAME, "data_items-1-item_name")))
    _set(zh_browser, "data_items-1-item_name", "线路")
    # 移除 works too: a third item added and removed is not saved
    _click(zh_browser, zh_browser.find_element(By.NAME, "repeating-add"))
    WebDriverWait(zh_browser, WAIT).until(ec.presence_of_element_located((By.NAME, "data_items-2-item_name")))
    _set(zh_browser, "data_items-2-item_name", "临时")
    third = zh_browser.find_element(By.CSS_SELECTOR, ".scheming-subfield-group[data-group-index='2']")
    _click(zh_browser, third.find_element(By.NAME, "repeating-remove"))
    WebDriverWait(zh_browser, WAIT).until(lambda d: not d.find_elements(By.NAME, "data_items-2-item_name"))
    assert "已移除这些字段" in third.text and "removed" not in third.text
    screenshot(zh_browser, "2-filled-two-items")
    _click(zh_browser, zh_browser.find_element(By.CSS_SELECTOR, "form#dataset-edit button[name=save]"))

    WebDriverWait(zh_browser, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, "form#resource-edit")))
    screenshot(zh_browser, "3-resource-form")
    assert console_errors(zh_browser) == []
    csv = tmp_path / "公交站点.csv"
    csv.write_text("站点,线路\n五一广场,1路\n", encoding="utf-8")
    upload = zh_browser.find_element(By.CSS_SELECTOR, "form#resource-edit input[type=file][name=upload]")
    zh_browser.execute_script("arguments[0].style.display = 'block'; arguments[0].style.opacity = 1;", upload)
    upload.send_keys(str(csv))
    screenshot(zh_browser, "4-file-chosen")
    _click(zh_browser, zh_browser.find_element(By.CSS_SELECTOR, "form#resource-edit button[name=save][value=go-metadata]"))

    WebDriverWait(zh_browser, WAIT).until(ec.url_contains("/dataset/"))
    WebDriverWait(zh_browser, WAIT).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".resource-item")))
    screenshot(zh_browser, "5-dataset-page")
    page = zh_browser.page_source
    assert title in page
    assert "站点名称" in page and "线路" in page
    assert "公交站点" in zh_browser.find_element(By.CSS_SELECTOR, ".resource-item").text
    assert console_errors(zh_browser) == []
    pkg = zh_portal.action("package_show", editor.token, id=zh_browser.current_url.rstrip("/").rsplit("/", 1)[-1])
    assert [i["item_name"] for i in pkg["data_items"]] == ["站点名称", "线路"]
    assert pkg["private"] is False and pkg["sharing_tier"] == "conditional"
    assert pkg["resources"][0]["url"].endswith("/gong-jiao-zhan-dian.csv")
