"""Witness quorums for `bansos verify --witness VKEY ... --quorum K`
(docs/architecture.md#the-ledger).

A checkpoint counts as witnessed when it carries valid C2SP tlog-cosignatures from at
least K distinct witness keys the verifier was given out of band. Counting keys rather
than names or lines means one witness counts once, however often it is named or signs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.checkpoint import CheckpointError, cosignatures_in, parse_witness_vkey
from shared.ledger_client import VerificationError

WAIT_FOR_WITNESSES = (
    "witnesses cosign every round they run: retry later; if it persists, ask them why they"
    " refused (a witness refuses a rewritten log)"
)


@dataclass(frozen=True)
class Witness:
    name: str
    public_key: bytes


def parse_witnesses(vkeys: Sequence[str]) -> list[Witness]:
    """The distinct witnesses behind some vkeys; ValueError naming a bad one."""
    keys: dict[str, bytes] = {}
    for vkey in vkeys:
        try:
            name, key = parse_witness_vkey(vkey)
        except CheckpointError as e:
            raise ValueError(f"--witness {vkey!r}: {e}") from e
        if keys.setdefault(name, key) != key:
            raise ValueError(f"--witness: two different keys are named {name!r}; give one each")
    return [Witness(name, key) for name, key in keys.items()]


def check_quorum(note: str, witnesses: Sequence[Witness], quorum: int) -> dict[str, int]:
    """The given witnesses that validly cosigned ``note`` (name -> timestamp); a
    VerificationError when fewer than ``quorum`` distinct keys did."""
    try:
        found = cosignatures_in(note, {w.name: w.public_key for w in witnesses})
    except CheckpointError as e:
        raise VerificationError(None, f"checkpoint: {e}") from e
    keys = {w.public_key for w in witnesses if w.name in found}
    if len(keys) < quorum:
        names = ", ".join(sorted(found)) or "none"
        raise VerificationError(
            None,
            f"quorum not met: the checkpoint carries valid cosignatures from {len(keys)} of "
            f"the witnesses you gave ({names}), {quorum} required",
            WAIT_FOR_WITNESSES,
        )
    return found
