"""Browser smoke test: headless Chromium on the live portal in English (tests/browser.py)."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from selenium.webdriver.common.by import By

from tests.browser import console_errors, login
from tests.live import LivePortal, LivePortals, make_user


@pytest.fixture(scope="module")
def en_portal(live_portals: LivePortals) -> LivePortal:
    """The default live portal, in English (test.ini's default too, so no second portal is started)."""
    return live_portals.get(config={"ckan.locale_default": "en"})


def _own_errors(portal: LivePortal, errors: list[str]) -> list[str]:
    """Console errors of the portal itself: an off-site image named by test data (CKAN's factories give
    organizations and users faker image URLs on dummyimage.com, unreachable offline) is not the page failing."""
    return [e for e in errors if not (e.startswith("http") and not e.startswith(portal.url))]


def test_home_and_dataset_search_render_without_console_errors(en_portal: LivePortal, browser: Any,
                                                                screenshot: Callable[[Any, str], Any]) -> None:
    """The home page and the dataset search page load in Chromium, in English, with a clean JS console."""
    browser.get(en_portal.url + "/")
    screenshot(browser, "home")
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "en"
    assert browser.find_elements(By.CSS_SELECTOR, "header, .masthead, .account-masthead")
    assert _own_errors(en_portal, console_errors(browser)) == []

    browser.get(en_portal.url + "/dataset/")
    screenshot(browser, "dataset-search")
    assert browser.find_element(By.CSS_SELECTOR, "form#dataset-search-form input[name=q]")
    assert "dataset" in browser.title.lower()
    assert _own_errors(en_portal, console_errors(browser)) == []


def test_console_errors_reports_what_the_browser_logged(en_portal: LivePortal, browser: Any) -> None:
    """The console helper is not blind: a page answering 404 shows up as a console error."""
    browser.get(en_portal.url + "/dataset/no-such-dataset-for-the-console-check")

    errors = console_errors(browser)

    assert any("404" in message for message in errors), errors
    assert console_errors(browser) == [], "reading drains the log"


def test_login_helper_gives_a_logged_in_browser(en_portal: LivePortal, browser: Any,
                                                screenshot: Callable[[Any, str], Any]) -> None:
    """login() signs a user in through the form: the dashboard then names them, and the console is clean."""
    user = make_user(fullname="Browser Person")

    login(browser, en_portal, user)
    screenshot(browser, "dashboard")

    assert "Browser Person" in browser.find_element(By.CSS_SELECTOR, ".account-masthead").text
    assert console_errors(browser) == []


def test_offsite_user_picture_is_not_fetched(en_portal: LivePortal, browser: Any,
                                             screenshot: Callable[[Any, str], Any]) -> None:
    """A user whose image_url is on another site sees CKAN's local placeholder in the header and on their
    profile page (issue 11: no third-party picture service), and the console stays clean offline."""
    user = make_user(fullname="Offsite Picture", image_url="https://dummyimage.com/100x100/avatar.png")

    login(browser, en_portal, user)
    browser.get(f"{en_portal.url}/user/{user.name}")
    screenshot(browser, "profile")

    sources = [img.get_attribute("src") for img in browser.find_elements(By.CSS_SELECTOR, "img.user-image")]
    assert len(sources) == 2, sources
    assert all(src.startswith(en_portal.url) and src.endswith("/base/images/placeholder-user.png") for src in sources)
    assert browser.execute_script(
        "return [...document.querySelectorAll('img.user-image')].every(i => i.complete && i.naturalWidth > 0)")
    assert console_errors(browser) == []


def test_journey_table_keeps_other_rows_and_replaces_rerun_ones(tmp_path: Any) -> None:
    """write_journeys: each journey's result, step count and step times; a later run of one journey replaces
    its row and keeps the others."""
    from tests.browser import Journey, write_journeys

    first = [Journey("t.py::a", "a", started=0.0, steps=[("1-x", 1.5), ("2-y", 3.25)], seconds=4.0, outcome="passed"),
             Journey("t.py::b", "b", started=0.0, steps=[("1-z", 2.0)], seconds=2.0, outcome="failed")]
    path = write_journeys(first, tmp_path / "journeys.md")
    assert "| `t.py::a` | passed | 2 | 4.0 | 1-x 1.5 · 2-y 3.2 |" in path.read_text(encoding="utf-8")
    write_journeys([Journey("t.py::b", "b", started=0.0, steps=[], seconds=1.0, outcome="passed")], path)
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    assert rows == ["| `t.py::a` | passed | 2 | 4.0 | 1-x 1.5 · 2-y 3.2 |", "| `t.py::b` | passed | 0 | 1.0 |  |"]
