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
    Cosigner,
    Signer,
    checkpoint_body,
    cosignatures_in,
    key_hash,
    load_or_create_key,
    note_body,
    parse_and_verify,
    parse_vkey,
    parse_witness_vkey,
    sign_checkpoint,
    signature_lines,
    verify_cosignature,
    verify_note,
    vkey_string,
    witness_vkey,
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


# Verifier keys published by other implementations (transparency-dev/formats tests): a
# witness's Ed25519 cosignature key (type 0x04), and a note key whose base64 holds a '+'.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
WITNESS = Cosigner("witness.example/w1", Ed25519PrivateKey.from_private_bytes(bytes(32)))
TIME = 1_679_315_147  # the timestamp of the tlog-cosignature spec's example


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


# --- witness cosignatures (C2SP tlog-cosignature v1.0.0) ------------------------------------


def test_witness_vkeys_of_other_implementations_parse() -> None:
    name, key = parse_witness_vkey(REMORA_VKEY)
    assert name == "remora.n621.de" and len(key) == 32
    assert key_hash(name, key, b"\x04").hex() == "da77ade7"
    assert witness_vkey(name, key) == REMORA_VKEY
    assert vkey_string(*parse_vkey(PLUS_VKEY)) == PLUS_VKEY
    with pytest.raises(CheckpointError, match="type 0x04"):
        parse_witness_vkey(PLUS_VKEY)  # a note key is not a cosignature key
    with pytest.raises(CheckpointError, match="not an Ed25519 key"):
        parse_vkey(REMORA_VKEY)
    with pytest.raises(CheckpointError, match="key ID"):
        parse_witness_vkey(REMORA_VKEY.replace("da77ade7", "da77ade8"))


def test_witness_vkey_layout() -> None:
    name, id_hex, encoded = WITNESS.vkey.split("+", 2)
    raw = base64.b64decode(encoded)
    assert (name, raw) == ("witness.example/w1", b"\x04" + WITNESS.public_key)
    expected_id = hashlib.sha256(b"witness.example/w1\n\x04" + WITNESS.public_key).digest()[:4]
    assert id_hex == expected_id.hex()
    assert parse_witness_vkey(WITNESS.vkey) == (WITNESS.name, WITNESS.public_key)


def test_cosignature_line_follows_the_spec_byte_for_byte() -> None:
    body = checkpoint_body(ORIGIN, 42, ROOT)
    line = WITNESS.cosign(body, TIME)
    prefix, encoded = line.rsplit(" ", 1)
    assert prefix == "\u2014 witness.example/w1" and "\n" not in line
    blob = base64.b64decode(encoded, validate=True)
    key_id = hashlib.sha256(b"witness.example/w1\n\x04" + WITNESS.public_key).digest()[:4]
    assert blob[:4] == key_id
    assert blob[4:12] == TIME.to_bytes(8, "big")
    message = f"cosignature/v1\ntime {TIME}\n{body}".encode()
    Ed25519PublicKey.from_public_bytes(WITNESS.public_key).verify(blob[12:], message)
    assert verify_cosignature(line, body, WITNESS.name, WITNESS.public_key) == TIME


def test_a_cosigned_note_stays_a_valid_signed_note() -> None:
    note = _note()
    body = note_body(note)
    assert body == checkpoint_body(ORIGIN, 42, ROOT)
    cosigned = note + WITNESS.cosign(body, TIME) + "\n"
    # The log's own verification ignores the witness line, as signed-note verifiers must.
    assert parse_and_verify(cosigned, ORIGIN, PUBLIC).tree_size == 42
    assert len(signature_lines(cosigned)) == 2
    assert cosignatures_in(cosigned, {WITNESS.name: WITNESS.public_key}) == {WITNESS.name: TIME}


@pytest.mark.parametrize(
    "forge",
    [
        lambda line, body: (line, body.replace("\n42\n", "\n43\n")),  # another tree size
        lambda line, body: (line, body + "extension\n"),  # extension lines are covered
        lambda line, body: (_retimed(line, TIME + 1), body),  # the time is signed
        lambda line, body: (line.replace("witness.example/w1", "other.example/w1"), body),
        lambda line, body: (line[:-6] + "AAAA==", body),  # a damaged signature
    ],
    ids=["size", "extension", "time", "name", "signature"],
)
def test_forged_cosignatures_fail(forge: Callable[[str, str], tuple[str, str]]) -> None:
    body = checkpoint_body(ORIGIN, 42, ROOT)
    line, checked = forge(WITNESS.cosign(body, TIME), body)
    with pytest.raises(CheckpointError):
        verify_cosignature(line, checked, WITNESS.name, WITNESS.public_key)


def _retimed(line: str, timestamp: int) -> str:
    prefix, encoded = line.rsplit(" ", 1)
    blob = base64.b64decode(encoded)
    retimed = blob[:4] + timestamp.to_bytes(8, "big") + blob[12:]
    return f"{prefix} {base64.b64encode(retimed).decode()}"


def test_a_cosignature_by_another_key_under_the_same_name_fails() -> None:
    body = checkpoint_body(ORIGIN, 42, ROOT)
    impostor = Cosigner(WITNESS.name, Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointError, match="not by the known key"):
        verify_cosignature(impostor.cosign(body, TIME), body, WITNESS.name, WITNESS.public_key)


def test_an_impossible_time_is_refused() -> None:
    body = checkpoint_body(ORIGIN, 42, ROOT)
    with pytest.raises(ValueError, match="out of range"):
        WITNESS.cosign(body, 2**63)
    with pytest.raises(ValueError, match="out of range"):
        WITNESS.cosign(body, 0)
    line = _retimed(WITNESS.cosign(body, TIME), 2**63)
    with pytest.raises(CheckpointError, match="impossible time"):
        verify_cosignature(line, body, WITNESS.name, WITNESS.public_key)


def test_cosigning_refuses_what_is_not_a_checkpoint_body() -> None:
    with pytest.raises(ValueError, match="checkpoint body"):
        WITNESS.cosign(_note(), TIME)  # a whole note, signatures and all
    with pytest.raises(ValueError, match="checkpoint body"):
        WITNESS.cosign("no final newline", TIME)


def test_cosignatures_in_counts_only_valid_lines_of_known_witnesses() -> None:
    note = _note()
    body = note_body(note)
    other = Cosigner("forum-warga", Ed25519PrivateKey.generate())
    stranger = Cosigner("stranger", Ed25519PrivateKey.generate())
    impostor = Cosigner(WITNESS.name, Ed25519PrivateKey.generate())
    lines = [
        impostor.cosign(body, TIME - 5),  # the known name, another key: skipped
        WITNESS.cosign(body, TIME),
        stranger.cosign(body, TIME),  # unknown witness: ignored
        other.cosign(checkpoint_body(ORIGIN, 41, ROOT), TIME),  # over another checkpoint
    ]
    cosigned = note + "".join(f"{line}\n" for line in lines)
    known = {WITNESS.name: WITNESS.public_key, other.name: other.public_key}
    assert cosignatures_in(cosigned, known) == {WITNESS.name: TIME}
