"""Real machine clients against a live portal (SPEC §3b, issue 12): ckanapi (its Python API and its command line:
dump, datapackages, load) and pandas get the data they may get and an HTTP error, never a page as data, where
they may not."""
from __future__ import annotations

import json
import os
import subprocess
import urllib.error
from pathlib import Path

import pandas as pd
import pytest
from ckanapi import NotAuthorized, RemoteCKAN

from ckan import model

from tests.api import world as client_world
from tests.live import ROOT

# ckanapi as a user's machine has it: its own virtualenv without CKAN (client-requirements.txt, made by bin/stack
# deps). `ckanapi dump` starts its workers as plain `ckanapi`, so that bin/ goes first on the PATH it gets.
BIN = Path(os.environ.get("SHARING_CLIENT_VENV") or ROOT / ".venv-clients") / "bin"
CKANAPI = str(BIN / "ckanapi")


@pytest.fixture(scope="module")
def w(live_portals, reset_db):
    return client_world.build(live_portals, reset_db)


def ckanapi(*args: str, token: str = "") -> str:
    """Run the ckanapi command line as a user would (remote mode, with ``-a`` when given a token); its stderr.
    Fails the test on a non-zero exit. CKAN_* variables are dropped so it never falls back to a local ini."""
    auth = ["-a", token] if token else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    done = subprocess.run([CKANAPI, *args, *auth], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, f"ckanapi {' '.join(args)}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done.stderr


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _stored(name: str) -> model.Package:
    """A dataset as the database holds it (the portal wrote it: no cached state of this process)."""
    model.Session.expire_all()
    pkg = model.Package.get(name)
    assert pkg is not None, name
    return pkg


def test_pandas_reads_open_urls_and_raises_http_errors_for_masked_ones(w):
    """pandas reads an open upload and DataStore export; the masked URL, the real download and the export of a
    conditional resource raise urllib's HTTPError 403 with the JSON reason; the grantee's token reads them."""
    assert pd.read_csv(w.res["open"]["upload"]["url"]).to_dict("records") == client_world.ROWS
    export = pd.read_csv(w.res["open"]["table"]["url"])
    assert export[["city", "population"]].to_dict("records") == client_world.ROWS

    cond = w.res["conditional"]
    masked = RemoteCKAN(w.portal.url).action.package_show(id=w.pkgs["conditional"]["id"])["resources"]
    assert {r["url"] for r in masked} == {w.request_page("conditional")}
    for url in (w.request_page("conditional"), cond["upload"]["url"], cond["table"]["url"]):
        with pytest.raises(urllib.error.HTTPError) as refused:
            pd.read_csv(url)
        assert refused.value.code == 403, url
        body = json.loads(refused.value.read())
        assert body["error"] == "access_restricted" and body["request_url"] == w.request_page("conditional"), url

    token = {"Authorization": w.grantee.token}
    assert pd.read_csv(cond["upload"]["url"], storage_options=token).to_dict("records") == client_world.ROWS
    granted = pd.read_csv(cond["table"]["url"], storage_options=token)
    assert granted[["city", "population"]].to_dict("records") == client_world.ROWS


def test_ckanapi_actions_as_anonymous_and_as_grantee(w):
    """ckanapi's RemoteCKAN: anonymous gets masked resources and, for datastore_search, a NotAuthorized
    carrying reason and request_url; the grantee gets the real URLs (the table's export URL) and the rows."""
    anon, grantee = RemoteCKAN(w.portal.url), RemoteCKAN(w.portal.url, apikey=w.grantee.token)
    cond, table = w.pkgs["conditional"], w.res["conditional"]["table"]
    assert all(r["sharing_restricted"] for r in anon.action.package_show(id=cond["id"])["resources"])
    with pytest.raises(NotAuthorized) as refused:
        anon.action.datastore_search(resource_id=table["id"])
    error = refused.value.args[0]
    assert error["reason"] == "conditional" and error["request_url"] == w.request_page("conditional")
    full = {r["name"]: r["url"] for r in grantee.action.package_show(id=cond["id"])["resources"]}
    assert full == {name: res["url"] for name, res in w.res["conditional"].items()}
    assert full["table"] == w.url(f"/datastore/dump/{table['id']}")
    assert [r["city"] for r in grantee.action.datastore_search(resource_id=table["id"])["records"]] == \
        ["Fuzhou", "Xiamen"]


def test_ckanapi_dump_all_is_the_public_catalogue_without_real_urls(w, tmp_path):
    """`ckanapi dump datasets --all` as anonymous: exactly the datasets package_search counts, the conditional
    one with request-page URLs only, nothing of the not_shared one; the open one keeps its real URLs."""
    out = tmp_path / "all.jsonl"
    ckanapi("dump", "datasets", "--all", "-q", "-O", str(out), "-r", w.portal.url)
    records = _records(out)
    assert len(records) == RemoteCKAN(w.portal.url).action.package_search(rows=0)["count"] == 2
    text = out.read_text(encoding="utf-8")
    for secret in w.secrets():
        assert secret not in text, secret
    dumped = {r["name"]: r for r in records}
    assert {r["url"] for r in dumped[w.pkgs["conditional"]["name"]]["resources"]} == {w.request_page("conditional")}
    assert {r["url"] for r in dumped[w.pkgs["open"]["name"]]["resources"]} == \
        {r["url"] for r in w.res["open"].values()}


def test_ckanapi_datapackages_save_refusals_for_anonymous_and_data_for_the_grantee(w, tmp_path):
    """`ckanapi dump datasets --datapackages` of the conditional dataset: anonymous files hold the 403 JSON
    refusal (ckanapi saves whatever answers; never the HTML page, never data); with the grantee's token they
    hold the DataStore export, and once the upload is the last resource, the uploaded file."""
    name = w.pkgs["conditional"]["name"]

    def files(who: str, token: str = "") -> list[str]:
        target = tmp_path / who
        ckanapi("dump", "datasets", name, "-q", "--datapackages", str(target), "-r", w.portal.url, token=token)
        paths = sorted((target / name / "data").iterdir())
        assert len(paths) == 3, paths  # one file per resource, each fetched from the LAST resource's URL
        return [p.read_text(encoding="utf-8") for p in paths]

    for body in files("anonymous"):
        assert json.loads(body)["error"] == "access_restricted", body[:200]
    for body in files("grantee", w.grantee.token):
        assert body.splitlines()[0].lstrip("\ufeff") == "_id,city,population" and "Fuzhou" in body, body[:200]
    order = [w.res["conditional"][k]["id"] for k in ("link", "table", "upload")]
    w.portal.action("package_resource_reorder", w.admin.token, id=w.pkgs["conditional"]["id"], order=order)
    for body in files("grantee-upload", w.grantee.token):
        assert body == client_world.CSV


def test_ckanapi_dump_then_load_into_another_department_keeps_tiers_and_stores_no_masked_url(w, tmp_path):
    """An anonymous dump loaded by a sysadmin with `ckanapi load datasets --create-only` into another
    department keeps each tier; no copy stores a request-page URL or sharing_restricted (the conditional
    copy's resources have no URL), the open copy keeps its real link."""
    dumped = tmp_path / "dump.jsonl"
    ckanapi("dump", "datasets", w.pkgs["open"]["name"], w.pkgs["conditional"]["name"], "-q", "-O", str(dumped),
            "-r", w.portal.url)
    copies = []
    for record in _records(dumped):  # what a user edits: new names, the other department, no ids
        record.pop("id")
        record.pop("organization")
        record.update(name="copy-" + record["name"], owner_org=w.orgs["copy"]["id"],
                      resources=[{k: v for k, v in r.items() if k not in ("id", "package_id")}
                                 for r in record["resources"]])
        copies.append(record)
    load = tmp_path / "load.jsonl"
    load.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in copies), encoding="utf-8")
    ckanapi("load", "datasets", "-I", str(load), "--create-only", "-q", "-r", w.portal.url, token=w.admin.token)

    admin = RemoteCKAN(w.portal.url, apikey=w.admin.token)
    for tier in ("open", "conditional"):
        copy = admin.action.package_show(id="copy-" + w.pkgs[tier]["name"])
        assert (copy["sharing_tier"], copy["owner_org"]) == (tier, w.orgs["copy"]["id"])
        assert len(copy["resources"]) == 3
        stored = _stored(copy["name"])
        for res in stored.resources:
            assert "request-access" not in res.url and "sharing_restricted" not in (res.extras or {}), res.url
    assert w.link("open") in {r.url for r in _stored("copy-" + w.pkgs["open"]["name"]).resources}
    assert {r.url for r in _stored("copy-" + w.pkgs["conditional"]["name"]).resources} == {""}
