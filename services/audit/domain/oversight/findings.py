"""What an oversight finding is, and the catalogue of rules that raise them.

A finding names the rule it broke, where (RW, programme, period, round, day) and the ledger
indices it rests on, so an auditor can open those leaves and prove each with an inclusion
proof. Its description is short and holds ids only (allocation, household, round, officer,
complaint, enrolment): never a NIK, a commitment, a name, a place typed by staff or GPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Rule:
    code: str
    title: str  # one line, for a list
    evidence: str  # which leaves a finding cites


@dataclass(frozen=True)
class Finding:
    rule: str
    rw: str | None
    programme: str | None
    period: str | None
    round_id: UUID | None
    day: str  # Jakarta YYYY-MM-DD of the leaf (or deadline) that raised it
    description: str
    evidence: tuple[int, ...]  # ledger indices, ascending
    subjects: tuple[UUID, ...] = ()  # the ids it is about (allocation, household, …)


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.code: r for r in rules}


RULES = _rules(
    Rule(
        "handover_without_allocation",
        "A hand-over on an allocation the ledger never recorded",
        "the hand-over",
    ),
    Rule(
        "handover_twice",
        "A second hand-over of one allocation",
        "the first hand-over and the repeat",
    ),
    Rule(
        "allocation_not_eligible",
        "An allocation to a household not decided eligible at that time",
        "the allocation and the household's latest eligibility decision (if any)",
    ),
    Rule(
        "allocation_inactive_household",
        "An allocation to a household deactivated at that time",
        "the allocation and the deactivation",
    ),
    Rule(
        "handover_after_deactivation",
        "A hand-over to a household deactivated before it",
        "the allocation, the deactivation and the hand-over",
    ),
    Rule(
        "officer_not_certified",
        "A hand-over by an officer without a certificate valid on its day",
        "the hand-over and the officer's certificates recorded before it",
    ),
    Rule(
        "round_not_endorsed",
        "A hand-over in a round the community had not endorsed by then",
        "the round's scheduling and the hand-over",
    ),
    Rule(
        "outside_posko_day",
        "A hand-over on a day that is not its RW's posko day in the round",
        "the round's scheduling and the hand-over",
    ),
    Rule(
        "backdated_receipt",
        "A receipt dated more than 2 days before it was recorded",
        "the hand-over",
    ),
    Rule(
        "evidence_reused",
        "One photo or signature hash used for two hand-overs",
        "the hand-over that used it first and the repeat",
    ),
    Rule(
        "officer_two_places",
        "One officer handing over at two places within an hour",
        "both hand-overs",
    ),
    Rule(
        "nik_in_two_households",
        "One NIK commitment among the members of two active households",
        "the registrations (or member additions) that put it in each household",
    ),
    Rule(
        "budget_exceeded",
        "Allocations of a budget's rounds beyond the budget (with top-ups)",
        "the budget's entries so far and the allocation that went beyond",
    ),
    Rule(
        "complaint_past_sla",
        "A complaint acknowledged or resolved late, or still open past its deadline",
        "the complaint's filing, acknowledgement and resolution",
    ),
    Rule(
        "completion_without_attendance",
        "A course completion below the course's attendance threshold",
        "the course, the trainee's attendance records and the completion",
    ),
    Rule(
        "closure_mismatch",
        "A round closed with totals that differ from its ledger entries",
        "the round's scheduling and its closure",
    ),
    # What an auditor of cash transfers adds.
    Rule(
        "recipient_many_households",
        "One recipient collecting for 3 or more households in one round",
        "the hand-overs to that recipient",
    ),
    Rule(
        "amount_not_benefit",
        "An allocation whose amount differs from the budget's benefit",
        "the budget and the allocation",
    ),
    Rule(
        "handover_after_close",
        "A hand-over recorded after its round was closed",
        "the closure and the hand-over",
    ),
    Rule(
        "handover_at_night",
        "A hand-over outside posko hours (06:00-20:00 WIB)",
        "the hand-over",
    ),
    Rule(
        "allocation_outside_round",
        "An allocation in a round with no posko for the household's RW",
        "the round's scheduling and the allocation",
    ),
    # What recipients told the community's facilitators (issue 15).
    Rule(
        "verification_discrepancy",
        "A sampled recipient not given the aid in full, asked to pay, or treated without respect",
        "the verification and the allocation's hand-over",
    ),
)
