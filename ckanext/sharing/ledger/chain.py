"""The audit ledger's chain (SPEC §5): append-only rows, each hashed with the previous row's hash.

Appends are serialised in PostgreSQL (a transaction-scoped advisory lock), so any number of
web and worker processes keep one unbroken chain. :func:`verify` recomputes the chain.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Iterator, Optional


from ckan import model

from ckanext.sharing.model import SharingAudit

GENESIS = "0" * 64
# Arbitrary constant key for pg_advisory_xact_lock: "sharing audit".
_LOCK_KEY = 0x5348415245415544
# Session.info key of the ledger rows a batch writer appends before its commit (deferred_rows).
DEFERRED_KEY = "sharing_ledger_deferred"

def _content(row: SharingAudit | dict[str, Any]) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    created = get("created")
    if isinstance(created, dt.datetime):
        created = created.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    return {
        "id": get("id"),
        "created": created,
        "actor_id": get("actor_id"),
        "actor_name": get("actor_name"),
        "action": get("action"),
        "package_id": get("package_id"),
        "resource_id": get("resource_id"),
        "organization_id": get("organization_id"),
        "request_id": get("request_id"),
        "grant_id": get("grant_id"),
        "detail": get("detail") or {},
    }


def row_hash(row: SharingAudit | dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of the row's content and the previous hash."""
    payload = json.dumps(
        {"prev": prev_hash, "row": _content(row)}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    action: str,
    *,
    actor_id: Optional[str] = None,
    actor_name: Optional[str] = None,
    package_id: Optional[str] = None,
    resource_id: Optional[str] = None,
    organization_id: Optional[str] = None,
    request_id: Optional[str] = None,
    grant_id: Optional[str] = None,
    detail: Optional[dict[str, Any]] = None,
    session: Any = None,
) -> Optional[SharingAudit]:
    """Append one row in the caller's transaction (the caller commits); None when the session defers its
    rows (:func:`deferred_rows`).

    The advisory lock is held until that transaction ends, so the id order is the chain order and
    the leaf order of the Merkle tree, which grows in the same transaction (ledger/tree.py).
    """
    session = session or model.Session
    spec = dict(action=action, actor_id=actor_id, actor_name=actor_name, package_id=package_id,
                resource_id=resource_id, organization_id=organization_id, request_id=request_id,
                grant_id=grant_id, detail=detail, created=dt.datetime.now(dt.timezone.utc))
    deferred = session.info.get(DEFERRED_KEY)
    if deferred is not None:  # a batch writer (the catalogue import) appends its rows just before its commit
        deferred.append(spec)
        return None
    return _write(session, [spec])[0]


def _write(session: Any, specs: list[dict[str, Any]]) -> list[SharingAudit]:
    """Take the append lock, then INSERT the rows (fields of :func:`append`), chained in their order, with
    their hashes and tree nodes: two round trips however many rows (ledger/tree.py)."""
    from ckanext.sharing.ledger import tree

    if not specs:
        return []
    specs = [dict(spec) for spec in specs]
    nxt = tree.lock_and_read(session, _LOCK_KEY, [spec.pop("detail") for spec in specs])
    rows, prev = [], nxt.prev_hash or GENESIS
    for offset, (spec, row_id, text) in enumerate(zip(specs, nxt.ids, nxt.detail_texts)):
        row = SharingAudit(id=row_id, detail=json.loads(text), prev_hash=prev, leaf_index=nxt.head.size + offset,
                           **spec)
        row.hash = prev = row_hash(row, prev)
        rows.append(row)
    tree.append_rows(session, nxt.head, rows, nxt.detail_texts)
    return rows


def deferred_rows(session: Any) -> list[dict[str, Any]]:
    """Make ``session`` collect its ledger rows instead of appending each at once, and return the list.

    For writers of many changes in one transaction (the catalogue import, SPEC §10): the append lock is then
    held only from :func:`append_deferred` to the commit, not for the whole batch, so several such writers
    run side by side. The caller appends them in the same transaction (or drops them with the rows they
    belong to), so a row exists exactly when its change does.
    """
    return session.info.setdefault(DEFERRED_KEY, [])


def append_deferred(session: Any) -> int:
    """Append the rows :func:`deferred_rows` collected, in their order, under one lock and in one INSERT;
    returns how many."""
    rows = session.info.pop(DEFERRED_KEY, None) or []
    return len(_write(session, rows))


def iter_rows(session: Any = None, batch: int = 1000) -> Iterator[SharingAudit]:
    """Every row, oldest first, read in batches (the ledger may be large)."""
    session = session or model.Session
    last = 0
    while True:
        rows = (
            session.query(SharingAudit).filter(SharingAudit.id > last).order_by(SharingAudit.id).limit(batch).all()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify(session: Any = None) -> tuple[bool, int, list[str]]:
    """Recompute the chain: (intact?, rows checked, problems naming the row ids)."""
    problems: list[str] = []
    prev = GENESIS
    count = 0
    for row in iter_rows(session):
        count += 1
        if row.prev_hash != prev:
            problems.append(f"row {row.id}: previous-hash link broken (a row before it was deleted or changed)")
        if row_hash(row, row.prev_hash) != row.hash:
            problems.append(f"row {row.id}: content does not match its hash (edited)")
        prev = row.hash
    return (not problems, count, problems)
