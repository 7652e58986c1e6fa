"""Live portals for tests: the app served by the same gunicorn as ``make run``, on a loopback test port.

A test that needs a real HTTP server (a browser, a second process, the portal's log file) asks for one:

    def test_home(live_portal):                        # the default: test.ini + DEFAULT_PLUGINS
        assert live_portal.get("/").status_code == 200

    @pytest.fixture(scope="module")                    # other plugins or settings: one more portal
    def zh_portal(live_portals):
        return live_portals.get(config={"ckan.locale_default": "zh_Hans_CN"})

How: ``bin/stack web`` (the command of ``make run``: gunicorn, config/gunicorn.conf.py, the WSGI entry point
:data:`WSGI_APP`) runs against a generated ini (``use = config:test.ini`` + the plugins and settings asked
for + a ``ckan.site_url`` with the port) and the test database, DataStore, Solr core and Redis db that
``make test`` exports (``CKAN_SQLALCHEMY_URL`` ... are inherited). Its log, with every 500's traceback, is
``$SHARING_STATE/log/live-<slot>[-n].log`` (``.run/log/`` by default).

Scope: session. A portal starts when first asked for (2 gunicorn workers as in ``make run``, ``workers=``
to change; 20-40 s on the busy 2-core development machine including the database reset, ~5 s when idle),
is reused by every later request for the same plugins and settings, and is stopped when the session ends
(~5-10 s). The first start resets the test database and empties the Solr core;
afterwards CKAN's ``clean_db`` / ``clean_index`` may run while it serves (its connections hold no locks
between requests). Create test data after requesting the portal: through its API (``portal.action``) with
a token from :func:`make_user`, or with CKAN's factories (same database; but plugin hooks such as the sharing
tier's indexing run only in the portal, so create datasets through the portal).

``live_worker`` (module scope: it takes jobs from the test Redis queue, so it must not outlive the module
that asked for it) runs ``bin/stack worker`` on the default portal's ini; its log is ``<portal>-worker.log``.
"""
from __future__ import annotations

import configparser
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SHARING_STATE") or ROOT / ".run")
LOG_DIR = STATE / "log"
HOST = "127.0.0.1"
# The WSGI entry point, by module path: the only place the tests name it (bin/stack web's default is the same).
WSGI_APP = "ckanext.sharing.dev.wsgi:application"
# The plugins of the demo portal (config/ckan.ini).
DEFAULT_PLUGINS = ("activity datastore datatables_view scheming_datasets scheming_organizations sharing sharing_catalogue "
                   "sharing_zh_search")
START_SECONDS = 120
PASSWORD_PREFIX = "Live-Pass-"


class LiveActionError(AssertionError):
    """An Action API call to a live portal did not succeed (status and CKAN's error in the message)."""

    def __init__(self, action: str, status: int, error: Any) -> None:
        super().__init__(f"{action}: HTTP {status}: {error}")
        self.action, self.status, self.error = action, status, error


def slot_name() -> str:
    """The ``TEST_SLOT`` of this run (``make test`` exports it), else the suffix of the test database's name."""
    slot = os.environ.get("TEST_SLOT", "")
    if not slot:
        db = urlsplit(os.environ.get("CKAN_SQLALCHEMY_URL", "")).path.lstrip("/")
        slot = db.removeprefix("ckan_test").lstrip("_") or "test"
    return slot


def free_port() -> int:
    """A loopback port nobody listens on (the kernel's choice), for one portal."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _base_settings() -> dict[str, str]:
    """test.ini's ``[app:main]`` as written (no interpolation), to drop overrides that change nothing."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(ROOT / "test.ini", encoding="utf-8")
    return dict(parser.items("app:main")) if parser.has_section("app:main") else {}


class _Process:
    """A process started through ``bin/stack``: its log file and pid file."""

    log: Path
    pidfile: Path
    stop_signal = signal.SIGQUIT  # gunicorn's quick shutdown

    def log_mark(self) -> int:
        """The log's current size: pass it to :meth:`log_since` to read what a test caused."""
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, mark: int, expect: str = "", timeout: float = 10.0) -> str:
        """The log written after ``mark``; with ``expect``, wait (up to ``timeout`` s) until it contains it.

        Another process writes the log, so a record may land a moment after the response."""
        deadline = time.monotonic() + timeout
        while True:
            with self.log.open("rb") as fh:
                fh.seek(mark)
                text = fh.read().decode("utf-8", "replace")
            if not expect or expect in text or time.monotonic() > deadline:
                return text
            time.sleep(0.2)

    def pid(self) -> Optional[int]:
        """The process's pid while it runs, else None."""
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def stop(self) -> None:
        """Stop it (its own pid file; :attr:`stop_signal`, then SIGKILL after 20 s)."""
        _stop_pidfile(self.pidfile, self.stop_signal)


@dataclass
class LivePortal(_Process):
    """One running portal: its URL, generated ini, log file and pid file, with small HTTP helpers."""

    name: str
    port: int
    plugins: str
    config: dict[str, str]
    ini: Path
    log: Path
    pidfile: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET ``path`` (relative to the portal) as an anonymous client unless ``headers`` say otherwise."""
        kwargs.setdefault("timeout", 60)
        return requests.get(self.url + path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """POST to ``path`` (relative to the portal)."""
        kwargs.setdefault("timeout", 60)
        return requests.post(self.url + path, **kwargs)

    def action(self, action: str, token: str = "", /, files: Any = None, **data: Any) -> Any:
        """Call an action over HTTP (JSON, or multipart when ``files`` are given); its ``result``.

        Raises :class:`LiveActionError` when CKAN answers ``success: false`` or no JSON."""
        headers = {"Authorization": token} if token else {}
        if files:
            resp = self.post(f"/api/3/action/{action}", data=data, files=files, headers=headers)
        else:
            resp = self.post(f"/api/3/action/{action}", json=data, headers=headers)
        try:
            body = resp.json()
        except ValueError:
            raise LiveActionError(action, resp.status_code, resp.text[:500]) from None
        if not body.get("success"):
            raise LiveActionError(action, resp.status_code, body.get("error"))
        return body["result"]


def _stop_pidfile(pidfile: Path, sig: int = signal.SIGQUIT) -> None:
    """Stop the process named by a pid file that this module wrote (``sig``, then SIGKILL after 20 s)."""
    _wait_gone(_signal_pidfile(pidfile, sig), pidfile)


def _signal_pidfile(pidfile: Path, sig: int) -> Optional[int]:
    """Send ``sig`` to the process of ``pidfile``; its pid, or None when it does not run."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, sig)
    except (OSError, ValueError):
        pidfile.unlink(missing_ok=True)
        return None
    return pid


def _wait_gone(pid: Optional[int], pidfile: Path, seconds: float = 20) -> None:
    """Wait for ``pid`` to exit; SIGKILL it after ``seconds``."""
    try:
        deadline = time.monotonic() + seconds
        while pid is not None and time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.2)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pidfile.unlink(missing_ok=True)


class LivePortals:
    """The session's portals, one per distinct (plugins, settings, workers); see the module docstring."""

    def __init__(self, reset: Any, prefix: str = "live") -> None:
        """``reset``: empties the test database and core before the first portal (None: the portals run on
        services of their own, e.g. the fault tests' stack); ``prefix`` names their ini, pid and log files."""
        self._reset = reset
        self._prefix = prefix
        self._portals: dict[tuple[Any, ...], LivePortal] = {}
        self._base = _base_settings()

    def get(self, plugins: str = DEFAULT_PLUGINS, config: Optional[dict[str, Any]] = None,
            workers: int = 2, env: Optional[dict[str, str]] = None) -> LivePortal:
        """The portal with these plugins and ini settings (strings; ``True`` → ``true``), started if needed.

        A setting equal to test.ini's value changes nothing, so it does not start another portal.
        ``env``: environment variables of the portal's processes (e.g. ``CKAN_REDIS_URL`` of another Redis)."""
        settings = {k: _ini_value(v) for k, v in (config or {}).items()}
        settings = {k: v for k, v in settings.items() if self._base.get(k) != v}
        key = (" ".join(plugins.split()), tuple(sorted(settings.items())), workers, tuple(sorted((env or {}).items())))
        portal = self._portals.get(key)
        if portal is None or portal.pid() is None:
            if not self._portals and self._reset is not None:
                self._first_start()
            portal = self._start(key[0], settings, workers, len(self._portals), env or {})
            self._portals[key] = portal
        return portal

    def _first_start(self) -> None:
        """An empty test database (core + plugin tables at head) and Solr core for the first portal."""
        from ckan.lib import search

        self._reset()
        search.clear_all()

    def _start(self, plugins: str, settings: dict[str, str], workers: int, index: int,
               extra_env: dict[str, str]) -> LivePortal:
        name = f"{self._prefix}-{slot_name()}" + (f"-{index + 1}" if index else "")
        port = free_port()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        portal = LivePortal(name=name, port=port, plugins=plugins, config=settings,
                            ini=STATE / f"{name}.ini", log=LOG_DIR / f"{name}.log", pidfile=STATE / f"{name}.pid")
        _stop_pidfile(portal.pidfile)  # a portal left behind by an interrupted run of this slot
        lines = [
            f"# Written by tests/live.py for the live portal {name}: test.ini plus these settings.",
            "[app:main]",
            f"use = config:{ROOT / 'test.ini'}",
            "# CKAN's production error handling: its own 500 page, the traceback only in the log",
            "testing = false",
            f"ckan.plugins = {plugins}",
            f"ckan.site_url = {portal.url}",
            *(f"{k} = {v}" for k, v in settings.items()),
        ]
        portal.ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for path in (portal.log, LOG_DIR / f"{name}-access.log"):
            path.write_text("", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "CKAN_SITE_URL"}
        env.update(CKAN_INI=str(portal.ini), CKAN_PORT=str(port), WEB_NAME=name, WEB_WORKERS=str(workers),
                   SHARING_WSGI_APP=WSGI_APP, SHARING_WAIT=str(START_SECONDS), **extra_env)
        done = subprocess.run([str(ROOT / "bin" / "stack"), "web"], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=START_SECONDS + 30)
        if done.returncode != 0:
            portal.stop()
            pytest.fail(f"live portal {name} did not start ({portal.log}):\n{done.stderr[-3000:]}", pytrace=False)
        status = portal.get("/api/3/action/status_show")
        assert status.ok, f"{name}: status_show answered {status.status_code}"
        return portal

    def stop_all(self) -> None:
        """Stop every portal of the session (all signalled first: they shut down side by side)."""
        pids = [(_signal_pidfile(p.pidfile, p.stop_signal), p.pidfile) for p in self._portals.values()]
        for pid, pidfile in pids:
            _wait_gone(pid, pidfile)
        self._portals.clear()


@dataclass
class LiveWorker(_Process):
    """A background job worker (``bin/stack worker``: ``ckan jobs worker``) on a live portal's ini."""

    name: str
    log: Path
    pidfile: Path
    stop_signal = signal.SIGTERM  # RQ's warm shutdown: an idle worker exits at once


def start_worker(portal: LivePortal) -> LiveWorker:
    """Start ``bin/stack worker`` with the portal's ini and the test Redis; log ``<portal name>-worker.log``.

    It takes jobs from the test Redis' default queue (emptied first), so it must not outlive the tests that
    want it: the ``live_worker`` fixture is module-scoped for that reason."""
    name = f"{portal.name}-worker"
    worker = LiveWorker(name=name, log=LOG_DIR / f"{name}.log", pidfile=STATE / f"{name}.pid")
    _stop_pidfile(worker.pidfile, signal.SIGTERM)
    # appended to, never emptied: an earlier module's worker of the same portal keeps its records (and the
    # tracebacks in them); tests read what follows their log_mark()
    worker.log.parent.mkdir(parents=True, exist_ok=True)
    with worker.log.open("a", encoding="utf-8") as fh:
        fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} tests/live.py starts {name} ---\n")
    # jobs left by earlier tests (no worker ran them) belong to data that is gone: drop them, or the new worker
    # spends its first minutes on them. That includes the scheduled ones, which Queue.empty() leaves: every
    # DataStore write schedules a record count (<resource>_calculate-record-count, ckanext-datastore), and the
    # worker's RQ scheduler queued a whole suite's worth of them ahead of a test's job (a 49 s wait in a
    # clean-clone run, 57 of them at 0.47 s each in another)
    from ckan.lib import jobs

    queue = jobs.get_queue()
    queue.empty()
    for registry in (queue.scheduled_job_registry, queue.deferred_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    env = dict(os.environ, CKAN_INI=str(portal.ini), WORKER_NAME=name)
    done = subprocess.run([str(ROOT / "bin" / "stack"), "worker"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    if done.returncode != 0 or worker.pid() is None:
        pytest.fail(f"worker {name} did not start:\n{done.stderr[-2000:]}", pytrace=False)
    _wait_registered(worker)
    return worker


def _wait_registered(worker: LiveWorker) -> None:
    """Wait until RQ lists the worker's process on the default queue as idle: registered (the CLI loads
    CKAN first) and past its start-up maintenance, blocked on the queue, so a job enqueued now is taken at once."""
    import rq

    from ckan.lib import jobs

    queue = jobs.get_queue()
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if worker.pid() is None:
            pytest.fail(f"worker {worker.name} exited, see {worker.log}", pytrace=False)
        if any(w.pid == worker.pid() and w.get_state() == "idle" for w in rq.Worker.all(queue=queue)):
            return
        time.sleep(0.5)
    pytest.fail(f"worker {worker.name} did not listen within {START_SECONDS}s, see {worker.log}", pytrace=False)


def _ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


@pytest.fixture(scope="session")
def live_portals(reset_db: Any) -> Iterator[LivePortals]:
    """The session's registry of live portals: ``live_portals.get(plugins=..., config={...})``."""
    portals = LivePortals(reset_db)
    yield portals
    portals.stop_all()


@pytest.fixture(scope="session")
def live_portal(live_portals: LivePortals) -> LivePortal:
    """The default live portal: test.ini with :data:`DEFAULT_PLUGINS` (the demo's plugins)."""
    return live_portals.get()


@pytest.fixture(scope="module")
def live_worker(live_portal: LivePortal) -> Iterator[LiveWorker]:
    """A job worker for the default live portal, for one test module (then stopped)."""
    worker = start_worker(live_portal)
    yield worker
    worker.stop()


# --- users ------------------------------------------------------------------------------------------


@dataclass
class LiveUser:
    """A user of the test database with a known password (browser log-in) and an API token."""

    id: str
    name: str
    email: str
    password: str
    token: str
    sysadmin: bool = False

    @property
    def headers(self) -> dict[str, str]:
        """Request headers that authenticate as this user through the API token."""
        return {"Authorization": self.token}


def make_user(sysadmin: bool = False, **fields: Any) -> LiveUser:
    """Create a user (CKAN's factories, on the database the live portals use) with a password and a token.

    ``fields`` go to ``user_create`` (``name``, ``fullname``, ``email`` ...). Tokens are JWTs signed with
    test.ini's secret, which the portals share."""
    from ckan.tests import factories

    password = fields.pop("password", None) or PASSWORD_PREFIX + secrets.token_urlsafe(12)
    fields.setdefault("image_url", "")  # the factory's default is an Internet picture: a console error offline
    user = (factories.Sysadmin if sysadmin else factories.User)(password=password, **fields)
    token = factories.APIToken(user=user["name"], name="live")["token"]
    return LiveUser(id=user["id"], name=user["name"], email=user["email"], password=password, token=token,
                    sysadmin=sysadmin)
