#!/usr/bin/env python3
"""Catalogue import rate (SPEC §10, §12): ``ckan sharing catalogue import`` against ``ckanapi load datasets`` of the
same records, in the same run, on the same portal database.

The records are real ones from ``../shared/data/cnpds`` (spread over every portal's file). Both commands run as
subprocesses with the portal's ini, each into an organization of its own with resource codes of its own:

* ours: the records as they are (a JSON array) with the open-data-portal mapping file;
* ckanapi: the same records after our normaliser (JSON lines of ``package_create`` dicts, the rows ours would
  create) — ckanapi cannot read the spreadsheet columns itself, so it gets the ready dicts, a head start.

Both get the same number of processes (the CPUs). Wall time includes each command's start-up. A row is
datasets created per second; the target is ours ≥ 3× ckanapi.

Two rows, one per ``ckan.search.solr_commit`` (the portal's ini with only that option set):

* ``true`` — CKAN's default and what ``config/ckan.ini`` ships: every ``package_create`` of ``ckanapi load``
  ends with a Solr commit; ours indexes per batch and commits once at the end (issue 15: "index once at the end");
* ``false`` — a portal tuned to rely on Solr's autoSoftCommit (the bench portals' own setting, so that plain
  CKAN and CKAN + sharing index alike while they are loaded): ``ckanapi load`` no longer pays a commit per row.

Measured 4 Dec 2026 on the 2-core machine: 3.1-3.6x with ``true``, 2.0-2.1x with ``false`` (README).

    python bench/catalogue_import.py path/to/ckan.ini [--records 2000]   # prints the rows
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
# the real records: $SHARING_CNPDS_DIR, else ../shared/data/cnpds beside the repository (a git worktree elsewhere
# sets the variable; ckanext.sharing.dev.demo.cnpds_dir reads the same two places)
CNPDS = Path(os.environ.get("SHARING_CNPDS_DIR") or ROOT.parent / "shared" / "data" / "cnpds")
MAPPING = ROOT / "ckanext" / "sharing" / "catalogue" / "transfer" / "mappings" / "open_data_portals.yaml"
TIMEOUT = 3 * 3600


SETTINGS = (  # ckan.search.solr_commit → the row's metric and what the setting is
    ("true", "catalogue import, Solr commit per write (datasets/s)",
     "ckan.search.solr_commit = true: CKAN's default, as config/ckan.ini ships"),
    ("false", "catalogue import, no Solr commit per write (datasets/s)",
     "ckan.search.solr_commit = false: Solr's autoSoftCommit, the bench portals' setting"),
)


def run(ckan_ini: str, records: int = 2000) -> list[tuple[str, Any, Any, str]]:
    """Rows ``(metric, ckanapi load, ours, note)`` for ``make bench`` (bench/run.py EXTRAS), one per
    ``ckan.search.solr_commit`` setting (:data:`SETTINGS`)."""
    if not CNPDS.is_dir():
        return [(SETTINGS[0][1], None, None, f"skipped: {CNPDS} is absent (set SHARING_CNPDS_DIR)")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-ini-") as tmp:
        for value, metric, setting in SETTINGS:
            ini = Path(tmp) / f"solr-commit-{value}.ini"
            ini.write_text(f"[app:main]\nuse = config:{Path(ckan_ini).resolve()}\n"
                           f"ckan.search.solr_commit = {value}\n", encoding="utf-8")
            rows.append(compare(str(ini), records, metric, setting))
    return rows


def compare(ckan_ini: str, records: int, metric: str, setting: str) -> tuple[str, Any, Any, str]:
    """One row: ours, then ``ckanapi load`` of the same records, each into an organization of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}  # the ini says where things are
    env["PATH"] = f"{VENV}{os.pathsep}{env.get('PATH', '')}"  # `ckanapi -c` runs `ckan api …` from the PATH
    workers = max(1, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        work = Path(tmp)
        stamp = time.strftime("%H%M%S")
        prep = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--prepare", ckan_ini, str(records),
                               str(work), stamp], env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
        if prep.returncode != 0:
            raise RuntimeError((prep.stderr or prep.stdout).strip().splitlines()[-1])
        facts = json.loads(prep.stdout.strip().splitlines()[-1])
        started = time.monotonic()
        ours = subprocess.run([str(VENV / "ckan"), "-c", ckan_ini, "sharing", "catalogue", "import",
                               str(work / "records.json"), "--organization", facts["ours_org"], "--mapping",
                               str(work / "ours.yaml"), "--workers", str(workers), "--rows", "1"],
                              env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
        ours_seconds = time.monotonic() - started
        if ours.returncode != 0:
            raise RuntimeError((ours.stderr or ours.stdout).strip().splitlines()[-1])
        started = time.monotonic()
        theirs = subprocess.run([str(VENV / "ckanapi"), "load", "datasets", "-I", str(work / "datasets.jsonl"),
                                 "-c", ckan_ini, "-p", str(workers), "-q"],
                                env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
        theirs_seconds = time.monotonic() - started
        count = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--count", ckan_ini,
                                facts["ckanapi_org"]], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
        theirs_created = int(count.stdout.strip().splitlines()[-1]) if count.returncode == 0 else 0
        # ours counted the same way (its printed summary is in the portal's language: "已创建" in zh_Hans_CN)
        count = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--count", ckan_ini,
                                facts["ours_org"]], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
        ours_created = int(count.stdout.strip().splitlines()[-1]) if count.returncode == 0 else 0
    ours_rate = ours_created / ours_seconds if ours_seconds else 0.0
    theirs_rate = theirs_created / theirs_seconds if theirs_seconds else 0.0
    ratio = ours_rate / theirs_rate if theirs_rate else float("nan")
    met = "ok" if ratio >= 3 else "MISSED"
    note = (f"{facts['records']} real records; ours created {ours_created} in {ours_seconds:.0f}s, ckanapi "
            f"{theirs_created}/{facts['dicts']} in {theirs_seconds:.0f}s; {workers} processes each; {setting}; "
            f"ours/ckanapi {ratio:.2f}x (target >= 3x: {met})")
    return (metric, round(theirs_rate, 2), round(ours_rate, 2), note)


def _records(n: int) -> list[dict[str, Any]]:
    """``n`` real records, taken evenly from every portal's file."""
    paths = sorted(CNPDS.glob("*.json.gz"))
    per = -(-n // len(paths))
    picked: list[dict[str, Any]] = []
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            picked.extend(json.load(handle)[:per])
    return picked[:n]


def prepare(ckan_ini: str, n: int, work: Path, stamp: str) -> dict[str, Any]:
    """Child process: two fresh organizations, the raw records for ours, the normalised dicts for ckanapi."""
    import yaml

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(ckan_ini))
    import ckan.plugins.toolkit as tk

    from ckanext.sharing.catalogue import naming
    from ckanext.sharing.catalogue.transfer import importer, readers

    records = _records(n)
    data = json.dumps(records, ensure_ascii=False).encode("utf-8")
    (work / "records.json").write_bytes(data)
    base = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    with getattr(app, "_wsgi_app", app).test_request_context():
        user = importer.site_user()
        orgs = {}
        for key in ("ours", "ckanapi"):
            orgs[key] = tk.get_action("organization_create")({"user": user}, {
                "name": f"bench-import-{key}-{stamp}", "title": f"导入基准 {key} {stamp}"})["name"]
        prefixes = {"ours": f"398{stamp[-3:]}", "ckanapi": f"399{stamp[-3:]}"}
        for key, prefix in prefixes.items():
            (work / f"{key}.yaml").write_text(yaml.safe_dump(dict(base, res_code_prefix=prefix), allow_unicode=True),
                                              encoding="utf-8")
        options = importer.Options(organization=orgs["ckanapi"], user=user,
                                   mapping=importer.load_mapping(str(work / "ckanapi.yaml")))
        rows = [p for p in importer.prepare(readers.read(data, "records.json"), options)
                if not p.problems and p.existing_id is None]
        with (work / "datasets.jsonl").open("w", encoding="utf-8") as out:
            for index, prepared in enumerate(rows):
                record = dict(prepared.data, name=f"{naming.slug(prepared.title)[:70]}-ck{stamp}-{index}")
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return {"records": len(records), "dicts": len(rows), "ours_org": orgs["ours"], "ckanapi_org": orgs["ckanapi"]}


def count(ckan_ini: str, org_name: str) -> int:
    """Child process: active datasets of an organization."""
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    make_app(load_config(ckan_ini))
    from ckan import model

    org = model.Group.get(org_name)
    return model.Session.query(model.Package).filter_by(owner_org=org.id, state="active").count() if org else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--prepare"]:
        print(json.dumps(prepare(argv[1], int(argv[2]), Path(argv[3]), argv[4])))
        return 0
    if argv[:1] == ["--count"]:
        print(count(argv[1], argv[2]))
        return 0
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    n = int(argv[argv.index("--records") + 1]) if "--records" in argv else 2000
    for row in run(argv[0], records=n):
        print(" | ".join(str(c) for c in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
