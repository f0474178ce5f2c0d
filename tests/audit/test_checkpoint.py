"""Checkpoints are C2SP tlog-checkpoint signed notes with Ed25519 (shared/checkpoint.py)."""

from __future__ import annotations

import base64
import hashlib
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from shared.checkpoint import (
    Checkpoint,
    CheckpointError,
    Signer,
    checkpoint_body,
    key_hash,
    load_or_create_key,
    parse_and_verify,
    parse_vkey,
    sign_checkpoint,
    verify_note,
    vkey_string,
)

ORIGIN = "bansos.tanjungbarat.example/ledger"
ROOT = hashlib.sha256(b"some tree head").digest()
SIGNER = Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
PUBLIC = SIGNER.public_key

# golang.org/x/mod/sumdb/note's documented example: an independent implementation's
# keys and signed note, which Ed25519's determinism lets us reproduce byte for byte.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _note(size: int = 42, root: bytes = ROOT) -> str:
    return sign_checkpoint(SIGNER, ORIGIN, size, root)


def test_round_trip() -> None:
    note = _note()
    assert parse_and_verify(note, ORIGIN, PUBLIC, expected_origin=ORIGIN) == Checkpoint(
        origin=ORIGIN, tree_size=42, root_hash=ROOT, note=note
    )


def test_empty_tree_checkpoint() -> None:
    empty = hashlib.sha256(b"").digest()
    assert parse_and_verify(_note(0, empty), ORIGIN, PUBLIC).tree_size == 0


def test_note_layout_is_body_blank_line_and_em_dash_signature_line() -> None:
    note = _note()
    origin, size, root, blank, signature, end = note.split("\n")
    assert (origin, size, root) == (ORIGIN, "42", base64.b64encode(ROOT).decode())
    assert blank == end == ""
    assert signature.startswith(f"\u2014 {ORIGIN} ")
    blob = base64.b64decode(signature.split(" ")[2], validate=True)
    assert len(blob) == 4 + 64
    # Key ID per signed-note: SHA-256(name || 0x0A || 0x01 || public key)[:4].
    assert blob[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + PUBLIC).digest()[:4]
    body = f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n"
    assert checkpoint_body(ORIGIN, 42, ROOT) == body
    Ed25519PublicKey.from_public_bytes(PUBLIC).verify(blob[4:], body.encode())


def test_key_id_and_verifier_key_match_the_go_reference() -> None:
    name, public = parse_vkey(GO_VKEY)
    assert (name, public) == ("PeterNeumann", base64.b64decode(GO_VKEY.split("+")[2])[1:])
    assert key_hash(name, public).hex() == "c74f20a3"
    assert vkey_string(name, public) == GO_VKEY
    signer = Signer("PeterNeumann", Ed25519PrivateKey.from_private_bytes(GO_SEED))
    assert signer.public_key == public
    assert signer.vkey == GO_VKEY


def test_signature_line_reproduces_the_go_note() -> None:
    signer = Signer("PeterNeumann", Ed25519PrivateKey.from_private_bytes(GO_SEED))
    assert GO_TEXT + "\n" + signer.signature_line(GO_TEXT) == GO_NOTE
    name, public = parse_vkey(GO_VKEY)
    assert verify_note(GO_NOTE, name, public) == GO_TEXT
    with pytest.raises(CheckpointError, match="bad signature"):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), name, public)


def test_signatures_from_other_keys_are_ignored() -> None:
    witness = Signer("witness.example", Ed25519PrivateKey.generate())
    note = _note()
    cosigned = note + witness.signature_line(checkpoint_body(ORIGIN, 42, ROOT))
    assert parse_and_verify(cosigned, ORIGIN, PUBLIC).tree_size == 42
    assert parse_and_verify(cosigned, witness.key_name, witness.public_key).tree_size == 42


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n42\n", "\n43\n"),  # tree size
        (base64.b64encode(ROOT).decode(), base64.b64encode(bytes(32)).decode()),  # root
        (ORIGIN + "\n", "other.example/log\n"),  # origin inside the signed body
    ],
    ids=["size", "root", "origin"],
)
def test_tampered_body_is_rejected(old: str, new: str) -> None:
    note = _note()
    assert old in note
    with pytest.raises(CheckpointError, match="bad signature"):
        parse_and_verify(note.replace(old, new, 1), ORIGIN, PUBLIC)


def test_tampered_signature_is_rejected() -> None:
    note = _note()
    head, signature_b64 = note.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(signature_b64))
    blob[10] ^= 0x01
    forged = f"{head} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(CheckpointError, match="bad signature"):
        parse_and_verify(forged, ORIGIN, PUBLIC)


def test_truncated_signature_is_rejected() -> None:
    head, signature_b64 = _note().rstrip("\n").rsplit(" ", 1)
    short = base64.b64encode(base64.b64decode(signature_b64)[:40]).decode()
    with pytest.raises(CheckpointError, match="bad signature"):
        parse_and_verify(f"{head} {short}\n", ORIGIN, PUBLIC)


def test_wrong_origin_is_rejected() -> None:
    with pytest.raises(CheckpointError, match="origin"):
        parse_and_verify(_note(), ORIGIN, PUBLIC, expected_origin="other.example/log")


def test_unknown_key_is_rejected() -> None:
    note = _note()
    with pytest.raises(CheckpointError, match="no signature from the known key"):
        parse_and_verify(note, "someone.else", PUBLIC)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(CheckpointError, match="no signature from the known key"):
        parse_and_verify(note, ORIGIN, other)
    renamed = note.replace(f"\u2014 {ORIGIN} ", "\u2014 someone.else ")
    with pytest.raises(CheckpointError, match="no signature from the known key"):
        parse_and_verify(renamed, ORIGIN, PUBLIC)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.rstrip("\n"),  # no final newline
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n.split("\n\n")[0] + "\n\n",  # no signature lines
        lambda n: n.replace("\u2014 ", "- "),  # hyphen instead of em dash
        lambda n: n.replace("\n42\n", "\n42\r\n"),  # control character
        lambda n: n.replace(" ", "  ", 1),  # extra space in signature line
        lambda n: n[:-3] + "!=\n",  # signature is not base64
    ],
    ids=["no-newline", "no-blank", "no-signature", "hyphen", "control", "spacing", "base64"],
)
def test_malformed_notes_are_rejected(mangle: Callable[[str], str]) -> None:
    with pytest.raises(CheckpointError):
        parse_and_verify(mangle(_note()), ORIGIN, PUBLIC)


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n",  # leading zero
        f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n{2**64}\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n",  # short root
        f"{ORIGIN}\n42\n",  # missing root
        f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n\nextension\n",  # empty line
    ],
    ids=["leading-zero", "negative", "too-big", "short-root", "no-root", "empty-line"],
)
def test_signed_but_malformed_bodies_are_rejected(body: str) -> None:
    note = body + "\n" + SIGNER.signature_line(body)
    with pytest.raises(CheckpointError):
        parse_and_verify(note, ORIGIN, PUBLIC)


def test_extension_lines_are_kept() -> None:
    body = checkpoint_body(ORIGIN, 7, ROOT) + "timestamp 1700000000\n"
    checkpoint = parse_and_verify(body + "\n" + SIGNER.signature_line(body), ORIGIN, PUBLIC)
    assert checkpoint.extensions == ("timestamp 1700000000",)


def test_signing_refuses_bad_inputs() -> None:
    with pytest.raises(ValueError):
        Signer("has space", Ed25519PrivateKey.generate())
    with pytest.raises(ValueError):
        Signer("has+plus", Ed25519PrivateKey.generate())
    with pytest.raises(ValueError):
        sign_checkpoint(SIGNER, "two\nlines", 1, ROOT)
    with pytest.raises(ValueError):
        sign_checkpoint(SIGNER, ORIGIN, -1, ROOT)
    with pytest.raises(ValueError):
        sign_checkpoint(SIGNER, ORIGIN, 1, ROOT[:16])


def test_verifier_key_with_wrong_id_is_rejected() -> None:
    with pytest.raises(CheckpointError):
        parse_vkey(GO_VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(CheckpointError):
        parse_vkey("PeterNeumann+c74f20a3")


def test_key_file_is_created_private_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "ledger.pem"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert load_or_create_key(path).public_key().public_bytes_raw() == (
        key.public_key().public_bytes_raw()
    )
    assert [p.name for p in path.parent.iterdir()] == ["ledger.pem"]  # no temp file left


def test_key_file_of_another_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="Ed25519"):
        load_or_create_key(path)
