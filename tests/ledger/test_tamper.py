"""Tamper evidence of the audit ledger (SPEC §5), against the real PostgreSQL.

Each tampering is done as a database administrator would: over a superuser connection, with the
append-only triggers skipped (``session_replication_role = replica``) or dropped. ``ckan sharing
audit verify --checkpoint`` must report it and exit 1 with the first bad position.
"""
from __future__ import annotations

import glob
import os

import pytest
import sqlalchemy as sa

from ckan import model

from ckanext.sharing.cli import sharing as sharing_cli
from ckanext.sharing.ledger import chain, events, merkle, signing, tree

from tests.ledger.support import count, signing_key, superuser  # noqa: F401 - signing_key is a fixture

pytestmark = pytest.mark.usefixtures("clean_db")

TRICKY = {"zeta": 1, "alpha": {"b": [1.5, "字"], "a": None}, "big": 2 ** 70, "sci": 1e20, "tenth": 0.1,
          "tiny": 1e-7, "text": "请求 \"quoted\" \\ back"}


def _append(n: int, start: int = 0, **detail) -> None:
    for i in range(start, start + n):
        chain.append(events.DATA_ACCESS, actor_name=f"user{i}", organization_id="org",
                     detail=dict(TRICKY, i=i, **detail))
        model.Session.commit()


def _checkpoint(cli, directory) -> str:
    """Sign a checkpoint into ``directory``; return its file."""
    before = set(glob.glob(os.path.join(directory, "*.txt")))
    res = cli.invoke(sharing_cli, ["audit", "checkpoint", "--dir", str(directory)])
    assert res.exit_code == 0, res.output
    (path,) = set(glob.glob(os.path.join(directory, "*.txt"))) - before
    return path


def _verify(cli, *checkpoints: str):
    args = ["audit", "verify"]
    for path in checkpoints:
        args += ["--checkpoint", path]
    return cli.invoke(sharing_cli, args)


def _position(leaf_index: int) -> int:
    return model.Session.execute(sa.text("SELECT id FROM sharing_audit WHERE leaf_index = :i"),
                                 {"i": leaf_index}).scalar_one()


def _as_dba(*statements: str) -> None:
    """Run statements as a superuser who skips the append-only triggers."""
    with superuser() as cur:
        cur.execute("SET session_replication_role = replica")
        for statement in statements:
            cur.execute(statement)


def _rebuild_tree_as_attacker() -> None:
    """After changing rows, make the stored tree match them again (so only checkpoints can tell)."""
    _as_dba("TRUNCATE sharing_audit_node, sharing_audit_head")
    tree.rebuild(model.Session)
    model.Session.commit()


def test_intact_ledger_verifies_against_its_checkpoints(cli, tmp_path, signing_key):
    """Untouched rows (whose JSONB detail PostgreSQL normalises) verify, with and without checkpoints."""
    _append(5)
    first = _checkpoint(cli, tmp_path)
    _append(6, start=5)
    second = _checkpoint(cli, tmp_path)
    _append(2, start=11)
    res = _verify(cli, first, second)
    assert res.exit_code == 0, res.output
    assert "audit chain intact: 13 rows" in res.output
    assert f"extends {first} (5 leaves)" in res.output and f"extends {second} (11 leaves)" in res.output
    # the stored head is the RFC 6962 root over the canonical bytes of the rows as read back
    rows = model.Session.execute(sa.text(tree.ROW_SQL + " ORDER BY leaf_index")).mappings().all()
    assert tree.read_head(model.Session).root == merkle.tree_root(tree.leaf_of(r) for r in rows)
    assert '"sci": 100000000000000000000' in rows[0]["detail"]  # JSONB's own rendering is what is hashed


def test_edited_row_is_reported_at_its_position(cli, tmp_path, signing_key):
    """An UPDATE made with the triggers skipped is named by position (chain) and by the checkpoint."""
    _append(10)
    cp = _checkpoint(cli, tmp_path)
    row_id = _position(4)
    _as_dba("UPDATE sharing_audit SET detail = jsonb_set(detail, '{i}', '99') WHERE leaf_index = 4")
    res = _verify(cli, cp)
    assert res.exit_code == 1
    assert f"position 4: row {row_id}: content does not match its hash (edited)" in res.output
    assert "does not extend this checkpoint" in res.output
    assert "first bad position: 4" in res.output


def test_deleted_row_is_reported_at_its_position(cli, tmp_path, signing_key):
    """A DELETE in the middle (trigger disabled first) leaves a hole the verifier names."""
    _append(10)
    cp = _checkpoint(cli, tmp_path)
    with superuser() as cur:
        cur.execute("ALTER TABLE sharing_audit DISABLE TRIGGER sharing_audit_refuse_change")
        cur.execute("DELETE FROM sharing_audit WHERE leaf_index = 3")
    res = _verify(cli, cp)
    with superuser() as cur:
        cur.execute("ALTER TABLE sharing_audit ENABLE TRIGGER sharing_audit_refuse_change")
    assert res.exit_code == 1
    assert "position 3: missing" in res.output and "a row was deleted" in res.output
    assert "first bad position: 3" in res.output


def test_reordered_rows_are_reported(cli, tmp_path, signing_key):
    """Swapping two rows' places in the tree is reported at the first of them."""
    _append(10)
    cp = _checkpoint(cli, tmp_path)
    _as_dba("UPDATE sharing_audit SET leaf_index = -1 WHERE leaf_index = 2",
            "UPDATE sharing_audit SET leaf_index = 2 WHERE leaf_index = 6",
            "UPDATE sharing_audit SET leaf_index = 6 WHERE leaf_index = -1")
    res = _verify(cli, cp)
    assert res.exit_code == 1
    assert "rows were reordered" in res.output
    assert "first bad position: 2" in res.output


def test_truncated_tail_is_caught_only_by_a_checkpoint(cli, tmp_path, signing_key):
    """Deleting the newest rows and rebuilding the tree fools the chain, not a saved checkpoint."""
    _append(10)
    cp = _checkpoint(cli, tmp_path)
    _as_dba("DELETE FROM sharing_audit WHERE leaf_index >= 7", "TRUNCATE sharing_audit_checkpoint")
    _rebuild_tree_as_attacker()
    assert _verify(cli).exit_code == 0  # without a checkpoint this is undetectable: say so in the README
    res = _verify(cli, cp)
    assert res.exit_code == 1
    assert "the checkpoint has 10 leaves, the ledger only 7" in res.output and "truncated tail" in res.output
    assert "first bad position: 7" in res.output


def test_chain_rewritten_with_recomputed_hashes_is_caught_by_checkpoints(cli, tmp_path, signing_key):
    """Rows replaced by the real append code (valid chain, valid tree) still contradict the checkpoints;
    the position is bounded by the last checkpoint that holds."""
    _append(6)
    early = _checkpoint(cli, tmp_path)
    _append(4, start=6)
    late = _checkpoint(cli, tmp_path)
    _as_dba("DELETE FROM sharing_audit WHERE leaf_index >= 7", "TRUNCATE sharing_audit_checkpoint")
    _rebuild_tree_as_attacker()
    _append(3, start=7, rewritten=True)
    assert count() == 10
    assert _verify(cli).exit_code == 0  # the rewrite is self-consistent
    res = _verify(cli, early, late)
    assert res.exit_code == 1
    assert f"extends {early} (6 leaves)" not in res.output  # failures print no successes
    assert f"{late}: the ledger does not extend this checkpoint (10 leaves)" in res.output
    assert "the first 6 leaves match an earlier checkpoint" in res.output
    assert "first bad position: 6" in res.output


def test_ledger_rebuilt_from_scratch_fails_at_position_zero(cli, tmp_path, signing_key):
    """Everything truncated and appended again: the oldest checkpoint already fails, at 0."""
    _append(5)
    cp = _checkpoint(cli, tmp_path)
    _as_dba("TRUNCATE sharing_audit, sharing_audit_node, sharing_audit_head, sharing_audit_checkpoint")
    _append(5)
    assert _verify(cli).exit_code == 0
    res = _verify(cli, cp)
    assert res.exit_code == 1 and "first bad position: 0" in res.output


def test_forged_or_foreign_checkpoints_are_refused(cli, tmp_path, signing_key):
    """A checkpoint whose text was altered, or signed by another key, is refused before any check."""
    _append(3)
    cp = _checkpoint(cli, tmp_path)
    forged = tmp_path / "forged.txt"
    forged.write_text(open(cp, encoding="utf-8").read().replace("\n3\n", "\n2\n"), encoding="utf-8")
    res = _verify(cli, str(forged))
    assert res.exit_code == 1 and "does not verify" in res.output
    other = signing.keygen(str(tmp_path / "other.key"), "test.example/sharing-audit")
    res = cli.invoke(sharing_cli, ["audit", "verify", "--checkpoint", cp, "--key", str(other.verifier())])
    assert res.exit_code == 1 and "not signed by the key" in res.output


def test_checkpoint_refuses_to_sign_a_rewritten_tree(cli, tmp_path, signing_key):
    """A log never signs two inconsistent checkpoints: after a rewrite, `audit checkpoint` refuses."""
    _append(4)
    _checkpoint(cli, tmp_path)
    _as_dba("DELETE FROM sharing_audit WHERE leaf_index >= 2")
    _rebuild_tree_as_attacker()
    _append(3, start=2)
    res = cli.invoke(sharing_cli, ["audit", "checkpoint", "--dir", str(tmp_path)])
    assert res.exit_code != 0 and "does not extend the last checkpoint" in res.output


@pytest.mark.parametrize("table", ["sharing_audit", "sharing_audit_node", "sharing_audit_checkpoint"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_the_app_role_cannot_change_the_ledger(cli, tmp_path, signing_key, table, statement):
    """UPDATE, DELETE and TRUNCATE on the ledger, its tree nodes and its checkpoints are refused."""
    _append(3)
    _checkpoint(cli, tmp_path)
    column = {"sharing_audit": "action", "sharing_audit_node": "hash", "sharing_audit_checkpoint": "note"}[table]
    with pytest.raises(sa.exc.DBAPIError) as exc:
        model.Session.execute(sa.text(statement.format(t=table, c=column)))
    assert "append-only" in str(exc.value)
    model.Session.rollback()
    assert count(table) > 0
