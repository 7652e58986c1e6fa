"""Signed checkpoints of the audit tree (SPEC §5): C2SP ``tlog-checkpoint`` in a C2SP ``signed-note``.

Pure functions, no database and no CKAN. A checkpoint's note text is three lines, the origin
(the log's name), the tree size in decimal and the base64 root hash; the note is that text, a blank
line and one signature line per key: "— <key name> base64(key id ‖ Ed25519 signature)", where
key id = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).
Signing and verifying use ``cryptography``'s Ed25519.

Keys are written as the note ecosystem writes them (golang.org/x/mod/sumdb/note), so other
signed-note tools read them: the private key file holds ``PRIVATE+KEY+<name>+<key id hex>+
base64(0x01 ‖ 32-byte seed)``, the public ("verifier") key is ``<name>+<key id hex>+base64(0x01 ‖
32-byte public key)``. The key name is the checkpoint's origin: the log's identity is its key.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
import re
from typing import Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EM_DASH = "\u2014"
ED25519 = 0x01
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_MAX_SIGNATURES = 16


class CheckpointError(ValueError):
    """A key, note or checkpoint that is malformed, unsigned by the expected key, or forged."""


def check_name(name: str) -> str:
    """Key names (and origins) are non-empty, without spaces or '+' (signed-note §Format)."""
    if not name or re.search(r"[\s+]", name) or any(ord(c) < 0x20 for c in name):
        raise CheckpointError(f"not a valid key name: {name!r} (non-empty, no spaces, no '+')")
    return name


def key_id(name: str, public: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], the signed-note key id of an Ed25519 key."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise CheckpointError(f"not base64: {text[:40]!r}") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _split_key(text: str, what: str) -> tuple[str, bytes, bytes]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise CheckpointError(f"not a {what}: expected <name>+<8 hex digits>+<base64 key>")
    name = check_name(parts[0])
    raw = _b64decode(parts[2])
    if len(raw) != 33 or raw[0] != ED25519:
        raise CheckpointError(f"not an Ed25519 {what} (type byte 0x01 and 32 key bytes)")
    return name, bytes.fromhex(parts[1]), raw[1:]


@dataclasses.dataclass(frozen=True)
class VerifierKey:
    """A public key with its name: checks signatures made by the matching :class:`SignerKey`."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ED25519]) + self.public)}"

    @classmethod
    def parse(cls, text: str) -> "VerifierKey":
        """Read ``<name>+<key id>+base64(0x01 ‖ public key)``; the key id must match the key."""
        name, kid, public = _split_key(text, "verifier key")
        key = cls(name, public)
        if key.key_id != kid:
            raise CheckpointError("the verifier key's id does not match its name and key")
        return key

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Is ``signature`` an Ed25519 signature of ``message`` by this key?"""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclasses.dataclass(frozen=True)
class SignerKey:
    """An Ed25519 private key (its 32-byte seed) with its name."""

    name: str
    seed: bytes = dataclasses.field(repr=False)

    @classmethod
    def generate(cls, name: str) -> "SignerKey":
        """A new random key named ``name`` (the log's origin)."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(check_name(name), seed)

    @classmethod
    def parse(cls, text: str) -> "SignerKey":
        """Read ``PRIVATE+KEY+<name>+<key id>+base64(0x01 ‖ seed)``."""
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise CheckpointError("not a signing key: it must start with PRIVATE+KEY+")
        name, kid, seed = _split_key(text[len(_PRIVATE_PREFIX):], "signing key")
        key = cls(name, seed)
        if key.verifier().key_id != kid:
            raise CheckpointError("the signing key's id does not match its name and key")
        return key

    def __str__(self) -> str:
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier().key_id.hex()}+{_b64(bytes([ED25519]) + self.seed)}"

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def verifier(self) -> VerifierKey:
        """The matching public key."""
        public = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifierKey(self.name, public)

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message``."""
        return self._private().sign(message)


def read_signer(path: str) -> SignerKey:
    """Load the signing key file named by ``ckanext.sharing.audit_signing_key``."""
    try:
        with open(path, encoding="utf-8") as fh:
            return SignerKey.parse(fh.read())
    except OSError as exc:
        raise CheckpointError(f"cannot read the signing key {path}: {exc.strerror}") from exc


def write_signer(path: str, key: SignerKey, overwrite: bool = False) -> None:
    """Write a signing key file readable by its owner only (never replaced unless ``overwrite``)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError as exc:
        raise CheckpointError(f"{path} exists; it is not replaced") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(str(key) + "\n")


# --- notes --------------------------------------------------------------------------------------


def sign_note(text: str, *signers: SignerKey) -> str:
    """``text`` (ending in a newline), a blank line and one signature line per key."""
    if not text.endswith("\n") or "\n\n" in text or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise CheckpointError("a note's text ends in a newline and has no blank line or control character")
    lines = []
    for signer in signers:
        sig = signer.verifier().key_id + signer.sign(text.encode("utf-8"))
        lines.append(f"{EM_DASH} {signer.name} {_b64(sig)}\n")
    return text + "\n" + "".join(lines)


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The text of a signed note and its signatures ``(key name, key id, signature)``."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise CheckpointError("a signed note has no control characters other than newline")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise CheckpointError("not a signed note: no blank line before the signatures")
    text, sig_block = note[: cut + 1], note[cut + 2:]
    signatures = []
    for line in sig_block.splitlines():
        m = re.fullmatch(EM_DASH + r" (\S+) (\S+)", line)
        if not m:
            raise CheckpointError(f"not a signature line: {line[:60]!r}")
        raw = _b64decode(m.group(2))
        if len(raw) < 5:
            raise CheckpointError("a signature is a key id and signature bytes")
        signatures.append((m.group(1), raw[:4], raw[4:]))
    if not signatures or len(signatures) > _MAX_SIGNATURES:
        raise CheckpointError(f"a signed note has 1 to {_MAX_SIGNATURES} signatures")
    return text, signatures


def open_note(note: str, verifier: VerifierKey) -> str:
    """The text of ``note`` once ``verifier``'s signature on it checks out (signed-note §Signatures).

    Signatures by other keys are ignored; a signature by this key that fails, or none by it, is an error.
    """
    text, signatures = split_note(note)
    mine = [sig for name, kid, sig in signatures if name == verifier.name and kid == verifier.key_id]
    if not mine:
        raise CheckpointError(f"not signed by the key {verifier.name}+{verifier.key_id.hex()}")
    if not all(verifier.verify(text.encode("utf-8"), sig) for sig in mine):
        raise CheckpointError(f"the signature of {verifier.name} does not verify: the note was altered or forged")
    return text


# --- checkpoints ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """The tree head a checkpoint commits to: origin, tree size, root hash (and opaque extensions)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The checkpoint's note text (tlog-checkpoint §Note text)."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """Read a checkpoint's note text (already verified)."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise CheckpointError("a checkpoint is at least three non-empty lines")
        origin, size, root = lines[0], lines[1], lines[2]
        if not re.fullmatch(r"0|[1-9][0-9]*", size):
            raise CheckpointError(f"not a tree size: {size[:30]!r}")
        raw = _b64decode(root)
        if len(raw) != 32:
            raise CheckpointError("the root hash is 32 bytes")
        return cls(origin, int(size), raw, tuple(lines[3:-1]))


def sign_checkpoint(checkpoint: Checkpoint, signer: SignerKey) -> str:
    """The signed note of ``checkpoint`` (its origin is the signer's name)."""
    return sign_note(checkpoint.text(), signer)


def open_checkpoint(note: str, verifier: VerifierKey, origin: Optional[str] = None) -> Checkpoint:
    """The checkpoint in ``note`` once its signature is verified; its origin must be ``origin``
    (default: the key's name)."""
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    want = origin or verifier.name
    if checkpoint.origin != want:
        raise CheckpointError(f"the checkpoint is of the log {checkpoint.origin!r}, not {want!r}")
    return checkpoint


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m ckanext.sharing.ledger.checkpoint keygen FILE NAME``: a key without loading CKAN
    (``make run`` creates the demo key this way); prints the public key."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] != "keygen":
        print("usage: python -m ckanext.sharing.ledger.checkpoint keygen FILE NAME", file=sys.stderr)
        return 2
    key = SignerKey.generate(args[2])
    os.makedirs(os.path.dirname(os.path.abspath(args[1])), exist_ok=True)
    write_signer(args[1], key)
    print(key.verifier())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
