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

Journeys (issue 11's closing note): every screenshot is a step of the test's :class:`Journey`; ``journey.step(name)``
records one without a picture (``journey.step(name, driver)`` takes one too). At the end of the run
``.run/journeys.md`` lists each journey's result, step count, time and steps as a markdown table.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from tests.live import ROOT, LivePortal, LiveUser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = ROOT / ".run" / "screenshots"
JOURNEYS = ROOT / ".run" / "journeys.md"
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
    # the form's POST answered (the login page replaced) before the next page: a click does not always wait
    # for the navigation it starts, and a GET sent before the session cookie is set finds no one logged in
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, PAGE_LOAD_SECONDS).until(expected_conditions.staleness_of(password))
    driver.get(portal.url + "/dashboard/datasets")
    if not driver.find_elements(By.CSS_SELECTOR, f"a[href$='/user/{user.name}']"):
        raise AssertionError(f"{user.name} is not logged in after the login form (page: {driver.current_url})")


@pytest.fixture
def browser() -> Iterator[Any]:
    """A fresh headless Chromium in English for one test, quit afterwards."""
    driver = new_browser()
    yield driver
    driver.quit()


# --- journeys: steps and times of each browser test -------------------------------------------------

_REPORT = pytest.StashKey[Any]()


@dataclass
class Journey:
    """One browser test's steps, each with the seconds since the test began (after its module's portal)."""

    test_id: str
    test_name: str
    started: float = field(default_factory=time.monotonic)
    steps: list[tuple[str, float]] = field(default_factory=list)
    seconds: Optional[float] = None
    outcome: str = "not run"

    def step(self, name: str, driver: Any = None) -> Optional[Path]:
        """Record the step ``name`` now; with ``driver``, also its screenshot (the path)."""
        path = save_screenshot(driver, self.test_name, name) if driver is not None else None
        self.steps.append((name, time.monotonic() - self.started))
        return path

    def row(self) -> str:
        """This journey as a row of the table of :func:`write_journeys`."""
        steps = " · ".join(f"{name} {at:.1f}" for name, at in self.steps)
        return f"| `{self.test_id}` | {self.outcome} | {len(self.steps)} | {self.seconds or 0:.1f} | {steps} |"


def _earlier_rows(path: Path, ran: set[str]) -> list[str]:
    """Rows of an earlier table at ``path`` for journeys this run did not run (a run of a few files updates
    their rows and keeps the others)."""
    if not path.exists():
        return []
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    return [row for row in rows if row.split("`")[1] not in ran]


def write_journeys(journeys: list[Journey], path: Path = JOURNEYS) -> Path:
    """Write the journeys as a markdown table (result, steps, seconds, each step's time) to ``path``: this
    run's rows, and earlier rows of journeys it did not run."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    rows = sorted(_earlier_rows(path, {j.test_id for j in journeys}) + [j.row() for j in journeys])
    lines = [
        f"# Browser journeys, last updated {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"{len(rows)} journeys; load average at the last update {load} on {os.cpu_count()} CPUs; screenshots in "
        "`.run/screenshots/<test>-<step>.png`. Times in seconds from the start of each test (its live portal "
        "already running).",
        "",
        "| journey | result | steps | time (s) | steps (s since start) |",
        "|---|---|---|---|---|",
        *rows,
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """Keep each test's call-phase report on the item: a journey's row says whether the test passed."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and not report.passed):
        item.stash[_REPORT] = report


@pytest.fixture(scope="session")
def journey_log() -> Iterator[list[Journey]]:
    """The run's journeys; written to ``.run/journeys.md`` when the session ends (if there were any)."""
    journeys: list[Journey] = []
    yield journeys
    if journeys:
        write_journeys(journeys)


@pytest.fixture
def journey(request: pytest.FixtureRequest, journey_log: list[Journey]) -> Iterator[Journey]:
    """This test's :class:`Journey` (``journey.step(name[, driver])``), added to the run's table at its end."""
    trip = Journey(test_id=request.node.nodeid, test_name=request.node.name)
    journey_log.append(trip)
    yield trip
    trip.seconds = time.monotonic() - trip.started
    report = request.node.stash.get(_REPORT, None)
    trip.outcome = report.outcome if report is not None else "error"


@pytest.fixture
def screenshot(journey: Journey) -> Callable[[Any, str], Path]:
    """``screenshot(driver, step)`` → ``.run/screenshots/<this test's name>-<step>.png``, a step of the journey."""
    return lambda driver, step: journey.step(step, driver)  # type: ignore[return-value]
