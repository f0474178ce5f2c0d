"""`bansos sample-check` against a real stack (`bansos up`, every service a process, a real
nats-server), with one witness configured as an operator does (BANSOS_WITNESSES), which
the test runs as `bansos witness` does. A round closes on the stream; community refuses
the ledger's checkpoint without the witness's cosignature and draws from the cosigned
one; then the command recomputes the sample: from the public ledger alone (k and the
root), as an auditor (the exact sample), beside what community serves; and fails, with
exit 1, when the rule or the keys it is given do not fit. Nothing it prints names a
hand-over."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.auth import Role, issue_token
from shared.checkpoint import Cosigner, load_or_create_key
from shared.pii import commitments
from shared.settings import CommonSettings
from shared.witness import Witness
from tests.community.verification_scene import ClosedRound, publish_closed_round
from tests.helpers import UpProcess

pytestmark = pytest.mark.e2e
FACILITATOR = issue_token(CommonSettings(), "facilitator.yusuf", Role.community_facilitator)
AUDITOR = issue_token(CommonSettings(), "inspektorat.hasan", Role.auditor)
HANDED = 24  # k = 10 of them: the sample is a proper subset


def until(predicate: Any, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {within}s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UpProcess, Witness]]:
    var = tmp_path_factory.mktemp("sample-check") / "var"
    witness = Witness(
        Cosigner("inspektorat", Ed25519PrivateKey.generate()), var.parent / "witness.json"
    )
    up = UpProcess(var, {"BANSOS_WITNESSES": witness.cosigner.vkey})
    up.start(wait_for=(4, 5), within=90)
    try:
        yield up, witness
    finally:
        up.stop()


def cosign(up: UpProcess, witness: Witness, size: int) -> None:
    """The witness's round, once the log's checkpoint holds `size` leaves."""
    with httpx.Client(base_url=up.url(5), timeout=10) as audit:
        until(lambda: audit.get("/ledger/checkpoint.json").json().get("tree_size", 0) >= size)
        outcome = witness.round(audit, int(time.time()))
        assert outcome.message.startswith("cosigned"), outcome.message


def sample_check(up: UpProcess, *args: str) -> subprocess.CompletedProcess[str]:
    bansos = str(Path(sys.executable).parent / "bansos")
    return subprocess.run(
        [bansos, "sample-check", "--url", up.url(5), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def drawn(stack: tuple[UpProcess, Witness]) -> tuple[ClosedRound, dict[str, Any]]:
    up, witness = stack
    keys = commitments(CommonSettings())
    scene = asyncio.run(
        publish_closed_round(f"nats://127.0.0.1:{up.nats_port}", keys, n=HANDED, revisited=1)
    )
    cosign(up, witness, scene.closure_seq)
    path = f"/rounds/{scene.round_id}/verification-sample"
    auth = {"Authorization": f"Bearer {FACILITATOR}"}
    with (
        httpx.Client(base_url=up.url(5), timeout=10) as audit,
        httpx.Client(base_url=up.url(4), timeout=30, headers=auth) as community,
    ):
        note = audit.get("/ledger/checkpoint", params={"cosigned": 1}).text
        alone = note[: note.index("\u2014 inspektorat")]  # the log's signature only

        def refused_alone() -> dict[str, Any] | None:
            reply = community.post(path, json={"checkpoint": alone}).json()
            return reply if reply.get("error") == "sample_cosignatures_missing" else None

        refusal = until(refused_alone)
        assert "0 of the 1 witnesses" in refusal["message"]

        def sample() -> dict[str, Any] | None:
            reply = community.post(path, json={"checkpoint": note})
            return reply.json() if reply.status_code == 201 else None

        drawn: dict[str, Any] = until(sample)
        # The draw's leaf in the ledger, then a checkpoint holding it that the witness cosigns.
        found = until(
            lambda: audit.get(
                "/ledger/search", params={"type": "community.verification_sample_drawn"}
            ).json()["entries"]
        )
    cosign(up, witness, found[0]["index"] + 1)
    return scene, drawn


def pinned_key(up: UpProcess) -> str:
    key = load_or_create_key(up.var / "audit" / "checkpoint-signing-key-v2.pem")
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def assert_names_no_hand_over(output: str, scene: ClosedRound) -> None:
    for allocation, code in scene.received.items():
        assert str(allocation) not in output and code not in output


def test_anyone_recomputes_k_and_the_root_from_the_public_ledger(
    stack: tuple[UpProcess, Witness], drawn: tuple[ClosedRound, dict[str, Any]]
) -> None:
    up, witness = stack
    scene, sample = drawn
    assert sample["k"] == 10 and sample["population"] == HANDED
    run = sample_check(
        up,
        *("--round", str(scene.round_id), "--public-key", pinned_key(up)),
        *("--witness", witness.cosigner.vkey, "--community", up.url(4)),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert f"sample of 10 drawn from tree size {sample['tree_size']}" in out
    assert f"root   {sample['root_hash']}" in out
    assert "cosigned by inspektorat (quorum 1)" in out
    assert f"k = sample_size({HANDED}) = 10: matches" in out
    assert "is not public" in out and "monitors a sample of 10" in out
    assert "warning" not in out  # both keys pinned
    assert out.rstrip().endswith("OK: the sample is the one the published rule gives")
    assert_names_no_hand_over(out, scene)


def test_an_auditor_recomputes_the_exact_sample(
    stack: tuple[UpProcess, Witness], drawn: tuple[ClosedRound, dict[str, Any]]
) -> None:
    up, witness = stack
    scene, _ = drawn
    run = sample_check(
        up,
        *("--round", str(scene.round_id), "--public-key", pinned_key(up)),
        *("--witness", witness.cosigner.vkey, "--token", AUDITOR, "--community", up.url(4)),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"hand-over leaves: {HANDED} matched their commitments, 0 erased" in run.stdout
    assert "is the one drawn, in order" in run.stdout
    assert "community: asks facilitators to visit the same sample" in run.stdout
    assert_names_no_hand_over(run.stdout, scene)


def test_it_fails_when_the_rule_or_the_keys_do_not_fit(
    stack: tuple[UpProcess, Witness], drawn: tuple[ClosedRound, dict[str, Any]]
) -> None:
    up, witness = stack
    scene, _ = drawn
    rid = ("--round", str(scene.round_id))
    other_rule = sample_check(up, *rid, "--minimum", "5", "--witness", witness.cosigner.vkey)
    assert other_rule.returncode == 1
    assert "FAILED at index" in other_rule.stdout and "the rule gives 5" in other_rule.stdout
    stranger = Cosigner("inspektorat", Ed25519PrivateKey.generate())  # not the one that cosigns
    unwitnessed = sample_check(up, *rid, "--witness", stranger.vkey, "--wait", "0")
    assert unwitnessed.returncode == 1 and "quorum not met" in unwitnessed.stdout
    forged = base64.b64encode(bytes(32)).decode()
    other_log = sample_check(up, *rid, "--public-key", forged, "--witness", witness.cosigner.vkey)
    assert other_log.returncode == 1 and "differs from the pinned one" in other_log.stdout
    nothing = sample_check(up, "--round", str(ClosedRound().round_id), "--wait", "0")
    assert nothing.returncode == 2 and "no verification sample of round" in nothing.stdout
    bad = sample_check(up, "--round", "round-7")
    assert bad.returncode == 2 and "--round must be a round id" in bad.stdout
