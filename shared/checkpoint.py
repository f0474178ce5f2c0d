"""Signed tree heads as C2SP tlog-checkpoint notes, signed with Ed25519.

Formats: https://c2sp.org/tlog-checkpoint and https://c2sp.org/signed-note. A note is
the checkpoint body, a blank line, then ``— <key name> base64(key ID || signature)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ED25519_TYPE = b"\x01"  # signature type identifier from the signed-note spec
COSIGNATURE_TYPE = b"\x04"  # Ed25519 timestamped cosignature (C2SP tlog-cosignature)
COSIGNATURE_HEADER = "cosignature/v1\ntime {timestamp}\n"
HASH_SIZE = 32
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: a cosignature's time MUST NOT exceed this
MAX_SIGNATURES = 100  # the spec demands at least 16; the cap bounds work on hostile notes
_TREE_SIZE = re.compile(r"(0|[1-9][0-9]*)")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class CheckpointError(ValueError):
    """A checkpoint note is malformed, unsigned by the expected key, or for another log."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise CheckpointError(f"{what} is not valid base64") from e
    # Only the canonical encoding is accepted, so one value has exactly one spelling.
    if _b64(data) != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return data


def _check_key_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise ValueError(f"invalid key name {name!r}: must be non-empty, without spaces or '+'")


def key_hash(key_name: str, public_key: bytes, key_type: bytes = ED25519_TYPE) -> bytes:
    """Signed-note key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(key_name.encode() + b"\n" + key_type + public_key).digest()[:4]


def vkey_string(key_name: str, public_key: bytes) -> str:
    """Verifier key ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    _check_key_name(key_name)
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return f"{key_name}+{key_hash(key_name, public_key).hex()}+{_b64(ED25519_TYPE + public_key)}"


def parse_vkey(vkey: str) -> tuple[str, bytes]:
    """Split a verifier key string into (key name, raw public key), checking its key ID."""
    parts = vkey.split("+", 2)  # the base64 key may itself hold "+"
    if len(parts) != 3:
        raise CheckpointError("verifier key must be <name>+<hex key ID>+<base64 key>")
    name, id_hex, encoded = parts
    key = _unb64(encoded, "verifier key")
    if len(key) != 33 or key[:1] != ED25519_TYPE:
        raise CheckpointError("verifier key is not an Ed25519 key")
    if id_hex != key_hash(name, key[1:]).hex():
        raise CheckpointError("verifier key ID does not match its name and key")
    return name, key[1:]


@dataclass(frozen=True)
class Signer:
    """An Ed25519 note signer: the private key and the key name it signs as."""

    key_name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_key_name(self.key_name)

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.key_name, self.public_key)

    @property
    def vkey(self) -> str:
        return vkey_string(self.key_name, self.public_key)

    def signature_line(self, text: str) -> str:
        """The ``— name base64(key ID || signature)`` line over a note text."""
        signature = self.private_key.sign(text.encode("utf-8"))
        return f"{SIGNATURE_PREFIX}{self.key_name} {_b64(self.key_hash + signature)}\n"


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint; ``note`` is the full signed text it was read from."""

    origin: str
    tree_size: int
    root_hash: bytes
    note: str
    extensions: tuple[str, ...] = ()


def checkpoint_body(origin: str, tree_size: int, root: bytes) -> str:
    """The note text: origin, tree size and base64 root, each ending in a newline."""
    if not origin or "\n" in origin or _CONTROL.search(origin):
        raise ValueError(f"invalid origin {origin!r}")
    if not 0 <= tree_size < 2**64:
        raise ValueError(f"tree size out of range: {tree_size}")
    if len(root) != HASH_SIZE:
        raise ValueError(f"root hash must be {HASH_SIZE} bytes, got {len(root)}")
    return f"{origin}\n{tree_size}\n{_b64(root)}\n"


def sign_checkpoint(signer: Signer, origin: str, tree_size: int, root: bytes) -> str:
    """A signed checkpoint note for the tree head ``(tree_size, root)``."""
    body = checkpoint_body(origin, tree_size, root)
    return body + "\n" + signer.signature_line(body)


def _split_note(note: str) -> tuple[str, list[str]]:
    """Separate note text from signature lines (the last blank line divides them)."""
    if _CONTROL.search(note):
        raise CheckpointError("note contains control characters")
    if not note.endswith("\n"):
        raise CheckpointError("note does not end in a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    lines = block.removesuffix("\n").split("\n") if block else []
    if not lines:
        raise CheckpointError("note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    return text, lines


def _verify_signatures(text: str, lines: list[str], key_name: str, public_key: bytes) -> None:
    want_id = key_hash(key_name, public_key)
    try:
        verifier = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as e:
        raise CheckpointError("invalid Ed25519 public key") from e
    verified = False
    for line in lines:
        fields = line.removeprefix(SIGNATURE_PREFIX).split(" ")
        if not line.startswith(SIGNATURE_PREFIX) or len(fields) != 2 or not fields[0]:
            raise CheckpointError(f"malformed signature line {line!r}")
        name, blob = fields[0], _unb64(fields[1], "signature")
        if len(blob) < 5:
            raise CheckpointError("signature is too short")
        # Signatures from other keys (witnesses, rotated keys) are ignored, per spec.
        if name != key_name or blob[:4] != want_id:
            continue
        try:
            verifier.verify(blob[4:], text.encode("utf-8"))
        except InvalidSignature as e:
            raise CheckpointError(f"bad signature from key {key_name!r}") from e
        verified = True
    if not verified:
        raise CheckpointError(f"note carries no signature from the known key {key_name!r}")


def _parse_body(text: str) -> tuple[str, int, bytes, tuple[str, ...]]:
    lines = text.removesuffix("\n").split("\n")
    if len(lines) < 3 or not all(lines):
        raise CheckpointError("checkpoint needs origin, size and root on non-empty lines")
    origin, size_text, root_text, *extensions = lines
    if not _TREE_SIZE.fullmatch(size_text) or int(size_text) >= 2**64:
        raise CheckpointError(f"invalid tree size {size_text!r}")
    root = _unb64(root_text, "root hash")
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root hash must be {HASH_SIZE} bytes, got {len(root)}")
    return origin, int(size_text), root, tuple(extensions)


def verify_note(note: str, key_name: str, public_key: bytes) -> str:
    """Check a signed note carries a valid signature by the given key; return its text."""
    if len(public_key) != 32:
        raise CheckpointError("an Ed25519 public key is 32 bytes")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CheckpointError("note is not valid UTF-8") from e
    text, lines = _split_note(note)
    _verify_signatures(text, lines, key_name, public_key)
    return text


def parse_and_verify(
    note: str, key_name: str, public_key: bytes, expected_origin: str | None = None
) -> Checkpoint:
    """Verify a checkpoint note against one Ed25519 key, then parse it."""
    # The text means nothing until a trusted signature covers it, so verify first.
    text = verify_note(note, key_name, public_key)
    origin, tree_size, root, extensions = _parse_body(text)
    if expected_origin is not None and origin != expected_origin:
        raise CheckpointError(f"checkpoint is for origin {origin!r}, expected {expected_origin!r}")
    return Checkpoint(origin, tree_size, root, note, extensions)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 PKCS#8 PEM key, generating one (mode 0600) if the file is absent."""
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Publish the key with a hard link: readers never see a half-written file and
        # a concurrent creator's key is never overwritten (link fails if the path exists).
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)
        except FileExistsError:
            return load_or_create_key(path)  # another process won the race; use its key
        finally:
            tmp.unlink(missing_ok=True)
        return key
    key_obj = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key_obj, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key_obj


# --- witness cosignatures (https://c2sp.org/tlog-cosignature, v1.0.0) ----------------------
def cosignature_message(body: str, timestamp: int) -> bytes:
    """What a witness signs: a header naming the time, then the checkpoint body."""
    return (COSIGNATURE_HEADER.format(timestamp=timestamp) + body).encode("utf-8")


def witness_vkey(name: str, public_key: bytes) -> str:
    """Witness verifier key ``<name>+<hex key ID>+<base64(0x04 || public key)>``."""
    _check_key_name(name)
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    key_id = key_hash(name, public_key, COSIGNATURE_TYPE)
    return f"{name}+{key_id.hex()}+{_b64(COSIGNATURE_TYPE + public_key)}"


def parse_witness_vkey(vkey: str) -> tuple[str, bytes]:
    """(name, raw public key) of a witness verifier key, its key ID checked."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("witness key must be <name>+<hex key ID>+<base64 key>")
    name, id_hex, encoded = parts
    key = _unb64(encoded, "witness key")
    if len(key) != 33 or key[:1] != COSIGNATURE_TYPE:
        raise CheckpointError("witness key is not an Ed25519 cosignature key (type 0x04)")
    if id_hex != key_hash(name, key[1:], COSIGNATURE_TYPE).hex():
        raise CheckpointError("witness key ID does not match its name and key")
    return name, key[1:]


@dataclass(frozen=True)
class Cosigner:
    """A witness's Ed25519 key and the name it cosigns as."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> bytes:
        return key_hash(self.name, self.public_key, COSIGNATURE_TYPE)

    @property
    def vkey(self) -> str:
        return witness_vkey(self.name, self.public_key)

    def cosign(self, body: str, timestamp: int) -> str:
        """The signature line (without its newline) over a checkpoint body at a time."""
        if not 0 < timestamp <= MAX_TIMESTAMP:
            raise ValueError(f"cosignature time out of range: {timestamp}")
        if not body.endswith("\n") or "\n\n" in body:
            raise ValueError("a checkpoint body is non-empty lines, each ending in a newline")
        signature = self.private_key.sign(cosignature_message(body, timestamp))
        blob = self.key_id + timestamp.to_bytes(8, "big") + signature
        return f"{SIGNATURE_PREFIX}{self.name} {_b64(blob)}"


def verify_cosignature(line: str, body: str, name: str, public_key: bytes) -> int:
    """Check one cosignature line by the named witness over a checkpoint body; return its
    timestamp. CheckpointError when the line is not this witness's or does not verify."""
    fields = line.removesuffix("\n").removeprefix(SIGNATURE_PREFIX).split(" ")
    if not line.startswith(SIGNATURE_PREFIX) or len(fields) != 2 or fields[0] != name:
        raise CheckpointError(f"not a signature line of witness {name!r}")
    blob = _unb64(fields[1], "cosignature")
    if len(blob) != 4 + 8 + 64:
        raise CheckpointError("a cosignature is a key ID, a timestamp and an Ed25519 signature")
    if blob[:4] != key_hash(name, public_key, COSIGNATURE_TYPE):
        raise CheckpointError(f"cosignature is not by the known key of witness {name!r}")
    timestamp = int.from_bytes(blob[4:12], "big")
    if timestamp > MAX_TIMESTAMP:
        raise CheckpointError(f"cosignature of witness {name!r} has an impossible time")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            blob[12:], cosignature_message(body, timestamp)
        )
    except (InvalidSignature, ValueError) as e:
        raise CheckpointError(f"bad cosignature from witness {name!r}") from e
    return timestamp


def note_body(note: str) -> str:
    """The text a note's signatures cover (everything before the last blank line)."""
    text, _ = _split_note(note)
    return text


def signature_lines(note: str) -> list[str]:
    _, lines = _split_note(note)
    return lines


def cosignatures_in(note: str, witnesses: dict[str, bytes]) -> dict[str, int]:
    """The witnesses (name -> public key) whose valid cosignature the note carries, with
    each one's timestamp. Lines of other keys, and invalid ones, count for nothing."""
    body, lines = _split_note(note)
    found: dict[str, int] = {}
    for line in lines:
        name = line.removeprefix(SIGNATURE_PREFIX).split(" ", 1)[0]
        if name in witnesses and name not in found:
            try:
                found[name] = verify_cosignature(line, body, name, witnesses[name])
            except CheckpointError:
                continue
    return found
