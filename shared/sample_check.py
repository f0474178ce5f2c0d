"""`bansos sample-check`: recompute a closed round's verification sample from the audit
ledger, trusting neither the ledger's server nor the community service
(services/community/README.md#verification-with-recipients).

Anyone, without a token, checks from the public ledger: the latest checkpoint that K
witnesses cosigned (their keys and the log's pinned, as `bansos verify` takes them); every
leaf up to it, recomputed into its root; the root at the draw's tree size recomputed from
those leaves and equal to the root the draw published (so the sample comes from the one
history the witnesses vouch for); the round's closure inside that tree (so the root could
not be known before the round closed); and k = sample_size(n), n the round's hand-over
leaves. Which hand-overs were drawn is not public: hand-over leaves show the round,
programme, RW and amount, never an allocation id. An auditor (`--token`) opens the
round's hand-over leaves and the draw's, checks each opening against its commitment, and
recomputes the exact sample from the allocation ids with the published rule
(shared/sampling.py). Nothing printed names a hand-over, a household or an answer: only
counts, sizes, the root and whether each check matched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx

from shared.checkpoint import Checkpoint, CheckpointError, parse_and_verify
from shared.ledger_client import VerificationError, b64, get_json
from shared.merkle import Frontier
from shared.quorum import Witness, check_quorum
from shared.sampling import draw, sample_size
from shared.verify_sealed import check_opening
from shared.verify_tree import Leaf, Prefix, extend

RECEIVED = "distribution.aid_received"
CLOSED = "distribution.round_closed"
DRAWN = "community.verification_sample_drawn"


class CannotCheck(Exception):
    """Nothing is wrong yet, but the check cannot be made now (nothing drawn, the
    witnesses behind): run it again later."""


@dataclass(frozen=True)
class Trust:
    """What the check rests on: the log's key, the witnesses and how many must cosign."""

    key_name: str
    public_key: bytes
    witnesses: Sequence[Witness]
    quorum: int


@dataclass
class SampleReport:
    """What a run established (counts and sizes only: nothing that names a household)."""

    round_id: UUID
    anchor: Checkpoint  # the cosigned checkpoint every leaf was checked against
    cosigned_by: tuple[str, ...]
    tree_size: int  # of the checkpoint the sample was drawn from
    root: bytes
    k: int
    closure_index: int
    draw_index: int
    handed: int  # the round's hand-over leaves before its closure
    closure_received: Any  # its public view's count: exact, or "<5"
    late: int = 0  # hand-over leaves of the round after its closure
    opened: int | None = None  # with a token: hand-over leaves opened and matched
    erased: int = 0
    exact: bool | None = None  # with a token: the recomputed sample is the drawn one
    community: list[str] = field(default_factory=list)


@dataclass
class _RoundLeaves:
    """The leaves about one round, collected while the prefix is checked."""

    round_id: str
    handovers: list[Leaf] = field(default_factory=list)
    closures: list[Leaf] = field(default_factory=list)
    draws: list[Leaf] = field(default_factory=list)

    def collect(self, leaves: Sequence[Leaf]) -> None:
        for leaf in leaves:
            if leaf.public.get("round_id") != self.round_id:
                continue
            kind = leaf.public.get("type")
            if kind == RECEIVED:
                self.handovers.append(leaf)
            elif kind == CLOSED:
                self.closures.append(leaf)
            elif kind == DRAWN:
                self.draws.append(leaf)


def _draw_hint(client: httpx.Client, round_id: UUID) -> dict[str, Any] | None:
    """The draw's leaf as the public search finds it: only where to look (the search is
    not proof; the leaves checked against the cosigned root are)."""
    cursor: Any = 0
    while cursor is not None:
        reply = client.get(
            "/ledger/search", params={"type": DRAWN, "limit": 1000, "cursor": cursor}
        )
        reply.raise_for_status()
        page = reply.json()
        if not isinstance(page, dict):
            raise VerificationError(None, "/ledger/search did not return a JSON object")
        for entry in page.get("entries") or []:
            if not isinstance(entry, dict):
                raise VerificationError(None, "/ledger/search serves a leaf that is no object")
            public = entry.get("public")
            if isinstance(public, dict) and public.get("round_id") == str(round_id):
                if not isinstance(entry.get("index"), int):
                    raise VerificationError(None, "/ledger/search serves a leaf without index")
                found: dict[str, Any] = entry
                return found
        cursor = page.get("next_cursor")
    return None


def _cosigned(client: httpx.Client, trust: Trust) -> tuple[Checkpoint, dict[str, int]] | None:
    params = {"cosigned": trust.quorum} if trust.quorum else {}
    reply = client.get("/ledger/checkpoint", params=params)
    if reply.status_code == 404:
        return None  # no checkpoint yet, or none the witnesses cosigned
    reply.raise_for_status()
    try:
        checkpoint = parse_and_verify(reply.text, trust.key_name, trust.public_key)
    except CheckpointError as e:
        raise VerificationError(None, f"checkpoint: {e}") from e
    found = check_quorum(checkpoint.note, trust.witnesses, trust.quorum) if trust.quorum else {}
    return checkpoint, found


def _anchor(
    client: httpx.Client,
    round_id: UUID,
    trust: Trust,
    wait_s: float,
    waiting: Callable[[str], None],
) -> tuple[dict[str, Any], Checkpoint, dict[str, int]]:
    """The draw's leaf (as searched) and a cosigned checkpoint that holds it, waiting up
    to `wait_s` for the ledger to ingest the draw and the witnesses to cosign it."""
    deadline, said = time.monotonic() + wait_s, False
    while True:
        hint = _draw_hint(client, round_id)
        signed = _cosigned(client, trust) if hint is not None else None
        if hint is not None and signed is not None and signed[0].tree_size > hint["index"]:
            return hint, *signed
        if hint is None:
            missing = f"the ledger holds no verification sample of round {round_id}"
        else:
            missing = (
                f"no checkpoint cosigned by {trust.quorum} witnesses holds the draw (leaf "
                f"{hint['index']}) yet: the witnesses cosign every round they run"
            )
        if time.monotonic() >= deadline:
            raise CannotCheck(missing)
        if not said:
            waiting(f"{missing}: waiting up to {wait_s:.0f} s")
            said = True
        time.sleep(0.5)


def _one(leaves: list[Leaf], what: str) -> Leaf:
    if len(leaves) != 1:
        raise VerificationError(
            leaves[1].index if leaves else None, f"the ledger holds {len(leaves)} {what}"
        )
    return leaves[0]


def check_sample(
    client: httpx.Client,
    round_id: UUID,
    trust: Trust,
    *,
    minimum: int,
    share_pct: float,
    token: str | None = None,
    community: httpx.Client | None = None,
    wait_s: float = 30.0,
    waiting: Callable[[str], None] = lambda _: None,
    page_size: int = 1000,
) -> SampleReport:
    """Recompute round `round_id`'s sample; VerificationError names what does not match,
    CannotCheck what is missing (after `wait_s`, `waiting` told once)."""
    hint, anchor, cosigned = _anchor(client, round_id, trust, wait_s, waiting)
    size = (hint.get("public") or {}).get("tree_size")
    if not isinstance(size, int) or not 0 < size <= hint["index"]:
        raise VerificationError(hint["index"], "the draw's leaf names no earlier tree size")
    seen = _RoundLeaves(str(round_id))
    prefix = Prefix(Frontier())
    extend(client, prefix, size, page_size, on_page=seen.collect)
    root_then = prefix.frontier.root()
    extend(client, prefix, anchor.tree_size, page_size, on_page=seen.collect)
    if prefix.frontier.root() != anchor.root_hash:
        raise VerificationError(
            None, f"the served leaves are not the tree the witnesses cosigned ({anchor.tree_size})"
        )
    drawn = _one(seen.draws, f"samples of round {round_id}")
    public = drawn.public
    if public.get("tree_size") != size:
        raise VerificationError(drawn.index, "the search served another draw than the ledger's")
    if public.get("root_hash") != b64(root_then):
        raise VerificationError(
            drawn.index,
            f"the draw's root is not the ledger's root at tree size {size} (recomputed from "
            "its leaves): the sample was not drawn from this ledger",
        )
    closure = _one(seen.closures, f"closures of round {round_id}")
    if closure.index >= size:
        raise VerificationError(
            drawn.index, f"the draw's tree (size {size}) does not hold the round's closure"
        )
    handed = [leaf for leaf in seen.handovers if leaf.index < closure.index]
    k, received = public.get("k"), closure.public.get("received")
    expected = sample_size(len(handed), minimum, share_pct)
    if k != expected:
        raise VerificationError(
            drawn.index, f"the draw's k is {k}; the rule gives {expected} of {len(handed)}"
        )
    if received != len(handed) and not (received == "<5" and len(handed) < 5):
        raise VerificationError(
            closure.index, f"the closure counts {received} received; the ledger holds {len(handed)}"
        )
    report = SampleReport(
        round_id=round_id,
        anchor=anchor,
        cosigned_by=tuple(sorted(cosigned)),
        tree_size=size,
        root=root_then,
        k=expected,
        closure_index=closure.index,
        draw_index=drawn.index,
        handed=len(handed),
        closure_received=received,
        late=len(seen.handovers) - len(handed),
    )
    sample = _exact(client, token, handed, drawn, root_then, report) if token else None
    if community is not None:
        _compare_with_community(community, token, report, sample)
    return report


def _open(client: httpx.Client, token: str, leaf: Leaf) -> dict[str, Any] | None:
    """The envelope a leaf seals, its opening checked against the leaf; None if erased."""
    reply = client.get(
        f"/ledger/entries/{leaf.index}/sealed", headers={"Authorization": f"Bearer {token}"}
    )
    if reply.status_code == 410:
        return None
    reply.raise_for_status()
    opening = reply.json()
    check_opening({**opening, "erased": False}, leaf)
    envelope = opening.get("envelope")
    if not isinstance(envelope, dict):
        raise VerificationError(leaf.index, "the opening is not an event")
    return envelope


def _exact(
    client: httpx.Client,
    token: str,
    handed: list[Leaf],
    drawn: Leaf,
    root: bytes,
    report: SampleReport,
) -> tuple[UUID, ...] | None:
    """Open the round's hand-overs and the draw; recompute the sample from the ids."""
    ids: set[UUID] = set()
    for leaf in handed:
        envelope = _open(client, token, leaf)
        if envelope is None:
            report.erased += 1
        else:
            ids.add(UUID(envelope["aggregate_id"]))
    report.opened = len(handed) - report.erased
    sealed = _open(client, token, drawn)
    if sealed is None:
        raise CannotCheck("the draw's leaf was erased: its sample can no longer be read")
    payload = sealed["payload"]
    if report.erased:
        return None  # an erased hand-over's id is gone: the exact sample cannot be redone
    if payload.get("population") != len(ids):
        raise VerificationError(
            drawn.index, f"the draw counts {payload.get('population')} hand-overs, not {len(ids)}"
        )
    recomputed = draw(root, ids, report.k)
    report.exact = [str(a) for a in recomputed] == payload.get("allocation_ids")
    if not report.exact:
        raise VerificationError(
            drawn.index, "the sample drawn is not the one the rule gives from the root"
        )
    return recomputed


def _compare_with_community(
    community: httpx.Client,
    token: str | None,
    report: SampleReport,
    sample: tuple[UUID, ...] | None,
) -> None:
    """What the community service says of the sample: its monitoring (public), or with a
    token the sample it asks facilitators to visit."""
    rid = report.round_id
    if token is None:
        served = get_json(community, f"/rounds/{rid}/verification")
        if served.get("sample_size") != report.k or served.get("tree_size") != report.tree_size:
            raise VerificationError(None, "the community's monitoring shows another sample")
        report.community.append(
            f"monitors a sample of {report.k} from tree size {report.tree_size}"
        )
        return
    auth = {"Authorization": f"Bearer {token}"}
    served = get_json(community, f"/rounds/{rid}/verification-sample", auth)
    if served.get("root_hash") != b64(report.root) or served.get("k") != report.k:
        raise VerificationError(None, "the community serves a sample from another root")
    if sample is not None and served.get("allocation_ids") != [str(a) for a in sample]:
        raise VerificationError(None, "the community asks facilitators to visit another sample")
    report.community.append(
        "asks facilitators to visit the same sample"
        if sample is not None
        else f"serves a sample of {report.k} from the same root"
    )
