"""The three statistics pages in Chromium (issue 17): the charts render (SVG inside each chart), the
console stays clean, the table under a chart holds the action's numbers, the page reads in Chinese
and at phone width (390 px)."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ckanext.sharing.stats import cache

from tests.browser import console_errors, login, new_browser
from tests.live import LivePortal, LivePortals, LiveUser
from tests.stats.test_stats import _used_world
from tests.workflow.support import PASSWORD, PLUGINS, World

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins"),
]


@pytest.fixture(scope="module")
def portal(live_portals: LivePortals) -> LivePortal:
    """A live portal with the plugins the statistics need (no catalogue schema: plain test datasets)."""
    return live_portals.get(plugins=PLUGINS)


def _user(w: World, role: str) -> LiveUser:
    u = w.users[role]
    return LiveUser(id=u["id"], name=u["name"], email=u["email"], password=PASSWORD, token=w.tokens[role],
                    sysadmin=role == "sysadmin")


def _own_errors(portal: LivePortal, errors: list[str]) -> list[str]:
    """Console errors of the portal itself (the factories give organizations off-site faker images, which
    an offline browser cannot load: not the page failing)."""
    return [e for e in errors if not (e.startswith("http") and not e.startswith(portal.url))]


def _charts_rendered(driver: Any) -> int:
    """Wait until every chart holder has drawn (an SVG inside); how many there are."""
    holders = driver.find_elements(By.CSS_SELECTOR, "[data-sharing-chart]")
    assert holders, "no chart on the page"
    WebDriverWait(driver, 20).until(lambda d: all(
        h.get_attribute("data-rendered") == "true" and h.find_elements(By.CSS_SELECTOR, "svg") for h in holders))
    return len(holders)


def _table(driver: Any, figure: str) -> dict[str, list[str]]:
    """The table of one figure: category → the raw values of its other columns (``data-value``)."""
    rows = driver.find_elements(By.CSS_SELECTOR, f"table[data-figure-table='{figure}'] tbody tr")
    return {r.find_element(By.CSS_SELECTOR, "th").text: [c.get_attribute("data-value")
                                                         for c in r.find_elements(By.CSS_SELECTOR, "td")]
            for r in rows}


def test_public_page_charts_and_tables_match_the_action(app, portal: LivePortal, browser: Any,
                                                       screenshot: Callable[[Any, str], Any]) -> None:
    """开放统计: every chart draws an SVG, no console error, and the tier and monthly tables hold the
    numbers ``sharing_stats_show`` answers."""
    w, _ = _used_world(app)
    cache.clear()
    browser.get(portal.url + "/statistics")
    charts = _charts_rendered(browser)
    screenshot(browser, "public")
    assert charts >= 8
    assert _own_errors(portal, console_errors(browser)) == []

    stats = portal.action("sharing_stats_show")
    tiers = _table(browser, "tiers")
    assert [int(v[0]) for v in tiers.values()] == [stats["datasets"]["by_tier"][t]
                                                   for t in ("open", "conditional", "not_shared")]
    months = _table(browser, "request_months")
    assert {k: [int(x) for x in v] for k, v in months.items()} == {
        m["month"]: [m["received"], m["approved"], m["rejected"]] for m in stats["months"]}
    access = _table(browser, "access_months")
    assert [int(v[0]) for v in access.values()] == [m["downloads"] for m in stats["months"]]
    used = _table(browser, "top_used")
    assert {k: int(v[0]) for k, v in used.items()} == {r["title"]: r["accesses"] for r in stats["top_used"]}


def test_department_and_authority_pages_render_for_their_readers(app, portal: LivePortal, browser: Any,
                                                                screenshot: Callable[[Any, str], Any]) -> None:
    """The department overview (its admin) and the authority's overview (a sysadmin) draw their charts
    cleanly; the queue table and the departments table hold the actions' numbers."""
    w, _ = _used_world(app)
    org_b = w.orgs["b"]["name"]
    login(browser, portal, _user(w, "admin_b"))
    browser.get(portal.url + f"/organization/{org_b}/statistics")
    _charts_rendered(browser)
    screenshot(browser, "department")
    assert _own_errors(portal, console_errors(browser)) == []
    dept = portal.action("sharing_stats_department_show", w.tokens["admin_b"], organization_id=org_b)
    queue = [int(v[0]) for v in _table(browser, "queue").values()]
    assert queue == [dept["queue"][k] for k in ("pending", "overdue", "due_soon", "returned", "escalated")] + [
        dept["grants"][k] for k in ("active", "expiring", "undelivered", "delivery_overdue")] + [
        dept["use_reports"][k] for k in ("reports_awaited", "reports_due")]
    grants = _table(browser, "grant_accesses")
    assert [int(v[0]) for v in grants.values()] == [g["accesses"] for g in dept["grant_accesses"]]

    other = new_browser()
    try:
        login(other, portal, _user(w, "sysadmin"))
        other.get(portal.url + "/statistics/departments?sort=received&order=desc")
        _charts_rendered(other)
        screenshot(other, "authority")
        assert _own_errors(portal, console_errors(other)) == []
        listing = portal.action("sharing_stats_department_list", w.tokens["sysadmin"], sort="received", order="desc")
        table = _table(other, "departments")
        assert list(table) == [d["title"] for d in listing["departments"]]
        received = other.find_element(By.CSS_SELECTOR, "th[data-key='received']")
        assert received.get_attribute("aria-sort") == "descending"
    finally:
        other.quit()


def test_public_page_in_chinese_at_phone_width(app, portal: LivePortal, screenshot: Callable[[Any, str], Any]) -> None:
    """At 390 px wide, in Chinese, the page is titled 开放统计, its charts draw within the screen and the
    console is clean."""
    _used_world(app)
    phone = new_browser(lang="zh-CN", width=390, height=844)
    try:  # a real phone viewport (a headless window cannot be narrower than ~500 px)
        phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                              {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        phone.get(portal.url + "/zh_Hans_CN/statistics")
        _charts_rendered(phone)
        screenshot(phone, "phone-zh")
        phone.execute_script("document.getElementById('figure-tiers').scrollIntoView()")
        screenshot(phone, "phone-zh-chart")
        assert "开放统计" in phone.find_element(By.CSS_SELECTOR, "h1").text
        assert "每月申请" in phone.page_source
        widths = [h.size["width"] for h in phone.find_elements(By.CSS_SELECTOR, "[data-sharing-chart]")]
        inner = phone.execute_script("return window.innerWidth")
        assert widths and all(0 < wd <= 390 for wd in widths), (widths, inner)
        page_width = phone.execute_script("return document.documentElement.scrollWidth")
        phone.get(portal.url + "/zh_Hans_CN/about")  # CKAN's own page at the same width: the floor
        core_width = phone.execute_script("return document.documentElement.scrollWidth")
        assert page_width <= max(core_width, 390), f"the statistics page is {page_width} px wide, /about {core_width}"
        assert _own_errors(portal, console_errors(phone)) == []
    finally:
        phone.quit()
