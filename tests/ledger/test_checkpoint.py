"""Signed notes and checkpoints (ledger/checkpoint.py) against the published signed-note vectors.

Known answers: the example key and note of golang.org/x/mod/sumdb/note's documentation (Ed25519
signatures are deterministic, so signing must reproduce the note byte for byte) and the example
of c2sp.org/signed-note; only those strings are used here.
"""
from __future__ import annotations

import base64
import os

import pytest

from ckanext.sharing.ledger import checkpoint as cp
from ckanext.sharing.ledger import merkle

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo "
             "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


def test_keys_and_signature_match_the_reference_byte_for_byte():
    """Parsing the reference key, deriving its public key and id, and signing give the reference note."""
    signer = cp.SignerKey.parse(GO_SKEY)
    assert str(signer) == GO_SKEY
    assert str(signer.verifier()) == GO_VKEY
    assert cp.VerifierKey.parse(GO_VKEY).key_id.hex() == "c74f20a3"
    assert cp.sign_note(GO_TEXT, signer) == GO_NOTE
    assert cp.open_note(GO_NOTE, cp.VerifierKey.parse(GO_VKEY)) == GO_TEXT


def test_the_c2sp_example_note_verifies():
    """The example of c2sp.org/signed-note opens with its published verifier key."""
    assert cp.open_note(SPEC_NOTE, cp.VerifierKey.parse(SPEC_VKEY)) == "This is an example message.\n"


def test_altered_notes_and_other_keys_are_refused():
    """One changed character, a foreign key, a wrong id or no signature at all: refused."""
    verifier = cp.VerifierKey.parse(GO_VKEY)
    with pytest.raises(cp.CheckpointError, match="does not verify"):
        cp.open_note(GO_NOTE.replace("answer", "Answer"), verifier)
    other = cp.SignerKey.generate("PeterNeumann")
    with pytest.raises(cp.CheckpointError, match="not signed by"):
        cp.open_note(cp.sign_note(GO_TEXT, other), verifier)
    with pytest.raises(cp.CheckpointError):
        cp.open_note(GO_TEXT, verifier)
    # a second, unknown signature is ignored (signed-note: verifiers ignore unknown keys)
    extra = cp.sign_note(GO_TEXT, other).split("\n\n", 1)[1]
    assert cp.open_note(GO_NOTE + extra, verifier) == GO_TEXT


@pytest.mark.parametrize("bad", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong length
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
    "PeterNeumann+c74f20a3",
])
def test_malformed_verifier_keys_are_refused(bad):
    """Verifier keys whose id, length, type byte or name is wrong do not parse."""
    with pytest.raises(cp.CheckpointError):
        cp.VerifierKey.parse(bad)


def test_checkpoint_round_trip_and_format(tmp_path):
    """A checkpoint is origin, size, base64 root, blank line, one em-dash signature line; it opens again."""
    signer = cp.SignerKey.generate("portal.example/sharing-audit")
    root = merkle.tree_root([merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])
    note = cp.sign_checkpoint(cp.Checkpoint(signer.name, 2, root), signer)
    lines = note.split("\n")
    assert lines[:4] == [signer.name, "2", base64.b64encode(root).decode(), ""]
    assert lines[4].startswith(f"\u2014 {signer.name} ") and lines[5:] == [""]
    sig = base64.b64decode(lines[4].split(" ")[2])
    assert sig[:4] == cp.key_id(signer.name, signer.verifier().public) and len(sig) == 4 + 64
    opened = cp.open_checkpoint(note, signer.verifier())
    assert (opened.origin, opened.size, opened.root) == (signer.name, 2, root)
    with pytest.raises(cp.CheckpointError):
        cp.open_checkpoint(note.replace("\n2\n", "\n3\n"), signer.verifier())
    # the key file is the reference format, owner-only, never overwritten silently
    path = str(tmp_path / "audit.key")
    cp.write_signer(path, signer)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert cp.read_signer(path) == signer
    with pytest.raises(cp.CheckpointError, match="exists"):
        cp.write_signer(path, cp.SignerKey.generate("x"))


@pytest.mark.parametrize("text", [
    "origin\n2\n", "origin\n02\nAAAA\n", "origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
    "origin\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "origin\n1\n" + "!" * 44 + "\n",
])
def test_malformed_checkpoints_are_refused(text):
    """A missing line, a size with a leading zero or sign, a short or non-base64 root: refused."""
    with pytest.raises(cp.CheckpointError):
        cp.Checkpoint.parse(text)
