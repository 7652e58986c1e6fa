"""Browser tests of the Chinese UI (issue 11): switching zh ↔ en on a dataset page keeps the page, and a walk
over the main pages in zh_Hans_CN (anonymous and as a department user) finds no English word outside a short
allow-list of proper names and format names."""
from __future__ import annotations

import json
import re
import uuid
from typing import Any, Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from stdnum.cn import uscc

from tests.browser import SCREENSHOTS, console_errors, login, new_browser
from tests.live import LivePortal, LivePortals, make_user
from tests.ui.test_zh_form import PLUGINS, zh_portal  # noqa: F401 - the same live portal

WAIT = 30
# Words that stay in Latin letters on a Chinese page: format and protocol names, proper names, the name of the
# other language in the language switcher, and units.
ALLOWED = frozenset({
    "CSV", "XLSX", "XLS", "JSON", "XML", "HTML", "PDF", "TXT", "API", "URL", "ID", "RDF", "DCAT", "SQL", "CKAN",
    "English", "DataStore", "UTF", "GB", "MB", "KB", "ECharts", "Facebook",
})
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")


def _english_words(text: str, own: set[str]) -> list[str]:
    """Latin-letter words of ``text`` that are neither allowed nor part of this test's own identifiers
    (user and organization names, e-mail addresses, URL names and codes, which are data, not UI)."""
    words = []
    for line in text.splitlines():
        line = re.sub(r"\S+@\S+|https?://\S+|\b[\w.-]*\d[\w.-]*\b", " ", line)
        for token in re.split(r"[\s/]+", line):
            if any(part in token for part in own):
                continue
            words += [w for w in WORD.findall(token) if w not in ALLOWED]
    return words


@pytest.fixture
def zh_browser() -> Any:
    driver = new_browser(lang="zh-CN")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def catalogue(zh_portal: LivePortal, reset_db: Callable[[], None]) -> dict[str, Any]:  # noqa: F811
    """On an emptied database and index (what CKAN's clean_db + clean_index do, for this module): a department
    with an editor, one conditional catalogue dataset in Chinese with an uploaded CSV. The walk then sees only
    this module's data, never other tests' English factory text (data, not UI), so any English it finds is UI."""
    from ckan.lib import search

    reset_db()
    search.clear_all()
    run = uuid.uuid4().hex[:6]
    admin = make_user(sysadmin=True)
    # its own credit code: the portal keeps USCCs unique, and test_zh_form's department already holds the shared one
    body = f"91350100M{uuid.uuid4().int % 10**6:06d}Y4"
    code = body + uscc.calc_check_digit(body)
    editor = make_user(name=f"bianji-{run}", fullname="张编辑")
    org = zh_portal.action("organization_create", admin.token, name=f"shi-jiao-tong-ju-{run}", title="示范市交通运输局",
                           description="负责全市交通运输数据。", uscc=code,
                           users=[{"name": editor.name, "capacity": "editor"}])
    pkg = zh_portal.action(
        "package_create", admin.token, title="公交线路与站点", res_code="301002003/000009", res_class="3",
        owner_org=org["id"], notes="全市公交线路、站点位置与运营时间。", format_category="电子表格",
        data_items=[{"item_name": "线路名称", "item_type": "C"}, {"item_name": "站点名称", "item_type": "C"}],
        sharing_tier="conditional", share_condition="仅限履行法定职责使用", share_scope="本市交通运输相关部门",
        share_method=["文件下载"], update_cycle="每月", publish_date="2026-11-01", theme="交通运输",
        contact_name="王五", contact_phone="0591-87654321", contact_email="jt@example.gov.cn")
    res = zh_portal.action("resource_create", admin.token, files={"upload": ("公交站点.csv", "线路,站点\n1路,五一广场\n")},
                           package_id=pkg["id"], name="公交站点", format="CSV")
    return {"org": org, "pkg": pkg, "res": res, "editor": editor,
            "own": {org["name"], pkg["name"], editor.name, run, "gong-jiao-zhan-dian"}}


def test_untranslated_words_are_found_and_data_is_not() -> None:
    """The walk's detector flags Latin-letter UI words (also all-hex ones such as "added") and skips allowed
    names, e-mail addresses, URLs, identifiers with digits and this test's own names."""
    text = "发布 Publish 数据集\n已 added 3 项 CSV API\njt@example.gov.cn http://x.example/a 43ec902d-71f2 bianji-ab12cd"
    assert _english_words(text, {"bianji-ab12cd"}) == ["Publish", "added"]


def _visible_text(driver: Any) -> str:
    return driver.execute_script("return document.body.innerText") or ""


def test_language_switch_keeps_the_dataset_page(zh_portal: LivePortal, zh_browser: Any,  # noqa: F811
                                                catalogue: dict[str, Any], screenshot: Callable[[Any, str], Any]) -> None:
    """On a dataset page the footer's language switcher goes zh → en and back, staying on the same dataset."""
    name = catalogue["pkg"]["name"]
    zh_browser.get(f"{zh_portal.url}/dataset/{name}")
    assert "有条件共享" in _visible_text(zh_browser)
    screenshot(zh_browser, "1-zh")
    for target, lang, expect in (("en", "en", "Conditional sharing"), ("zh_Hans_CN", "zh", "有条件共享")):
        select = zh_browser.find_element(By.ID, "field-lang-select")
        option = next(o for o in select.find_elements(By.TAG_NAME, "option")
                      if o.get_attribute("value").rstrip("/").endswith(f"/dataset/{name}")
                      and (o.get_attribute("lang") or "").replace("-", "_").startswith(target[:2]))
        zh_browser.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            select, option.get_attribute("value"))
        WebDriverWait(zh_browser, WAIT).until(
            lambda d: (d.find_element(By.TAG_NAME, "html").get_attribute("lang") or "").startswith(lang))
        WebDriverWait(zh_browser, WAIT).until(ec.presence_of_element_located((By.ID, "field-lang-select")))
        assert zh_browser.current_url.rstrip("/").endswith(f"/dataset/{name}"), zh_browser.current_url
        assert expect in _visible_text(zh_browser)
        screenshot(zh_browser, f"2-{target}")
        assert console_errors(zh_browser) == []


def test_chinese_pages_show_no_untranslated_english(zh_portal: LivePortal, zh_browser: Any,  # noqa: F811
                                                   catalogue: dict[str, Any],
                                                   screenshot: Callable[[Any, str], Any]) -> None:
    """Home, dataset list, a dataset, a resource, organization list and page, the guide, and — logged in as a
    department editor — the request form and dashboards: no English word outside the allow-list."""
    pkg, res, org = catalogue["pkg"], catalogue["res"], catalogue["org"]
    public = ["/", "/dataset/", f"/dataset/{pkg['name']}", f"/dataset/{pkg['name']}/resource/{res['id']}",
              "/organization/", f"/organization/{org['name']}", "/sharing/guide", "/user/login"]
    member = ["/", f"/dataset/{pkg['name']}", f"/dataset/{pkg['name']}/request-access", "/dashboard/datasets",
              "/dashboard/access-requests", f"/organization/{org['name']}", "/sharing/guide"]
    found: dict[str, list[str]] = {}
    for who, paths in (("anonymous", public), ("editor", member)):
        if who == "editor":
            login(zh_browser, zh_portal, catalogue["editor"])
        for number, path in enumerate(paths):
            zh_browser.get(zh_portal.url + path)
            assert (zh_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") or "").startswith("zh"), path
            screenshot(zh_browser, f"{who}-{number}")
            words = _english_words(_visible_text(zh_browser), catalogue["own"])
            if words:
                found[f"{who} {path}"] = sorted(set(words))
    report = SCREENSHOTS / "test_chinese_pages_show_no_untranslated_english.json"
    report.write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    assert found == {}, json.dumps(found, ensure_ascii=False)


@pytest.mark.parametrize("labels,names", [("national", ("有条件共享", "Conditional sharing")),
                                          ("shanghai", ("按需共享", "On request"))])
def test_live_portal_uses_the_configured_tier_names(live_portals: LivePortals, zh_portal: LivePortal,  # noqa: F811
                                                    catalogue: dict[str, Any], labels: str,
                                                    names: tuple[str, str]) -> None:
    """Regulation Art. 14: a live portal with each ckanext.sharing.tier_labels shows its names on the dataset
    page and the search facet (Chinese), in the API's facet labels and in the schema API (English)."""
    portal = zh_portal if labels == "national" else live_portals.get(plugins=PLUGINS, config=dict(
        zh_portal.config, **{"ckanext.sharing.tier_labels": labels}))
    zh, en = names
    name = catalogue["pkg"]["name"]
    assert zh in portal.get(f"/dataset/{name}").text
    search = portal.get("/dataset/").text
    assert zh in search[search.index("sharing_tier"):]
    facet = portal.get("/api/3/action/package_search", params={"facet.field": '["sharing_tier"]'}).json()
    assert zh in [i["display_name"] for i in facet["result"]["search_facets"]["sharing_tier"]["items"]]
    schema = portal.get("/en/api/3/action/scheming_dataset_schema_show", params={"type": "dataset"}).json()["result"]
    tier = next(f for f in schema["dataset_fields"] if f["field_name"] == "sharing_tier")
    assert en in [c["label"] for c in tier["choices"]]
