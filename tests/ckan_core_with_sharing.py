"""Pytest plugin: run CKAN's own test suites as CKAN runs them, optionally with ``sharing`` added (issue 18).

Used by ``make test-core`` (``tests/ckan_core.py``) as ``pytest -p tests.ckan_core_with_sharing
--ckan-ini=INI --pyargs ckan.tests.logic ...``. The baseline run uses ``test-core.ini`` (CKAN 2.12's
test-core.ini, no plugins); the sharing run uses ``test-core-sharing.ini``, which only adds ``ckan.plugins =
sharing`` — the way an extension puts the plugins every test needs into its test configuration. The plugins
named there are the *added* plugins: they are loaded in every test on top of whatever plugins the test loads
itself (a test written without plugins gets only ``sharing``; one that loads ``activity`` or ``datastore`` gets
those plus ``sharing``). Nothing else is forced into a test, so a difference between the two runs is what
sharing does to a plain CKAN client (SPEC §1).
"""
from __future__ import annotations

import importlib
import os
import sys

import pytest

import ckan.plugins as plugins

ADDED: list[str] = []  # the ckan.plugins of the --ckan-ini file, read at session start


def _alias_ckan_test_plugins() -> None:
    """CKAN registers its test plugins (``test_package_controller_plugin``, ``action_plugin``...) under the
    module path ``tests.plugins.ckantestplugins`` (the ``[ckan.test_plugins]`` entry points of its setup.cfg),
    which resolves because ``ckan/__init__.py`` puts the ckan package directory on ``sys.path``. This
    repository's own ``tests`` package shadows that name, so point exactly those module names at CKAN's."""
    for name in ("tests.plugins", "tests.plugins.ckantestplugins"):
        sys.modules[name] = importlib.import_module("ckan." + name)


def _upgrade_added() -> None:
    """The migrations of the added plugins (the tables ``sharing`` needs), as ``ckan db upgrade -p sharing``
    would."""
    from tests.conftest import _upgrade

    for name in ADDED:
        migrations = os.path.join(os.path.dirname(importlib.import_module(f"ckanext.{name}").__file__), "migration", name)
        if os.path.isdir(migrations):
            _upgrade(migrations)


def _reset_with_added_tables() -> None:
    """CKAN's database reset, then the added plugins' tables. CKAN's reset empties the tables once they exist
    and drops everything only the first time; only then do the added tables need making again."""
    from ckan import model
    from tests.conftest import _append_only_triggers, _core_reset_db

    dropping = not model.repo.tables_created_and_initialised
    _append_only_triggers("DISABLE")  # the ledger refuses DELETE, as it must; CKAN's reset empties every table
    _core_reset_db()
    _append_only_triggers("ENABLE")
    if dropping:
        _upgrade_added()


def pytest_configure(config: pytest.Config) -> None:
    """Make CKAN's test plugins importable by the names CKAN registers them under."""
    _alias_ckan_test_plugins()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """After CKAN's own session start (config loaded, database made by ``ckan db init``): note the added
    plugins (``SHARING_CORE_ADDED``, set by ``tests/ckan_core.py``: a plugin's suite has that plugin's own in its
    ini too; else the ini's ``ckan.plugins``), bring their tables to head, and let CKAN's ``reset_db`` (the one
    its ``clean_db`` fixture calls) make them too. Without added plugins (the baseline) CKAN's reset stays
    untouched."""
    from ckan.common import config

    current = os.environ.get("SHARING_CORE_ADDED")
    if current is None:  # no harness: the ini's plugins are the added ones
        current = config.get("ckan.plugins") or []
    ADDED[:] = current.split() if isinstance(current, str) else list(current)
    if ADDED:
        from ckan.tests import helpers

        _upgrade_added()
        helpers.reset_db = _reset_with_added_tables


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Put ``_plugins_added`` among the test's fixtures just before the first one that loads plugins (CKAN's
    ``with_plugins``, ``make_app``/``app``), else last: the fixtures before it (``clean_index``, ...) then run
    in CKAN's own order, under the test's own config. (Runs after CKAN's hook, which adds ``ckan_config`` and
    ``with_plugins`` for the marks; the baseline adds nothing.)"""
    names = item.fixturenames  # type: ignore[attr-defined]
    if not ADDED or "_plugins_added" in names:
        return
    at = next((i for i, n in enumerate(names) if n in ("with_plugins", "make_app", "app")), len(names))
    names.insert(at, "_plugins_added")


@pytest.fixture
def _plugins_added(request: pytest.FixtureRequest, ckan_config, monkeypatch):
    """Keep ``ADDED`` among the plugins this test loads. A test's ``ckan.plugins`` mark replaces the configured
    list, so the added plugins are put back for CKAN's ``with_plugins`` and ``app`` (both load that list);
    a test that loads no plugins keeps the added ones loaded (loaded again after a test unloaded them all)."""
    current = ckan_config.get("ckan.plugins") or []
    names = current.split() if isinstance(current, str) else list(current)
    monkeypatch.setitem(ckan_config, "ckan.plugins", names + [n for n in ADDED if n not in names])
    missing = [n for n in ADDED if not plugins.plugin_loaded(n)]
    if missing and "with_plugins" not in request.fixturenames:
        plugins.load(*missing)
    yield


def canonical_id(nodeid: str) -> str:
    """A test id without the virtualenv prefix: ``ckan/tests/logic/action/test_get.py::TestX::test_y``."""
    return nodeid.split("site-packages/", 1)[-1]


def _listed(path: str) -> set[str]:
    """Test ids listed one per line in ``path`` (text after the first blank is the reason)."""
    if not path or not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as f:
        return {line.split()[0] for line in f if line.strip() and not line.startswith("#")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests listed in ``SHARING_CORE_DESELECT`` (ones that cannot run from the wheel here;
    each line there says why; a line ending in ``/`` names a folder), in both runs alike."""
    skipped = _listed(os.environ.get("SHARING_CORE_DESELECT", ""))
    if not skipped:
        return
    folders = tuple(s for s in skipped if s.endswith("/"))  # a folder's line leaves out every test below it
    keep, drop = [], []
    for item in items:
        test_id = canonical_id(item.nodeid)
        (drop if test_id in skipped or test_id.startswith(folders) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


_OUTCOMES: dict[str, str] = {}
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def _record(test_id: str, outcome: str) -> None:
    """Keep the worst outcome seen for a test over its phases, and append it to ``SHARING_CORE_REPORT``
    (JSON lines, the last line of a test wins) as it happens, so that a run cut short still compares."""
    if _RANK[outcome] < _RANK[_OUTCOMES.get(test_id, "passed")]:
        return
    _OUTCOMES[test_id] = outcome
    path = os.environ.get("SHARING_CORE_REPORT")
    if path:
        import json

        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps([test_id, outcome]) + "\n")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record each test's outcome as ``make test-core`` compares it: failed (the test body), error (set-up
    or tear-down), skipped or passed."""
    if report.failed:
        _record(canonical_id(report.nodeid), "failed" if report.when == "call" else "error")
    else:
        _record(canonical_id(report.nodeid), "skipped" if report.skipped else "passed")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A module that cannot even be collected is one error under its own id."""
    if report.failed:
        _record(canonical_id(report.nodeid), "error")
