"""`bansos sample-check` against a ledger server that can lie (tests/audit/fake_ledger.py):
what the public catches from the ledger alone (a draw from a root the ledger never had, a
wrong k, leaves other than the cosigned ones, no cosignature), what only an auditor's
openings catch (a sample chosen rather than drawn), and an erased hand-over."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.checkpoint import Cosigner, Signer, note_body
from shared.events import Envelope, EventPayload
from shared.events.community_verification import VerificationSampleDrawn
from shared.events.distribution import AidReceived, RoundClosed
from shared.ledger_client import VerificationError, b64
from shared.merkle import leaf_hash, root_from_leaf_hashes
from shared.quorum import Witness
from shared.sample_check import CannotCheck, SampleReport, Trust, check_sample
from shared.sampling import draw
from tests.audit.fake_ledger import (
    AUDITOR_TOKEN,
    KEY_NAME,
    ORIGIN,
    T0,
    FakeLedger,
    _error,
    event_leaf,
    opening_json,
)

SIGNER = Signer(KEY_NAME, Ed25519PrivateKey.generate())
WITNESS = Cosigner("inspektorat", Ed25519PrivateKey.generate())
TRUST = Trust(KEY_NAME, SIGNER.public_key, [Witness(WITNESS.name, WITNESS.public_key)], 1)


class SampleLedger(FakeLedger):
    """The fake ledger plus the routes the check reads: search, witnesses, one opening."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path, request.url.params
        if path == "/ledger/search":
            after = int(q.get("cursor", 0))
            found = [
                e for e in self.entries if e["public"]["type"] == q["type"] and e["index"] >= after
            ]
            return httpx.Response(200, json={"entries": found, "next_cursor": None})
        if path == "/ledger/witnesses":
            return httpx.Response(200, json={"witnesses": [{"name": "x", "vkey": WITNESS.vkey}]})
        if path.startswith("/ledger/entries/") and path.endswith("/sealed"):
            if request.headers.get("authorization") != f"Bearer {AUDITOR_TOKEN}":
                return _error(401, "unauthenticated")
            index = int(path.split("/")[3])
            opened = opening_json(index, self.openings[index])
            if opened.pop("erased"):
                return _error(410, "leaf_erased")
            return httpx.Response(200, json=opened)
        return super().handle(request)


@dataclass
class Scene:
    server: SampleLedger
    round_id: UUID
    ids: list[UUID]
    first_handover: int


def wrap(payload: EventPayload, aggregate_id: UUID) -> Envelope:
    return Envelope.wrap(
        payload,
        aggregate_id=aggregate_id,
        aggregate_version=1,
        actor="someone",
        actor_role="programme_manager",
        occurred_at=T0,
    )


def other_round() -> RoundClosed:
    return RoundClosed(
        allocated=1, received=1, undelivered=0, amount_allocated_idr=1, amount_received_idr=1
    )


def scene(n: int = 24, *, root: bytes | None = None, chosen: bool = False, k: int = 10) -> Scene:
    """A round of n hand-overs closed in the ledger, its sample drawn from the root at the
    tree size after the closure (or from `root`, or chosen: the first k), all cosigned."""
    rid, ids = uuid4(), [uuid4() for _ in range(n)]
    events = [wrap(other_round(), uuid4())]
    first = len(events)
    for allocation in ids:
        received = AidReceived(
            round_id=rid,
            programme="BLT",
            rw="03",
            amount_idr=600_000,
            officer_id=uuid4(),
            recipient_commitment="0" * 64,
            receipt_commitment=hashlib.sha256(allocation.bytes).hexdigest(),
            received_at=T0,
            place="Balai warga",
            evidence_sha256="1" * 64,
        )
        events.append(wrap(received, allocation))
    closed = RoundClosed(
        allocated=n,
        received=n,
        undelivered=0,
        amount_allocated_idr=n * 600_000,
        amount_received_idr=n * 600_000,
    )
    events.append(wrap(closed, rid))
    leaves = [event_leaf(seq, env=e) for seq, e in enumerate(events, start=1)]
    then = root_from_leaf_hashes([leaf_hash(leaf.data) for leaf in leaves])
    sample = tuple(ids[:k]) if chosen else draw(then, ids, k)
    drawn = VerificationSampleDrawn(
        round_id=rid,
        origin=ORIGIN,
        tree_size=len(leaves),
        root_hash=b64(root or then),
        population=n,
        k=k,
        allocation_ids=sample,
    )
    leaves.append(event_leaf(len(leaves) + 1, env=wrap(drawn, rid)))
    server = SampleLedger(SIGNER, witnesses={WITNESS.name: WITNESS.public_key})
    server.append(leaves)
    note = server.sign()
    line = WITNESS.cosign(note_body(note), 1_790_000_000)
    server.cosignatures[len(leaves)] = {WITNESS.name: line}
    return Scene(server, rid, ids, first)


def check(s: Scene, **options: Any) -> SampleReport:
    options = {"minimum": 10, "share_pct": 5.0, "wait_s": 0, **options}
    with s.server.client() as client:
        return check_sample(client, s.round_id, options.pop("trust", TRUST), **options)


def test_an_honest_draw_is_recomputed_by_anyone_and_exactly_by_an_auditor() -> None:
    s = scene()
    public = check(s)
    assert (public.k, public.handed, public.closure_received) == (10, 24, 24)
    assert public.cosigned_by == ("inspektorat",) and public.opened is None
    assert public.exact is None  # the allocation ids are not public
    audited = check(s, token=AUDITOR_TOKEN)
    assert (audited.opened, audited.erased, audited.exact) == (24, 0, True)


def test_a_draw_from_a_root_the_ledger_never_had_fails_publicly() -> None:
    s = scene(root=hashlib.sha256(b"a root of the operator's choosing").digest())
    with pytest.raises(VerificationError, match="not the ledger's root at tree size 26"):
        check(s)


def test_a_wrong_k_fails_publicly() -> None:
    with pytest.raises(VerificationError, match="the draw's k is 5; the rule gives 10 of 24"):
        check(scene(k=5))


def test_a_chosen_sample_passes_publicly_and_fails_for_an_auditor() -> None:
    s = scene(chosen=True)
    assert check(s).k == 10  # what the public can see is right: the root and k
    with pytest.raises(VerificationError, match="not the one the rule gives"):
        check(s, token=AUDITOR_TOKEN)


def test_leaves_other_than_the_cosigned_ones_fail() -> None:
    s = scene()
    other = scene().server.entries[s.first_handover]
    s.server.entries[s.first_handover] = {**other, "index": s.first_handover}
    with pytest.raises(VerificationError, match="not the tree the witnesses cosigned"):
        check(s)


def test_a_hidden_hand_over_fails() -> None:
    """A server that serves a hand-over's leaf as another event's, and signs that."""
    s = scene()
    filler = event_leaf(s.first_handover + 1, env=wrap(other_round(), uuid4()))
    s.server.rewrite(s.first_handover, filler)
    s.server.sign()
    size = len(s.server.signed)
    s.server.cosignatures[size] = {
        WITNESS.name: WITNESS.cosign(note_body(s.server.checkpoints[size]), 1_790_000_001)
    }
    with pytest.raises(VerificationError, match="not the ledger's root"):
        check(s)


def test_without_the_witnesses_cosignature_it_cannot_check() -> None:
    s = scene()
    s.server.cosignatures.clear()
    with pytest.raises(CannotCheck, match="no checkpoint cosigned by 1 witnesses holds the draw"):
        check(s)
    stranger = Cosigner("forum-warga", Ed25519PrivateKey.generate())
    trust = Trust(KEY_NAME, SIGNER.public_key, [Witness(stranger.name, stranger.public_key)], 1)
    with pytest.raises(VerificationError, match="quorum not met"):
        check(scene(), trust=trust)


def test_an_erased_hand_over_leaves_k_checked_and_the_exact_sample_unknown() -> None:
    s = scene()
    s.server.openings[s.first_handover + 3] = None  # UU 27/2022: its salt and content deleted
    audited = check(s, token=AUDITOR_TOKEN)
    assert (audited.opened, audited.erased, audited.exact, audited.k) == (23, 1, None, 10)


def test_an_entry_served_unlike_its_leaf_fails() -> None:
    s = scene()
    entry = s.server.entries[s.first_handover]
    s.server.entries[s.first_handover] = {**entry, "public": {**entry["public"], "rw": "07"}}
    with pytest.raises(VerificationError, match="disagrees with the entry's public view"):
        check(s)
