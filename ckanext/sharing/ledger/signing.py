"""The ledger's signing key and checkpoints as configured (SPEC §5, §7).

``ckanext.sharing.audit_signing_key`` names the private key file (created by ``ckan sharing audit
keygen``; ``make run`` creates a demo one); its name is the log's origin. Checkpoints are signed
here, kept in ``sharing_audit_checkpoint`` and, when ``ckanext.sharing.audit_checkpoint_dir`` is
set, written to that directory too, which should be storage the database's administrators do not
control. The public key is served at ``/api/3/sharing/audit-key``.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any, Optional
from urllib.parse import urlparse

import ckan.plugins.toolkit as tk

from ckanext.sharing import config
from ckanext.sharing.ledger import checkpoint as cpt
from ckanext.sharing.ledger import tree


def default_origin() -> str:
    """The log name a new key gets: ``<site host and path>/sharing-audit`` (a schema-less URL)."""
    site = urlparse(str(tk.config.get("ckan.site_url") or "http://localhost"))
    base = (site.netloc + site.path.rstrip("/")) or "localhost"
    return re.sub(r"[\s+]", "-", base) + "/sharing-audit"


def signer() -> Optional[cpt.SignerKey]:
    """The configured signing key, or None when none is configured (a missing file is an error)."""
    path = config.audit_signing_key()
    return cpt.read_signer(path) if path else None


def verifier() -> Optional[cpt.VerifierKey]:
    """The public half of the configured key."""
    key = signer()
    return key.verifier() if key else None


def keygen(path: str, name: Optional[str] = None, overwrite: bool = False) -> cpt.SignerKey:
    """Create a signing key file (owner-only) and return the key."""
    key = cpt.SignerKey.generate(name or default_origin())
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    cpt.write_signer(path, key, overwrite=overwrite)
    return key


def write_checkpoint_file(directory: str, note: str, checkpoint: cpt.Checkpoint) -> str:
    """Write one checkpoint as ``checkpoint-<size>-<UTC time>.txt`` in ``directory``; return its path."""
    os.makedirs(directory, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = os.path.join(directory, f"checkpoint-{checkpoint.size:012d}-{stamp}.txt")
    with open(path, "x", encoding="utf-8") as fh:
        fh.write(note)
    return path


def make_checkpoint(session: Any, directory: Optional[str] = None) -> tuple[str, cpt.Checkpoint, Optional[str]]:
    """Sign the current tree head with the configured key, store it, and write it to ``directory``
    (default ``ckanext.sharing.audit_checkpoint_dir``). Returns the note, the checkpoint and the file."""
    key = signer()
    if key is None:
        raise cpt.CheckpointError(tk._("No signing key: set ckanext.sharing.audit_signing_key "
                                       "(create one with: ckan sharing audit keygen FILE)"))
    note, checkpoint = tree.sign_head(session, key)
    tree.store_checkpoint(session, note, checkpoint)
    session.commit()
    directory = config.audit_checkpoint_dir() if directory is None else directory
    path = write_checkpoint_file(directory, note, checkpoint) if directory else None
    return note, checkpoint, path


def audit_key():
    """``GET /api/3/sharing/audit-key``: the public key that checks the ledger's checkpoints."""
    try:
        key = verifier()
    except cpt.CheckpointError:
        key = None
    if key is None:
        return {"success": False, "error": {"message": tk._("This portal has no audit signing key")}}, 404
    return {
        "success": True,
        "result": {
            "verifier_key": str(key),
            "origin": key.name,
            "key_id": key.key_id.hex(),
            "algorithm": "Ed25519",
        },
    }
