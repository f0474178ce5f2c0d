"""`bansos verify` (shared/verify.py) against an in-memory audit server that can lie
(tests/audit/fake_ledger.py): the tree, the signed checkpoint and the saved state."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

import shared.verify
from shared.checkpoint import Signer, sign_checkpoint
from shared.events import canonical_json, public_view, unparseable_view
from shared.merkle import leaf_hash, root_from_leaf_hashes
from shared.verify import (
    Report,
    VerificationError,
    load_state,
    save_state,
    verify_command,
    verify_ledger,
)
from tests.audit.fake_ledger import (
    AUDITOR_TOKEN,
    KEY_NAME,
    ORIGIN,
    OTHER_TOKEN,
    FakeLedger,
    Leaf,
    Opening,
    b64,
    entry_for,
    envelope,
    event_leaf,
    fake_with,
    ledger_leaves,
    make_leaf,
    raw_leaf,
)


@pytest.fixture
def signer() -> Signer:
    return Signer(KEY_NAME, Ed25519PrivateKey.generate())


def verify(server: FakeLedger, **kwargs: Any) -> Report:
    kwargs.setdefault("public_key", server.signer.public_key)
    kwargs.setdefault("page_size", 50)
    with server.client() as client:
        return verify_ledger(client, **kwargs)


def fails(server: FakeLedger, **kwargs: Any) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        verify(server, **kwargs)
    return info.value


def leaf_json(server: FakeLedger, index: int) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(base64.b64decode(server.entries[index]["leaf_data"]))
    return loaded


def serve_leaf(server: FakeLedger, index: int, leaf: dict[str, Any]) -> None:
    """Serve other leaf bytes at ``index`` (entry and hash agree; the signed tree does not)."""
    server.entries[index] = entry_for(index, canonical_json(leaf))


@pytest.fixture(scope="module")
def leaves300() -> list[Leaf]:
    return ledger_leaves(range(1, 301))


def test_clean_ledger_verifies_page_by_page(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300)
    seen: list[tuple[int, int]] = []
    report = verify(server, progress=lambda done, total: seen.append((done, total)))
    assert report.tree_size == report.entries_checked == 300
    assert report.root_hash == root_from_leaf_hashes([leaf_hash(x.data) for x in leaves300])
    assert (report.origin, report.key_name, report.consistency_from) == (ORIGIN, KEY_NAME, None)
    assert seen[0] == (50, 300) and seen[-1] == (300, 300) and len(seen) == 6
    assert report.sealed_opened is None and report.cosigned_by == ()


def test_entries_show_public_views_only(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300[:3])
    leaf = leaf_json(server, 0)  # stream_seq 1: an eligibility decision
    assert set(leaf) == {"public", "sealed", "stream_seq", "subject"}
    assert leaf["public"]["type"] == "registry.eligibility_decided"
    assert leaf["public"]["day"] == "2025-03-01" and "operator.siti" not in str(leaf)
    assert verify(server).tree_size == 3


def test_server_capping_pages_lower_still_verifies(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300[:120])
    server.page_cap = 7
    assert verify(server, page_size=1000).tree_size == 120


def test_empty_ledger_verifies(signer: Signer) -> None:
    assert verify(fake_with(signer, [])).tree_size == 0


def test_one_changed_byte_in_leaf_data_names_the_index(
    signer: Signer, leaves300: list[Leaf]
) -> None:
    server = fake_with(signer, leaves300)
    data = bytearray(base64.b64decode(server.entries[137]["leaf_data"]))
    data[len(data) // 2] ^= 0x01
    server.entries[137]["leaf_data"] = b64(bytes(data))
    error = fails(server)
    assert (error.index, error.reason) == (137, "leaf_hash does not match leaf_data")
    assert str(error) == "index 137: leaf_hash does not match leaf_data"


@pytest.mark.parametrize("index", [0, 1, 137, 255, 256, 299])
def test_consistently_rewritten_public_view_is_found_by_bisection(
    signer: Signer, leaves300: list[Leaf], index: int
) -> None:
    server = fake_with(signer, leaves300)
    # Leaf data and hash agree; only the signed tree and the proofs know the original.
    leaf = leaf_json(server, index)
    serve_leaf(server, index, {**leaf, "public": {**leaf["public"], "actor_role": "admin"}})
    error = fails(server)
    assert (error.index, error.reason) == (index, "leaf does not belong to the signed tree")
    # The bisection resumes from the last good prefix instead of re-reading from 0.
    assert server.entries_served <= 2 * 300


def test_consistently_rewritten_sealed_hash_is_found(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300)
    serve_leaf(server, 42, {**leaf_json(server, 42), "sealed": "0" * 64})
    error = fails(server)
    assert (error.index, error.reason) == (42, "leaf does not belong to the signed tree")


@pytest.mark.parametrize(
    ("field_name", "value", "reason"),
    [
        ("stream_seq", 999, "leaf_data disagrees with the entry's stream_seq"),
        ("subject", "bansos.registry.member_added", "leaf_data disagrees with the entry's subject"),
        ("sealed", "ab" * 32, "leaf_data disagrees with the entry's sealed"),
        (
            "public",
            {"type": "registry.member_added"},
            "leaf_data disagrees with the entry's public view",
        ),
        ("public", None, "leaf_data disagrees with the entry's public view"),
    ],
)
def test_entry_fields_must_match_the_hashed_leaf(
    signer: Signer, leaves300: list[Leaf], field_name: str, value: Any, reason: str
) -> None:
    server = fake_with(signer, leaves300[:20])
    server.entries[9][field_name] = value
    error = fails(server)
    assert (error.index, error.reason) == (9, reason)


def test_a_tampered_public_view_beside_the_leaf_is_named(
    signer: Signer, leaves300: list[Leaf]
) -> None:
    # The entry says RW 09 while the hashed leaf says otherwise: the served view is a lie.
    server = fake_with(signer, leaves300[:20])
    server.entries[4]["public"] = {**server.entries[4]["public"], "rw": "09"}
    assert fails(server).index == 4


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda leaf: {**leaf, "event": {}}, "leaf_data must hold exactly"),
        (lambda leaf: {k: v for k, v in leaf.items() if k != "sealed"}, "must hold exactly"),
        (lambda leaf: {**leaf, "sealed": leaf["sealed"].upper()}, "64 lowercase hex"),
        (lambda leaf: {**leaf, "sealed": leaf["sealed"][:63]}, "64 lowercase hex"),
        (lambda leaf: {**leaf, "public": ["type"]}, "public view is not an object"),
        (lambda leaf: {**leaf, "stream_seq": "1"}, "wrong type"),
    ],
    ids=["extra-key", "missing-key", "uppercase", "short", "public-list", "seq-string"],
)
def test_malformed_v2_leaves_are_rejected(
    signer: Signer, leaves300: list[Leaf], change: Any, reason: str
) -> None:
    data = canonical_json(change(json.loads(leaves300[0].data)))
    server = fake_with(signer, [Leaf(data, leaves300[0].opening)])
    error = fails(server)
    assert error.index == 0 and reason in error.reason


def test_a_v1_leaf_is_not_a_v2_leaf(signer: Signer) -> None:
    v1 = canonical_json({"event": {"type": "x"}, "stream_seq": 1, "subject": "bansos.x"})
    server = fake_with(signer, [Leaf(v1, raw_leaf(1).opening)])
    assert "must hold exactly" in fails(server).reason


def test_non_canonical_leaf_data_is_rejected(signer: Signer) -> None:
    leaf = event_leaf(1)
    spaced = json.dumps(json.loads(leaf.data), indent=1).encode()
    server = fake_with(signer, [Leaf(spaced, leaf.opening)])
    assert fails(server).reason == "leaf_data is not a canonical JSON object"


def test_deleted_middle_entry_is_a_gap(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300)
    del server.entries[150]
    error = fails(server)
    assert (error.index, error.reason) == (150, "missing entry (gap in the ledger)")


def test_truncated_entries_are_a_gap(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300)
    del server.entries[290:]
    assert fails(server).index == 290


def test_stream_seq_jump_is_a_gap(signer: Signer) -> None:
    # A message missing from the ledger although the tree itself is well formed and signed.
    server = fake_with(signer, ledger_leaves([*range(1, 101), *range(102, 151)]))
    error = fails(server)
    assert (error.index, error.reason) == (100, "gap in stream_seq: 100 then 102")


def test_unparseable_message_leaf_verifies(signer: Signer) -> None:
    server = fake_with(signer, [event_leaf(1), raw_leaf(2), event_leaf(3)])
    assert server.entries[1]["public"] == {"unparseable": True, "size": 12}
    assert verify(server).tree_size == 3


def test_bad_checkpoint_signature_fails(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300[:10])
    body, signature = server.sign().rsplit(" ", 1)
    blob = bytearray(base64.b64decode(signature))
    blob[-1] ^= 0x01
    server.note = f"{body} {b64(bytes(blob))}\n"
    error = fails(server)
    assert error.index is None and "signature" in error.reason


def test_checkpoint_signed_by_another_key_fails(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300[:10])
    other = Signer(KEY_NAME, Ed25519PrivateKey.generate())
    server.note = sign_checkpoint(other, ORIGIN, 10, root_from_leaf_hashes(server.signed))
    assert "checkpoint" in fails(server).reason


def test_pinned_key_differs_fails(signer: Signer, leaves300: list[Leaf]) -> None:
    server = fake_with(signer, leaves300[:10])
    other = Signer(KEY_NAME, Ed25519PrivateKey.generate()).public_key
    error = fails(server, public_key=other)
    assert error.reason == "the served public key differs from the pinned one"


def test_without_pinned_key_the_served_key_is_trusted(
    signer: Signer, leaves300: list[Leaf]
) -> None:
    assert verify(fake_with(signer, leaves300[:10]), public_key=None).tree_size == 10


def run_and_save(server: FakeLedger, path: Path, **kwargs: Any) -> Report:
    report = verify(server, state=load_state(path), **kwargs)
    save_state(path, report, report.note, report.key_name, report.public_key)
    return report


def test_state_file_then_growth_checks_consistency(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    assert load_state(path) is None
    server = fake_with(signer, leaves300[:100])
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
    assert [p.name for p in tmp_path.iterdir()] == ["trusted.json"]  # no temp file left


def test_unchanged_log_is_consistent_with_itself(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = fake_with(signer, leaves300[:50])
    first = run_and_save(server, path)
    again = run_and_save(server, path)
    assert (again.root_hash, again.consistency_from) == (first.root_hash, 50)


def test_checkpoint_of_another_log_with_old_state_fails(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    run_and_save(fake_with(signer, leaves300[:50]), path)
    other = fake_with(signer, leaves300[:60], origin="bansos.elsewhere.example/ledger")
    assert "origin" in fails(other, state=load_state(path)).reason


def test_pages_longer_than_asked_do_not_overshoot(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = fake_with(signer, leaves300[:100])
    run_and_save(server, path)
    server.append(leaves300[100:])
    server.honour_limit = False
    assert run_and_save(server, path).consistency_from == 100
    server.entries[200] = entry_for(200, event_leaf(201, actor="admin").data)
    assert fails(server).index == 200


def test_rewritten_log_with_old_state_fails(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    run_and_save(fake_with(signer, leaves300[:100]), path)
    rewritten = [*leaves300[:40], event_leaf(41, actor="admin"), *leaves300[41:120]]
    server = fake_with(signer, rewritten)  # a fresh, well-formed tree, re-signed
    assert verify(server).tree_size == 120  # fine on its own; only the memory catches it
    error = fails(server, state=load_state(path))
    assert error.reason == "the log was rewritten since the checkpoint you trusted (size 100)"


def test_shrunk_log_with_old_state_fails(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    run_and_save(fake_with(signer, leaves300[:100]), path)
    error = fails(fake_with(signer, leaves300[:60]), state=load_state(path))
    assert "rewritten" in error.reason and "only 60 entries" in error.reason


def test_bogus_consistency_proof_from_the_server_fails(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = fake_with(signer, leaves300[:100])
    run_and_save(server, path)
    server.append(leaves300[100:130])
    server.consistency_override = [b64(bytes(32))]
    assert "rewritten" in fails(server, state=load_state(path)).reason


def test_state_pins_the_key_for_later_runs(
    signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    server = fake_with(signer, leaves300[:10])
    run_and_save(server, path, public_key=None)
    impostor = Signer(KEY_NAME, Ed25519PrivateKey.generate())
    server.signer, server.served_key = impostor, impostor.public_key
    server.checkpoints.clear()
    error = fails(server, public_key=None, state=load_state(path))
    assert "public key differs" in error.reason


@pytest.mark.parametrize("text", ['{"tree_size": "ten"}', "not json", "[]"])
def test_damaged_state_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "trusted.json"
    path.write_text(text)
    with pytest.raises(ValueError, match="not a verifier state file"):
        load_state(path)


# --- the `bansos verify` command -------------------------------------------------------------

cli = typer.Typer()
cli.command("verify")(verify_command)


@cli.callback()
def _group() -> None:
    """Keep `verify` a subcommand, as in the real `bansos` app."""


def invoke(monkeypatch: pytest.MonkeyPatch, server: FakeLedger, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(shared.verify, "make_client", lambda url: server.client())
    result = CliRunner().invoke(cli, ["verify", "--url", "http://audit.test", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_command_succeeds_and_saves_state(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    server = fake_with(signer, leaves300[:80])
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
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves300: list[Leaf]
) -> None:
    server = fake_with(signer, leaves300[:80])
    server.entries[42]["leaf_data"] = b64(b"{}")
    code, output = invoke(monkeypatch, server, "--public-key", b64(signer.public_key))
    assert code == 1
    assert "FAILED at index 42: leaf_hash does not match leaf_data" in output
    assert "report it" in output and len(output.strip().splitlines()) == 2


def test_command_exits_2_when_the_server_errs(
    monkeypatch: pytest.MonkeyPatch, signer: Signer
) -> None:
    server = fake_with(signer, [])
    server.handle = lambda request: httpx.Response(503)  # type: ignore[method-assign]
    code, output = invoke(monkeypatch, server)
    assert code == 2 and "cannot read the ledger" in output and "run again" in output


def test_command_exits_2_when_the_server_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, signer: Signer
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = fake_with(signer, [])
    server.handle = refuse  # type: ignore[method-assign]
    code, output = invoke(monkeypatch, server)
    assert code == 2 and "connection refused" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--public-key", "c2hvcnQ="], "32-byte Ed25519 key"),
        (["--sealed"], "--sealed needs --token"),
        (["--token", "t"], "--token is only used with --sealed"),
        (["--quorum", "1"], "--quorum needs the witnesses' keys"),
        (["--witness", "inspektorat+00000000+BA=="], "--witness"),
    ],
    ids=["short-key", "sealed-no-token", "token-no-sealed", "quorum-no-witness", "bad-vkey"],
)
def test_command_exits_2_on_bad_options(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, args: list[str], message: str
) -> None:
    code, output = invoke(monkeypatch, fake_with(signer, []), *args)
    assert code == 2 and message in output, output
    assert len(output.strip().splitlines()) <= 2


def test_command_exits_2_on_a_damaged_state_file(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, tmp_path: Path
) -> None:
    path = tmp_path / "trusted.json"
    path.write_text("{")
    code, output = invoke(monkeypatch, fake_with(signer, []), "--state", str(path))
    assert code == 2 and "not a verifier state file" in output


def test_command_exits_2_when_the_state_cannot_be_saved(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves300: list[Leaf], tmp_path: Path
) -> None:
    path = tmp_path / "missing-dir" / "trusted.json"
    code, output = invoke(monkeypatch, fake_with(signer, leaves300[:5]), "--state", str(path))
    assert code == 2 and "cannot save the state file" in output


# --- --sealed: an auditor opens every leaf ----------------------------------------------------


def opened(server: FakeLedger, **kwargs: Any) -> Report:
    return verify(server, sealed_token=AUDITOR_TOKEN, **kwargs)


def fails_opening(server: FakeLedger) -> VerificationError:
    return fails(server, sealed_token=AUDITOR_TOKEN)


@pytest.fixture
def mixed(signer: Signer) -> FakeLedger:
    """Events and a flagged raw message, over several pages of sealed entries."""
    leaves = [raw_leaf(i) if i == 7 else event_leaf(i) for i in range(1, 121)]
    return fake_with(signer, leaves)


def test_every_opening_matches_its_leaf_and_public_view(mixed: FakeLedger) -> None:
    report = opened(mixed)
    assert (report.tree_size, report.sealed_opened, report.sealed_erased) == (120, 120, 0)


def test_short_sealed_pages_are_followed(mixed: FakeLedger) -> None:
    mixed.sealed_page_cap = 7
    assert opened(mixed, page_size=1000).sealed_opened == 120


def test_erased_leaves_are_counted_not_failed(mixed: FakeLedger) -> None:
    for index in (3, 6, 99):
        mixed.openings[index] = None
    report = opened(mixed)
    assert (report.sealed_opened, report.sealed_erased) == (117, 3)
    assert verify(mixed).tree_size == 120  # the public check never needed the openings


def with_opening(server: FakeLedger, index: int, **changes: Any) -> None:
    opening = server.openings[index]
    assert opening is not None
    server.openings[index] = replace(opening, **changes)


def test_a_changed_envelope_fails_naming_the_index(mixed: FakeLedger) -> None:
    opening = mixed.openings[41]
    assert opening is not None and opening.envelope is not None
    envelope = {**opening.envelope, "actor": "someone.else"}
    with_opening(mixed, 41, content=canonical_json(envelope), envelope=envelope)
    error = fails_opening(mixed)
    assert (error.index, error.reason) == (
        41,
        "salt and content do not open the leaf's sealed hash",
    )


def test_a_changed_salt_fails_naming_the_index(mixed: FakeLedger) -> None:
    with_opening(mixed, 64, salt=bytes(32))
    error = fails_opening(mixed)
    assert (error.index, error.reason) == (
        64,
        "salt and content do not open the leaf's sealed hash",
    )


def test_a_changed_raw_message_fails(mixed: FakeLedger) -> None:
    with_opening(mixed, 6, content=b"\xff not json }")
    assert fails_opening(mixed).index == 6


def test_a_salt_of_the_wrong_size_fails(mixed: FakeLedger) -> None:
    with_opening(mixed, 5, salt=b"short")
    assert fails_opening(mixed).reason == "salt is 5 bytes, not 32"


def test_a_false_public_view_over_an_honest_commitment_fails(signer: Signer) -> None:
    # The operator commits to the true envelope but shows the public another RW.
    honest = event_leaf(4)  # an eligibility decision
    public = {**json.loads(honest.data)["public"], "rw": "10"}
    lying = make_leaf(4, "bansos.registry.eligibility_decided", public, honest.opening)
    server = fake_with(signer, [event_leaf(1), event_leaf(2), event_leaf(3), lying])
    assert verify(server).tree_size == 4  # the public cannot tell
    error = fails_opening(server)
    assert (error.index, error.reason) == (
        3,
        "public view differs from the one recomputed from content",
    )


def test_an_event_hidden_as_an_unparseable_leaf_fails(signer: Signer) -> None:
    # A valid event flagged as raw would show the public only its size.
    event = event_leaf(2).opening
    hidden = Opening("raw", event.salt, event.content, None)
    leaf = make_leaf(
        2, "bansos.registry.eligibility_decided", unparseable_view(event.content), hidden
    )
    server = fake_with(signer, [event_leaf(1), leaf])
    error = fails_opening(server)
    assert error.index == 1 and "valid event, yet its leaf shows it as unparseable" in error.reason


def test_an_envelope_opening_that_is_no_event_fails(signer: Signer) -> None:
    content = canonical_json({"type": "registry.nothing"})
    opening = Opening("envelope", bytes(range(32)), content, {"type": "registry.nothing"})
    leaf = make_leaf(1, "bansos.registry.nothing", {"type": "registry.nothing"}, opening)
    error = fails_opening(fake_with(signer, [leaf]))
    assert error.index == 0 and "not a valid event" in error.reason


def test_non_canonical_envelope_content_fails(signer: Signer) -> None:
    env = envelope(1)
    content = json.dumps(env.to_json(), indent=1).encode()
    opening = Opening("envelope", bytes(range(32)), content, env.to_json())
    leaf = make_leaf(1, env.subject, public_view(env), opening)
    assert fails_opening(fake_with(signer, [leaf])).reason == (
        "sealed content is not the event's RFC 8785 bytes"
    )


def test_a_served_envelope_unlike_the_content_fails(mixed: FakeLedger) -> None:
    opening = mixed.openings[10]
    assert opening is not None and opening.envelope is not None
    with_opening(mixed, 10, envelope={**opening.envelope, "actor": "someone.else"})
    assert fails_opening(mixed).reason == "the served envelope is not the sealed content"


def test_sealed_entries_out_of_step_fail(mixed: FakeLedger) -> None:
    del mixed.openings[50:]
    assert fails_opening(mixed).reason == "sealed entry missing"


@pytest.mark.parametrize(
    ("token", "status"), [("forged", 401), (OTHER_TOKEN, 403)], ids=["bad-token", "operator-token"]
)
def test_command_explains_a_refused_token(
    monkeypatch: pytest.MonkeyPatch, mixed: FakeLedger, token: str, status: int
) -> None:
    code, output = invoke(monkeypatch, mixed, "--sealed", "--token", token)
    assert code == 2, output
    assert f"refused the token (HTTP {status})" in output
    assert "bansos token --role auditor" in output


def test_command_prints_what_was_opened(monkeypatch: pytest.MonkeyPatch, mixed: FakeLedger) -> None:
    mixed.openings[8] = None
    code, output = invoke(monkeypatch, mixed, "--sealed", "--token", AUDITOR_TOKEN)
    assert code == 0, output
    assert "sealed: 119 opened and matched, 1 erased" in output


def test_command_fails_on_a_bad_opening(monkeypatch: pytest.MonkeyPatch, mixed: FakeLedger) -> None:
    with_opening(mixed, 77, salt=bytes(32))
    code, output = invoke(monkeypatch, mixed, "--sealed", "--token", AUDITOR_TOKEN)
    assert code == 1 and "FAILED at index 77" in output
