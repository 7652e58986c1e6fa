"""A stack of our own for the fault tests (no tests here): real services that the tests stop and restart.

- :class:`FaultStack`: a PostgreSQL cluster, a Redis and a Solr node started by ``bin/stack`` on free ports with
  a state directory of their own (``$SHARING_STATE/faults-<slot>``), the portal's database initialised on them
  (``bin/stack init``), a live gunicorn portal and an RQ worker using them. A test stops the real process
  (``bin/stack pg-stop`` / ``redis-stop`` / ``solr-stop``) and starts it again; the suite's services are never
  touched. Users are created in its database with CKAN's own model classes on a session of the stack's engine.
- :class:`Worker`: ``ckan jobs worker`` in its own process group, so a test can SIGKILL it mid-job.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import requests
import sqlalchemy as sa

from tests.live import LOG_DIR, ROOT, STATE, LivePortal, LivePortals, slot_name
from tests.mailsink import MailSink, free_port

CKAN = ROOT / ".venv" / "bin" / "ckan"
STACK = ROOT / "bin" / "stack"
# What the suite exports for its own services: bin/stack would use those instead of starting ours.
_SUITE_SERVICES = ("CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL", "CKAN_REDIS_URL", "CKAN_DATASTORE_WRITE_URL",
                   "CKAN_DATASTORE_READ_URL", "CKAN_STORAGE_PATH", "CKAN_INI", "SOLR_MODE")


def wait_until(check: Callable[[], Any], seconds: float = 30, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.2)


@dataclass
class FaultUser:
    """A user of the fault stack's database with an API token."""

    id: str
    name: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.token}


class FaultStack:
    """Real PostgreSQL, Redis and Solr of the fault tests, their portal, worker and SMTP sink."""

    def __init__(self, plugins: str, config: dict[str, Any]) -> None:
        self.slot = slot_name()
        self.state = STATE / f"faults-{self.slot}"
        self.ports = {"PG_PORT": free_port(), "REDIS_PORT": free_port(), "SOLR_PORT": free_port()}
        if os.geteuid() == 0:  # PostgreSQL runs as `postgres` (bin/stack): a directory that user reaches
            tag = hashlib.sha1(str(self.state).encode()).hexdigest()[:12]
            pg_home = Path("/var/lib/ckanext-sharing") / f"faults-{tag}"
        else:
            pg_home = self.state / "pg"
        self.stack_env = {k: v for k, v in os.environ.items() if k not in _SUITE_SERVICES}
        self.stack_env.update({k: str(v) for k, v in self.ports.items()}, SHARING_STATE=str(self.state),
                              PG_HOME=str(pg_home), SHARING_SOLR_LIB=str(STATE / "solr-lib"), SOLR_HEAP="512m",
                              CKAN_PORT=str(free_port()))
        pg = f"ckan_pass@127.0.0.1:{self.ports['PG_PORT']}"  # bin/stack's roles and password
        self.db_url = f"postgresql://ckan_default:{pg}/ckan_default"
        self.sink = MailSink()
        self.env = {
            "CKAN_SQLALCHEMY_URL": self.db_url,
            "CKAN_DATASTORE_WRITE_URL": f"postgresql://ckan_default:{pg}/datastore_default",
            "CKAN_DATASTORE_READ_URL": f"postgresql://datastore_default:{pg}/datastore_default",
            "CKAN_SOLR_URL": f"http://127.0.0.1:{self.ports['SOLR_PORT']}/solr/ckan",
            "CKAN_REDIS_URL": f"redis://127.0.0.1:{self.ports['REDIS_PORT']}/0",
            "CKAN_STORAGE_PATH": str(self.state / "storage"),
            "CKAN_SMTP_SERVER": self.sink.address,
            "CKAN_SMTP_MAIL_FROM": "portal@example.org",
        }
        self.plugins, self.config = plugins, config
        self.engine = sa.create_engine(self.db_url, pool_pre_ping=True)
        self._portals = LivePortals(None, prefix="faults")
        self.portal: Optional[LivePortal] = None
        self._worker: Optional[Worker] = None
        self.sysadmin: Optional[FaultUser] = None

    # --- services -----------------------------------------------------------------------------

    def bin_stack(self, *args: str, timeout: int = 300) -> str:
        """``bin/stack ARGS`` on this stack's ports and state; its stderr (fails the test when it fails)."""
        done = subprocess.run([str(STACK), *args], env=self.stack_env, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, f"bin/stack {' '.join(args)} failed:\n{done.stderr[-3000:]}"
        return done.stderr

    def stop(self, service: str) -> None:
        """Stop the real ``pg``, ``redis`` or ``solr`` process of this stack."""
        self.bin_stack(f"{service}-stop")
        if service == "pg":
            self.engine.dispose()

    def start(self, service: str) -> None:
        """Start it again (bin/stack waits until it answers; for Solr also until the portal's core has loaded)."""
        self.bin_stack(f"{service}-start")
        if service == "solr":
            wait_until(self._core_loaded, 120, "the Solr core to load")

    def _core_loaded(self) -> bool:
        """Whether the portal's Solr core answers a query (after a start it says 503 "SolrCore is loading")."""
        try:
            return requests.get(self.env["CKAN_SOLR_URL"] + "/select", params={"q": "*:*", "rows": 0},
                                timeout=10).status_code == 200
        except requests.RequestException:
            return False

    def up(self) -> "FaultStack":
        """Start the services, initialise the portal's database, then the portal, the worker and the sink."""
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "ckan.ini").unlink(missing_ok=True)  # bin/stack init writes it anew, with this run's ports
        self.bin_stack("start")
        wait_until(self._core_loaded, 120, "the Solr core to load")
        self.bin_stack("init", timeout=600)
        self.sink.start()
        self.portal = self._portals.get(plugins=self.plugins, config=self.config, env=self.env)
        self.sysadmin = self.make_user(sysadmin=True)
        self.worker()
        return self

    def close(self) -> None:
        """Stop the worker, the portal, the sink and the services (their data stays for the next run)."""
        try:
            if self._worker is not None:
                self._worker.stop()
            self._portals.stop_all()
            self.sink.stop()
            self.engine.dispose()
        finally:
            self.bin_stack("stop")

    def worker(self) -> "Worker":
        """The portal's job worker, started when none runs."""
        assert self.portal is not None
        if self._worker is None or self._worker.proc is None or self._worker.proc.poll() is not None:
            self._worker = Worker(self.portal.ini, self.env, self.env["CKAN_REDIS_URL"],
                                  f"{self.portal.name}-worker").start()
        return self._worker

    def ckan(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A ``ckan`` command on the portal's ini and this stack's services."""
        assert self.portal is not None
        return ckan(self.portal.ini, self.env, *args)

    # --- data -----------------------------------------------------------------------------------

    def make_user(self, sysadmin: bool = False) -> FaultUser:
        """A user with a password and an API token, in this stack's database (CKAN's model classes)."""
        from sqlalchemy import orm

        from ckan import model
        from ckan.lib import api_token

        name = f"fault-{secrets.token_hex(4)}"
        with orm.Session(self.engine) as session:
            user = model.User(name=name, email=f"{name}@example.org", password=secrets.token_urlsafe(16),
                              sysadmin=sysadmin, state="active")
            session.add(user)
            session.flush()
            token = model.ApiToken(user_id=user.id, name="faults")
            session.add(token)
            session.commit()
            return FaultUser(id=user.id, name=name, email=user.email, token=api_token.encode({"jti": token.id}))

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """Rows of a query on this stack's database (a connection of the test's own)."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).mappings())


class Worker:
    """``ckan -c INI jobs worker`` with ``env``, in its own process group; log ``<name>.log``."""

    def __init__(self, ini: Path, env: dict[str, str], redis_url: str, name: str) -> None:
        self.ini, self.env, self.redis_url = ini, env, redis_url
        self.log = LOG_DIR / f"{name}.log"
        self.proc: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> "Worker":
        """Start it and wait until RQ lists it on the queue."""
        import redis
        import rq

        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([str(CKAN), "-c", str(self.ini), "jobs", "worker"], cwd=ROOT,
                                         env=dict(os.environ, **self.env), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        conn = redis.Redis.from_url(self.redis_url)

        def listening() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"worker exited, see {self.log}"
            return any(w.pid == self.proc.pid for w in rq.Worker.all(connection=conn))

        wait_until(listening, 120, f"the worker to listen (log {self.log})")
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its work horse (RQ forks one per job, in a session of its own) at once: a
        crash, not a shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            for pid in [*_descendants(self.proc.pid), self.proc.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(20)
        self.proc = None

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), SIGKILL after 20 s."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def log_text(self) -> str:
        """Everything the worker logged."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (from /proc), children first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def ckan(ini: Path, env: dict[str, str], *args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    """Run ``ckan -c INI ARGS`` with the fault stack's environment."""
    return subprocess.run([str(CKAN), "-c", str(ini), *args], cwd=ROOT, env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=timeout)
