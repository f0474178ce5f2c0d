"""Witnesses (docs/architecture.md#the-ledger): `bansos witness` cosigns only a consistent log
(shared/witness.py),
and `bansos verify --witness ... --quorum K` trusts only what K of them cosigned
(shared/quorum.py). Both run against the fake ledger of tests/audit/fake_ledger.py."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from typer.testing import CliRunner

import shared.verify
import shared.witness
from shared.checkpoint import (
    Cosigner,
    Signer,
    load_or_create_key,
    sign_checkpoint,
    witness_vkey,
)
from shared.quorum import Witness, check_quorum, parse_witnesses
from shared.verify import Report, VerificationError, verify_command, verify_ledger
from shared.witness import (
    COSIGNED,
    REFUSED,
    UNAVAILABLE,
    Outcome,
    load_witness_state,
    witness_command,
)
from shared.witness import Witness as WitnessRunner
from tests.audit.fake_ledger import (
    KEY_NAME,
    ORIGIN,
    FakeLedger,
    Leaf,
    b64,
    event_leaf,
    fake_with,
    ledger_leaves,
)

NOW = 1_764_000_000


@pytest.fixture(scope="module")
def leaves150() -> list[Leaf]:
    return ledger_leaves(range(1, 151))


@pytest.fixture
def signer() -> Signer:
    return Signer(KEY_NAME, Ed25519PrivateKey.generate())


@pytest.fixture
def inspektorat() -> Cosigner:
    return Cosigner("inspektorat", Ed25519PrivateKey.generate())


@pytest.fixture
def forum() -> Cosigner:
    return Cosigner("forum-warga", Ed25519PrivateKey.generate())


def ledger(signer: Signer, leaves: list[Leaf], *cosigners: Cosigner) -> FakeLedger:
    return fake_with(signer, leaves, witnesses={c.name: c.public_key for c in cosigners})


def runner(cosigner: Cosigner, tmp_path: Path, log_vkey: str | None = None) -> WitnessRunner:
    return WitnessRunner(cosigner, tmp_path / f"{cosigner.name}.json", log_vkey)


def round_(server: FakeLedger, witness: WitnessRunner, now: int = NOW) -> Outcome:
    with server.client() as client:
        return witness.round(client, now)


def cosigned_sizes(server: FakeLedger) -> dict[int, list[str]]:
    return {size: sorted(lines) for size, lines in server.cosignatures.items()}


# --- the witness -----------------------------------------------------------------------------


def test_first_round_cosigns_and_saves_the_state(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)
    outcome = round_(server, witness)
    assert outcome == Outcome(COSIGNED, f"cosigned {ORIGIN} size 100")
    assert cosigned_sizes(server) == {100: ["inspektorat"]}
    state = load_witness_state(witness.state_path)
    assert state is not None and state.refused is None
    assert (state.tree_size, state.origin, state.log_vkey) == (100, ORIGIN, signer.vkey)
    assert state.root_hash == server.root_of(100)
    assert [p.name for p in tmp_path.iterdir()] == ["inspektorat.json"]  # no temp file left


def test_the_cosignature_is_c2sp_tlog_cosignature_v1(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    """Checked from the spec's text with hashlib and a bare Ed25519 key, not our helpers."""
    server = ledger(signer, leaves150[:10], inspektorat)
    round_(server, runner(inspektorat, tmp_path))
    line = server.posted[0]["cosignature"]
    assert server.posted[0]["tree_size"] == 10 and "\n" not in line
    dash_name, encoded = line.rsplit(" ", 1)
    assert dash_name == "\u2014 inspektorat"
    blob = base64.b64decode(encoded, validate=True)
    assert len(blob) == 4 + 8 + 64
    key_id = hashlib.sha256(b"inspektorat\n\x04" + inspektorat.public_key).digest()[:4]
    assert blob[:4] == key_id and int.from_bytes(blob[4:12], "big") == NOW
    body = server.checkpoints[10].split("\n\n")[0] + "\n"
    message = f"cosignature/v1\ntime {NOW}\n{body}".encode()
    Ed25519PublicKey.from_public_bytes(inspektorat.public_key).verify(blob[12:], message)


def test_honest_growth_is_cosigned(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)
    round_(server, witness)
    server.append(leaves150[100:])
    outcome = round_(server, witness, NOW + 60)
    assert outcome == Outcome(COSIGNED, f"cosigned {ORIGIN} size 150 (consistent with size 100)")
    assert cosigned_sizes(server) == {100: ["inspektorat"], 150: ["inspektorat"]}
    state = load_witness_state(witness.state_path)
    assert state is not None and state.tree_size == 150


def test_an_unchanged_log_is_cosigned_again(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:30], inspektorat)
    witness = runner(inspektorat, tmp_path)
    round_(server, witness)
    assert round_(server, witness, NOW + 60).code == COSIGNED
    assert len(server.posted) == 2


def refused_after(
    server: FakeLedger, witness: WitnessRunner, change: Callable[[], None]
) -> Outcome:
    assert round_(server, witness).code == COSIGNED
    before = json.loads(witness.state_path.read_text())
    posted = len(server.posted)
    change()
    outcome = round_(server, witness, NOW + 60)
    assert outcome.code == REFUSED
    assert len(server.posted) == posted  # nothing cosigned
    after = json.loads(witness.state_path.read_text())
    # The last cosigned checkpoint stays; the refusal and its evidence are added.
    assert {k: v for k, v in after.items() if k != "refused"} == before
    assert after["refused"]["note"].startswith(f"{ORIGIN}\n")
    return outcome


def test_a_fork_is_refused(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)

    def fork() -> None:  # same size, another root, properly signed
        server.rewrite(40, event_leaf(41, actor="admin"))
        server.sign()

    outcome = refused_after(server, witness, fork)
    assert "fork: another root" in outcome.message and "size 100" in outcome.message
    assert "will not cosign this log again" in outcome.message


def test_a_shrink_is_refused(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)

    def shrink() -> None:
        del server.signed[80:], server.entries[80:]

    outcome = refused_after(server, witness, shrink)
    assert "the log shrank: it now claims 80 entries" in outcome.message


def test_a_bad_consistency_proof_is_refused(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)

    def grow_with_a_bogus_proof() -> None:
        server.append(leaves150[100:])
        server.consistency_override = [b64(bytes(32))]

    outcome = refused_after(server, witness, grow_with_a_bogus_proof)
    assert "consistency proof from the checkpoint this witness cosigned" in outcome.message


def test_a_rewritten_and_re_signed_log_is_refused(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)

    def rewrite_and_grow() -> None:  # the operator's own key signs the new history
        server.rewrite(40, event_leaf(41, actor="admin"))
        server.append(leaves150[100:])

    outcome = refused_after(server, witness, rewrite_and_grow)
    assert "does not verify" in outcome.message


def test_after_a_refusal_the_witness_never_cosigns_that_log_again(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)

    def grow_without_a_proof() -> None:
        server.append(leaves150[100:120])
        server.consistency_override = []

    refused_after(server, witness, grow_without_a_proof)
    server.append(leaves150[120:])  # with a good proof it would now be cosigned...
    server.consistency_override = None
    again = round_(server, witness, NOW + 120)
    assert again.code == REFUSED and "until you investigate" in again.message
    # ...and a fresh process reading the same state refuses too.
    fresh = runner(inspektorat, tmp_path)
    assert round_(server, fresh, NOW + 180).code == REFUSED
    assert len(server.posted) == 1


def test_a_checkpoint_not_signed_by_the_log_is_refused_but_not_held_against_it(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:100], inspektorat)
    witness = runner(inspektorat, tmp_path)
    round_(server, witness)
    impostor = Signer(KEY_NAME, Ed25519PrivateKey.generate())
    server.append(leaves150[100:])
    honest = server.signer
    server.signer = impostor
    server.checkpoints.clear()
    outcome = round_(server, witness, NOW + 60)
    assert outcome.code == REFUSED and "not the log's" in outcome.message
    assert len(server.posted) == 1
    # Not evidence against the log (anyone can serve a bad signature): later rounds go on.
    server.signer = honest
    server.checkpoints.clear()
    assert round_(server, witness, NOW + 120).code == COSIGNED


def test_a_pinned_log_key_is_demanded(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:10], inspektorat)
    other = Signer(KEY_NAME, Ed25519PrivateKey.generate())
    outcome = round_(server, runner(inspektorat, tmp_path, other.vkey))
    assert outcome.code == REFUSED and not server.posted
    assert round_(server, runner(inspektorat, tmp_path, signer.vkey)).code == COSIGNED


def test_an_unknown_witness_is_told_what_to_do(
    signer: Signer, inspektorat: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:10])  # the log has not configured this witness
    outcome = round_(server, runner(inspektorat, tmp_path))
    assert outcome.code == UNAVAILABLE
    assert inspektorat.vkey in outcome.message and "BANSOS_WITNESSES" in outcome.message


def test_an_empty_tree_must_have_the_empty_root(
    signer: Signer, inspektorat: Cosigner, tmp_path: Path
) -> None:
    server = ledger(signer, [], inspektorat)
    assert round_(server, runner(inspektorat, tmp_path)).code == COSIGNED
    server.checkpoints[0] = sign_checkpoint(signer, ORIGIN, 0, bytes(32))
    outcome = round_(server, runner(inspektorat, tmp_path), NOW + 60)
    assert outcome.code == REFUSED and "empty tree" in outcome.message


# --- the `bansos witness` command ------------------------------------------------------------

app = typer.Typer()
app.command("witness")(witness_command)
app.command("verify")(verify_command)


@app.callback()
def _group() -> None:
    """Keep the commands subcommands, as in the real `bansos` app."""


def invoke(
    monkeypatch: pytest.MonkeyPatch, server: FakeLedger, command: str, *args: str
) -> tuple[int, str]:
    monkeypatch.setattr(shared.witness, "make_client", lambda url: server.client())
    monkeypatch.setattr(shared.verify, "make_client", lambda url: server.client())
    result = CliRunner().invoke(app, [command, "--url", "http://audit.test", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def witness_args(tmp_path: Path, name: str, *extra: str) -> list[str]:
    key, state = tmp_path / f"{name}.pem", tmp_path / f"{name}-state.json"
    return ["--key", str(key), "--state", str(state), *extra]


def test_command_creates_its_key_prints_its_vkey_and_cosigns(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves150: list[Leaf], tmp_path: Path
) -> None:
    key = tmp_path / "inspektorat.pem"
    server = ledger(signer, leaves150[:20])
    # The operator learns the witness's vkey from the witness, then configures it.
    cosigner = Cosigner("inspektorat", load_or_create_key(key))
    server.witnesses = {"inspektorat": cosigner.public_key}
    code, output = invoke(monkeypatch, server, "witness", *witness_args(tmp_path, "inspektorat"))
    assert code == 0, output
    assert f"witness {cosigner.vkey}" in output and "TOFU" in output
    assert f"cosigned {ORIGIN} size 20" in output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # The public half beside it, to hand to the operator and to verifiers.
    assert (tmp_path / "inspektorat.vkey").read_text() == f"{cosigner.vkey}\n"


def test_command_with_a_new_key_file_creates_it(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, tmp_path: Path
) -> None:
    server = ledger(signer, [])
    args = witness_args(tmp_path, "forum-warga", "--log-key", signer.vkey)
    code, output = invoke(monkeypatch, server, "witness", *args)
    key = tmp_path / "forum-warga.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    vkey = Cosigner("forum-warga", load_or_create_key(key)).vkey
    assert f"witness {vkey}" in output and "TOFU" not in output
    assert code == 2 and "BANSOS_WITNESSES" in output  # not yet configured by the log


def test_command_exit_codes(
    monkeypatch: pytest.MonkeyPatch,
    signer: Signer,
    inspektorat: Cosigner,
    leaves150: list[Leaf],
    tmp_path: Path,
) -> None:
    key = tmp_path / "inspektorat.pem"
    cosigner = Cosigner("inspektorat", load_or_create_key(key))
    server = ledger(signer, leaves150[:50], cosigner)
    args = witness_args(tmp_path, "inspektorat", "--log-key", signer.vkey)
    assert invoke(monkeypatch, server, "witness", *args)[0] == 0
    server.rewrite(3, event_leaf(4, actor="admin"))
    server.sign()
    code, output = invoke(monkeypatch, server, "witness", *args)
    assert code == 1 and "REFUSED: fork" in output
    code, output = invoke(monkeypatch, server, "witness", *args)
    assert code == 1 and "until you investigate" in output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--log-key", "not-a-vkey"], "verifier key"),
        (["--interval", "0"], "--interval must be a positive"),
        (["--name", "has space"], "invalid key name"),
        (["--key", "witness.vkey"], "must not end in .vkey"),
    ],
    ids=["log-key", "interval", "name", "vkey-file"],
)
def test_command_refuses_bad_input_with_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    signer: Signer,
    tmp_path: Path,
    extra: list[str],
    message: str,
) -> None:
    args = witness_args(tmp_path, "inspektorat", *extra)
    code, output = invoke(monkeypatch, ledger(signer, []), "witness", *args)
    assert code == 2 and message in output, output
    assert len(output.strip().splitlines()) <= 2
    assert not Path("witness.vkey").exists()  # no key made under a clashing name


def test_command_refuses_a_key_file_that_is_not_ed25519(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, tmp_path: Path
) -> None:
    (tmp_path / "inspektorat.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n")
    code, output = invoke(
        monkeypatch, ledger(signer, []), "witness", *witness_args(tmp_path, "inspektorat")
    )
    assert code == 2 and "inspektorat.pem" in output and "Traceback" not in output


def test_command_exits_2_when_the_log_is_unreachable_or_the_state_damaged(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, tmp_path: Path
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = ledger(signer, [])
    server.handle = refuse  # type: ignore[method-assign]
    args = witness_args(tmp_path, "inspektorat", "--log-key", signer.vkey)
    code, output = invoke(monkeypatch, server, "witness", *args)
    assert code == 2 and "cannot reach the ledger" in output and "try again later" in output
    (tmp_path / "inspektorat-state.json").write_text("{}")
    code, output = invoke(monkeypatch, ledger(signer, []), "witness", *args)
    assert code == 2 and "not a witness state file" in output


def test_command_refuses_a_log_key_other_than_the_one_it_follows(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves150: list[Leaf], tmp_path: Path
) -> None:
    key = tmp_path / "inspektorat.pem"
    cosigner = Cosigner("inspektorat", load_or_create_key(key))
    server = ledger(signer, leaves150[:5], cosigner)
    assert invoke(monkeypatch, server, "witness", *witness_args(tmp_path, "inspektorat"))[0] == 0
    other = Signer("other-log", Ed25519PrivateKey.generate()).vkey
    args = witness_args(tmp_path, "inspektorat", "--log-key", other)
    code, output = invoke(monkeypatch, server, "witness", *args)
    assert code == 2 and "--log-key differs" in output


def test_interval_loop_reports_each_round_and_never_cosigns_after_a_refusal(
    monkeypatch: pytest.MonkeyPatch, signer: Signer, leaves150: list[Leaf], tmp_path: Path
) -> None:
    key = tmp_path / "inspektorat.pem"
    cosigner = Cosigner("inspektorat", load_or_create_key(key))
    server = ledger(signer, leaves150[:50], cosigner)
    honest_leaf = leaves150[10]
    # Between rounds: the log grows, forks, then puts the old leaf back and grows again.
    steps = [
        lambda: server.append(leaves150[50:80]),
        lambda: (server.rewrite(10, event_leaf(11, actor="admin")), server.sign()),
        lambda: (server.rewrite(10, honest_leaf), server.append(leaves150[80:])),
    ]

    def sleep(seconds: float) -> None:
        assert seconds == 5.0
        if not steps:
            raise KeyboardInterrupt
        steps.pop(0)()

    monkeypatch.setattr(shared.witness, "_sleep", sleep)
    args = witness_args(tmp_path, "inspektorat", "--log-key", signer.vkey, "--interval", "5")
    code, output = invoke(monkeypatch, server, "witness", *args)
    assert code == REFUSED
    assert "cosigned" in output and "size 50" in output and "size 80" in output
    assert "REFUSED: fork" in output and "until you investigate" in output
    assert sorted(server.cosignatures) == [50, 80]  # nothing after the refusal


# --- verify --witness ... --quorum K ----------------------------------------------------------


def quorum_verify(server: FakeLedger, witnesses: list[Cosigner], quorum: int, **kw: Any) -> Report:
    given = parse_witnesses([c.vkey for c in witnesses])
    with server.client() as client:
        return verify_ledger(
            client,
            public_key=server.signer.public_key,
            witnesses=given,
            quorum=quorum,
            page_size=40,
            **kw,
        )


def quorum_fails(server: FakeLedger, witnesses: list[Cosigner], quorum: int) -> str:
    with pytest.raises(VerificationError) as info:
        quorum_verify(server, witnesses, quorum)
    return info.value.reason


@pytest.fixture
def witnessed(
    signer: Signer,
    inspektorat: Cosigner,
    forum: Cosigner,
    leaves150: list[Leaf],
    tmp_path: Path,
) -> FakeLedger:
    """A ledger of 100 leaves that both witnesses cosigned, then grew to 120."""
    server = ledger(signer, leaves150[:100], inspektorat, forum)
    for cosigner in (inspektorat, forum):
        assert round_(server, runner(cosigner, tmp_path)).code == COSIGNED
    server.append(leaves150[100:120])
    return server


def test_quorum_met_verifies_up_to_the_cosigned_checkpoint(
    witnessed: FakeLedger, inspektorat: Cosigner, forum: Cosigner
) -> None:
    report = quorum_verify(witnessed, [inspektorat, forum], 2)
    assert (report.tree_size, report.cosigned_by) == (100, ("forum-warga", "inspektorat"))
    assert report.root_hash == witnessed.root_of(100)


def test_quorum_not_met(
    signer: Signer, inspektorat: Cosigner, forum: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    server = ledger(signer, leaves150[:10], inspektorat, forum)
    round_(server, runner(inspektorat, tmp_path))
    assert quorum_verify(server, [inspektorat, forum], 1).cosigned_by == ("inspektorat",)
    reason = quorum_fails(server, [inspektorat, forum], 2)
    assert reason == "quorum not met: the ledger serves no checkpoint cosigned by 2 witnesses"


def test_a_cosignature_by_a_witness_not_given_does_not_count(
    signer: Signer, inspektorat: Cosigner, forum: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    stranger = Cosigner("kawan-operator", Ed25519PrivateKey.generate())
    server = ledger(signer, leaves150[:10], inspektorat, stranger)
    for cosigner in (inspektorat, stranger):
        round_(server, runner(cosigner, tmp_path))
    reason = quorum_fails(server, [inspektorat, forum], 2)
    assert reason == (
        "quorum not met: the checkpoint carries valid cosignatures from 1 of the witnesses "
        "you gave (inspektorat), 2 required"
    )


def test_a_cosignature_under_a_known_name_but_another_key_does_not_count(
    signer: Signer, inspektorat: Cosigner, forum: Cosigner, leaves150: list[Leaf], tmp_path: Path
) -> None:
    impostor = Cosigner("forum-warga", Ed25519PrivateKey.generate())
    server = ledger(signer, leaves150[:10], inspektorat, impostor)
    round_(server, runner(inspektorat, tmp_path))
    round_(server, WitnessRunner(impostor, tmp_path / "impostor.json"))
    assert sorted(server.cosignatures[10]) == ["forum-warga", "inspektorat"]
    assert "from 1 of" in quorum_fails(server, [inspektorat, forum], 2)


def test_a_duplicated_witness_is_counted_once(witnessed: FakeLedger, inspektorat: Cosigner) -> None:
    assert parse_witnesses([inspektorat.vkey, inspektorat.vkey]) == [
        Witness("inspektorat", inspektorat.public_key)
    ]
    # One key under two names: Ed25519 cosignatures do not commit to the name, so the
    # operator can relabel one witness's line; it still counts once.
    alias = witness_vkey("alias", inspektorat.public_key)
    note = witnessed.with_cosignatures(100)
    line = witnessed.cosignatures[100]["inspektorat"]
    blob = base64.b64decode(line.rsplit(" ", 1)[1])
    alias_id = hashlib.sha256(b"alias\n\x04" + inspektorat.public_key).digest()[:4]
    relabelled = f"\u2014 alias {b64(alias_id + blob[4:])}\n"
    given = parse_witnesses([inspektorat.vkey, alias])
    assert check_quorum(note + relabelled, given, 1) == {"inspektorat": NOW, "alias": NOW}
    with pytest.raises(VerificationError, match="from 1 of"):
        check_quorum(note + relabelled, given, 2)


def test_two_keys_under_one_name_are_bad_input(inspektorat: Cosigner) -> None:
    other = Cosigner("inspektorat", Ed25519PrivateKey.generate())
    with pytest.raises(ValueError, match="two different keys are named 'inspektorat'"):
        parse_witnesses([inspektorat.vkey, other.vkey])


def rewrite_history(server: FakeLedger, leaves: list[Leaf]) -> None:
    """The operator rewrites leaf 40 and re-signs with its own key; no witness cosigns."""
    server.rewrite(40, event_leaf(41, actor="admin"))
    server.append(leaves)
    server.sign()


def test_a_rewritten_history_fails_quorum_1_without_saved_state(
    witnessed: FakeLedger,
    inspektorat: Cosigner,
    forum: Cosigner,
    leaves150: list[Leaf],
    tmp_path: Path,
) -> None:
    rewrite_history(witnessed, leaves150[120:])
    # Without a quorum, a verifier with no memory has no way to tell.
    with witnessed.client() as client:
        plain = verify_ledger(client, public_key=witnessed.signer.public_key)
    assert plain.tree_size == 150
    # The witnesses refuse the new history...
    for cosigner in (inspektorat, forum):
        assert round_(witnessed, runner(cosigner, tmp_path), NOW + 60).code == REFUSED
    # ...so the only cosigned checkpoint is the old one, which the leaves no longer match.
    with pytest.raises(VerificationError) as info:
        quorum_verify(witnessed, [inspektorat], 1)
    assert info.value.reason == (
        "the log was rewritten after its witnesses cosigned size 100: its latest checkpoint "
        "(size 150) does not extend that one"
    )


def test_old_cosignatures_on_a_re_signed_checkpoint_do_not_count(
    witnessed: FakeLedger, inspektorat: Cosigner, forum: Cosigner
) -> None:
    witnessed.rewrite(40, event_leaf(41, actor="admin"))
    del witnessed.signed[100:], witnessed.entries[100:]
    witnessed.sign()  # size 100 again, another root; the old lines stay attached
    assert "from 0 of" in quorum_fails(witnessed, [inspektorat, forum], 1)


def test_a_log_without_any_cosigned_checkpoint_fails_the_quorum(
    witnessed: FakeLedger, inspektorat: Cosigner
) -> None:
    witnessed.cosignatures.clear()
    assert "serves no checkpoint cosigned" in quorum_fails(witnessed, [inspektorat], 1)


def test_a_cosigned_checkpoint_behind_the_saved_state_is_a_prefix_of_it(
    monkeypatch: pytest.MonkeyPatch,
    witnessed: FakeLedger,
    inspektorat: Cosigner,
    forum: Cosigner,
    tmp_path: Path,
) -> None:
    state = tmp_path / "trusted.json"
    code, output = invoke(monkeypatch, witnessed, "verify", "--state", str(state))
    assert code == 0 and "120 entries" in output
    witness_flags = ["--witness", inspektorat.vkey, "--witness", forum.vkey]
    args = ["--state", str(state), *witness_flags, "--quorum", "2"]
    code, output = invoke(monkeypatch, witnessed, "verify", *args)
    assert code == 0, output
    assert "100 entries verified" in output and "state kept at size 120" in output
    assert "cosigned by 2 witnesses (forum-warga, inspektorat); quorum 2" in output
    assert json.loads(state.read_text())["tree_size"] == 120


def test_command_quorum_failure_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, witnessed: FakeLedger, inspektorat: Cosigner
) -> None:
    witnessed.cosignatures.clear()
    args = ["--witness", inspektorat.vkey]  # --quorum defaults to every witness given
    code, output = invoke(monkeypatch, witnessed, "verify", *args)
    assert code == 1
    assert "FAILED: quorum not met" in output and "retry later" in output
    assert len(output.strip().splitlines()) == 3  # the TOFU warning, the failure, the hint


def test_command_refuses_a_quorum_larger_than_the_witnesses_given(
    monkeypatch: pytest.MonkeyPatch, witnessed: FakeLedger, inspektorat: Cosigner
) -> None:
    args = ["--witness", inspektorat.vkey, "--witness", inspektorat.vkey, "--quorum", "2"]
    code, output = invoke(monkeypatch, witnessed, "verify", *args)
    assert code == 2 and "between 1 and the 1 distinct --witness keys" in output
