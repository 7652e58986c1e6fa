"""A second CKAN harvests this portal (SPEC §3b "Harvest", issue 12): ckanext-harvest's CKANHarvester and
ckanext-dcat's dcat_rdf_harvester, run with the harvester's own command (``ckan harvester run-test``: gather,
fetch and import, as the consumers would) by a site with its own database, Solr core and site id (Redis keys) on
the same services, with ``sharing`` loaded so the import goes through our tier handling."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.api import world as client_world
from tests.live import ROOT, STATE, LivePortal, slot_name

CKAN = str(Path(sys.prefix) / "bin" / "ckan")
PLUGINS = "activity harvest ckan_harvester sharing dcat dcat_rdf_harvester"
# harvester type -> (source name, the URL it harvests, relative to the portal)
RUNS = {"ckan": ("from-ckan", ""), "dcat_rdf": ("from-dcat", "/catalog.ttl")}


@pytest.fixture(scope="module")
def source(live_portals, reset_db):
    return client_world.build(live_portals, reset_db)


def _ckan(ini: Path, env: dict[str, str], *args: str) -> str:
    """Run a ``ckan`` command of the second site; its output. Fails the test on a non-zero exit."""
    done = subprocess.run([CKAN, "-c", str(ini), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env}, cwd=ROOT)
    assert done.returncode == 0, f"ckan {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _second_site_env() -> dict[str, str]:
    """Database, DataStore, Solr core, Redis db and storage of the second site (``bin/stack test-env``)."""
    own = {k: v for k, v in os.environ.items() if k not in ("CKAN_SOLR_URL", "CKAN_REDIS_URL")}  # not this run's
    done = subprocess.run([str(ROOT / "bin" / "stack"), "test-env", f"{slot_name()}_harvest"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=own)
    assert done.returncode == 0, done.stderr[-2000:]
    exports = (line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines()
               if line.startswith("export "))
    env = dict(exports)
    assert env["CKAN_SOLR_URL"] != os.environ.get("CKAN_SOLR_URL") and env["CKAN_REDIS_URL"] != os.environ.get(
        "CKAN_REDIS_URL"), env
    return env


def _empty(env: dict[str, str]) -> None:
    """An empty database (every table dropped) and Solr core for the second site."""
    engine = sa.create_engine(env["CKAN_SQLALCHEMY_URL"])
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    resp = requests.post(env["CKAN_SOLR_URL"] + "/update?commit=true", json={"delete": {"query": "*:*"}},
                         timeout=60)
    assert resp.ok, resp.text


@pytest.fixture(scope="module")
def second_site(live_portals, source):
    """The second CKAN: tables made by ``ckan db init`` (core, harvest, sharing), served by a live portal."""
    env = _second_site_env()
    config = {"ckan.site_id": f"sharing_harvest_{slot_name()}",
              "ckanext.dcat.rdf.profiles": "euro_dcat_ap_3 sharing_dcat_ap"}
    _empty(env)
    ini = STATE / f"harvest-{slot_name()}-init.ini"
    ini.write_text("\n".join(["[app:main]", f"use = config:{ROOT / 'test.ini'}", f"ckan.plugins = {PLUGINS}",
                              *(f"{k} = {v}" for k, v in config.items()), ""]), encoding="utf-8")
    _ckan(ini, env, "db", "init")
    portal = live_portals.get(plugins=PLUGINS, config=config, env=env, workers=1)
    return portal, env


def _harvest(portal: LivePortal, env: dict[str, str], kind: str, url: str) -> float:
    """Create the harvest source with ``ckan harvester source create`` and run it; the run's seconds."""
    name = RUNS[kind][0]
    _ckan(portal.ini, env, "harvester", "source", "create", name, url, kind, name)
    started = time.monotonic()
    _ckan(portal.ini, env, "harvester", "run-test", name)
    return time.monotonic() - started


def _rows(env: dict[str, str], sql: str, **params: Any) -> list[Any]:
    engine = sa.create_engine(env["CKAN_SQLALCHEMY_URL"])
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def test_ckan_and_dcat_harvesters_bring_the_public_catalogue_and_keep_the_tiers(source, second_site, capsys):
    """Each harvester's full run finishes without an error and brings as many datasets as the portal's public
    count: the open one with its real URLs, the conditional one still conditional with only the request
    page as URL, never the not_shared one nor any real URL of a conditional resource."""
    portal, env = second_site
    public = requests.get(source.url("/api/3/action/package_search"), params={"rows": 0}, timeout=60)
    public_count = public.json()["result"]["count"]
    assert public_count == 2
    tiers = {source.pkgs[t]["title"]: t for t in ("open", "conditional")}
    seconds = {kind: _harvest(portal, env, kind, source.url(path)) for kind, (_, path) in RUNS.items()}

    jobs = _rows(env, "SELECT s.type, j.status FROM harvest_job j JOIN harvest_source s ON s.id = j.source_id")
    assert sorted(jobs) == [("ckan", "Finished"), ("dcat_rdf", "Finished")]
    errors = _rows(env, "SELECT message FROM harvest_gather_error UNION ALL SELECT message FROM harvest_object_error")
    assert errors == []
    stored = _rows(env, "SELECT s.type, p.id, p.title, p.state, r.url FROM harvest_object o "
                        "JOIN harvest_source s ON s.id = o.harvest_source_id JOIN package p ON p.id = o.package_id "
                        "LEFT JOIN resource r ON r.package_id = p.id AND r.state = 'active' WHERE o.current")
    everything = " ".join(str(v) for row in _rows(env, "SELECT * FROM package") + stored for v in row)
    for secret in source.secrets():
        assert secret not in everything, secret
    for kind in RUNS:
        mine = [row for row in stored if row.type == kind]
        assert {row.id for row in mine} and all(row.state == "active" for row in mine)
        assert len({row.id for row in mine}) == public_count, (kind, mine)
        urls = {tiers[row.title]: set() for row in mine}
        for row in mine:
            urls[tiers[row.title]].add(row.url)
            shown = requests.get(portal.url + "/api/3/action/package_show", params={"id": row.id}, timeout=60)
            assert shown.json()["result"]["sharing_tier"] == tiers[row.title], (kind, row.title)
        assert urls["conditional"] == {source.request_page("conditional")}, kind
        assert source.link("open") in urls["open"], kind
    with capsys.disabled():
        print(f"\n[harvest] {public_count} public datasets; run-test seconds: "
              + ", ".join(f"{kind} {s:.1f}" for kind, s in seconds.items()))
