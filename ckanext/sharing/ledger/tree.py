"""The audit ledger's Merkle tree in PostgreSQL (SPEC §5): leaves, stored nodes, head, checkpoints, verify.

Every ledger row is one leaf, in ``leaf_index`` order (0, 1, 2 …, assigned under the append lock).
The leaf is RFC 6962's SHA-256(0x00 ‖ :func:`canonical_bytes`), computed from the row *as the
database returns it* (the detail as PostgreSQL's own ``jsonb`` text), so a float, a big integer or
a key order that JSONB normalises can never make an intact row look edited.

Appending (:func:`lock_and_read`, then :func:`append_rows`, called by the ledger's append under its
advisory lock, in the same transaction as the rows: one row, or a batch writer's rows at once) reads the
tree's right edge from ``sharing_audit_head``, adds each leaf in O(log n) and stores the rows, the complete
interior nodes they finished (``sharing_audit_node``) and the new edge in one statement: nothing is rescanned. Those nodes serve inclusion and consistency proofs in O(log n) look-ups. They are a
cache of what the rows determine: :func:`verify` recomputes everything from the rows and trusts
only the signed checkpoints (:mod:`ckanext.sharing.ledger.checkpoint`), which are to be kept
outside the database.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import sqlalchemy as sa

from ckanext.sharing.ledger import checkpoint as cpt
from ckanext.sharing.ledger import merkle

LEAF_FORMAT = "sharing-audit-leaf/1"
# The row's columns in leaf order; the detail (jsonb text) comes last.
LEAF_COLUMNS = ("leaf_index", "id", "created", "actor_id", "actor_name", "action", "package_id", "resource_id",
                "organization_id", "request_id", "grant_id")
ROW_SQL = ("SELECT " + ", ".join(LEAF_COLUMNS) + ", detail::text AS detail, prev_hash, hash FROM sharing_audit")
HEAD_ID = 1


def canonical_time(value: dt.datetime) -> str:
    """A ``timestamptz`` as UTC with microseconds, e.g. ``2026-12-01T20:50:37.123456Z``."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(row: Mapping[str, Any]) -> bytes:
    """The one definition of a row's leaf bytes (SPEC §5).

    A JSON array in UTF-8: ``["sharing-audit-leaf/1", leaf_index, id, created, actor_id, actor_name,
    action, package_id, resource_id, organization_id, request_id, grant_id, detail]`` where the
    strings are JSON-escaped by Python's encoder (no ASCII escaping, no spaces) and ``detail`` is
    PostgreSQL's ``detail::text`` verbatim. ``row`` is what :data:`ROW_SQL` returns.
    """
    values: list[Any] = [LEAF_FORMAT]
    for name in LEAF_COLUMNS:
        value = row[name]
        values.append(canonical_time(value) if isinstance(value, dt.datetime) else value)
    head = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return (head[:-1] + "," + row["detail"] + "]").encode("utf-8")


def leaf_of(row: Mapping[str, Any]) -> bytes:
    """The leaf hash of a row."""
    return merkle.leaf_hash(canonical_bytes(row))


def detail_json(detail: Optional[Mapping[str, Any]]) -> str:
    """The detail as JSON text for PostgreSQL to parse (``CAST(:json AS jsonb)``); non-JSON values
    become strings."""
    return json.dumps(detail or {}, default=str, ensure_ascii=False)


# --- the head and appends ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Head:
    """The tree at ``size`` leaves: its right edge (complete subtrees, largest first) and root."""

    size: int
    edge: tuple[bytes, ...]

    @property
    def root(self) -> bytes:
        return merkle.root_of(self.edge)


def _split_edge(raw: Optional[bytes]) -> tuple[bytes, ...]:
    raw = bytes(raw or b"")
    return tuple(raw[i:i + merkle.HASH_SIZE] for i in range(0, len(raw), merkle.HASH_SIZE))


def read_head(session: Any) -> Head:
    """The stored tree head (an empty tree when there is none yet)."""
    found = session.execute(sa.text("SELECT size, edge FROM sharing_audit_head WHERE id = :id"),
                            {"id": HEAD_ID}).first()
    if found is None:
        return Head(0, ())
    return Head(int(found.size), _split_edge(found.edge))


_HEAD_UPSERT = (
    "INSERT INTO sharing_audit_head (id, size, edge, root, updated) "
    "VALUES (:head_id, :head_size, :head_edge, :head_root, now()) "
    "ON CONFLICT (id) DO UPDATE SET size = EXCLUDED.size, edge = EXCLUDED.edge, root = EXCLUDED.root, "
    "updated = EXCLUDED.updated"
)


def _head_params(head: Head) -> dict[str, Any]:
    return {"head_id": HEAD_ID, "head_size": head.size, "head_edge": b"".join(head.edge), "head_root": head.root}


_NODES_INSERT = ("INSERT INTO sharing_audit_node (level, idx, hash) SELECT * FROM unnest("
                 "CAST(:lv AS smallint[]), CAST(:ix AS bigint[]), CAST(:hs AS bytea[]))")


def _nodes_params(nodes: Sequence[tuple[int, int, bytes]]) -> dict[str, list[Any]]:
    """The interior nodes (level > 0: leaves are recomputed from rows) as arrays for :data:`_NODES_INSERT`."""
    inner = [n for n in nodes if n[0] > 0]
    return {"lv": [n[0] for n in inner], "ix": [n[1] for n in inner], "hs": [n[2] for n in inner]}


def _store_nodes(session: Any, nodes: Sequence[tuple[int, int, bytes]]) -> None:
    session.execute(sa.text(_NODES_INSERT), _nodes_params(nodes))


@dataclasses.dataclass(frozen=True)
class NextRows:
    """What appending ``n`` rows needs, read under the lock: the head, the newest row's chain hash, the next
    ``n`` row ids (ascending) and each detail as PostgreSQL renders it (``CAST(:json AS jsonb)::text``,
    what it will return)."""

    head: Head
    prev_hash: Optional[str]
    ids: list[int]
    detail_texts: list[str]


def lock_and_read(session: Any, lock_key: int, details: Sequence[Optional[Mapping[str, Any]]]) -> NextRows:
    """Take the append lock, then read what appending one row per detail needs (:class:`NextRows`), so that
    id order, chain order and leaf order are one order.

    One round trip for any number of rows (a batch writer's, SPEC §10): two statements in one query string,
    the read after the lock so that its snapshot sees every append committed before (READ COMMITTED takes
    one snapshot per statement).
    """
    found = session.execute(sa.text(
        "SELECT pg_advisory_xact_lock(:k); "
        "SELECT h.size, h.edge, (SELECT hash FROM sharing_audit ORDER BY id DESC LIMIT 1) AS prev, "
        "ARRAY(SELECT nextval(pg_get_serial_sequence('sharing_audit', 'id')) FROM generate_series(1, :n) "
        "ORDER BY 1) AS ids, "
        "ARRAY(SELECT CAST(d.j AS jsonb)::text FROM unnest(CAST(:js AS text[])) WITH ORDINALITY AS d (j, o) "
        "ORDER BY d.o) AS details "
        "FROM (VALUES (1)) AS one (x) LEFT JOIN sharing_audit_head h ON h.id = :id"),
        {"k": lock_key, "id": HEAD_ID, "n": len(details), "js": [detail_json(d) for d in details]}).one()
    ids, texts = [int(i) for i in found.ids], list(found.details)
    if len(ids) != len(details) or len(texts) != len(details):
        raise RuntimeError(f"ledger append: {len(details)} rows asked, {len(ids)} ids and {len(texts)} details read")
    return NextRows(Head(int(found.size or 0), _split_edge(found.edge)), found.prev, ids, texts)


# column → the PostgreSQL array type its values are sent as (:func:`append_rows`)
_COLUMN_TYPES = {"leaf_index": "bigint", "id": "bigint", "created": "timestamptz"}


def append_rows(session: Any, head: Head, rows: Sequence[Any], detail_texts: Sequence[str]) -> Head:
    """INSERT ledger rows (unsaved ``SharingAudit`` objects whose ``leaf_index`` values are ``head.size``,
    ``head.size + 1`` …, details given as PostgreSQL's jsonb text) together with the tree's finished interior
    nodes and new head, in one statement. Call under the append lock, in the rows' transaction: O(k log n)
    for k rows, no scan.

    Each leaf is computed before the INSERT from the values it stores (the detail already in PostgreSQL's
    rendering); the statement returns the rows as stored and the leaf made from each must be the same bytes,
    or the append fails (and the caller's transaction rolls back).
    """
    columns = LEAF_COLUMNS + ("prev_hash", "hash")
    edge, size = list(head.edge), head.size
    leaves: list[bytes] = []
    finished: list[tuple[int, int, bytes]] = []
    for row, detail_text in zip(rows, detail_texts, strict=True):
        if row.leaf_index != size:
            raise RuntimeError(f"ledger row {row.id} has leaf_index {row.leaf_index}, the tree {size} leaves")
        leaf_bytes = canonical_bytes(dict({name: getattr(row, name) for name in columns}, detail=detail_text))
        edge, nodes = merkle.append(edge, size, merkle.leaf_hash(leaf_bytes))
        finished.extend(nodes)
        leaves.append(leaf_bytes)
        size += 1
    new = Head(size, tuple(edge))
    arrays = {name: [getattr(row, name) for row in rows] for name in columns}
    unnest = ", ".join(f"CAST(:c_{name} AS {_COLUMN_TYPES.get(name, 'text')}[])" for name in columns)
    stored = session.execute(
        sa.text(
            f"WITH row AS (INSERT INTO sharing_audit ({', '.join(columns)}, detail) "
            f"SELECT {', '.join('v.' + c for c in columns)}, CAST(v.detail AS jsonb) "
            f"FROM unnest({unnest}, CAST(:c_detail AS text[])) AS v ({', '.join(columns)}, detail) RETURNING "
            + ROW_SQL[len("SELECT "):ROW_SQL.index(" FROM ")] + "), "
            f"nodes AS ({_NODES_INSERT}), head AS ({_HEAD_UPSERT}) SELECT * FROM row ORDER BY leaf_index"
        ),
        dict({f"c_{k}": v for k, v in arrays.items()}, c_detail=list(detail_texts), **_head_params(new),
             **_nodes_params(finished)),
    ).mappings().all()
    if [canonical_bytes(r) for r in stored] != leaves:
        raise RuntimeError(f"ledger rows {rows[0].id}–{rows[-1].id} were not stored as hashed")
    return new


def rebuild(session: Any, batch: int = 5000) -> Head:
    """Build the stored nodes and head from the rows, into empty tree tables (migration 0002's back-fill).

    The one full scan in this module; appends never call it.
    """
    edge: list[bytes] = []
    size = 0
    pending: list[tuple[int, int, bytes]] = []
    for row in _rows(session, batch):
        edge, finished = merkle.append(edge, size, leaf_of(row))
        size += 1
        pending.extend(finished)
        if len(pending) >= batch:
            _store_nodes(session, pending)
            pending = []
    _store_nodes(session, pending)
    head = Head(size, tuple(edge))
    session.execute(sa.text(_HEAD_UPSERT), _head_params(head))
    return head


def _rows(session: Any, batch: int) -> Iterable[Mapping[str, Any]]:
    """Every row in leaf order, read in keyset pages."""
    last = -1
    while True:
        page = session.execute(sa.text(ROW_SQL + " WHERE leaf_index > :last ORDER BY leaf_index LIMIT :n"),
                               {"last": last, "n": batch}).mappings().all()
        if not page:
            return
        yield from page
        last = page[-1]["leaf_index"]


# --- proofs from the stored nodes -----------------------------------------------------------------


def _nodes(session: Any, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """The complete nodes ``keys``: leaves recomputed from their rows, interior nodes from the table."""
    keys = set(keys)
    leaves = sorted(i for lv, i in keys if lv == 0)
    inner = [(lv, i) for lv, i in keys if lv > 0]
    found: dict[merkle.NodeKey, bytes] = {}
    if leaves:
        rows = session.execute(sa.text(ROW_SQL + " WHERE leaf_index = ANY(:ix)"), {"ix": leaves}).mappings().all()
        found.update({(0, r["leaf_index"]): leaf_of(r) for r in rows})
    if inner:
        rows = session.execute(
            sa.text("SELECT level, idx, hash FROM sharing_audit_node WHERE (level, idx) IN "
                    "(SELECT * FROM unnest(CAST(:lv AS smallint[]), CAST(:ix AS bigint[])))"),
            {"lv": [k[0] for k in inner], "ix": [k[1] for k in inner]},
        ).all()
        found.update({(r.level, r.idx): bytes(r.hash) for r in rows})
    missing = keys - found.keys()
    if missing:
        raise LookupError(f"the stored tree lacks {len(missing)} node(s), e.g. {sorted(missing)[0]}")
    return found


def _proof(session: Any, ranges: list[merkle.Range]) -> list[bytes]:
    nodes = _nodes(session, merkle.needed(ranges))
    return [merkle.range_hash(s, e, nodes) for s, e in ranges]


def inclusion_proof(session: Any, leaf_index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``leaf_index`` in the tree of ``size`` leaves (RFC 6962 §2.1.1)."""
    return _proof(session, merkle.inclusion_ranges(leaf_index, size))


def consistency_proof(session: Any, old_size: int, size: int) -> list[bytes]:
    """The consistency proof from ``old_size`` to ``size`` leaves (RFC 6962 §2.1.2)."""
    return _proof(session, merkle.consistency_ranges(old_size, size))


def row_by_id(session: Any, row_id: int) -> Optional[Mapping[str, Any]]:
    """One ledger row as the leaf sees it (``None`` when there is none)."""
    return session.execute(sa.text(ROW_SQL + " WHERE id = :id"), {"id": row_id}).mappings().first()


# --- checkpoints ---------------------------------------------------------------------------------


def store_checkpoint(session: Any, note: str, checkpoint: cpt.Checkpoint) -> int:
    """Keep a signed checkpoint in ``sharing_audit_checkpoint`` (a copy; the trusted ones live outside)."""
    return session.execute(
        sa.text("INSERT INTO sharing_audit_checkpoint (created, size, root, note) VALUES (now(), :s, :r, :n) "
                "RETURNING id"),
        {"s": checkpoint.size, "r": checkpoint.root, "n": note},
    ).scalar_one()


def latest_checkpoint(session: Any, covering: int = 0) -> Optional[Mapping[str, Any]]:
    """The newest stored checkpoint whose tree has more than ``covering`` leaves."""
    return session.execute(
        sa.text("SELECT id, created, size, root, note FROM sharing_audit_checkpoint WHERE size > :c "
                "ORDER BY size DESC, id DESC LIMIT 1"), {"c": covering}).mappings().first()


def checkpoints(session: Any, limit: int = 100, offset: int = 0) -> tuple[int, list[Mapping[str, Any]]]:
    """Stored checkpoints, newest first, and how many there are."""
    total = session.execute(sa.text("SELECT count(*) FROM sharing_audit_checkpoint")).scalar_one()
    rows = session.execute(
        sa.text("SELECT id, created, size, root, note FROM sharing_audit_checkpoint ORDER BY id DESC "
                "LIMIT :l OFFSET :o"), {"l": limit, "o": offset}).mappings().all()
    return total, list(rows)


def sign_head(session: Any, signer: cpt.SignerKey) -> tuple[str, cpt.Checkpoint]:
    """Sign the current tree head, after proving it consistent with the newest stored checkpoint.

    A log must never sign two inconsistent checkpoints (c2sp.org/tlog-checkpoint): if the rows or
    the stored tree were rewritten since the last checkpoint, this refuses with ``CheckpointError``.
    """
    head = read_head(session)
    last = latest_checkpoint(session)
    if last is not None:
        old = cpt.Checkpoint.parse(cpt.split_note(last["note"])[0])
        try:
            proof = consistency_proof(session, old.size, head.size) if old.size <= head.size else None
        except LookupError:
            proof = None
        if proof is None or not merkle.verify_consistency(old.size, head.size, old.root, head.root, proof):
            raise cpt.CheckpointError(
                f"the tree ({head.size} leaves) does not extend the last checkpoint ({old.size} leaves): "
                "refusing to sign; run `ckan sharing audit verify --checkpoint` with your saved checkpoints")
    checkpoint = cpt.Checkpoint(signer.name, head.size, head.root)
    return cpt.sign_checkpoint(checkpoint, signer), checkpoint


# --- verification ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Problem:
    """Something verification found: at exactly ``position``, or (``exact`` false) somewhere at or after it."""

    position: Optional[int]
    message: str
    exact: bool = True


@dataclasses.dataclass
class Report:
    """What :func:`verify` recomputed and found."""

    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    problems: list[Problem] = dataclasses.field(default_factory=list)
    verified: list[tuple[str, int]] = dataclasses.field(default_factory=list)  # checkpoints that hold

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_position(self) -> Optional[int]:
        """The first position a row check names; else the lowest bound a checkpoint gives."""
        for exact in (True, False):
            found = [p.position for p in self.problems if p.exact == exact and p.position is not None]
            if found:
                return min(found)
        return None


ChainHash = Callable[[Mapping[str, Any], str], str]


def verify(conn: Any, checkpoints: Sequence[tuple[str, cpt.Checkpoint]] = (), chain_hash: Optional[ChainHash] = None,
           genesis: str = "0" * 64, batch: int = 5000) -> Report:
    """Recompute the tree (and the hash chain) from the rows and check them against the checkpoints.

    ``conn`` should see one snapshot (REPEATABLE READ). Rows are read in ``leaf_index`` order; each
    must sit at its position with a growing id and (when ``chain_hash`` is given) match its chain
    hash and link: that names an edited, deleted or reordered row exactly when the attacker did not
    also recompute hashes. Each checkpoint (already signature-checked) must then be extended by the
    recomputed tree, by an RFC 6962 consistency proof built from the recomputed nodes: this catches
    a truncated tail and a consistent rewrite, bounded between the last checkpoint that holds and
    the first that does not. Finally the stored head must match the recomputed one.
    """
    report = Report()
    size = conn.execute(sa.text("SELECT count(*) FROM sharing_audit")).scalar_one()
    wanted: set[merkle.NodeKey] = set()
    for _, cp in checkpoints:
        if cp.size <= size:
            wanted |= merkle.needed(merkle.consistency_ranges(cp.size, size))
    builder = merkle.Builder(keep=wanted)
    prev_hash, prev_id = genesis, None
    for row in _rows(conn, batch):
        pos = builder.size
        if row["leaf_index"] != pos:
            report.problems.append(Problem(pos, f"position {pos}: missing (the next row, id {row['id']}, has leaf "
                                                f"index {row['leaf_index']}): a row was deleted"))
        if prev_id is not None and row["id"] <= prev_id:
            report.problems.append(Problem(pos, f"position {pos}: row {row['id']} comes after row {prev_id}: "
                                                "rows were reordered"))
        if chain_hash is not None:
            if row["prev_hash"] != prev_hash:
                report.problems.append(Problem(pos, f"position {pos}: row {row['id']}: previous-hash link broken "
                                                    "(a row before it was deleted, changed or moved)"))
            content = dict(row, detail=json.loads(row["detail"]))
            if chain_hash(content, row["prev_hash"]) != row["hash"]:
                report.problems.append(Problem(pos, f"position {pos}: row {row['id']}: content does not match "
                                                    "its hash (edited)"))
        prev_hash, prev_id = row["hash"], row["id"]
        builder.add(leaf_of(row))
    report.size, report.root = builder.size, builder.root()
    _check_checkpoints(report, builder, checkpoints)
    stored = read_head(conn)
    if (stored.size, stored.root) != (report.size, report.root):
        report.problems.append(Problem(min(stored.size, report.size) if stored.size != report.size else None,
                                       f"the stored tree head ({stored.size} leaves) does not match the rows "
                                       f"({report.size} leaves): rows or the tree tables were changed"))
    report.problems.sort(key=lambda p: (p.position is None, p.position or 0))
    return report


def _check_checkpoints(report: Report, builder: merkle.Builder,
                       checkpoints: Sequence[tuple[str, cpt.Checkpoint]]) -> None:
    """Consistency of the recomputed tree with each checkpoint, smallest first."""
    held = 0  # the largest checkpoint size that holds so far: leaves below it are vouched for
    for label, cp in sorted(checkpoints, key=lambda c: c[1].size):
        if cp.size > report.size:
            report.problems.append(Problem(
                report.size, f"{label}: the checkpoint has {cp.size} leaves, the ledger only {report.size}: "
                             f"positions {report.size}..{cp.size - 1} were deleted (truncated tail)"))
            continue
        proof = [merkle.range_hash(s, e, builder.nodes) for s, e in merkle.consistency_ranges(cp.size, report.size)]
        if merkle.verify_consistency(cp.size, report.size, cp.root, report.root, proof):
            report.verified.append((label, cp.size))
            held = max(held, cp.size)
            continue
        report.problems.append(Problem(
            held, f"{label}: the ledger does not extend this checkpoint ({cp.size} leaves): a row at position "
                  f"{held}..{cp.size - 1} was edited, deleted, reordered or rewritten"
                  + (f" (the first {held} leaves match an earlier checkpoint)" if held else ""), exact=False))
