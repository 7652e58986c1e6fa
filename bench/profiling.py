"""Sampling profiles for ``make bench BENCH_ARGS=--profile`` (issue 16: profile before optimising).

``py-spy`` (pinned in dev-requirements.txt) samples the gunicorn workers of a portal while one load-loop run
is going, or a whole ``ckan search-index rebuild``; only threads that are running are sampled (waiting on
PostgreSQL or Solr is not Python time), so the summary says where the workers spend their CPU. The summary
lists the top functions by inclusive share of samples and the share of samples whose stack passes through
each part of the extension (access layer, Chinese search, catalogue schema), ckanext-scheming and CKAN's
Solr client, so each layer's cost is visible next to CKAN's own.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional

# stack-frame path fragment -> the layer named in the summary (first match wins, in this order)
LAYERS = (
    ("ckanext/sharing/access/", "sharing access layer"),
    ("ckanext/sharing/zh_search/", "sharing Chinese search"),
    ("ckanext/sharing/catalogue/", "sharing catalogue schema"),
    ("ckanext/sharing/", "sharing, other modules"),
    ("ckanext/scheming/", "ckanext-scheming"),
    ("ckan/lib/search/", "CKAN search (pysolr, index)"),
    ("ckan/lib/navl/", "CKAN validation (navl)"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("jinja2/", "Jinja2 templates"),
)
# frames every request passes through (server, WSGI, middleware): left out of the top list
WRAPPERS = ("(gunicorn/", "(werkzeug/", "(flask/app.py", "(ckan/config/middleware/", "(click/", "(ckan/cli/",
            "<module>", "(flask/cli.py", "(runpy.py", "(threading.py")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


def py_spy(venv: Path) -> Optional[str]:
    """The py-spy executable of the virtualenv (or on PATH), None when it is not installed."""
    own = venv / "bin" / "py-spy"
    return str(own) if own.exists() else shutil.which("py-spy")


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers (children) of a master process this run started."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    try:
        return [int(p) for p in children.read_text().split()]
    except OSError:
        return []


def start(exe: str, pids: Iterable[int], seconds: float, out: Path, rate: int = 97) -> list[subprocess.Popen]:
    """One ``py-spy record`` per process for ``seconds``, raw collapsed stacks in ``out``-<pid>.txt."""
    out.parent.mkdir(parents=True, exist_ok=True)
    procs = []
    for pid in pids:
        procs.append(subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", str(rate),
             "--format", "raw", "--nonblocking", "--output", f"{out}-{pid}.txt"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def wrap(exe: str, cmd: list[str], out: Path, rate: int = 97) -> list[str]:
    """``cmd`` run under ``py-spy record`` (child processes included), raw stacks in ``out``-cmd.txt."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return [exe, "record", "--rate", str(rate), "--format", "raw", "--subprocesses", "--output",
            f"{out}-cmd.txt", "--", *cmd]


def finish(procs: list[subprocess.Popen]) -> None:
    """Wait for the samplers started by :func:`start`."""
    for proc in procs:
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()


def _frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rstrip().rpartition(" ")
    try:
        return stack.split(";"), int(count)
    except ValueError:
        return [], 0


def _short(frame: str) -> str:
    """``func (path/to/file.py:12)`` -> ``func (package/file.py)``, the part that names it."""
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("site-packages/", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    path = re.sub(r"^wt/[^/]+/|^main/", "", path)
    return f"{m.group('func')} ({path})"


def summarise(files: Iterable[Path], top: int = 15) -> str:
    """A text summary of the raw stacks in ``files``: layer shares, then the top functions (inclusive %)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            frames, count = _frames(line)
            if not frames:
                continue
            total += count
            names = [_short(f) for f in frames]
            for name in set(names):
                inclusive[name] += count
            own[names[-1]] += count
            seen = set()
            for frame in frames:
                for fragment, layer in LAYERS:
                    if fragment in frame:
                        seen.add(layer)
                        break
            for layer in seen:
                layers[layer] += count
    if not total:
        return "  (no samples: py-spy could not attach, or the workers were idle)\n"
    out = [f"  {total} samples (CPU only; waits on PostgreSQL/Solr are not sampled)", "  share of samples by layer:"]
    for fragment, layer in LAYERS:
        if layers[layer]:
            out.append(f"    {100 * layers[layer] / total:5.1f}%  {layer}")
    out.append(f"  top {top} functions (inclusive % | self %):")
    shown = 0
    for name, count in inclusive.most_common():
        if any(w in name for w in WRAPPERS) or name.startswith(("process ", "thread ")):
            continue
        out.append(f"    {100 * count / total:5.1f}% | {100 * own[name] / total:4.1f}%  {name}")
        shown += 1
        if shown >= top:
            break
    ours = Counter({n: c for n, c in inclusive.items() if "ckanext/sharing/" in n})
    if ours:
        out.append("  the extension's own functions (inclusive %):")
        for name, count in ours.most_common(8):
            out.append(f"    {100 * count / total:5.1f}%  {name}")
    return "\n".join(out) + "\n"
