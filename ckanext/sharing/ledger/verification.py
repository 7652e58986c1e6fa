"""What ``ckan sharing audit verify`` and ``verify-proof`` do, for the CLI to call (SPEC §5)."""
from __future__ import annotations

import base64
import json
import os
from typing import Optional

from ckan import model

from ckanext.sharing.ledger import checkpoint as cpt
from ckanext.sharing.ledger import proofs, signing, tree


def load_verifier(key: Optional[str]) -> Optional[cpt.VerifierKey]:
    """The log's public key: ``key`` (a verifier key, or a file holding one), else the configured key's."""
    if key:
        if os.path.isfile(key):
            with open(key, encoding="utf-8") as fh:
                key = fh.read().strip()
        return cpt.VerifierKey.parse(key)
    return signing.verifier()


def open_checkpoint_files(paths: list[str], verifier: cpt.VerifierKey) -> list[tuple[str, cpt.Checkpoint]]:
    """Read and signature-check each checkpoint file; ``CheckpointError`` names the first bad one."""
    opened = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            note = fh.read()
        try:
            opened.append((path, cpt.open_checkpoint(note, verifier)))
        except cpt.CheckpointError as exc:
            raise cpt.CheckpointError(f"{path}: {exc}") from exc
    return opened


def verify_ledger(checkpoints: list[tuple[str, cpt.Checkpoint]]) -> tree.Report:
    """Recompute chain and tree from the rows in one snapshot and check them against ``checkpoints``."""
    from ckanext.sharing.ledger import chain

    with model.meta.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return tree.verify(conn, checkpoints, chain_hash=chain.row_hash, genesis=chain.GENESIS)


def verify_proof_file(path: str, key: Optional[str]) -> tuple[cpt.Checkpoint, list[str]]:
    """Check one proof file offline; returns its checkpoint and notes for the reader."""
    with open(path, encoding="utf-8") as fh:
        try:
            doc = json.load(fh)
        except ValueError as exc:
            raise cpt.CheckpointError(f"{path} is not JSON: {exc}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        doc = doc["result"]  # the API's whole answer, saved as is
    notes: list[str] = []
    verifier = load_verifier(key) if key else None
    if verifier is None:
        try:
            verifier = signing.verifier()
        except cpt.CheckpointError:
            verifier = None
    if verifier is None:
        if not isinstance(doc, dict) or not doc.get("verifier_key"):
            raise cpt.CheckpointError("no public key: pass --key (from /api/3/sharing/audit-key)")
        verifier = cpt.VerifierKey.parse(str(doc["verifier_key"]))
        notes.append(f"checked with the key named in the file ({verifier}); compare it with the portal's "
                     "published key (/api/3/sharing/audit-key)")
    checkpoint = proofs.check_document(doc, verifier)
    notes.append(f"row {doc.get('id')} is leaf {doc['leaf_index']} of the tree of {checkpoint.size} leaves "
                 f"signed by {verifier.name} (root {base64.b64encode(checkpoint.root).decode()})")
    return checkpoint, notes
