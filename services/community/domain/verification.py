"""Verification with recipients: a sample of a closed round's hand-overs that nobody
chooses, and what each sampled recipient tells a facilitator. Pure deciders, no I/O.

The sample is a pure function of a cosigned ledger checkpoint's root and the round's
received hand-overs, by the published rule in shared/sampling.py (`draw`, `sample_size`):
each allocation id is ranked by SHA-256(root || the id as its 36-character lowercase
text) and the first k are taken, k = max(min(n, minimum), ceil(share % of n)). The root
is published (the checkpoint note, and the draw's public view), so anyone recomputes k
and an auditor, who can open the hand-overs' leaves, the sample itself (`bansos
sample-check`); nobody could know the root before the round closed, because the
checkpoint must cover the closure (`Draw.closure_seq`: the handler reads it from the
closure's stream sequence).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from services.community.errors import (
    NOT_IN_SAMPLE,
    ROUND_NOT_CLOSED,
    SAMPLE_CHECKPOINT_EARLY,
    SAMPLE_EMPTY,
    SAMPLE_EXISTS,
    SAMPLE_INCOMPLETE,
    VERIFICATION_EXISTS,
    VERIFICATION_INCONSISTENT,
)
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.community_verification import (
    Discrepancy,
    PayBand,
    VerificationRecorded,
    VerificationSampleDrawn,
)
from shared.sampling import MINIMUM, SHARE_PCT
from shared.sampling import draw as draw  # the published rule, re-exported
from shared.sampling import sample_size as sample_size
from shared.uow import Decider


# --- the sample of a round (aggregate: the round's id) -------------------------------------
@dataclass(frozen=True)
class Sample:
    drawn: bool = False
    allocation_ids: frozenset[UUID] = frozenset()


@dataclass(frozen=True)
class SamplePolicy:
    minimum: int = MINIMUM
    share_pct: float = SHARE_PCT


@dataclass(frozen=True)
class Draw:
    """Facts read by the handler: whether the round closed, the stream sequence of its
    closure, its received hand-overs; and the verified checkpoint's head."""

    round_id: UUID
    closed: bool
    closure_seq: int | None  # None: not learnt from the stream (its place is unknown)
    handed: tuple[UUID, ...]
    expected: int  # the received hand-overs the closure counts
    origin: str
    tree_size: int
    root: bytes
    root_b64: str
    policy: SamplePolicy = SamplePolicy()


def decide_sample(state: Sample, command: Draw) -> list[EventPayload]:
    if state.drawn:
        raise DomainError(SAMPLE_EXISTS, "the round's verification sample is already drawn")
    if not command.closed:
        raise DomainError(
            ROUND_NOT_CLOSED, f"round {command.round_id} has not closed", field="round_id"
        )
    # The ledger appends every stream message once, in stream order, so the closure's leaf
    # index is below its stream sequence: a tree of at least that size holds the closure,
    # and its root could not be known before the round closed.
    if command.closure_seq is None or command.tree_size < command.closure_seq:
        raise DomainError(
            SAMPLE_CHECKPOINT_EARLY,
            f"the checkpoint's tree size {command.tree_size} does not cover the round's "
            f"closure (stream sequence {command.closure_seq or 'unknown'}): take a newer "
            "checkpoint",
            field="checkpoint",
        )
    n = len(set(command.handed))
    if n < command.expected:
        raise DomainError(
            SAMPLE_INCOMPLETE,
            f"the round closed with {command.expected} hand-overs received; community has "
            f"learnt {n} of them so far: try again shortly",
        )
    if not n:
        raise DomainError(SAMPLE_EMPTY, "the round has no received hand-over to verify")
    k = sample_size(n, command.policy.minimum, command.policy.share_pct)
    return [
        VerificationSampleDrawn(
            round_id=command.round_id,
            origin=command.origin,
            tree_size=command.tree_size,
            root_hash=command.root_b64,
            population=n,
            k=k,
            allocation_ids=draw(command.root, command.handed, k),
        )
    ]


def evolve_sample(state: Sample, event: EventPayload) -> Sample:
    if isinstance(event, VerificationSampleDrawn):
        return replace(state, drawn=True, allocation_ids=frozenset(event.allocation_ids))
    return state


samples: Decider[Sample, Draw] = Decider(
    "verification_sample", Sample(), decide_sample, evolve_sample
)


# --- one verification (aggregate: the allocation's id) -------------------------------------
@dataclass(frozen=True)
class Verification:
    recorded: bool = False


@dataclass(frozen=True)
class Verify:
    round_id: UUID
    rw: str
    sampled: bool  # fact: the allocation is in its round's drawn sample
    received: bool
    full: bool | None
    asked_to_pay: bool
    pay_band: PayBand | None
    respectful: bool
    complaint_id: UUID  # filed, in the same unit of work, when a discrepancy is found
    note_commitment: str | None = None


def discrepancies(
    received: bool, full: bool | None, asked_to_pay: bool, respectful: bool
) -> tuple[Discrepancy, ...]:
    found: list[Discrepancy] = []
    if not received:
        found.append("not_received")
    elif full is False:
        found.append("not_full")
    if asked_to_pay:
        found.append("asked_to_pay")
    if not respectful:
        found.append("disrespect")
    return tuple(found)


def decide_verification(state: Verification, command: Verify) -> list[EventPayload]:
    if state.recorded:
        raise DomainError(VERIFICATION_EXISTS, "this hand-over is already verified")
    if not command.sampled:
        raise DomainError(
            NOT_IN_SAMPLE,
            "only a hand-over in its round's drawn sample is verified",
            field="allocation_id",
        )
    if command.received and command.full is None:
        raise DomainError(
            VERIFICATION_INCONSISTENT, "say whether the aid was received in full", field="full"
        )
    if not command.received and command.full is not None:
        raise DomainError(
            VERIFICATION_INCONSISTENT, "aid not received cannot be full or not", field="full"
        )
    if command.asked_to_pay != (command.pay_band is not None):
        raise DomainError(
            VERIFICATION_INCONSISTENT,
            "a pay band goes with asked_to_pay, and only with it",
            field="pay_band",
        )
    found = discrepancies(command.received, command.full, command.asked_to_pay, command.respectful)
    return [
        VerificationRecorded(
            round_id=command.round_id,
            rw=command.rw,
            received=command.received,
            full=command.full,
            asked_to_pay=command.asked_to_pay,
            pay_band=command.pay_band,
            respectful=command.respectful,
            discrepancies=found,
            complaint_id=command.complaint_id if found else None,
            note_commitment=command.note_commitment,
        )
    ]


def evolve_verification(state: Verification, event: EventPayload) -> Verification:
    return replace(state, recorded=True) if isinstance(event, VerificationRecorded) else state


verifications: Decider[Verification, Verify] = Decider(
    "verification", Verification(), decide_verification, evolve_verification
)
