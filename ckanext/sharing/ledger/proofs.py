"""Inclusion proofs of single ledger rows, made by the portal and checked offline (SPEC §5).

A proof document is JSON: the row's canonical leaf bytes (as text), its position, the inclusion
proof (RFC 6962 §2.1.1) against a tree size, and the signed checkpoint of that size: the newest
stored checkpoint that includes the row, else the current tree head signed now (when the portal
has a signing key). Anyone holding the portal's public key can check it with
``ckan sharing audit verify-proof FILE``, without the database: "a requester can prove that their
request was recorded".
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Mapping, Optional

from ckanext.sharing.ledger import checkpoint as cpt
from ckanext.sharing.ledger import merkle, tree

FORMAT = "sharing-audit-proof/1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def proof_document(session: Any, row: Mapping[str, Any], signer: Optional[cpt.SignerKey]) -> dict[str, Any]:
    """The proof of ``row`` (as :data:`tree.ROW_SQL` returns it) against the newest checkpoint that
    includes it, or against the current tree head (signed now when ``signer`` is given)."""
    index = row["leaf_index"]
    leaf = tree.canonical_bytes(row)
    stored = tree.latest_checkpoint(session, covering=index)
    note: Optional[str]
    if stored is not None:
        note, size, root = stored["note"], int(stored["size"]), bytes(stored["root"])
    else:
        head = tree.read_head(session)
        size, root = head.size, head.root
        note = cpt.sign_checkpoint(cpt.Checkpoint(signer.name, size, root), signer) if signer else None
    return {
        "format": FORMAT,
        "id": row["id"],
        "leaf_index": index,
        "tree_size": size,
        "root_hash": _b64(root),
        "leaf": leaf.decode("utf-8"),
        "leaf_hash": _b64(merkle.leaf_hash(leaf)),
        "inclusion_proof": [_b64(h) for h in tree.inclusion_proof(session, index, size)],
        "checkpoint": note,
        "verifier_key": str(signer.verifier()) if signer else None,
    }


def check_document(doc: Mapping[str, Any], verifier: cpt.VerifierKey) -> cpt.Checkpoint:
    """Check a proof document offline against the log's public key; returns the checkpoint it is in.

    Raises ``CheckpointError`` naming what fails: the checkpoint's signature, the leaf's position,
    or the inclusion of the leaf bytes in the signed tree.
    """
    try:
        leaf = str(doc["leaf"]).encode("utf-8")
        index = int(doc["leaf_index"])
        proof = [base64.b64decode(h, validate=True) for h in doc["inclusion_proof"]]
        note = doc["checkpoint"]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise cpt.CheckpointError(f"not a ledger proof document: {exc}") from exc
    if not note:
        raise cpt.CheckpointError("the proof has no signed checkpoint, so it proves nothing offline")
    checkpoint = cpt.open_checkpoint(str(note), verifier)
    try:
        fields = json.loads(leaf)
    except ValueError as exc:
        raise cpt.CheckpointError("the leaf is not a ledger row's canonical bytes") from exc
    if not isinstance(fields, list) or len(fields) < 3 or fields[0] != tree.LEAF_FORMAT or fields[1] != index:
        raise cpt.CheckpointError(f"the leaf is not the row at position {index}")
    if not merkle.verify_inclusion(index, checkpoint.size, merkle.leaf_hash(leaf), proof, checkpoint.root):
        raise cpt.CheckpointError(
            f"the row is NOT proven to be leaf {index} of the signed tree of {checkpoint.size} leaves "
            "(the row, the proof or the checkpoint was changed)")
    return checkpoint
