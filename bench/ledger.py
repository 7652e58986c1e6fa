#!/usr/bin/env python3
"""Cost of the audit ledger's Merkle tree (SPEC §5), on a scratch database.

Prints one table: the median cost of one append + commit with the tree (the real append of
``chain.append``) and without it (the hash chain alone, as before migration 0002), then, with the
ledger filled to ``--rows`` rows, the time to sign a checkpoint, to build one inclusion proof, and
to verify the whole ledger (chain + tree recomputed from the rows + a consistency proof against a
checkpoint). The fill uses a bulk path (COPY, then the tree built once), not ``--rows`` appends.

It DROPS the ledger tables of the database it is given: use a scratch one, e.g.

    eval "$(bin/stack test-env benchledger)"
    .venv/bin/python bench/ledger.py --ini test.ini --rows 100000
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup(ini: str):
    """Load CKAN's configuration and engine from ``ini`` (environment variables override it)."""
    from ckan.cli import load_config
    from ckan.config.environment import load_environment

    load_environment(load_config(ini))
    from ckan import model

    return model


def _fresh_ledger(model) -> None:
    """Drop and re-create ckanext-sharing's tables (migrations down to base and up again), on CKAN's own tables."""
    from alembic import command
    from alembic.config import Config

    url = model.meta.engine.url
    if not any(word in (url.database or "") for word in ("bench", "test")):
        sys.exit(f"refusing to drop the ledger of database {url.database!r}: use a scratch (bench/test) database")
    model.Session.remove()
    import sqlalchemy as sa

    if not sa.inspect(model.meta.engine).has_table("package"):  # a new scratch database: CKAN's tables first
        model.repo.init_db()  # (`ckan db init`: migrations of the sharing plugin index core tables)
    migrations = ROOT / "ckanext" / "sharing" / "migration" / "sharing"
    cfg = Config(str(migrations / "alembic.ini"))
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _append_with_tree(model, n: int) -> list[float]:
    from ckanext.sharing.ledger import chain, events

    out = []
    for i in range(n):
        t0 = time.perf_counter()
        chain.append(events.DATA_ACCESS, actor_name="bench", organization_id="org", detail={"i": i, "channel": "x"})
        model.Session.commit()
        out.append(time.perf_counter() - t0)
    return out


def _append_chain_only(model, n: int) -> list[float]:
    """The append as it was before the tree: lock, previous hash, next id, insert, commit."""
    import sqlalchemy as sa

    from ckanext.sharing.ledger import chain, events
    from ckanext.sharing.model import SharingAudit

    start = model.Session.execute(sa.text("SELECT coalesce(max(leaf_index) + 1, 0) FROM sharing_audit")).scalar()
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        s = model.Session
        s.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": chain._LOCK_KEY})
        prev = s.execute(sa.text("SELECT hash FROM sharing_audit ORDER BY id DESC LIMIT 1")).scalar()
        next_id = s.execute(sa.text("SELECT nextval(pg_get_serial_sequence('sharing_audit', 'id'))")).scalar()
        row = SharingAudit(id=next_id, created=dt.datetime.now(dt.timezone.utc), actor_name="bench",
                           organization_id="org", action=events.DATA_ACCESS, detail={"i": i, "channel": "x"},
                           prev_hash=prev or chain.GENESIS, leaf_index=start + i)
        row.hash = chain.row_hash(row, row.prev_hash)
        s.add(row)
        s.commit()
        out.append(time.perf_counter() - t0)
    return out


COPY_COLUMNS = ("leaf_index", "id", "created", "actor_id", "actor_name", "action", "package_id", "resource_id",
                "organization_id", "request_id", "grant_id", "detail", "prev_hash", "hash")


def _default_row(i: int) -> dict:
    """The fill's row ``i`` when the caller gives none: a data access of one fixed dataset."""
    from ckanext.sharing.ledger import events

    return {"created": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i), "actor_id": None,
            "actor_name": f"u{i % 97}", "action": events.DATA_ACCESS, "package_id": "pkg", "resource_id": None,
            "organization_id": "org", "request_id": None, "grant_id": None,
            "detail": {"i": i, "channel": "datastore_search"}}


def _copy_value(value) -> str:
    """One COPY text-format field (NULL as \\N; the fill's values hold no tab, newline or backslash)."""
    if value is None:
        return "\\N"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _bulk_fill(model, rows: int, row_of=None) -> float:
    """Fill the ledger to ``rows`` rows: chain hashes in Python, COPY, then the tree built once.

    ``row_of(i)`` gives row ``i``'s content (every hashed column but ``id``; default :func:`_default_row`),
    so other benches (bench/stats.py) seed the rows they need with a valid chain and tree."""
    import sqlalchemy as sa

    from ckanext.sharing.ledger import chain, tree

    row_of = row_of or _default_row
    t0 = time.perf_counter()
    s = model.Session
    append_only = ("sharing_audit", "sharing_audit_node", "sharing_audit_checkpoint")
    for table in append_only:  # the owner of a scratch database may
        s.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    s.execute(sa.text("TRUNCATE sharing_audit, sharing_audit_node, sharing_audit_head, sharing_audit_checkpoint"))
    for table in append_only:
        s.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    raw = s.connection().connection.dbapi_connection
    prev = chain.GENESIS
    for chunk in range(0, rows, 50_000):
        buf = io.StringIO()
        for i in range(chunk, min(rows, chunk + 50_000)):
            row = {**row_of(i), "id": i + 1}
            h = chain.row_hash(row, prev)
            buf.write("\t".join(_copy_value(v) for v in (i, *(row[c] for c in COPY_COLUMNS[1:-2]), prev, h)) + "\n")
            prev = h
        buf.seek(0)
        with raw.cursor() as cur:
            cur.copy_expert(f"COPY sharing_audit ({', '.join(COPY_COLUMNS)}) FROM STDIN", buf)
    with raw.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('sharing_audit', 'id'), %s)", (max(rows, 1),))
    tree.rebuild(s)
    s.commit()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ini", default=str(ROOT / "test.ini"))
    parser.add_argument("--rows", type=int, default=100_000, help="ledger size for checkpoint/proof/verify")
    parser.add_argument("--appends", type=int, default=300, help="appends timed per variant")
    args = parser.parse_args()
    model = _setup(args.ini)
    _fresh_ledger(model)
    from ckanext.sharing.ledger import checkpoint as cpt
    from ckanext.sharing.ledger import tree, verification

    with_tree = _append_with_tree(model, args.appends)
    chain_only = _append_chain_only(model, args.appends)
    fill = _bulk_fill(model, args.rows)
    signer = cpt.SignerKey.generate("bench.example/sharing-audit")
    t0 = time.perf_counter()
    note, checkpoint = tree.sign_head(model.Session, signer)
    tree.store_checkpoint(model.Session, note, checkpoint)
    model.Session.commit()
    sign_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tree.inclusion_proof(model.Session, args.rows // 3, args.rows)
    proof_s = time.perf_counter() - t0
    model.Session.remove()
    t0 = time.perf_counter()
    report = verification.verify_ledger([("checkpoint", checkpoint)])
    verify_s = time.perf_counter() - t0
    assert report.ok, report.problems[:3]
    load = os.getloadavg()[0]
    print(f"\nbench/ledger.py: {args.appends} timed appends per variant; ledger of {args.rows:,} rows "
          f"(bulk fill {fill:.1f}s); load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"| {'metric':<62} | {'value':>12} |")
    print(f"|{'-' * 64}|{'-' * 14}|")
    for name, value in (
        ("append + commit, chain only (median ms)", f"{_median_ms(chain_only):.2f}"),
        ("append + commit, chain + Merkle tree (median ms)", f"{_median_ms(with_tree):.2f}"),
        (f"checkpoint (consistency check + sign) at {args.rows:,} rows (ms)", f"{sign_s * 1000:.1f}"),
        (f"inclusion proof at {args.rows:,} rows (ms)", f"{proof_s * 1000:.1f}"),
        (f"verify --checkpoint at {args.rows:,} rows (s)", f"{verify_s:.1f}"),
    ):
        print(f"| {name:<62} | {value:>12} |")


if __name__ == "__main__":
    tempfile.tempdir = None
    main()
