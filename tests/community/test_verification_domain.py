"""The verification deciders (issue 15), pure: the sample's size and draw, recomputed here
from the root with nothing but hashlib; the refusals of a draw and of a verification;
which answers are discrepancies; feedback naming its hand-over by receipt."""

from __future__ import annotations

import base64
import hashlib
import math
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.community.domain import feedback
from services.community.domain.verification import (
    Draw,
    Sample,
    SamplePolicy,
    Verification,
    Verify,
    decide_sample,
    decide_verification,
    discrepancies,
    draw,
    sample_size,
    samples,
    verifications,
)
from shared.domain import DomainError
from shared.events.community_verification import VerificationRecorded, VerificationSampleDrawn

ROOT = hashlib.sha256(b"a checkpoint's root").digest()


def recompute(root_b64: str, allocation_ids: list[str], k: int) -> list[str]:
    """What anyone does with the published root and the round's allocation ids."""
    root = base64.b64decode(root_b64)
    ranked = sorted(allocation_ids, key=lambda a: hashlib.sha256(root + a.encode()).digest())
    return ranked[:k]


@pytest.mark.parametrize(
    ("n", "k"), [(1, 1), (7, 7), (10, 10), (12, 10), (200, 10), (201, 11), (1000, 50)]
)
def test_the_sample_size_is_all_of_a_small_round_else_ten_or_five_percent(n: int, k: int) -> None:
    assert sample_size(n) == k


@given(st.integers(1, 5000), st.integers(1, 100), st.floats(0.1, 100))
def test_the_sample_size_never_exceeds_the_round(n: int, minimum: int, share: float) -> None:
    k = sample_size(n, minimum, share)
    assert 1 <= k <= n
    assert k >= min(n, minimum) and k >= min(n, math.ceil(n * share / 100))


def command(**changes: object) -> Draw:
    handed = tuple(uuid4() for _ in range(30))
    values: dict[str, object] = {
        "round_id": uuid4(),
        "closed": True,
        "closure_seq": 40,
        "handed": handed,
        "expected": 30,
        "origin": "bansos.tanjung-barat/ledger/v2",
        "tree_size": 41,
        "root": ROOT,
        "root_b64": base64.b64encode(ROOT).decode(),
        **changes,
    }
    return Draw(**values)  # type: ignore[arg-type]


def test_a_draw_is_recomputed_from_the_published_root() -> None:
    cmd = command()
    [drawn] = decide_sample(Sample(), cmd)
    assert isinstance(drawn, VerificationSampleDrawn)
    assert (drawn.population, drawn.k, drawn.tree_size) == (30, 10, 41)
    again = recompute(drawn.root_hash, [str(a) for a in cmd.handed], drawn.k)
    assert [str(a) for a in drawn.allocation_ids] == again
    # Not whoever draws it chooses: another root draws another sample.
    other = draw(hashlib.sha256(b"another root").digest(), cmd.handed, 10)
    assert set(other) != set(drawn.allocation_ids)
    # The order the hand-overs are read in does not matter.
    assert draw(ROOT, reversed(cmd.handed), 10) == drawn.allocation_ids
    public = drawn.public(cmd.round_id)
    assert set(public) == {"round_id", "tree_size", "root_hash", "k"}


def test_a_draw_is_refused_before_the_closure_or_twice() -> None:
    with pytest.raises(DomainError) as open_round:
        decide_sample(Sample(), command(closed=False, closure_seq=None))
    assert open_round.value.code == "round_not_closed"
    # A checkpoint whose tree does not reach the closure's stream sequence was (or could
    # have been) signed before the closure: its root was known too early.
    with pytest.raises(DomainError) as early:
        decide_sample(Sample(), command(closure_seq=41, tree_size=40))
    assert early.value.code == "sample_checkpoint_early" and early.value.field == "checkpoint"
    assert decide_sample(Sample(), command(closure_seq=41, tree_size=41))
    with pytest.raises(DomainError) as unplaced:
        decide_sample(Sample(), command(closure_seq=None))
    assert unplaced.value.code == "sample_checkpoint_early"
    with pytest.raises(DomainError) as pending:
        decide_sample(Sample(), command(expected=31))
    assert pending.value.code == "sample_incomplete"
    with pytest.raises(DomainError) as empty:
        decide_sample(Sample(), command(handed=(), expected=0))
    assert empty.value.code == "sample_empty"
    state = samples.evolve(Sample(), decide_sample(Sample(), command())[0])
    with pytest.raises(DomainError) as twice:
        decide_sample(state, command())
    assert twice.value.code == "sample_exists"


def test_the_policy_sets_the_size() -> None:
    [drawn] = decide_sample(Sample(), command(policy=SamplePolicy(minimum=3, share_pct=50)))
    assert isinstance(drawn, VerificationSampleDrawn) and drawn.k == 15


def verify(**changes: object) -> Verify:
    values: dict[str, object] = {
        "round_id": uuid4(),
        "rw": "03",
        "sampled": True,
        "received": True,
        "full": True,
        "asked_to_pay": False,
        "pay_band": None,
        "respectful": True,
        "complaint_id": uuid4(),
        **changes,
    }
    return Verify(**values)  # type: ignore[arg-type]


def test_a_verification_that_finds_nothing_files_nothing() -> None:
    [recorded] = decide_verification(Verification(), verify())
    assert isinstance(recorded, VerificationRecorded)
    assert recorded.discrepancies == () and recorded.complaint_id is None


@pytest.mark.parametrize(
    ("answers", "found"),
    [
        ({"received": False, "full": None}, ("not_received",)),
        ({"full": False}, ("not_full",)),
        ({"asked_to_pay": True, "pay_band": "10k_50k"}, ("asked_to_pay",)),
        ({"respectful": False}, ("disrespect",)),
        (
            {"received": False, "full": None, "asked_to_pay": True, "pay_band": "under_10k"},
            ("not_received", "asked_to_pay"),
        ),
    ],
)
def test_a_discrepancy_names_the_complaint_it_files(
    answers: dict[str, object], found: tuple[str, ...]
) -> None:
    cmd = verify(**answers)
    [recorded] = decide_verification(Verification(), cmd)
    assert isinstance(recorded, VerificationRecorded)
    assert recorded.discrepancies == found
    assert recorded.complaint_id == cmd.complaint_id
    public = recorded.public(uuid4())
    # The round only: the answers of one of ten sampled recipients would single her out.
    assert set(public) == {"round_id"}


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"sampled": False}, "not_in_sample", "allocation_id"),
        ({"full": None}, "verification_inconsistent", "full"),
        ({"received": False}, "verification_inconsistent", "full"),
        ({"asked_to_pay": True}, "verification_inconsistent", "pay_band"),
        ({"pay_band": "over_100k"}, "verification_inconsistent", "pay_band"),
    ],
)
def test_a_verification_is_refused(changes: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(DomainError) as refused:
        decide_verification(Verification(), verify(**changes))
    assert (refused.value.code, refused.value.field) == (code, field)


def test_a_hand_over_is_verified_once() -> None:
    state = verifications.evolve(Verification(), decide_verification(Verification(), verify())[0])
    with pytest.raises(DomainError) as twice:
        decide_verification(state, verify())
    assert twice.value.code == "verification_exists"


def test_discrepancies_list_each_kind_once() -> None:
    assert discrepancies(False, None, True, False) == ("not_received", "asked_to_pay", "disrespect")
    assert discrepancies(True, True, False, True) == ()


# --- feedback by receipt code --------------------------------------------------------------
def rating(**changes: object) -> feedback.GiveFeedback:
    values: dict[str, object] = {
        "subject_type": "round",
        "subject_id": None,
        "subject_known": True,
        "rating": 4,
        "rw": None,
        "anonymous": True,
        "receipt_commitment": "ab" * 32,
        "receipt_round": ROUND,
        **changes,
    }
    return feedback.GiveFeedback(**values)  # type: ignore[arg-type]


ROUND = UUID("6f1c2b1e-0000-4000-8000-000000000001")


def test_a_rating_by_receipt_is_tied_to_its_round() -> None:
    [given_] = feedback.decide(feedback.Feedback(), rating())
    assert given_.subject_id == ROUND and given_.receipt_commitment == "ab" * 32  # type: ignore[attr-defined]
    assert "receipt_commitment" not in given_.public(uuid4())
    [named] = feedback.decide(feedback.Feedback(), rating(subject_id=ROUND))
    assert named.subject_id == ROUND  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"receipt_round": None}, "receipt_unknown"),
        ({"subject_id": uuid4()}, "receipt_other_round"),
        ({"subject_type": "course"}, "receipt_other_round"),
        ({"receipt_rated": True}, "receipt_rated"),
    ],
)
def test_a_rating_by_receipt_is_refused(changes: dict[str, object], code: str) -> None:
    with pytest.raises(DomainError) as refused:
        feedback.decide(feedback.Feedback(), rating(**changes))
    assert refused.value.code == code
