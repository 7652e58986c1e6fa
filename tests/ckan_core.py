"""``make test-core``: CKAN's own test suites, once as CKAN runs them and once with ``sharing`` added (issue 18).

For every suite in ``SUITES`` two pytest runs are made with ``test-core.ini`` (CKAN 2.12's test-core.ini):

* baseline: slot ``corebase`` (own databases, a Solr core with CKAN's stock schema), no plugin added;
* sharing: slot ``core`` (own databases, the CJK Solr schema the deployment uses), ``sharing`` added to the
  plugins each test loads (``tests/ckan_core_with_sharing.py``).

The two runs go side by side. It prints per suite the failed/errors of both runs and every test whose outcome
differs, compared with ``tests/core_differences.txt`` (the deliberate product decisions, each pinned by a test
of ours). It exits 1 when the baseline is not green, on any difference not listed there, and on a listed entry
that no longer differs (so the list stays exact). Usage::

    python tests/ckan_core.py [--suite ckan --suite activity ...] [--run baseline|sharing] [-- PYTEST ARGS]
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
INI = str(ROOT / "test-core.ini")  # CKAN 2.12's test-core.ini; test-core-sharing.ini adds ckan.plugins = sharing
DIFFERENCES = ROOT / "tests" / "core_differences.txt"
DESELECTED = ROOT / "tests" / "core_deselected.txt"
REPORTS = Path(os.environ.get("SHARING_CORE_REPORTS", ROOT / ".run" / "core-reports"))

# Each plugin's own suite, run the way that plugin runs it. ckanext-scheming's and ckanext-dcat's suites join
# here when the clients issue adds those plugins: give their --pyargs packages (and, if they need their own
# settings, put those in test-core.ini's spirit into a separate ini and extend _pytest()).
SUITES: dict[str, list[str]] = {
    "ckan": ["ckan.tests.logic", "ckan.tests.controllers", "ckan.tests.lib.search"],
    "activity": ["ckanext.activity.tests"],
    "datastore": ["ckanext.datastore.tests"],
}

# run name -> (TEST_SLOT, ini, Solr schema for that slot's core: CKAN's stock one, or the deployment's CJK one)
RUNS: dict[str, tuple[str, str, str]] = {
    "baseline": ("corebase", INI, "stock"),
    "sharing": ("core", str(ROOT / "test-core-sharing.ini"), ""),
}
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


def _run(name: str, suites: list[str], pytest_args: list[str]) -> None:
    """One run (baseline or sharing) over the chosen suites, one pytest process per suite."""
    slot, base_ini, schema = RUNS[name]
    slot += os.environ.get("SHARING_CORE_SLOT_SUFFIX", "")  # another pair of slots, for suites run at once
    REPORTS.mkdir(parents=True, exist_ok=True)
    with open(REPORTS / f"{name}-{slot}.log", "w", encoding="utf-8") as log:
        env = _stack_env(slot, schema)
        ini, clean_env = _run_ini(f"{name}-{slot}", base_ini, env)
        _prepare(env, ini, log)
        for suite in suites:
            report = REPORTS / f"{name}-{suite}.jsonl"
            report.unlink(missing_ok=True)
            (REPORTS / f"{name}-{suite}.seconds").unlink(missing_ok=True)
            run_env = dict(clean_env, SHARING_CORE_REPORT=str(report), SHARING_CORE_DESELECT=str(DESELECTED))
            started = time.monotonic()
            cmd = [PYTHON, "-m", "pytest", f"--ckan-ini={ini}", "-p", "tests.ckan_core_with_sharing",
                   "-q", "-rfE", "--pyargs", *SUITES[suite], *pytest_args]
            log.write(f"\n### {name} {suite}: {' '.join(cmd)}\n")
            log.flush()
            subprocess.run(cmd, env=run_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            (REPORTS / f"{name}-{suite}.seconds").write_text(f"{time.monotonic() - started:.0f}\n")


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
    """The outcomes a run left in ``REPORTS`` (empty when it did not run), and its minutes (0 while running)."""
    report, seconds = REPORTS / f"{name}-{suite}.jsonl", REPORTS / f"{name}-{suite}.seconds"
    outcomes: dict[str, str] = {}
    if report.exists():
        for line in report.read_text(encoding="utf-8").splitlines():
            test_id, outcome = json.loads(line)
            outcomes[test_id] = outcome
    return {"outcomes": outcomes, "seconds": float(seconds.read_text()) if seconds.exists() else 0}


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
        mine = {t for t in listed if any(t.startswith(p.replace(".", "/") + "/") for p in SUITES[suite])}
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
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    suites = args.suite or list(SUITES)
    if args.compare_only:
        return compare(suites)
    threads = [threading.Thread(target=_run, args=(name, suites, args.pytest_args))
               for name in (args.run or list(RUNS))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"both runs took {(time.monotonic() - started) / 60:.1f} min (wall clock)")
    return compare(suites)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
