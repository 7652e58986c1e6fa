"""Many processes appending at once keep one valid tree (SPEC §5, §8): 2,000 appends from four
processes against the test database, then the tree recomputed from the rows.

Each process commits every few appends (an event that writes several rows, as a decision does). The
run had 10,000 appends, which took about 4 minutes on the shared 2-core machine (load ~13); 2,000 keep
``make test`` reasonable and still interleave the four processes. bench/ledger.py times single appends.
"""
from __future__ import annotations

import multiprocessing
import os
import time

import pytest
import sqlalchemy as sa

from ckan import model

from ckanext.sharing.ledger import chain, events, tree, verification

pytestmark = pytest.mark.usefixtures("clean_db")

PROCESSES = 4
APPENDS = 2_000
PER_TRANSACTION = 5


def _appender(worker: int, n: int) -> None:
    """One process: ``n`` appends, committed every :data:`PER_TRANSACTION`, as web and job workers do."""
    code = 0
    try:
        for i in range(n):
            chain.append(events.DATA_ACCESS, actor_name=f"proc{worker}", detail={"worker": worker, "i": i})
            if i % PER_TRANSACTION == PER_TRANSACTION - 1:
                model.Session.commit()
        model.Session.commit()
    except Exception:  # noqa: BLE001 - reported through the exit code
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        model.Session.remove()
        os._exit(code)


def test_two_thousand_appends_from_four_processes_keep_one_tree():
    """Every append lands at its own position, the chain and the tree recompute, the head matches."""
    chain.append(events.DATA_ACCESS, actor_name="before")
    model.Session.commit()
    model.Session.remove()
    model.meta.engine.dispose()  # no connection is shared with the children
    ctx = multiprocessing.get_context("fork")
    started = time.monotonic()
    procs = [ctx.Process(target=_appender, args=(w, APPENDS // PROCESSES)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    elapsed = time.monotonic() - started
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    total = APPENDS + 1
    leaves = model.Session.execute(
        sa.text("SELECT count(DISTINCT leaf_index), min(leaf_index), max(leaf_index) FROM sharing_audit")).one()
    assert tuple(leaves) == (total, 0, total - 1)
    interleaved = model.Session.execute(sa.text(
        "SELECT count(*) FROM (SELECT actor_name, lag(actor_name) OVER (ORDER BY leaf_index) AS prev "
        "FROM sharing_audit) s WHERE actor_name <> prev")).scalar_one()
    assert interleaved > PROCESSES  # the processes really ran at the same time
    report = verification.verify_ledger([])
    assert report.ok, [p.message for p in report.problems[:5]]
    assert report.size == total and tree.read_head(model.Session).root == report.root
    print(f"\n{APPENDS} appends from {PROCESSES} processes in {elapsed:.1f}s ({APPENDS / elapsed:.0f}/s)")
