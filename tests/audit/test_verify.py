"""`bansos verify` (shared/verify.py) against an in-memory audit server that can lie.

The fake server keeps two things apart: the entries it serves (which a test may tamper
with) and the leaves its checkpoint and proofs are computed from (the tree it signed).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

import shared.verify
from shared.checkpoint import Signer, sign_checkpoint
from shared.events import Envelope, EventPayload, canonical_json, registry
from shared.merkle import (
    consistency_proof_from_leaves,
    inclusion_proof_from_leaves,
    leaf_hash,
    root_from_leaf_hashes,
)
from shared.verify import (
    Report,
    VerificationError,
    load_state,
    save_state,
    verify_command,
    verify_ledger,
)

ORIGIN = "bansos.tanjungbarat.example/ledger"
KEY_NAME = "bansos-audit"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def payload(i: int) -> EventPayload:
    """A rotation of real registry payloads; masked NIK keeps the non-ASCII bullet."""
    if i % 3 == 0:
        return registry.HouseholdUpdated(monthly_income_idr=1_200_000 + i, changed=("income",))
    if i % 3 == 1:
        return registry.EligibilityDecided(
            eligible=i % 2 == 0,
            reasons=("desil 1",),
            rt="005",
            rw="03",
            head_nik_masked="3174••••••••0001",
            policy_version="2025.1",
        )
    return registry.HouseholdDeactivated(reason="moved")


def event_leaf(seq: int, actor: str = "operator.siti") -> bytes:
    envelope = Envelope.wrap(
        payload(seq), aggregate_id=uuid4(), aggregate_version=1, actor=actor, occurred_at=T0
    )
    return canonical_json(
        {"stream_seq": seq, "subject": envelope.subject, "event": envelope.to_json()}
    )


def unparseable_leaf(seq: int, raw: bytes = b"\xff not json {") -> bytes:
    return canonical_json(
        {
            "stream_seq": seq,
            "subject": "bansos.registry.household_registered",
            "unparseable": True,
            "raw_base64": b64(raw),
        }
    )


def ledger_leaves(seqs: range | list[int]) -> list[bytes]:
    return [event_leaf(seq) for seq in seqs]


def entry_for(index: int, data: bytes) -> dict[str, Any]:
    leaf = json.loads(data)
    return {
        "index": index,
        "stream_seq": leaf["stream_seq"],
        "subject": leaf["subject"],
        "event": leaf.get("event"),
        "leaf_data": b64(data),
        "leaf_hash": b64(leaf_hash(data)),
    }


@dataclass
class FakeAuditServer:
    """The audit service's public ledger API over a MockTransport."""

    signer: Signer
    entries: list[dict[str, Any]] = field(default_factory=list)  # what it serves
    signed: list[bytes] = field(default_factory=list)  # leaf hashes it signs and proves
    note: str | None = None  # a test may serve a forged note instead
    served_key: bytes | None = None
    page_cap: int = 1000
    entries_served: int = 0
    consistency_override: list[str] | None = None
    origin: str = ORIGIN
    honour_limit: bool = True  # a sloppy server may send a full page whatever was asked

    def append(self, leaves: list[bytes]) -> None:
        for data in leaves:
            self.entries.append(entry_for(len(self.entries), data))
            self.signed.append(leaf_hash(data))

    def checkpoint(self) -> str:
        if self.note is not None:
            return self.note
        root = root_from_leaf_hashes(self.signed)
        return sign_checkpoint(self.signer, self.origin, len(self.signed), root)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path, request.url.params
        if path == "/ledger/public-key":
            key = self.served_key or self.signer.public_key
            return httpx.Response(
                200, json={"key_name": KEY_NAME, "algorithm": "ed25519", "public_key": b64(key)}
            )
        if path == "/ledger/checkpoint":
            return httpx.Response(200, text=self.checkpoint())
        if path == "/ledger/checkpoint.json":
            size, root = len(self.signed), b64(root_from_leaf_hashes(self.signed))
            return httpx.Response(
                200,
                json={
                    "origin": self.origin,
                    "tree_size": size,
                    "root_hash": root,
                    "note": self.checkpoint(),
                },
            )
        if path == "/ledger/entries":
            start, limit = int(q["start"]), self.page_cap
            if self.honour_limit:
                limit = min(int(q["limit"]), limit)
            page = [e for e in self.entries if e["index"] >= start][:limit]
            self.entries_served += len(page)
            last = page[-1]["index"] + 1 if page else None
            return httpx.Response(200, json={"entries": page, "next": last})
        if match := re.fullmatch(r"/ledger/entries/(\d+)/proof", path):
            index, size = int(match[1]), int(q["tree_size"])
            path_hashes = inclusion_proof_from_leaves(index, self.signed[:size])
            return httpx.Response(
                200,
                json={
                    "index": index,
                    "tree_size": size,
                    "leaf_hash": b64(self.signed[index]),
                    "root_hash": b64(root_from_leaf_hashes(self.signed[:size])),
                    "hashes": [b64(h) for h in path_hashes],
                },
            )
        if path == "/ledger/consistency":
            first, second = int(q["first"]), int(q["second"])
            if not 0 < first <= second <= len(self.signed):
                return httpx.Response(400, json={"detail": "bad sizes"})
            proof = [b64(h) for h in consistency_proof_from_leaves(first, self.signed[:second])]
            served = self.consistency_override if self.consistency_override is not None else proof
            return httpx.Response(200, json={"first": first, "second": second, "hashes": served})
        return httpx.Response(404, json={"detail": "not found"})

    def client(self) -> httpx.Client:
        return httpx.Client(
            transport=httpx.MockTransport(self.handle), base_url="http://audit.test"
        )


@pytest.fixture
def signer() -> Signer:
    return Signer(KEY_NAME, Ed25519PrivateKey.generate())


def server_with(signer: Signer, leaves: list[bytes]) -> FakeAuditServer:
    server = FakeAuditServer(signer)
    server.append(leaves)
    return server


def verify(server: FakeAuditServer, **kwargs: Any) -> Report:
    kwargs.setdefault("public_key", server.signer.public_key)
    kwargs.setdefault("page_size", 50)
    with server.client() as client:
        return verify_ledger(client, **kwargs)


def fails(server: FakeAuditServer, **kwargs: Any) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        verify(server, **kwargs)
    return info.value


@pytest.fixture(scope="module")
def leaves300() -> list[bytes]:
    return ledger_leaves(range(1, 301))


def test_clean_ledger_verifies_page_by_page(signer: Signer, leaves300: list[bytes]) -> None:
    server = server_with(signer, leaves300)
    seen: list[tuple[int, int]] = []
    report = verify(server, progress=lambda done, total: seen.append((done, total)))
    assert report.tree_size == report.entries_checked == 300
    assert report.root_hash == root_from_leaf_hashes([leaf_hash(d) for d in leaves300])
    assert (report.origin, report.key_name, report.consistency_from) == (ORIGIN, KEY_NAME, None)
    assert seen[0] == (50, 300) and seen[-1] == (300, 300) and len(seen) == 6


def test_server_capping_pages_lower_still_verifies(signer: Signer, leaves300: list[bytes]) -> None:
    server = server_with(signer, leaves300[:120])
    server.page_cap = 7
    assert verify(server, page_size=1000).tree_size == 120


def test_empty_ledger_verifies(signer: Signer) -> None:
    assert verify(server_with(signer, [])).tree_size == 0


def test_one_changed_byte_in_leaf_data_names_the_index(
    signer: Signer, leaves300: list[bytes]
) -> None:
    server = server_with(signer, leaves300)
    data = bytearray(base64.b64decode(server.entries[137]["leaf_data"]))
    data[len(data) // 2] ^= 0x01
    server.entries[137]["leaf_data"] = b64(bytes(data))
    error = fails(server)
    assert (error.index, error.reason) == (137, "leaf_hash does not match leaf_data")
    assert str(error) == "index 137: leaf_hash does not match leaf_data"


@pytest.mark.parametrize("index", [0, 1, 137, 255, 256, 299])
def test_consistently_rewritten_leaf_is_found_by_bisection(
    signer: Signer, leaves300: list[bytes], index: int
) -> None:
    server = server_with(signer, leaves300)
    # Leaf data and hash agree; only the signed tree and the proofs know the original.
    event = dict(server.entries[index]["event"], actor="admin")
    leaf = {"stream_seq": index + 1, "subject": server.entries[index]["subject"], "event": event}
    server.entries[index] = entry_for(index, canonical_json(leaf))
    error = fails(server)
    assert (error.index, error.reason) == (index, "leaf does not belong to the signed tree")
    # The bisection resumes from the last good prefix instead of re-reading from 0.
    assert server.entries_served <= 2 * 300


def test_deleted_middle_entry_is_a_gap(signer: Signer, leaves300: list[bytes]) -> None:
    server = server_with(signer, leaves300)
    del server.entries[150]
    error = fails(server)
    assert (error.index, error.reason) == (150, "missing entry (gap in the ledger)")


def test_truncated_entries_are_a_gap(signer: Signer, leaves300: list[bytes]) -> None:
    server = server_with(signer, leaves300)
    del server.entries[290:]
    assert fails(server).index == 290


def test_stream_seq_jump_is_a_gap(signer: Signer) -> None:
    # A message missing from the ledger although the tree itself is well formed and signed.
    server = server_with(signer, ledger_leaves([*range(1, 101), *range(102, 151)]))
    error = fails(server)
    assert (error.index, error.reason) == (100, "gap in stream_seq: 100 then 102")


@pytest.mark.parametrize(
    ("field_name", "value", "reason"),
    [
        ("stream_seq", 999, "leaf_data disagrees with the entry's stream_seq"),
        ("subject", "bansos.registry.member_added", "leaf_data disagrees with the entry's subject"),
        ("event", None, "leaf_data disagrees with the entry's event"),
    ],
)
def test_entry_fields_must_match_the_hashed_leaf(
    signer: Signer, field_name: str, value: Any, reason: str
) -> None:
    server = server_with(signer, ledger_leaves(range(1, 21)))
    server.entries[9][field_name] = value
    error = fails(server)
    assert (error.index, error.reason) == (9, reason)


def test_non_canonical_leaf_data_is_rejected(signer: Signer) -> None:
    canonical = event_leaf(1)
    spaced = json.dumps(json.loads(canonical), indent=1).encode()
    server = server_with(signer, [spaced])
    assert fails(server).reason == "leaf_data is not a canonical JSON object"


def test_unparseable_message_leaf_verifies(signer: Signer) -> None:
    leaves = [event_leaf(1), unparseable_leaf(2), event_leaf(3)]
    server = server_with(signer, leaves)
    assert server.entries[1]["event"] is None
    assert verify(server).tree_size == 3


def test_bad_checkpoint_signature_fails(signer: Signer, leaves300: list[bytes]) -> None:
    server = server_with(signer, leaves300[:10])
    body, signature = server.checkpoint().rsplit(" ", 1)
    blob = bytearray(base64.b64decode(signature))
    blob[-1] ^= 0x01
    server.note = f"{body} {b64(bytes(blob))}\n"
    error = fails(server)
    assert error.index is None and "signature" in error.reason


def test_checkpoint_signed_by_another_key_fails(signer: Signer, leaves300: list[bytes]) -> None:
    server = server_with(signer, leaves300[:10])
    other = Signer(KEY_NAME, Ed25519PrivateKey.generate())
    server.note = sign_checkpoint(other, ORIGIN, 10, root_from_leaf_hashes(server.signed))
    assert "checkpoint" in fails(server).reason


def test_pinned_key_differs_fails(signer: Signer, leaves300: list[bytes]) -> None:
    server = server_with(signer, leaves300[:10])
    other = Signer(KEY_NAME, Ed25519PrivateKey.generate()).public_key
    error = fails(server, public_key=other)
    assert error.reason == "the served public key differs from the pinned one"


def test_without_pinned_key_the_served_key_is_trusted(
    signer: Signer, leaves300: list[bytes]
) -> None:
    assert verify(server_with(signer, leaves300[:10]), public_key=None).tree_size == 10


def run_and_save(server: FakeAuditServer, path: Path, **kwargs: Any) -> Report:
    report = verify(server, state=load_state(path), **kwargs)
    save_state(path, report, report.note, report.key_name, report.public_key)
    return report


def test_state_file_then_growth_checks_consistency(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    assert load_state(path) is None
    server = server_with(signer, leaves300[:100])
    first = run_and_save(server, path, public_key=None)
    stored = load_state(path)
    assert stored is not None
    assert stored["tree_size"] == 100 and stored["root_hash"] == b64(first.root_hash)
    assert stored["public_key"] == b64(signer.public_key) and stored["note"] == first.note
    server.append(leaves300[100:])
    second = run_and_save(server, path, public_key=None)
    assert (second.tree_size, second.consistency_from) == (300, 100)
    assert load_state(path) == {
        **stored,
        "tree_size": 300,
        "root_hash": b64(second.root_hash),
        "note": second.note,
    }


def test_unchanged_log_is_consistent_with_itself(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = server_with(signer, leaves300[:50])
    first = run_and_save(server, path)
    again = run_and_save(server, path)
    assert (again.root_hash, again.consistency_from) == (first.root_hash, 50)


def test_checkpoint_of_another_log_with_old_state_fails(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    run_and_save(server_with(signer, leaves300[:50]), path)
    other = server_with(signer, leaves300[:60])
    other.origin = "bansos.elsewhere.example/ledger"
    assert "origin" in fails(other, state=load_state(path)).reason


def test_pages_longer_than_asked_do_not_overshoot(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = server_with(signer, leaves300[:100])
    run_and_save(server, path)
    server.append(leaves300[100:])
    server.honour_limit = False
    assert run_and_save(server, path).consistency_from == 100
    server.entries[200] = entry_for(200, event_leaf(201, actor="admin"))
    assert fails(server).index == 200


def test_rewritten_log_with_old_state_fails(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    run_and_save(server_with(signer, leaves300[:100]), path)
    rewritten = [*leaves300[:40], event_leaf(41, actor="admin"), *leaves300[41:120]]
    server = server_with(signer, rewritten)  # a fresh, well-formed tree, re-signed
    assert verify(server).tree_size == 120  # fine on its own; only the memory catches it
    error = fails(server, state=load_state(path))
    assert error.reason == "the log was rewritten since the checkpoint you trusted (size 100)"


def test_shrunk_log_with_old_state_fails(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    run_and_save(server_with(signer, leaves300[:100]), path)
    error = fails(server_with(signer, leaves300[:60]), state=load_state(path))
    assert "rewritten" in error.reason and "only 60 entries" in error.reason


def test_bogus_consistency_proof_from_the_server_fails(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = server_with(signer, leaves300[:100])
    run_and_save(server, path)
    server.append(leaves300[100:130])
    server.consistency_override = [b64(bytes(32))]
    assert "rewritten" in fails(server, state=load_state(path)).reason


def test_state_pins_the_key_for_later_runs(
    signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = server_with(signer, leaves300[:10])
    run_and_save(server, path, public_key=None)
    impostor = Signer(KEY_NAME, Ed25519PrivateKey.generate())
    server.signer, server.served_key = impostor, impostor.public_key
    error = fails(server, public_key=None, state=load_state(path))
    assert "public key differs" in error.reason


def test_damaged_state_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "trusted.json"
    path.write_text('{"tree_size": "ten"}')
    with pytest.raises(ValueError, match="not a verifier state file"):
        load_state(path)


# --- the `bansos verify` command -------------------------------------------------------------

cli = typer.Typer()
cli.command("verify")(verify_command)


@cli.callback()
def _group() -> None:
    """Keep `verify` a subcommand, as in the real `bansos` app."""


def invoke(monkeypatch: pytest.MonkeyPatch, server: FakeAuditServer, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(shared.verify, "make_client", lambda url: server.client())
    result = CliRunner().invoke(cli, ["verify", "--url", "http://audit.test", *args])
    return result.exit_code, result.output


def test_command_succeeds_and_saves_state(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves300: list[bytes], tmp_path: Path
) -> None:
    server = server_with(signer, leaves300[:80])
    path = tmp_path / "trusted.json"
    code, output = invoke(monkeypatch, server, "--state", str(path))
    assert code == 0, output
    root = b64(root_from_leaf_hashes(server.signed))
    assert "80 entries" in output and root in output and KEY_NAME in output
    assert "TOFU" in output and "no consistency proof" in output
    server.append(leaves300[80:90])
    pin = b64(signer.public_key)
    code, output = invoke(monkeypatch, server, "--state", str(path), "--public-key", pin)
    assert code == 0, output
    assert "TOFU" not in output and "size 80" in output
    stored = load_state(path)
    assert stored is not None and stored["tree_size"] == 90


def test_command_fails_on_a_tampered_leaf(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves300: list[bytes]
) -> None:
    server = server_with(signer, leaves300[:80])
    server.entries[42]["leaf_data"] = b64(b"{}")
    code, output = invoke(monkeypatch, server, "--public-key", b64(signer.public_key))
    assert code == 1
    assert "FAILED at index 42: leaf_hash does not match leaf_data" in output


def test_command_exits_2_when_the_server_errs(
    monkeypatch: pytest.MonkeyPatch, signer: Signer
) -> None:
    server = server_with(signer, [])
    server.handle = lambda request: httpx.Response(503)  # type: ignore[method-assign]
    code, output = invoke(monkeypatch, server)
    assert code == 2 and "cannot read the ledger" in output


def test_command_exits_2_when_the_server_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, signer: Signer
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = server_with(signer, [])
    server.handle = refuse  # type: ignore[method-assign]
    code, output = invoke(monkeypatch, server)
    assert code == 2 and "connection refused" in output


def test_command_exits_2_on_a_malformed_pinned_key(
    monkeypatch: pytest.MonkeyPatch, signer: Signer
) -> None:
    code, output = invoke(monkeypatch, server_with(signer, []), "--public-key", "c2hvcnQ=")
    assert code == 2 and "32-byte Ed25519 key" in output
