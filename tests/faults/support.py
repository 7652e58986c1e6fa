"""Services of our own for the fault tests (no tests here): they fail on purpose, the shared ones never do.

- :class:`RedisServer`: a real ``redis-server`` on a free port, stopped and started by the test.
- :class:`TcpProxy`: a loopback TCP relay in front of the shared PostgreSQL or Solr; :meth:`TcpProxy.cut`
  closes every relayed connection and the port (for the portal the service is gone: connection reset,
  then refused), :meth:`TcpProxy.restore` listens again. The shared services on 5433/8983 are never touched.
- :class:`Worker`: ``ckan jobs worker`` in its own process group, so a test can SIGKILL it mid-job.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlsplit, urlunsplit

from tests.live import LOG_DIR, ROOT
from tests.mailsink import free_port

CKAN = ROOT / ".venv" / "bin" / "ckan"


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


def with_port(url: str, port: int) -> str:
    """``url`` with its host:port replaced by 127.0.0.1:``port`` (credentials, path and query kept)."""
    parts = urlsplit(url)
    auth = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=(auth + "@" if auth else "") + f"127.0.0.1:{port}"))


def upstream(url: str) -> tuple[str, int]:
    """(host, port) a service URL points at."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or {"postgresql": 5432, "http": 80, "redis": 6379}[parts.scheme]


class TcpProxy:
    """A relay 127.0.0.1:``port`` → ``target`` that a test can cut and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: Optional[socket.socket] = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> "TcpProxy":
        """Listen and relay."""
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    restore = start

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                remote = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            remote.settimeout(None)
            with self._lock:
                self._conns.update((client, remote))
            for src, dst in ((client, remote), (remote, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        """Stop listening and reset every relayed connection: the service is gone for the portal."""
        if self._server is not None:
            try:  # close() alone does not wake the thread blocked in accept(): the port would keep listening
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()
            self._server = None
        with self._lock:
            conns = list(self._conns)
        for sock in conns:
            self._close(sock)

    stop = cut


class RedisServer:
    """A throw-away ``redis-server`` (no persistence) on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        """Start it and wait until it answers PING."""
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, 20, f"redis on {self.port}")
        return self

    def ping(self) -> bool:
        """Whether it answers."""
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Stop it (its data is gone with it)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None


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
