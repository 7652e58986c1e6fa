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
    "Markdown",  # the text format the description fields take ("此处可以使用 Markdown 格式")
    "Shift",  # the key's name, as on the keyboard ("按住 Shift 键点击排序控件")
    "UTC",  # the time zone's name in dates that CKAN's JavaScript writes ("(UTC+08:00)")
    "text",  # a DataStore column's type as the Data Dictionary shows it (PostgreSQL's type name, data)
})
# On the Data API page and modal only: core's code examples are named by their languages, and the texts that
# introduce them quote the field names and values the code uses (the examples would not work translated).
CODE_EXAMPLES = frozenset({"curl", "JavaScript", "PowerShell", "Python", "ckanapi", "GET",
                           "jones", "jones'", "watershed", "survey", "subject", "stage", "active"})
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")


def _english_words(text: str, own: set[str]) -> list[str]:
    """Latin-letter words of ``text`` that are neither allowed nor part of this test's own identifiers
    (user and organization names, e-mail addresses, URL names and codes, which are data, not UI)."""
    words = []
    for line in text.splitlines():
        line = re.sub(r"\S+@\S+|https?://\S+|(?:[\w-]+\.)+[\w-]+(?::\d+)?/\S*|\b[\w.-]*\d[\w.-]*\b", " ", line)
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
    admin = make_user(sysadmin=True, fullname="系统管理员")
    # its own credit code: the portal keeps USCCs unique, and test_zh_form's department already holds the shared one
    body = f"91350100M{uuid.uuid4().int % 10**6:06d}Y4"
    code = body + uscc.calc_check_digit(body)
    # Chinese names and profiles: the factories' English ones are data, not UI
    editor = make_user(name=f"bianji-{run}", fullname="张编辑", about="负责本局数据资源的编目。")
    manager = make_user(name=f"guanli-{run}", fullname="李管理", about="本局数据管理员。")
    org = zh_portal.action("organization_create", admin.token, name=f"shi-jiao-tong-ju-{run}", title="示范市交通运输局",
                           description="负责全市交通运输数据。", uscc=code,
                           users=[{"name": editor.name, "capacity": "editor"},
                                  {"name": manager.name, "capacity": "admin"}])
    group = zh_portal.action("group_create", admin.token, name=f"chu-xing-{run}", title="出行专题",
                             description="与市民出行有关的数据。")
    pkg = zh_portal.action(
        "package_create", admin.token, title="公交线路与站点", res_code="301002003/000009", res_class="3",
        owner_org=org["id"], notes="全市公交线路、站点位置与运营时间。", format_category="电子表格",
        data_items=[{"item_name": "线路名称", "item_type": "C"}, {"item_name": "站点名称", "item_type": "C"}],
        sharing_tier="conditional", share_condition="仅限履行法定职责使用", share_scope="本市交通运输相关部门",
        share_method=["文件下载"], update_cycle="每月", publish_date="2026-11-01", theme="交通运输",
        contact_name="王五", contact_phone="0591-87654321", contact_email="jt@example.gov.cn",
        groups=[{"name": group["name"]}])
    res = zh_portal.action("resource_create", admin.token, files={"upload": ("公交站点.csv", "线路,站点\n1路,五一广场\n")},
                           package_id=pkg["id"], name="公交站点", format="CSV")
    # a DataStore table: its resource page shows the DataTables view (a default view) and the 数据 API button
    table = zh_portal.action("datastore_create", admin.token, resource={"package_id": pkg["id"], "name": "公交线路表"},
                             fields=[{"id": "线路", "type": "text"}, {"id": "站点", "type": "text"}],
                             records=[{"线路": "1路", "站点": "五一广场"}, {"线路": "2路", "站点": "福州火车站"}], force=True)
    return {"org": org, "group": group, "pkg": pkg, "res": res, "table_id": table["resource_id"], "editor": editor,
            "manager": manager,
            "own": {org["name"], group["name"], pkg["name"], editor.name, manager.name, run, "gong-jiao-zhan-dian"}}


def test_untranslated_words_are_found_and_data_is_not() -> None:
    """The walk's detector flags Latin-letter UI words (also all-hex ones such as "added") and skips allowed
    names, e-mail addresses, URLs (also without scheme, as the form's URL preview shows them), identifiers
    with digits and this test's own names."""
    text = ("发布 Publish 数据集\n已 added 3 项 CSV API\njt@example.gov.cn http://x.example/a 43ec902d-71f2 bianji-ab12cd\n"
            "网址: 127.0.0.1:5000/dataset/<网址名> data.example.gov.cn/dataset/x")
    assert _english_words(text, {"bianji-ab12cd"}) == ["Publish", "added"]


def _visible_text(driver: Any) -> str:
    """The page's rendered text without code samples (``pre``/``code``: curl, Python ... are code, not UI), with
    the labels of its visible input buttons (``value``, not in ``innerText``: the Changes page's 显示元数据差异)."""
    return driver.execute_script(
        "let text = document.body.innerText || '';"
        "for (const el of document.querySelectorAll('pre, code')) {"
        "  const part = el.innerText; if (part) { text = text.split(part).join(' '); } }"
        "for (const el of document.querySelectorAll('input[type=button], input[type=submit], input[type=reset]')) {"
        "  if (el.offsetParent !== null && el.value) { text += '\\n' + el.value; } }"
        "return text;") or ""


def _tooltips(driver: Any) -> str:
    """The page's tooltips, placeholders and accessible names (one a line): UI text a reader meets too."""
    return driver.execute_script(
        "return [...document.querySelectorAll('[title], [placeholder], [aria-label]')]"
        ".flatMap(el => ['title', 'placeholder', 'aria-label'].map(a => el.getAttribute(a) || ''))"
        ".filter(Boolean).join('\\n');") or ""


def _page_errors(driver: Any, path: str) -> list[str]:
    """The console's errors, except the failed load of an error page's own document (its 404 status)."""
    own = re.compile(r"^\S*" + re.escape(path) + r" - Failed to load resource: the server responded with a status of 404")
    return [e for e in console_errors(driver) if not own.match(e)]


def _walk(driver: Any, portal: LivePortal, who: str, paths: list[str], own: set[str],
          screenshot: Callable[[Any, str], Any], found: dict[str, list[str]], errors: dict[str, list[str]]) -> None:
    """Visit ``paths`` in Chinese: screenshot each, note its English words in ``found`` and its console
    errors in ``errors`` (keyed by who and path)."""
    for number, path in enumerate(paths):
        driver.get(portal.url + path)
        assert (driver.find_element(By.TAG_NAME, "html").get_attribute("lang") or "").startswith("zh"), path
        screenshot(driver, f"{who}-{number}")
        words = _english_words(_visible_text(driver), own)
        if words:
            found[f"{who} {path}"] = sorted(set(words))
        problems = _page_errors(driver, path)
        if problems:
            errors[f"{who} {path}"] = problems


def _report(name: str, found: dict[str, list[str]], errors: dict[str, list[str]]) -> None:
    """Write what the walk found to ``.run/screenshots/<name>.json``; fail if it found anything."""
    report = SCREENSHOTS / f"{name}.json"
    report.write_text(json.dumps({"english": found, "console": errors}, ensure_ascii=False, indent=1), encoding="utf-8")
    assert found == {}, json.dumps(found, ensure_ascii=False)
    assert errors == {}, json.dumps(errors, ensure_ascii=False)


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
    errors: dict[str, list[str]] = {}
    _walk(zh_browser, zh_portal, "anonymous", public, catalogue["own"], screenshot, found, errors)
    login(zh_browser, zh_portal, catalogue["editor"])
    _walk(zh_browser, zh_portal, "editor", member, catalogue["own"], screenshot, found, errors)
    _report("test_chinese_pages_show_no_untranslated_english", found, errors)


def _frame_text(driver: Any, wanted: str) -> str:
    """The text and tooltips of the page's first resource view (an iframe) once its body shows ``wanted``."""
    frame = WebDriverWait(driver, WAIT).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[data-module='data-viewer']")))
    driver.execute_script("arguments[0].scrollIntoView({block: 'end'});", frame)
    driver.switch_to.frame(frame)
    try:
        WebDriverWait(driver, WAIT).until(lambda d: wanted in _visible_text(d))
        return _visible_text(driver) + "\n" + _tooltips(driver)
    finally:
        driver.switch_to.default_content()


def test_core_pages_a_chinese_user_reaches_show_no_english(zh_portal: LivePortal, zh_browser: Any,  # noqa: F811
                                                          catalogue: dict[str, Any],
                                                          screenshot: Callable[[Any, str], Any]) -> None:
    """The core pages of the header and the journeys — about, groups, a department's about and members pages,
    404 pages, the dataset form, the user's profile, settings, API tokens and activity, the dashboards, the
    Data API page and modal, and a DataTables view (its text and tooltips) — show no English word outside the
    allow-list and log no console error."""
    pkg, org, group, table = catalogue["pkg"], catalogue["org"], catalogue["group"], catalogue["table_id"]
    editor, manager = catalogue["editor"].name, catalogue["manager"].name
    public = ["/about", "/group/", f"/group/{group['name']}", f"/organization/about/{org['name']}",
              "/no-such-page", "/dataset/no-such-dataset"]
    member = ["/dataset/new", f"/user/{editor}", f"/user/edit/{editor}", f"/user/{editor}/api-tokens",
              f"/user/activity/{editor}", "/dashboard/", "/dashboard/organizations", "/dashboard/groups",
              f"/dataset/{pkg['name']}/resource/{table}"]
    admin = [f"/organization/members/{org['name']}", f"/organization/member_new/{org['name']}",
             f"/organization/activity/{org['name']}"]
    found: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    _walk(zh_browser, zh_portal, "anonymous", public, catalogue["own"], screenshot, found, errors)
    login(zh_browser, zh_portal, catalogue["editor"])
    _walk(zh_browser, zh_portal, "editor", member, catalogue["own"], screenshot, found, errors)
    # still on the DataStore table's page: its DataTables view, then the 数据 API modal
    view = _english_words(_frame_text(zh_browser, "福州火车站"), catalogue["own"] | {"_id"})
    screenshot(zh_browser, "editor-datatables")
    if view:
        found["editor DataTables view"] = sorted(set(view))
    button = zh_browser.find_element(By.CSS_SELECTOR, "a[data-module='api-info']")
    assert "数据 API" in button.text
    zh_browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", button)
    modal = WebDriverWait(zh_browser, WAIT).until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".modal.show")))
    WebDriverWait(zh_browser, WAIT).until(lambda d: table in modal.get_attribute("innerHTML"))
    screenshot(zh_browser, "editor-data-api-modal")
    words = _english_words(zh_browser.execute_script(
        "const m = arguments[0]; let t = m.innerText;"
        "for (const el of m.querySelectorAll('pre, code')) { if (el.innerText) t = t.split(el.innerText).join(' '); }"
        "return t;", modal), catalogue["own"] | CODE_EXAMPLES)
    if words:
        found["editor 数据 API modal"] = sorted(set(words))
    problems = console_errors(zh_browser)
    if problems:
        errors["editor DataTables view and 数据 API modal"] = problems
    # the Data API page itself (the button's link without JavaScript): the modal's fragment, no <html lang>
    zh_browser.get(f"{zh_portal.url}/datastore/api_info/{table}")
    words = _english_words(_visible_text(zh_browser), catalogue["own"] | CODE_EXAMPLES)
    if words:
        found["editor /datastore/api_info"] = sorted(set(words))
    zh_browser.get(zh_portal.url + "/user/_logout")
    login(zh_browser, zh_portal, catalogue["manager"])
    _walk(zh_browser, zh_portal, "admin", admin, catalogue["own"], screenshot, found, errors)
    _report("test_core_pages_a_chinese_user_reaches_show_no_english", found, errors)


def _between(html: str, start: str, end: str) -> str:
    """The part of ``html`` from the first ``start`` to the next ``end`` (empty when ``start`` is missing)."""
    at = html.find(start)
    return html[at:html.find(end, at) + len(end)] if at >= 0 else ""


def test_core_catalogue_corrections_show_on_real_pages(zh_portal: LivePortal,  # noqa: F811
                                                       catalogue: dict[str, Any]) -> None:
    """Pages served in Chinese show our corrections of core's catalogue and not core's words: 登录 (not 登陆)
    and 注册 (not 登记) on the login page, 关注者 and 关注 (not 追从者, 追随) on a department's page, 分享
    (not 社会) as the dataset page's sharing heading, 字段/值 (not 域/价值) as the resource page's table headings."""
    pkg, org, res = catalogue["pkg"], catalogue["org"], catalogue["res"]
    login_page = zh_portal.get("/user/login").text
    assert "登录" in login_page and "登陆" not in login_page
    assert "注册" in login_page and "登记" not in login_page, "the header's Register link"
    org_page = zh_portal.get(f"/organization/{org['name']}").text
    assert "关注者" in org_page and "追从者" not in org_page
    assert "追随" not in org_page
    dataset_page = zh_portal.get(f"/dataset/{pkg['name']}").text
    social = _between(dataset_page, '<i class="fa fa-share-square"></i>', "</h2>")
    assert "分享" in social and "社会" not in social, social
    resource_page = zh_portal.get(f"/dataset/{pkg['name']}/resource/{res['id']}").text
    headings = re.findall(r'<th scope="col">\s*([^<]*?)\s*</th>', _between(resource_page, "<table", "</thead>"))
    assert headings[:2] == ["字段", "值"], headings
    assert not {"域", "价值"} & set(headings)


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


def test_dataset_changes_pages_show_no_english(zh_portal: LivePortal, zh_browser: Any,  # noqa: F811
                                               catalogue: dict[str, Any],
                                               screenshot: Callable[[Any, str], Any]) -> None:
    """After the department editor's edits of a dataset (description and update cycle, a CSV upload with its
    default view, the title), its activity page, each of its Changes links (查看变更), a 查看此版本 page and the
    Changes page over the whole range show no English word outside the allow-list and log no console error."""
    editor = catalogue["editor"]
    pkg = zh_portal.action(
        "package_create", editor.token, title="道路施工计划", res_code="301002003/000010", res_class="3",
        owner_org=catalogue["org"]["id"], notes="全市道路施工计划。", format_category="电子表格",
        data_items=[{"item_name": "路段", "item_type": "C"}], sharing_tier="conditional",
        share_condition="仅限履行法定职责使用", share_scope="本市交通运输相关部门", share_method=["文件下载"],
        update_cycle="每月", publish_date="2026-11-01", theme="交通运输", contact_name="王五",
        contact_phone="0591-87654321", contact_email="jt@example.gov.cn")
    zh_portal.action("package_patch", editor.token, id=pkg["id"], notes="全市道路施工计划与封闭路段。", update_cycle="每季度")
    zh_portal.action("resource_create", editor.token, files={"upload": ("施工路段.csv", "路段,日期\n五一路,2026-12-01\n")},
                     package_id=pkg["id"], name="施工路段", format="CSV")
    zh_portal.action("package_patch", editor.token, id=pkg["id"], title="道路施工与封闭计划")
    stream = zh_portal.action("package_activity_list", editor.token, id=pkg["id"])
    assert "new resource view" in [a["activity_type"] for a in stream], "the upload's default view"
    login(zh_browser, zh_portal, editor)
    zh_browser.get(f"{zh_portal.url}/dataset/activity/{pkg['name']}")
    links = [a.get_attribute("href") for a in zh_browser.find_elements(By.CSS_SELECTOR, "a[href*='/dataset/changes/']")]
    versions = [a.get_attribute("href") for a in zh_browser.find_elements(By.CSS_SELECTOR, "a[href*='/history/']")]
    assert len(links) >= 3 and versions, (links, versions)
    base = len(zh_portal.url)
    paths = [f"/dataset/activity/{pkg['name']}"] + [link[base:] for link in links] + [versions[0][base:]] + [
        f"/dataset/changes_multiple?new_id={stream[0]['id']}&old_id={stream[-1]['id']}"]
    found: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    _walk(zh_browser, zh_portal, "editor-changes", paths, catalogue["own"] | {pkg["name"]}, screenshot, found, errors)
    _report("test_dataset_changes_pages_show_no_english", found, errors)
    zh_browser.get(zh_portal.url + links[0][base:])
    assert "将标题改为" in _visible_text(zh_browser), "the newest change: the title, after the view activity"
