"""An in-memory audit server that speaks the ledger v2 contract and can lie.

Built only from the pure functions (merkle, checkpoint, public views), so the verifier and
the witness are tested against the contract, not against the audit service's storage. It
keeps apart what it serves (entries and openings a test may tamper with) and the leaves
its checkpoints and proofs are computed from (the tree it signs).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx

from shared.checkpoint import (
    CheckpointError,
    Signer,
    note_body,
    sign_checkpoint,
    verify_cosignature,
)
from shared.events import (
    Envelope,
    EventPayload,
    canonical_json,
    public_view,
    registry,
    unparseable_view,
)
from shared.merkle import (
    consistency_proof_from_leaves,
    inclusion_proof_from_leaves,
    leaf_hash,
    root_from_leaf_hashes,
)

ORIGIN = "bansos.tanjung-barat/ledger/v2"
KEY_NAME = "bansos-audit"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
AUDITOR_TOKEN = "auditor-token"
OTHER_TOKEN = "operator-token"  # a valid token of a role that may not open leaves


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def payload(i: int) -> EventPayload:
    """A rotation of real registry payloads; the reasons keep a non-ASCII dash."""
    if i % 3 == 0:
        return registry.HouseholdUpdated(monthly_income_idr=1_200_000 + i, changed=("income",))
    if i % 3 == 1:
        return registry.EligibilityDecided(
            eligible=i % 2 == 0,
            reasons=("desil 1 — lansia",),
            rt="005",
            rw=f"{1 + i % 10:02d}",
            policy_version="2025.1",
        )
    return registry.HouseholdDeactivated(reason="moved")


def envelope(seq: int, actor: str = "operator.siti") -> Envelope:
    return Envelope.wrap(
        payload(seq),
        aggregate_id=uuid4(),
        aggregate_version=1,
        actor=actor,
        actor_role="registry_operator",
        occurred_at=T0,
    )


@dataclass
class Opening:
    """What the private store keeps for one leaf; None in its place once erased."""

    kind: str  # "envelope" | "raw"
    salt: bytes
    content: bytes
    envelope: dict[str, Any] | None


@dataclass(frozen=True)
class Leaf:
    data: bytes
    opening: Opening


def sealed_of(salt: bytes, content: bytes) -> str:
    return hashlib.sha256(salt + content).hexdigest()


def make_leaf(
    seq: int, subject: str, public: dict[str, Any], opening: Opening, sealed: str | None = None
) -> Leaf:
    leaf = {
        "public": public,
        "sealed": sealed or sealed_of(opening.salt, opening.content),
        "stream_seq": seq,
        "subject": subject,
    }
    return Leaf(canonical_json(leaf), opening)


def event_leaf(seq: int, actor: str = "operator.siti", env: Envelope | None = None) -> Leaf:
    env = env or envelope(seq, actor)
    received = env.to_json()
    opening = Opening("envelope", os.urandom(32), canonical_json(received), received)
    return make_leaf(seq, env.subject, public_view(env), opening)


def raw_leaf(seq: int, raw: bytes = b"\xff not json {") -> Leaf:
    opening = Opening("raw", os.urandom(32), raw, None)
    return make_leaf(seq, "bansos.registry.household_registered", unparseable_view(raw), opening)


def ledger_leaves(seqs: range | list[int]) -> list[Leaf]:
    return [event_leaf(seq) for seq in seqs]


def entry_for(index: int, data: bytes) -> dict[str, Any]:
    leaf = json.loads(data)
    return {
        "index": index,
        "stream_seq": leaf.get("stream_seq"),
        "subject": leaf.get("subject"),
        "public": leaf.get("public"),
        "sealed": leaf.get("sealed"),
        "leaf_data": b64(data),
        "leaf_hash": b64(leaf_hash(data)),
    }


def opening_json(index: int, opening: Opening | None) -> dict[str, Any]:
    if opening is None:
        return {"index": index, "erased": True}
    return {
        "index": index,
        "erased": False,
        "kind": opening.kind,
        "salt": b64(opening.salt),
        "content": b64(opening.content),
        "envelope": opening.envelope,
    }


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": code, "message": code.replace("_", " ")})


@dataclass
class FakeLedger:
    """The audit service's ledger API over a MockTransport."""

    signer: Signer
    witnesses: dict[str, bytes] = field(default_factory=dict)  # configured: name -> key
    entries: list[dict[str, Any]] = field(default_factory=list)  # what it serves
    openings: list[Opening | None] = field(default_factory=list)  # its private store
    signed: list[bytes] = field(default_factory=list)  # leaf hashes it signs and proves
    checkpoints: dict[int, str] = field(default_factory=dict)  # size -> note, as signed
    cosignatures: dict[int, dict[str, str]] = field(default_factory=dict)  # size -> lines
    note: str | None = None  # a test may serve a forged note instead
    served_key: bytes | None = None
    page_cap: int = 1000
    sealed_page_cap: int = 1000
    entries_served: int = 0
    consistency_override: list[str] | None = None
    origin: str = ORIGIN
    honour_limit: bool = True  # a sloppy server may send a full page whatever was asked
    posted: list[dict[str, Any]] = field(default_factory=list)  # cosignatures received

    def append(self, leaves: list[Leaf]) -> None:
        for leaf in leaves:
            self.entries.append(entry_for(len(self.entries), leaf.data))
            self.openings.append(leaf.opening)
            self.signed.append(leaf_hash(leaf.data))

    def rewrite(self, index: int, leaf: Leaf) -> None:
        """An insider rewrites history: served and signed from now on alike."""
        self.entries[index] = entry_for(index, leaf.data)
        self.openings[index] = leaf.opening
        self.signed[index] = leaf_hash(leaf.data)

    def sign(self) -> str:
        """Sign the current tree head (a new note replaces an older one of the same size)."""
        size = len(self.signed)
        note = sign_checkpoint(self.signer, self.origin, size, root_from_leaf_hashes(self.signed))
        self.checkpoints[size] = note
        return note

    def root_of(self, size: int) -> bytes:
        """The root hash the checkpoint signed at ``size`` states."""
        return base64.b64decode(self.checkpoints[size].split("\n")[2])

    def with_cosignatures(self, size: int) -> str:
        lines = "".join(f"{line}\n" for line in self.cosignatures.get(size, {}).values())
        return self.checkpoints[size] + lines

    def cosigned_note(self, quorum: int) -> str | None:
        sizes = [s for s, lines in self.cosignatures.items() if len(lines) >= quorum]
        return self.with_cosignatures(max(sizes)) if sizes else None

    def _checkpoint(self, request: httpx.Request) -> httpx.Response:
        if self.note is not None:
            return httpx.Response(200, text=self.note)
        if "cosigned" in request.url.params:
            note = self.cosigned_note(int(request.url.params["cosigned"]))
            if note is None:
                return _error(404, "no_cosigned_checkpoint")
            return httpx.Response(200, text=note)
        if len(self.signed) not in self.checkpoints:
            self.sign()
        return httpx.Response(200, text=self.with_cosignatures(len(self.signed)))

    def _cosign(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        size, line = body["tree_size"], body["cosignature"]
        self.posted.append(body)
        if size not in self.checkpoints:
            return _error(404, "checkpoint_not_found")
        name = line.removeprefix("\u2014 ").split(" ", 1)[0]
        if name not in self.witnesses:
            return _error(403, "unknown_witness")
        try:
            stamp = verify_cosignature(
                line, note_body(self.checkpoints[size]), name, self.witnesses[name]
            )
        except CheckpointError:
            return _error(422, "bad_cosignature")
        self.cosignatures.setdefault(size, {})[name] = line
        return httpx.Response(201, json={"tree_size": size, "witness": name, "timestamp": stamp})

    def _sealed(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token == OTHER_TOKEN:
            return _error(403, "forbidden")
        if token != AUDITOR_TOKEN:
            return _error(401, "unauthenticated")
        start, limit = int(request.url.params["start"]), int(request.url.params["limit"])
        end = min(start + min(limit, self.sealed_page_cap), len(self.openings))
        page = [opening_json(i, self.openings[i]) for i in range(start, end)]
        return httpx.Response(200, json={"entries": page, "tree_size": len(self.signed)})

    def handle(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path, request.url.params
        if path == "/ledger/public-key":
            key = self.served_key or self.signer.public_key
            return httpx.Response(
                200,
                json={
                    "key_name": KEY_NAME,
                    "algorithm": "ed25519",
                    "public_key": b64(key),
                    "vkey": self.signer.vkey,
                    "origin": self.origin,
                },
            )
        if path == "/ledger/checkpoint":
            return self._checkpoint(request)
        if path == "/ledger/cosignatures" and request.method == "POST":
            return self._cosign(request)
        if path == "/ledger/sealed":
            return self._sealed(request)
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
            return httpx.Response(200, json={"hashes": [b64(h) for h in path_hashes]})
        if path == "/ledger/consistency":
            first, second = int(q["first"]), int(q["second"])
            if not 0 < first <= second <= len(self.signed):
                return _error(400, "beyond_tree")
            proof = [b64(h) for h in consistency_proof_from_leaves(first, self.signed[:second])]
            served = self.consistency_override if self.consistency_override is not None else proof
            return httpx.Response(200, json={"first": first, "second": second, "hashes": served})
        return _error(404, "not_found")

    def client(self) -> httpx.Client:
        return httpx.Client(
            transport=httpx.MockTransport(self.handle), base_url="http://audit.test"
        )


def fake_with(signer: Signer, leaves: list[Leaf], **kwargs: Any) -> FakeLedger:
    server = FakeLedger(signer, **kwargs)
    server.append(leaves)
    return server
