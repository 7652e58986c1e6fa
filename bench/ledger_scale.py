#!/usr/bin/env python3
"""The audit ledger at 1,000,000 rows (issue 14, SPEC §5): seed, append, checkpoint, proofs, verify.

Seeding 1,000,000 rows through the real append (one locked, committed append at a time) would take
hours; instead bench/ledger.py's bulk path fills the ledger: the hash chain computed row after row in
Python (the chain is sequential by nature) and loaded with COPY, then the Merkle tree built once from
the rows (``tree.rebuild``, the migration's back-fill). The real append is then timed at that size and
its rate extrapolated to 1,000,000 rows, labelled as such. At full size it times: a checkpoint (the
consistency proof against the previous checkpoint + the Ed25519 signature), inclusion proofs of random
rows, a consistency proof from half the size, and `audit verify --checkpoint` (chain and tree recomputed
from every row, the consistency proof checked).

It DROPS the ledger tables of the database it runs on; by default (``run()``, ``make bench``) that is its
own scratch database, from ``bin/stack test-env ledgerscale``:

    .venv/bin/python bench/ledger_scale.py                   # 1,000,000 rows (BENCH_LEDGER_ROWS to change)
    .venv/bin/python bench/ledger_scale.py --rows 100000

``run(ckan_ini)`` returns rows ``(metric, a, b, note)`` for bench/run.py's EXTRAS (the portal's ini is not
used: the ledger it would drop is not a scratch one).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SLOT = "ledgerscale"
DEFAULT_ROWS = int(os.environ.get("BENCH_LEDGER_ROWS") or 1_000_000)
APPENDS, PROOFS = 100, 20


def scratch_env() -> dict[str, str]:
    """The environment of the scratch database (``bin/stack test-env ledgerscale``: created if missing)."""
    out = subprocess.run([str(ROOT / "bin" / "stack"), "test-env", SLOT], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    env = dict(os.environ, SHARING_LEDGER_SCALE_SCRATCH="1")
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def measure(ini: str, rows: int) -> dict[str, Any]:
    """Fill the ledger of ``ini``'s (scratch) database to ``rows`` rows and time what SPEC §5 promises."""
    sys.path.insert(0, str(ROOT / "bench"))
    import ledger as small  # bench/ledger.py: set-up, scratch check, bulk fill

    model = small._setup(ini)
    small._fresh_ledger(model)
    from ckanext.sharing.ledger import checkpoint as cpt
    from ckanext.sharing.ledger import tree, verification

    fill_s = small._bulk_fill(model, rows)
    s = model.Session
    signer = cpt.SignerKey.generate("bench.example/sharing-audit")
    note, first = tree.sign_head(s, signer)  # no earlier checkpoint: signature only
    tree.store_checkpoint(s, note, first)
    s.commit()
    appends = small._append_with_tree(model, APPENDS)  # the real append, at full size
    t0 = time.perf_counter()
    note, last = tree.sign_head(s, signer)  # consistency proof against the first checkpoint + signature
    tree.store_checkpoint(s, note, last)
    s.commit()
    checkpoint_s = time.perf_counter() - t0
    size = last.size
    proof_s = []
    for leaf in random.Random(1).sample(range(size), PROOFS):
        t0 = time.perf_counter()
        tree.inclusion_proof(s, leaf, size)
        proof_s.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    tree.consistency_proof(s, size // 2, size)
    consistency_s = time.perf_counter() - t0
    s.remove()
    t0 = time.perf_counter()
    report = verification.verify_ledger([("first", first), ("last", last)])
    verify_s = time.perf_counter() - t0
    if not report.ok:
        raise SystemExit(f"the seeded ledger does not verify: {[p.message for p in report.problems[:3]]}")
    append_ms = statistics.median(appends) * 1000
    return {"rows": rows, "size": size, "fill_s": fill_s, "append_ms": append_ms, "checkpoint_ms": checkpoint_s * 1000,
            "proof_ms": statistics.median(proof_s) * 1000, "consistency_ms": consistency_s * 1000,
            "verify_s": verify_s, "load": os.getloadavg()[0], "cpus": os.cpu_count()}


def table(m: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """The rows of the report (metric, value, -, note)."""
    n = f"{m['rows']:,}"
    return [
        (f"ledger seed of {n} rows: COPY + tree built once (s)", round(m["fill_s"], 1), None,
         f"{m['rows'] / m['fill_s']:,.0f} rows/s"),
        (f"real append + commit at {n} rows (median ms)", round(m["append_ms"], 2), None,
         f"{APPENDS} appends; {n} of them ≈ {m['append_ms'] * m['rows'] / 1000 / 3600:.1f} h (extrapolated)"),
        (f"checkpoint at {n} rows (consistency proof + sign, ms)", round(m["checkpoint_ms"], 1), None, ""),
        (f"inclusion proof at {n} rows (median ms)", round(m["proof_ms"], 1), None, f"{PROOFS} random rows"),
        (f"consistency proof {m['rows'] // 2:,} → {n} rows (ms)", round(m["consistency_ms"], 1), None, ""),
        (f"verify --checkpoint ×2 at {n} rows (s)", round(m["verify_s"], 1), None,
         f"{m['rows'] / m['verify_s']:,.0f} rows/s; load {m['load']:.1f} on {m['cpus']} CPUs"),
    ]


def run(ckan_ini: str) -> list[tuple[str, Any, Any, str]]:
    """bench/run.py's entry point: the measurement in a child process on the scratch database."""
    done = subprocess.run([sys.executable, __file__, "--json", "--rows", str(DEFAULT_ROWS)], cwd=ROOT,
                          env=scratch_env(), capture_output=True, text=True)
    if done.returncode != 0:  # the child's last line (the exception) into bench/run.py's "failed" row
        raise RuntimeError((done.stderr or done.stdout or f"exit {done.returncode}").strip().splitlines()[-1])
    return table(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--ini", default=None, help="default: test.ini on the scratch database of `test-env ledgerscale`")
    parser.add_argument("--json", action="store_true", help="print the measurements as one JSON line")
    args = parser.parse_args()
    if args.ini is None and not os.environ.get("SHARING_LEDGER_SCALE_SCRATCH"):  # never a database of the caller's
        os.execvpe(sys.executable, [sys.executable, __file__, *sys.argv[1:]], scratch_env())
    m = measure(args.ini or str(ROOT / "test.ini"), args.rows)
    if args.json:
        print(json.dumps(m))
        return
    print(f"\nbench/ledger_scale.py: ledger of {args.rows:,} rows")
    print(f"| {'metric':<62} | {'value':>10} | note")
    print(f"|{'-' * 64}|{'-' * 12}|------")
    for metric, value, _, note in table(m):
        print(f"| {metric:<62} | {value:>10} | {note}")


if __name__ == "__main__":
    main()
