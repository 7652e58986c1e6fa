"""``make test-core``: CKAN's own test suites, once as CKAN runs them and once with ``sharing`` added (issue 18).

For every suite in ``SUITES`` two pytest runs are made with ``test-core.ini`` (CKAN 2.12's test-core.ini; for
ckanext-scheming's and ckanext-dcat's suites the settings of that plugin's test.ini on top, ``OWN_INI``):

* baseline: slot ``corebase`` (own databases, a Solr core with CKAN's stock schema), no plugin added;
* sharing: slot ``core`` (own databases, the CJK Solr schema the deployment uses), ``sharing`` added to the
  plugins each test loads (``tests/ckan_core_with_sharing.py``).

The two runs go side by side. It prints per suite the failed/errors of both runs and every test whose outcome
differs, compared with ``tests/core_differences.txt`` (the deliberate product decisions, each pinned by a test
of ours). It exits 1 when the baseline is not green, on any difference not listed there, and on a listed entry
that no longer differs (so the list stays exact). Usage::

    python tests/ckan_core.py [--suite ckan --suite activity ...] [--run baseline|sharing] [--parallel]
                              [-- PYTEST ARGS]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CKAN = str(ROOT / ".venv" / "bin" / "ckan")
DIFFERENCES = ROOT / "tests" / "core_differences.txt"
DESELECTED = ROOT / "tests" / "core_deselected.txt"
REPORTS = Path(os.environ.get("SHARING_CORE_REPORTS", ROOT / ".run" / "core-reports"))

# Each plugin's own suite, run the way that plugin runs it (its --pyargs packages). A suite with settings of its
# own (a plugin's test.ini) has ``test-core-<suite>.ini`` and ``test-core-<suite>-sharing.ini`` (OWN_INI).
_DCAT = "ckanext.dcat.tests"
SUITES: dict[str, list[str]] = {
    "ckan": ["ckan.tests.logic", "ckan.tests.controllers", "ckan.tests.lib.search"],
    "activity": ["ckanext.activity.tests"],
    "datastore": ["ckanext.datastore.tests"],
    "scheming": ["ckanext.scheming.tests"],
    # its harvester tests need ckanext-harvest, not installed here (tests/core_deselected.txt)
    "dcat": [f"{_DCAT}.profiles", f"{_DCAT}.test_blueprints", f"{_DCAT}.test_cli", f"{_DCAT}.test_converters",
             f"{_DCAT}.test_utils"],
}
OWN_INI = {"scheming", "dcat"}

# ``--parallel``: the parts each suite is cut into (together exactly the suite's tests), each run at once on its
# own pair of slots, so that the ckan suite (~1,540 tests) does not set the pace alone.
_LOGIC, _VIEWS = "ckan.tests.logic", "ckan.tests.controllers"
PARTS: dict[str, list[list[str]]] = {
    "ckan": [
        [f"{_LOGIC}.action.test_get", f"{_LOGIC}.action.test_init"],
        [f"{_LOGIC}.action.test_create", f"{_LOGIC}.action.test_patch"],
        [f"{_LOGIC}.action.test_update", f"{_LOGIC}.action.test_delete", f"{_LOGIC}.action.test_file"],
        [f"{_LOGIC}.auth", f"{_LOGIC}.test_conversion", f"{_LOGIC}.test_converters", f"{_LOGIC}.test_logic",
         f"{_LOGIC}.test_schema", f"{_LOGIC}.test_validators", "ckan.tests.lib.search"],
        [f"{_VIEWS}.test_{m}" for m in ("package", "resource", "feed", "home", "pagination", "util", "api")],
        [f"{_VIEWS}.test_{m}" for m in ("user", "group", "organization", "admin", "file")],
    ],
    "activity": [SUITES["activity"]],
    "datastore": [SUITES["datastore"]],
    "scheming": [SUITES["scheming"]],
    "dcat": [SUITES["dcat"]],
}

# run name -> (TEST_SLOT, ini suffix, Solr schema for that slot's core: CKAN's stock one, or the deployment's CJK
# one, the plugins added to every test: ``SHARING_CORE_ADDED`` for tests/ckan_core_with_sharing.py)
RUNS: dict[str, tuple[str, str, str, str]] = {
    "baseline": ("corebase", "", "stock", ""),
    "sharing": ("core", "-sharing", "", "sharing"),
}


def _ini(name: str, suite: str) -> str:
    """The committed ini of a run of a suite: ``test-core[-<suite>][-sharing].ini``."""
    return str(ROOT / f"test-core{'-' + suite if suite in OWN_INI else ''}{RUNS[name][1]}.ini")
BAD = {"failed", "error"}


def _stack_env(slot: str, schema: str) -> dict[str, str]:
    """The exports of ``bin/stack test-env SLOT`` (databases and Solr core created if missing)."""
    env = dict(os.environ, SHARING_SOLR_SCHEMA=schema) if schema else dict(os.environ)
    out = subprocess.run([str(ROOT / "bin" / "stack"), "test-env", slot], env=env, check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = value
    return env


SERVICES = {  # test-env export -> the option it sets, written into the run's ini (as CKAN's test-core-ci.ini does)
    "CKAN_SQLALCHEMY_URL": "sqlalchemy.url",
    "CKAN_DATASTORE_WRITE_URL": "ckan.datastore.write_url",
    "CKAN_DATASTORE_READ_URL": "ckan.datastore.read_url",
    "CKAN_SOLR_URL": "solr_url",
    "CKAN_REDIS_URL": "ckan.redis.url",
}


def _run_ini(name: str, base: str, env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The run's own ini (``use = config:`` the committed one, plus the slot's service addresses) and an
    environment without the ``CKAN_*`` overrides: CKAN re-applies those on every plugin load, which would undo
    a test's own ``solr_url`` mark (``test_new_indexerror``)."""
    lines = ["[app:main]", f"use = config:{base}"] + [f"{opt} = {env[var]}" for var, opt in SERVICES.items()]
    ini = REPORTS / f"{name}.ini"
    ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(ini), {k: v for k, v in env.items() if k not in SERVICES and k != "CKAN_STORAGE_PATH"}


def _prepare(env: dict[str, str], ini: str, log) -> None:
    """A fresh database as CKAN's CI makes it (``db clean``, ``db init``, DataStore permissions); the added
    plugins' tables are made by the pytest plugin at session start."""
    steps = [[str(ROOT / "bin" / "stack"), "test-perms"],
             [CKAN, "-c", ini, "db", "clean", "--yes"],
             [CKAN, "-c", ini, "db", "init"]]
    for cmd in steps:
        subprocess.run(cmd, env=env, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def _run(name: str, units: list[tuple[str, list[str], str]], pytest_args: list[str], shard: str = "") -> None:
    """One run (baseline or sharing) over ``units`` (suite, its packages, report tag), one pytest process each,
    one after the other on the run's slot (``shard`` names another pair of slots, for units run at once)."""
    slot, _, schema, added = RUNS[name]
    slot += os.environ.get("SHARING_CORE_SLOT_SUFFIX", "") + shard
    REPORTS.mkdir(parents=True, exist_ok=True)
    with open(REPORTS / f"{name}-{slot}.log", "w", encoding="utf-8") as log:
        env = _stack_env(slot, schema)
        for i, (suite, packages, tag) in enumerate(units):
            ini, clean_env = _run_ini(f"{name}-{slot}-{suite}", _ini(name, suite), env)
            if i == 0:
                _prepare(env, ini, log)
            report = REPORTS / f"{name}-{suite}{tag}.jsonl"
            run_env = dict(clean_env, SHARING_CORE_REPORT=str(report), SHARING_CORE_DESELECT=str(DESELECTED),
                           SHARING_CORE_ADDED=added)
            started = time.monotonic()
            # consider_namespace_packages: the installed ``ckanext`` is a namespace package (no __init__.py), so
            # pytest would import a test module as ``datastore.tests.test_chained_action`` beside the
            # ``ckanext.datastore.tests...`` that CKAN's test-plugin entry points load: two copies of the
            # module, whose exception classes and functions then differ (CKAN's own CI imports one copy)
            cmd = [PYTHON, "-m", "pytest", f"--ckan-ini={ini}", "-p", "tests.ckan_core_with_sharing",
                   "-o", "consider_namespace_packages=true", "-q", "-rfE", "--pyargs", *packages, *pytest_args]
            log.write(f"\n### {name} {suite}{tag}: {' '.join(cmd)}\n")
            log.flush()
            subprocess.run(cmd, env=run_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            (REPORTS / f"{name}-{suite}{tag}.seconds").write_text(f"{time.monotonic() - started:.0f}\n")


def _forget(name: str, suite: str) -> None:
    """Remove the outcomes of an earlier run of ``suite`` (whole or in parts) before it runs again."""
    for path in REPORTS.glob(f"{name}-{suite}.*"):
        path.unlink(missing_ok=True)


def _listed() -> dict[str, str]:
    """``tests/core_differences.txt``: test id -> the product decision (and our pinning test)."""
    entries = {}
    for line in DIFFERENCES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            test_id, _, why = line.partition(" ")
            entries[test_id] = why.strip()
    return entries


def _count(outcomes: dict[str, str]) -> str:
    """``failed/errors of tests`` for the table."""
    values = list(outcomes.values())
    return f"{values.count('failed')}/{values.count('error')} of {len(values)}"


def _results(name: str, suite: str) -> dict:
    """The outcomes a run left in ``REPORTS`` (empty when it did not run; the parts of a ``--parallel`` run
    merged), and its seconds (the longest part; 0 while running)."""
    outcomes: dict[str, str] = {}
    for report in [REPORTS / f"{name}-{suite}.jsonl", *sorted(REPORTS.glob(f"{name}-{suite}.*.jsonl"))]:
        if report.exists():
            for line in report.read_text(encoding="utf-8").splitlines():
                test_id, outcome = json.loads(line)
                outcomes[test_id] = outcome
    seconds = [float(p.read_text()) for p in
               [REPORTS / f"{name}-{suite}.seconds", *REPORTS.glob(f"{name}-{suite}.*.seconds")] if p.exists()]
    return {"outcomes": outcomes, "seconds": max(seconds, default=0)}


def _in_suite(test_id: str, suite: str) -> bool:
    """Whether a test id belongs to one of the suite's packages or modules (``ckan.tests.logic`` holds
    ``ckan/tests/logic/...``, ``ckanext.dcat.tests.test_cli`` holds ``ckanext/dcat/tests/test_cli.py::...``)."""
    path = test_id.split("::", 1)[0]
    return any(path.startswith(p.replace(".", "/") + "/") or path == p.replace(".", "/") + ".py"
               for p in SUITES[suite])


def compare(suites: list[str]) -> int:
    """Print the table and the differences; 1 if anything is not as listed."""
    listed = _listed()
    status = 0
    print(f"\n{'suite':<10} {'baseline failed/errors':<26} {'with sharing failed/errors':<28} "
          f"{'listed':>6} {'unlisted':>8} {'stale':>5}  time base/sharing")
    problems: list[str] = []
    for suite in suites:
        base, shar = _results("baseline", suite), _results("sharing", suite)
        b, s = base["outcomes"], shar["outcomes"]
        both = set(b) & set(s)  # a run cut short compares on the tests both runs got to
        worse = sorted(t for t in both if s[t] in BAD and b[t] not in BAD)
        better = sorted(t for t in both if b[t] in BAD and s[t] not in BAD)
        mine = {t for t in listed if _in_suite(t, suite)}
        unlisted = [t for t in worse if t not in listed]
        stale = sorted(t for t in mine & both if t not in worse)
        print(f"{suite:<10} {_count(b) if b else 'not run':<26} {_count(s) if s else 'not run':<28} "
              f"{len(mine & set(worse)):>6} {len(unlisted):>8} {len(stale):>5}  "
              f"{base.get('seconds', 0) / 60:.1f}/{shar.get('seconds', 0) / 60:.1f} min")
        problems += [f"  {run} did not run: see its log in {REPORTS}" for run, o in
                     (("baseline", b), ("sharing", s)) if not o]
        problems += [f"  baseline {b[t]}: {t}" for t in sorted(t for t, o in b.items() if o in BAD)]
        problems += [f"  unlisted difference ({s[t]} with sharing): {t}" for t in unlisted]
        problems += [f"  listed but no longer different: {t}" for t in stale]
        problems += [f"  (passes only with sharing: {t})" for t in better]
    if problems:
        print("\n".join(["", *problems]))
    if any(not p.startswith("  (") for p in problems):
        status = 1
    print(f"\nlogs and outcomes: {REPORTS}")
    return status


def main(argv: list[str]) -> int:
    """Run both runs side by side, then compare."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="default: all")
    parser.add_argument("--run", action="append", choices=sorted(RUNS), help="default: both")
    parser.add_argument("--compare-only", action="store_true", help="compare the outcomes of the last runs")
    parser.add_argument("--parallel", action="store_true",
                        help="run the PARTS of every suite at once, each on its own pair of slots")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    suites = args.suite or list(SUITES)
    if args.compare_only:
        return compare(suites)
    REPORTS.mkdir(parents=True, exist_ok=True)
    runs = args.run or list(RUNS)
    for name in runs:
        for suite in suites:
            _forget(name, suite)
    if args.parallel:  # every part of every suite in its own pair of slots, all at once
        threads = [threading.Thread(target=_run, args=(name, [(suite, part, f".{i}")], args.pytest_args,
                                                       f"p{suite}{i}"))
                   for name in runs for suite in suites for i, part in enumerate(PARTS[suite])]
    else:
        threads = [threading.Thread(target=_run, args=(name, [(s, SUITES[s], "") for s in suites], args.pytest_args))
                   for name in runs]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"both runs took {(time.monotonic() - started) / 60:.1f} min (wall clock)")
    return compare(suites)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
