"""Browser tests: headless Chromium from Debian (``bin/stack deps`` installs chromium, chromium-driver and
fonts-noto-cjk) driven by Selenium, against a live portal (tests/live.py).

    def test_search(live_portal, browser, screenshot):
        user = make_user()
        login(browser, live_portal, user)                # a logged-in browser (the real login form)
        browser.get(live_portal.url + "/dataset/")
        screenshot(browser, "search")                    # .run/screenshots/test_search-search.png
        assert console_errors(browser) == []             # the JavaScript console stayed clean

``browser`` is a fresh browser per test (own profile, no cookies; ~1 s); :func:`new_browser` makes more of
them (two users at once) and the caller quits them. Screenshots go to ``.run/screenshots/`` of the checkout
(git-ignored), named ``<test name>-<step>.png``, so a person can look at each step.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.live import ROOT, LivePortal, LiveUser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = ROOT / ".run" / "screenshots"
WINDOW = (1280, 900)
PAGE_LOAD_SECONDS = 60


def new_browser(lang: str = "en", width: int = WINDOW[0], height: int = WINDOW[1]) -> Any:
    """A headless Chromium (``--no-sandbox``: CI runs as root) whose ``Accept-Language`` is ``lang``.

    The console is recorded (``goog:loggingPrefs``) for :func:`console_errors`. Fails, not skips, when the
    browser is missing: ``make test`` installs it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing: run bin/stack deps (installs chromium and chromium-driver)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", f"--lang={lang}", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
    return driver


def console_errors(driver: Any) -> list[str]:
    """The console's SEVERE entries (JavaScript errors, failed loads) since the last call (reading drains)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def save_screenshot(driver: Any, test_name: str, step: str) -> Path:
    """Write the visible page to ``.run/screenshots/<test name>-<step>.png``; the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{test_name}-{step}").strip("_")
    path = SCREENSHOTS / f"{safe}.png"
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"Chromium could not write the screenshot {path}")
    return path


def login(driver: Any, portal: LivePortal, user: LiveUser) -> None:
    """Log ``user`` in through the portal's login form, as a person would (cookie session, CSRF token)."""
    from selenium.webdriver.common.by import By

    driver.get(portal.url + "/user/login")
    driver.find_element(By.NAME, "login").send_keys(user.name)
    password = driver.find_element(By.NAME, "password")
    password.send_keys(user.password)
    password.find_element(By.XPATH, "./ancestor::form//button[@type='submit']").click()
    driver.get(portal.url + "/dashboard/datasets")
    if not driver.find_elements(By.CSS_SELECTOR, f"a[href$='/user/{user.name}']"):
        raise AssertionError(f"{user.name} is not logged in after the login form (page: {driver.current_url})")


@pytest.fixture
def browser() -> Iterator[Any]:
    """A fresh headless Chromium in English for one test, quit afterwards."""
    driver = new_browser()
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``screenshot(driver, step)`` → ``.run/screenshots/<this test's name>-<step>.png``."""
    return lambda driver, step: save_screenshot(driver, request.node.name, step)
