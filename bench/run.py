#!/usr/bin/env python3
"""``make bench``: plain CKAN against CKAN + sharing, same machine, same run, same real records (SPEC §10).

Three portals are built side by side, each with its own PostgreSQL database, DataStore database and Solr
core (``bin/stack test-env bench<portal>``) and each served by gunicorn on a loopback port:

* ``plain``   — ``activity datastore``, CKAN's stock Solr schema
* ``access``  — ``activity datastore sharing``, CKAN's stock Solr schema, no catalogue schema: the access layer's
  own cost (issue 16: each layer's cost visible; ``--no-access-portal`` leaves it out)
* ``sharing`` — ``activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue sharing_zh_search``, the CJK Solr schema

Both get the same N real catalogue records (``../shared/data/cnpds``, read at run time; plain CKAN keeps the
catalogue fields as extras and ``private`` for not_shared), then a bounded load loop on 127.0.0.1 measures
requests/s of ``package_search`` and ``package_show`` (anonymous and as an organization member, all tiers
mixed), resource download authorization (GET of download URLs, redirects not followed), the search-index
rebuild time and the import rate. Each figure is the median over ``--repeats`` runs; the table gives
with/without ratios beside the SPEC §10 target of each row. ``bench/grants.py`` and ``bench/search_quality.py``
add their rows when present. ``--profile`` samples the workers with py-spy during each row (bench/profiling.py);
``--scale [N]`` loads N records (default: all) and prints how package_search latency grows with the catalogue,
with Solr's own median QTime as the floor.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import inspect
import io
import json
import os
import random
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
VENV = Path(os.environ.get("SHARING_VENV", ROOT / ".venv"))
STATE = Path(os.environ.get("SHARING_STATE", ROOT / ".run"))
BENCH_DIR = STATE / "bench"
LOG_DIR = STATE / "log"
HOST = "127.0.0.1"  # load traffic goes to the loopback interface only

PORTALS = {
    "plain": "activity datastore",
    "access": "activity datastore sharing",
    "sharing": "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue sharing_zh_search",
}
STOCK_SCHEMA = {"plain", "access"}  # portals on CKAN's own Solr schema
LABELS = {"plain": "plain CKAN", "access": "sharing only", "sharing": "CKAN+sharing"}
# SPEC §10 targets, as (kind, bound) of the with/without ratio: "min" = at least, "max" = at most
TARGETS = {"catalogue import (datasets/s)": ("min", 0.95), "search-index rebuild (s)": ("max", 1.10)}
REQ_TARGET = ("min", 0.95)  # every request/s row, anonymous and logged in
# Another engineer's bench on the same machine must not share our databases and cores (bin/stack test-env slot)
SLOT_SUFFIX = os.environ.get("BENCH_SLOT_SUFFIX", "")
QUERIES = ["", "统计", "信息", "公示", "名录", "企业", "学校", "交通", "医疗", "年鉴", "目录", "数据"]


def say(msg: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def clean_env(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment for child processes: no CKAN_* overrides leaking in from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
    env.update(extra or {})
    return env


def free_port(preferred: int) -> int:
    for port in range(preferred, preferred + 50):
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) != 0:
                return port
    raise SystemExit(f"no free port near {preferred}")


@dataclass
class Portal:
    """One portal under test: its ini, gunicorn process, tokens and what was loaded."""

    key: str
    plugins: str
    port: int
    ini: Path = Path()
    env: dict[str, str] = field(default_factory=dict)
    proc: Optional[subprocess.Popen] = None
    admin_token: str = ""
    member_token: str = ""
    datasets: list[dict[str, Any]] = field(default_factory=list)  # name, id, tier
    downloads: list[str] = field(default_factory=list)
    org_ids: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def ckan(self, *args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(VENV / "bin" / "ckan"), "-c", str(self.ini), *args]
        return subprocess.run(cmd, env=clean_env(), check=check, capture_output=capture, text=True, cwd=ROOT)

    def api(self, action: str, token: str = "", files: Any = None, **data: Any) -> Any:
        headers = {"Authorization": token} if token else {}
        if files:
            resp = requests.post(f"{self.url}/api/3/action/{action}", data=data, files=files, headers=headers, timeout=120)
        else:
            resp = requests.post(f"{self.url}/api/3/action/{action}", json=data, headers=headers, timeout=120)
        body = resp.json()
        if not body.get("success"):
            raise RuntimeError(f"{self.key} {action}: {resp.status_code} {json.dumps(body.get('error'), ensure_ascii=False)[:400]}")
        return body["result"]


# --- building a portal ------------------------------------------------------------------------------


def stack_env(slot: str, solr_schema: str = "") -> dict[str, str]:
    """``bin/stack test-env <slot>``: creates the databases and Solr core, returns their URLs.

    ``solr_schema`` "stock" gives plain CKAN its own schema.xml; "" the project's CJK schema."""
    extra = {"SHARING_SOLR_SCHEMA": solr_schema} if solr_schema else {}
    out = subprocess.run([str(ROOT / "bin" / "stack"), "test-env", slot], env=clean_env(extra), check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export "):].split("=", 1)
            env[key] = shlex.split(value)[0] if value else ""
    return env


def write_ini(portal: Portal) -> None:
    env = portal.env
    secret = secrets.token_urlsafe(32)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    portal.ini = BENCH_DIR / f"{portal.key}{SLOT_SUFFIX}.ini"
    portal.ini.write_text(f"""# Written by bench/run.py: the {portal.key} portal of the benchmark.
[app:main]
use = config:{ROOT / 'config' / 'ckan.ini'}
ckan.plugins = {portal.plugins}
ckan.site_id = bench_{portal.key}
SECRET_KEY = {secret}
api_token.jwt.encode.secret = string:{secret}
api_token.jwt.decode.secret = string:{secret}
sqlalchemy.url = {env['CKAN_SQLALCHEMY_URL']}
ckan.datastore.write_url = {env['CKAN_DATASTORE_WRITE_URL']}
ckan.datastore.read_url = {env['CKAN_DATASTORE_READ_URL']}
solr_url = {env['CKAN_SOLR_URL']}
ckan.redis.url = {env['CKAN_REDIS_URL']}
ckan.storage_path = {env['CKAN_STORAGE_PATH']}
ckan.site_url = {portal.url}
ckan.auth.create_unowned_dataset = false
# both portals alike: no Solr commit per write (Solr's autoSoftCommit makes writes visible within 1 s)
ckan.search.solr_commit = false
{os.environ.get("BENCH_EXTRA_INI", "")}
""", encoding="utf-8")


def reset_portal(portal: Portal) -> None:
    """Empty database, DataStore permissions, empty Solr core, a sysadmin and a member with tokens."""
    portal.ckan("db", "clean", "--yes", check=False)
    portal.ckan("db", "init")
    if "sharing" in portal.plugins.split():
        portal.ckan("db", "upgrade", "-p", "sharing")
    subprocess.run([str(ROOT / "bin" / "stack"), "test-perms"], env=clean_env(portal.env), check=True,
                   capture_output=True, text=True, cwd=ROOT)
    requests.post(f"{portal.env['CKAN_SOLR_URL']}/update?commit=true", data="<delete><query>*:*</query></delete>",
                  headers={"Content-Type": "text/xml"}, timeout=60).raise_for_status()
    Path(portal.env["CKAN_STORAGE_PATH"]).mkdir(parents=True, exist_ok=True)
    portal.ckan("user", "add", "bench_admin", "email=bench_admin@bench.example.gov.cn", "password=Bench-Pass-2026")
    portal.ckan("sysadmin", "add", "bench_admin")
    portal.admin_token = portal.ckan("user", "token", "add", "bench_admin", "bench").stdout.strip().splitlines()[-1].strip()


def add_member_user(portal: Portal) -> None:
    """The logged-in client of the load loop: a plain user, made a member of some organizations later."""
    portal.api("user_create", portal.admin_token, name="bench_member", email="bench_member@bench.example.gov.cn",
               password="Bench-Pass-2026")
    portal.member_token = portal.api("api_token_create", portal.admin_token, user="bench_member", name="bench")["token"]


def start_web(portal: Portal, workers: int) -> None:
    log = open(LOG_DIR / f"bench-{portal.key}{SLOT_SUFFIX}.log", "w")
    portal.proc = subprocess.Popen(
        [str(VENV / "bin" / "gunicorn"), "--workers", str(workers), "--bind", f"{HOST}:{portal.port}",
         "--timeout", "300", "--chdir", str(ROOT), "ckanext.sharing.dev.wsgi:application"],
        env=clean_env({"CKAN_INI": str(portal.ini)}), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if portal.proc.poll() is not None:
            raise SystemExit(f"gunicorn of {portal.key} exited; see {LOG_DIR / f'bench-{portal.key}.log'}")
        try:
            if requests.get(f"{portal.url}/api/3/action/status_show", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{portal.key} portal did not answer in 120 s")


def stop_web(portal: Portal) -> None:
    if portal.proc and portal.proc.poll() is None:
        portal.proc.terminate()
        try:
            portal.proc.wait(30)
        except subprocess.TimeoutExpired:
            portal.proc.kill()


# --- import -----------------------------------------------------------------------------------------


def load_catalogue(portal: Portal, selection: Any, concurrency: int, chunks: int,
                   specs: Optional[list[dict[str, Any]]] = None) -> list[float]:
    """Organizations (once), then the datasets (``specs``, default all of the selection) through
    ``package_create`` over HTTP; returns datasets/s per chunk. Portals without the catalogue schema get
    the plain dict (catalogue fields as extras; ``sharing`` alone reads the tier from its extra)."""
    from ckanext.sharing.dev import demo

    catalogue = "sharing_catalogue" in portal.plugins.split()

    def make_org(org: dict[str, Any]) -> tuple[str, str]:
        data = {"name": org["name"], "title": org["title"], "description": org["description"]}
        if catalogue:
            data["uscc"] = org["uscc"]
        return org["name"], portal.api("organization_create", portal.admin_token, **data)["id"]

    if not portal.org_ids:
        with cf.ThreadPoolExecutor(concurrency) as pool:
            portal.org_ids.update(pool.map(make_org, selection.organizations))

    def one(spec: dict[str, Any]) -> dict[str, Any]:
        org_id = portal.org_ids[spec["org"]]
        data = demo.dataset_dict(spec, org_id) if catalogue else demo.plain_dataset(spec, org_id)
        res = spec["resources"][0]
        data["resources"] = [{"name": res["name"], "format": res.get("format") or "CSV",
                              "url": res.get("url") or f"https://data.demo-city.example.gov.cn/files/{spec['name']}.csv"}]
        pkg = portal.api("package_create", portal.admin_token, **data)
        return {"name": pkg["name"], "id": pkg["id"], "tier": spec["sharing_tier"], "org": spec["org"]}

    specs = selection.datasets if specs is None else specs
    size = max(1, -(-len(specs) // chunks))
    rates = []
    with cf.ThreadPoolExecutor(concurrency) as pool:
        for start in range(0, len(specs), size):
            part = specs[start:start + size]
            t0 = time.perf_counter()
            portal.datasets.extend(pool.map(one, part))
            rates.append(len(part) / (time.perf_counter() - t0))
    return rates


def add_member_and_uploads(portal: Portal, uploads: int) -> None:
    """The member joins the five largest organizations; a sample of datasets of every tier gets a CSV upload."""
    by_org: dict[str, int] = {}
    for d in portal.datasets:
        by_org[d["org"]] = by_org.get(d["org"], 0) + 1
    for org in sorted(by_org, key=lambda o: -by_org[o])[:5]:
        portal.api("organization_member_create", portal.admin_token, id=portal.org_ids[org], username="bench_member", role="member")
    rng = random.Random(7)
    sample = rng.sample(portal.datasets, min(uploads, len(portal.datasets)))
    for d in sample:
        csv = "名称,数量\n示例一,1\n示例二,2\n".encode("utf-8")
        res = portal.api("resource_create", portal.admin_token, files={"upload": ("rows.csv", io.BytesIO(csv), "text/csv")},
                         package_id=d["id"], name="rows.csv", format="CSV")
        portal.downloads.append(f"/dataset/{d['id']}/resource/{res['id']}/download/rows.csv")


# --- the load loop ----------------------------------------------------------------------------------


def load_loop(make_request: Callable[[requests.Session, random.Random], requests.Response], seconds: float,
              concurrency: int) -> tuple[float, dict[int, int]]:
    """``concurrency`` clients issue requests back to back for ``seconds``; returns requests/s and status counts."""
    stop = time.perf_counter() + seconds
    counts: list[int] = [0] * concurrency
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(i: int) -> None:
        rng = random.Random(i)
        with requests.Session() as session:
            while time.perf_counter() < stop:
                resp = make_request(session, rng)
                counts[i] += 1
                with lock:
                    statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0), statuses


def scenarios(portal: Portal) -> dict[str, Callable[[requests.Session, random.Random], requests.Response]]:
    names = [d["name"] for d in portal.datasets]
    member = {"Authorization": portal.member_token}
    orgs = list(portal.org_ids)

    def search(headers: dict[str, str]):
        def go(s: requests.Session, rng: random.Random) -> requests.Response:
            params: dict[str, Any] = {"q": rng.choice(QUERIES), "rows": 20, "start": rng.choice((0, 20, 40))}
            if rng.random() < 0.3:
                params["fq"] = f"organization:{rng.choice(orgs)}"
            return s.get(f"{portal.url}/api/3/action/package_search", params=params, headers=headers, timeout=60)
        return go

    def show(headers: dict[str, str]):
        def go(s: requests.Session, rng: random.Random) -> requests.Response:
            return s.get(f"{portal.url}/api/3/action/package_show", params={"id": rng.choice(names)}, headers=headers, timeout=60)
        return go

    def download(headers: dict[str, str]):
        def go(s: requests.Session, rng: random.Random) -> requests.Response:
            return s.get(portal.url + rng.choice(portal.downloads), headers=headers, timeout=60, allow_redirects=False)
        return go

    return {
        "package_search anonymous (req/s)": search({}),
        "package_search member (req/s)": search(member),
        "package_show anonymous (req/s)": show({}),
        "package_show member (req/s)": show(member),
        "download authorization anonymous (req/s)": download({}),
        "download authorization member (req/s)": download(member),
    }


# --- the run ----------------------------------------------------------------------------------------


def fmt(value: Optional[float]) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def target_of(metric: str) -> tuple[str, float]:
    """The SPEC §10 target of a row's with/without ratio."""
    return TARGETS.get(metric, REQ_TARGET if "(req/s)" in metric else ("min", 0.95))


def verdict(metric: str, ratio: Optional[float]) -> str:
    """"ok" or "MISSED" against the row's target ("-" without a ratio)."""
    if ratio is None:
        return "-"
    kind, bound = target_of(metric)
    return "ok" if (ratio >= bound if kind == "min" else ratio <= bound) else "MISSED"


def print_table(rows: list[tuple[str, dict[str, Optional[float]]]], title: str, keys: list[str]) -> None:
    """One line per metric: each portal's figure, each portal's ratio to plain CKAN, the target and whether
    CKAN+sharing meets it (and, for the access-only portal, whether the access layer alone does)."""
    others = [k for k in keys if k != "plain"]
    width = max(len(r[0]) for r in rows) + 2
    head = "".join(f"{LABELS[k]:>14}" for k in keys) + "".join(f"{LABELS[k] + '/plain':>22}" for k in others)
    print(f"\n{title}")
    print(f"{'metric':<{width}}{head}{'target':>10}  met ({', '.join(LABELS[k] for k in others)})")
    print("-" * (width + len(head) + 12 + 8 * len(others)))
    for metric, values in rows:
        plain = values.get("plain")
        ratios = {k: (values[k] / plain if plain and values.get(k) is not None else None) for k in others}
        kind, bound = target_of(metric)
        target = f"{'>=' if kind == 'min' else '<='} {bound:.2f}"
        cells = "".join(f"{fmt(values.get(k)):>14}" for k in keys)
        cells += "".join(f"{'-' if ratios[k] is None else f'{ratios[k]:.2f}':>22}" for k in others)
        print(f"{metric:<{width}}{cells}{target:>10}  {' / '.join(verdict(metric, ratios[k]) for k in others)}")


EXTRAS = {  # module → the column titles of its rows (metric, A, B, note)
    "grants": ("1 grant", "10,000 grants"),
    "search_quality": ("stock schema", "CJK schema"),
    "catalogue_import": ("ckanapi load", "sharing import"),
    "ledger_scale": ("value", "-"),
    "stats": ("warm (day's cache) ms", "cold (first view) ms"),
}


def extra_rows(module_name: str, portals: dict[str, Portal], records: int) -> list[tuple[str, Any, Any, str]]:
    """Rows of ``bench/<module>.py`` when another part of the project provides it (``run(...) -> rows``)."""
    path = ROOT / "bench" / f"{module_name}.py"
    if not path.exists():
        return []
    try:
        module = __import__(module_name)
        params = inspect.signature(module.run).parameters
        kwargs: dict[str, Any] = {}
        if "records" in params:
            kwargs["records"] = records
        if "rebuild_repeats" in params:
            kwargs["rebuild_repeats"] = 1
        if len([p for p in params if p not in kwargs]) >= 2 and "plain_ini" in params:
            raw = module.run(str(portals["plain"].ini), str(portals["sharing"].ini), **kwargs)
        else:
            raw = module.run(str(portals["sharing"].ini), **kwargs)
    except Exception as e:  # a broken add-on must not lose the main table
        return [(f"{module_name}: failed ({type(e).__name__}: {str(e)[:80]})", None, None, "")]
    rows = []
    for row in raw or []:
        if isinstance(row, dict):
            metric = str(row.get("metric") or row.get("name") or row)
            a = row.get("plain", row.get("without", row.get("a")))
            b = row.get("sharing", row.get("with", row.get("b", row.get("value"))))
            note = str(row.get("note") or row.get("ratio") or row.get("unit") or "")
        else:
            row = list(row) + [None, None, ""]
            metric, a, b, note = str(row[0]), row[1], row[2], str(row[3] or "")
        rows.append((metric, a, b, note))
    return rows


def print_extra(rows: list[tuple[str, Any, Any, str]], title: str, columns: tuple[str, str]) -> None:
    if not rows:
        return
    width = max(len(r[0]) for r in rows) + 2
    print(f"\n{title}")
    print(f"{'metric':<{width}}{columns[0]:>16}{columns[1]:>16}  note")
    print("-" * (width + 48))
    show = lambda v: "-" if v is None else (fmt(v) if isinstance(v, float) else str(v))  # noqa: E731
    for metric, a, b, note in rows:
        print(f"{metric:<{width}}{show(a):>16}{show(b):>16}  {note}")


# --- scale (``--scale``) and profiles (``--profile``) ---------------------------------------------------


def checkpoints(total: int) -> list[int]:
    """Catalogue sizes at which ``--scale`` measures latency: 1,000, 10,000 (when below the total), the total."""
    return [n for n in (1000, 10000) if n < total] + [total]


def latency_ms(portal: Portal, headers: dict[str, str], n: int) -> tuple[float, float]:
    """p50 and p95 of ``n`` sequential ``package_search`` requests (mixed queries, one client), in ms."""
    rng = random.Random(11)
    samples = []
    with requests.Session() as session:
        for _ in range(n):
            params = {"q": rng.choice(QUERIES), "rows": 20}
            t0 = time.perf_counter()
            session.get(f"{portal.url}/api/3/action/package_search", params=params, headers=headers, timeout=120)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def solr_qtime_ms(portal: Portal, n: int) -> float:
    """Solr's own median ``QTime`` for the queries CKAN sends (dismax on CKAN's query fields, 20 rows): the
    floor under any ``package_search``. Each request carries a filter of its own that matches every document
    (``{!cache=false}``, a new id each time), so Solr runs the query instead of answering from its
    query-result cache (the few bench queries repeat: a cached answer's QTime is 0)."""
    rng = random.Random(11)
    times = []
    for i in range(n):
        term = rng.choice(QUERIES)
        params = {"q": term or "*:*", "rows": 20, "fl": "id validated_data_dict", "wt": "json",
                  "fq": ["+site_id:\"bench_%s\" +state:active +capacity:public" % portal.key,
                         f"{{!cache=false}}*:* -id:\"bench-uncached-{time.time_ns()}-{i}\""]}
        if term:
            params.update({"defType": "dismax", "qf": "name^4 title^4 tags^2 groups^2 text", "tie": "0.1",
                           "mm": "2<-1 5<80%"})
        body = requests.get(f"{portal.env['CKAN_SOLR_URL']}/select", params=params, timeout=60).json()
        times.append(body["responseHeader"]["QTime"])
    return float(statistics.median(times))


def measure_scale(portals: dict[str, Portal], requests_n: int) -> dict[str, dict[str, float]]:
    """Latency and QTime of each portal at its current size."""
    out: dict[str, dict[str, float]] = {}
    for portal in portals.values():
        p50, p95 = latency_ms(portal, {}, requests_n)
        m50, m95 = latency_ms(portal, {"Authorization": portal.member_token}, requests_n)
        out[portal.key] = {"anon p50": p50, "anon p95": p95, "member p50": m50, "member p95": m95,
                           "qtime": solr_qtime_ms(portal, requests_n)}
    return out


def print_scale(table: dict[int, dict[str, dict[str, float]]], keys: list[str]) -> None:
    """How package_search latency grows with the catalogue (issue 16), per portal, with Solr's floor."""
    print("\n--scale: package_search latency (ms, one client, sequential) by catalogue size; Solr QTime = Solr's own median")
    head = "".join(f"{LABELS[k] + ' ' + c:>26}" for k in keys for c in ("anon p50/p95", "member p50/p95"))
    print(f"{'datasets':>9}{head}" + "".join(f"{'QTime ' + LABELS[k]:>22}" for k in keys))
    for size, per in sorted(table.items()):
        cells = "".join(f"{per[k]['anon p50']:>15.1f}/{per[k]['anon p95']:<10.1f}{per[k]['member p50']:>15.1f}/"
                        f"{per[k]['member p95']:<10.1f}" for k in keys)
        print(f"{size:>9}{cells}" + "".join(f"{per[k]['qtime']:>22.1f}" for k in keys))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=2000, help="real records loaded into each portal (default 2000)")
    parser.add_argument("--scale", type=int, nargs="?", const=0, default=None, metavar="N",
                        help="load N real records (default: all of them) and measure latency at 1,000 / 10,000 / N")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median is reported (default 3)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one load-loop run (default 4 s)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent loopback clients (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per portal (default 2)")
    parser.add_argument("--uploads", type=int, default=30, help="datasets that get a CSV upload for the download test")
    parser.add_argument("--rebuild-repeats", type=int, default=1,
                        help="search-index rebuilds per portal, median reported (default 1: a rebuild of 2,000 takes minutes)")
    parser.add_argument("--no-extras", action="store_true", help="skip bench/grants.py and bench/search_quality.py")
    parser.add_argument("--no-access-portal", action="store_true",
                        help="leave out the 'sharing only' portal (access layer, stock schema, no catalogue)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the non-plain portals' workers during each row (first repeat) and the rebuild")
    args = parser.parse_args()

    from ckanext.sharing.dev import demo
    import profiling

    source = demo.cnpds_dir()
    if source is None:
        say("real records not found (../shared/data/cnpds or $SHARING_CNPDS_DIR): benchmarking on the shipped demo catalogue")
    started = time.monotonic()
    wanted = args.datasets if args.scale is None else (args.scale or 10**6)
    selection = demo.real_specs(wanted, source) if source else None
    if selection is None or not selection.datasets:
        cat = demo.demo_catalogue()
        selection = demo.RealSelection(
            organizations=[dict(o, uscc=demo.make_uscc(o["name"])) for o in cat["organizations"]],
            datasets=[dict(d, resources=[r for r in d["resources"] if r["kind"] == "link"] or
                           [{"kind": "link", "name": "link", "format": "CSV", "url": ""}]) for d in cat["datasets"]])
    mode = f"--scale: all {len(selection.datasets):,}" if args.scale == 0 else f"{len(selection.datasets):,}"
    say(f"{mode} datasets, {len(selection.organizations)} organizations per portal")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    spy = profiling.py_spy(VENV) if args.profile else None
    if args.profile and not spy:
        say("--profile: py-spy is not installed (dev-requirements.txt); no profiles")
    profile_dir = BENCH_DIR / f"profile-{dt.datetime.now():%Y%m%d-%H%M%S}"
    profiles: dict[str, str] = {}

    keys = [k for k in PORTALS if not (k == "access" and args.no_access_portal)]
    portals = {key: Portal(key, PORTALS[key], free_port(5101 + 10 * n)) for n, key in enumerate(keys)}
    results: dict[str, dict[str, Optional[float]]] = {k: {} for k in portals}
    scale_table: dict[int, dict[str, dict[str, float]]] = {}
    try:
        def prepare(portal: Portal) -> None:
            portal.env = stack_env(f"bench{portal.key}{SLOT_SUFFIX}", "stock" if portal.key in STOCK_SCHEMA else "")
            write_ini(portal)
            reset_portal(portal)
            start_web(portal, args.workers)

        say(f"databases, Solr cores and gunicorn of {len(portals)} portals")
        with cf.ThreadPoolExecutor(len(portals)) as pool:
            list(pool.map(prepare, portals.values()))  # set-up is not measured: all at once
        steps = checkpoints(len(selection.datasets)) if args.scale is not None else [len(selection.datasets)]
        done = 0
        for step in steps:
            for portal in portals.values():
                if not portal.member_token:
                    add_member_user(portal)
                say(f"{portal.key}: importing datasets {done + 1:,}-{step:,} through the Action API on {portal.url}")
                rates = load_catalogue(portal, selection, args.concurrency, max(1, args.repeats),
                                       selection.datasets[done:step])
                results[portal.key].setdefault("_rates", []).extend(rates)  # type: ignore[union-attr]
                if step == steps[-1]:
                    add_member_and_uploads(portal, args.uploads)
                requests.get(f"{portal.env['CKAN_SOLR_URL']}/update?commit=true", timeout=600).raise_for_status()
            done = step
            if args.scale is not None:
                scale_table[step] = measure_scale(portals, 40)
                say(f"--scale at {step:,}: " + ", ".join(
                    f"{k} p50 {v['anon p50']:.0f} ms (QTime {v['qtime']:.0f})" for k, v in scale_table[step].items()))
        for portal in portals.values():
            results[portal.key]["catalogue import (datasets/s)"] = statistics.median(results[portal.key].pop("_rates"))  # type: ignore[arg-type]
            counts: dict[str, int] = {}
            for d in portal.datasets:
                counts[d["tier"]] = counts.get(d["tier"], 0) + 1
            say(f"{portal.key}: loaded {counts}")

        # the load loop: the portals take turns, so all see the same machine state
        names = list(scenarios(portals["plain"]))
        statuses: dict[str, dict[str, dict[int, int]]] = {k: {} for k in portals}
        for name in names:
            samples: dict[str, list[float]] = {k: [] for k in portals}
            for repeat in range(args.repeats):
                for portal in portals.values():
                    spies = []
                    if spy and repeat == 0 and portal.key != "plain" and portal.proc:
                        spies = profiling.start(spy, profiling.worker_pids(portal.proc.pid), args.seconds,
                                                profile_dir / f"{portal.key}-{slug(name)}")
                    rate, st = load_loop(scenarios(portal)[name], args.seconds, args.concurrency)
                    profiling.finish(spies)
                    samples[portal.key].append(rate)
                    statuses[portal.key][name] = st
            for key in portals:
                results[key][name] = statistics.median(samples[key])
            say(f"{name}: " + ", ".join(f"{k} {results[k][name]:.1f}" for k in portals))

        for portal in portals.values():
            times = []
            for repeat in range(max(1, args.rebuild_repeats)):
                cmd = [str(VENV / "bin" / "ckan"), "-c", str(portal.ini), "search-index", "rebuild"]
                if spy and repeat == 0 and portal.key != "plain":
                    cmd = profiling.wrap(spy, cmd, profile_dir / f"{portal.key}-search-index-rebuild")
                t0 = time.perf_counter()
                subprocess.run(cmd, env=clean_env(), check=True, capture_output=True, text=True, cwd=ROOT)
                times.append(time.perf_counter() - t0)
            results[portal.key]["search-index rebuild (s)"] = statistics.median(times)
            say(f"{portal.key}: search-index rebuild {statistics.median(times):.1f}s")

        rows = [(metric, {k: results[k].get(metric) for k in portals})
                for metric in ["catalogue import (datasets/s)", *names, "search-index rebuild (s)"]]
        tiers: dict[str, int] = {}
        for d in portals["sharing"].datasets:
            tiers[d["tier"]] = tiers.get(d["tier"], 0) + 1
        load = os.getloadavg()[0]
        title = (f"make bench: {len(selection.datasets):,} real catalogue records per portal"
                 f"{' (--scale)' if args.scale is not None else ''} "
                 f"({', '.join(f'{k} {v}' for k, v in sorted(tiers.items()))}); medians of {args.repeats} runs; "
                 f"{args.concurrency} loopback clients x {args.seconds:g}s; gunicorn {args.workers} workers; "
                 f"{os.cpu_count()} CPUs, load average {load:.1f} at the end")
        print_table(rows, title, list(portals))
        print("\nHTTP status mix of the last run (" + " | ".join(LABELS[k] for k in portals) + "):")
        for name in names:
            print(f"  {name:<44} " + " | ".join(str(statuses[k].get(name)) for k in portals))
        if scale_table:
            print_scale(scale_table, list(portals))
        if spy:
            print(f"\nprofiles (py-spy, {profile_dir}):")
            for raw in sorted({p.name.rsplit("-", 1)[0] for p in profile_dir.glob("*.txt")}):
                profiles[raw] = profiling.summarise(sorted(profile_dir.glob(f"{raw}-*.txt")))
                print(f"{raw}:\n{profiles[raw]}")
        sys.stdout.flush()
        extras: dict[str, list[Any]] = {}
        if not args.no_extras:
            for module_name, columns in EXTRAS.items():
                say(f"bench/{module_name}.py")
                extras[module_name] = extra_rows(module_name, portals, len(selection.datasets))
                print_extra(extras[module_name], f"bench/{module_name}.py", columns)
                sys.stdout.flush()
        print(f"\ntotal time {time.monotonic() - started:.0f}s; portal logs in {LOG_DIR}/bench-*.log")
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.json").write_text(
            json.dumps({"args": vars(args), "results": results, "rows": rows, "extras": extras,
                        "scale": scale_table, "profiles": profiles}, ensure_ascii=False, indent=1), encoding="utf-8")
    finally:
        for portal in portals.values():
            stop_web(portal)
    return 0


def slug(metric: str) -> str:
    """A file-name form of a metric (``package_search anonymous (req/s)`` -> ``package_search-anonymous``)."""
    return "-".join(metric.split(" (")[0].split())


if __name__ == "__main__":
    raise SystemExit(main())
