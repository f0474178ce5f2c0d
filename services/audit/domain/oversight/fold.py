"""The oversight fold: ledger leaves, in index order, into the state that reconciliation,
findings, bureaucracy times and household timelines are read from. Pure: no clock (a
deadline is judged against the latest leaf's time, the ledger's own clock) and no I/O but
its own private, temporary store for households (`households`: a city's million do not fit
in memory as objects), so folding the same leaves from index 0 always gives the same
answers.

`apply(index, envelope, public)` takes each leaf: its sealed envelope, or None for a leaf
whose content was erased or is not a valid event; then only its public view counts
(`erased`). Rules about "at that time" are judged as the leaf is folded, by the part of
the fold for the event's service (`registry`, `distribution` with `rounds` and
`handovers`, `community`, `training`); rules about the state as a whole (a NIK in two
active households, a complaint past its SLA, one recipient for many households) when
findings are asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from services.audit.domain.oversight import (
    community,
    distribution,
    erased,
    registry,
    training,
    verification,
)
from services.audit.domain.oversight.findings import Finding
from services.audit.domain.oversight.state import Leaf, State
from services.audit.domain.oversight.times import StepTime, step_times, steps
from shared.events import Envelope, EventPayload
from shared.events.public import day_of

# An event's service (the first part of its type) -> the part of the fold that takes it.
PARTS: dict[str, Callable[[State, Leaf, EventPayload], None]] = {
    "registry": registry.fold,
    "distribution": distribution.fold,
    "community": community.fold,
    "training": training.fold,
}
# An event type with a part of its own, before its service's part.
TYPES: dict[str, Callable[[State, Leaf, EventPayload], None]] = {
    "community.verification_recorded": verification.fold,
}


class Oversight(State):
    """The fold's state. Feed it every leaf, in index order, from index 0."""

    def __init__(self) -> None:
        super().__init__()
        self._findings: tuple[int, list[Finding]] | None = None
        self._times: tuple[int, list[StepTime]] | None = None

    def apply(self, index: int, envelope: Envelope | None, public: dict[str, Any]) -> None:
        if index != self.size:
            raise ValueError(f"leaf {index} folded out of order (expected {self.size})")
        self.size += 1
        payload: EventPayload | None = None
        if envelope is not None:
            try:
                payload = envelope.typed()
            except ValueError:  # stored before its type was known: its public view counts
                payload = None
        if envelope is None or payload is None:
            erased.fold(self, index, public)
            return
        at = envelope.occurred_at
        if self.now is None or at > self.now:
            self.now = at
        part = TYPES.get(envelope.type) or PARTS.get(envelope.type.split(".", 1)[0])
        try:
            if part is not None:
                leaf = Leaf(index, envelope.aggregate_id, envelope.type, at, day_of(at))
                part(self, leaf, payload)
            elif envelope.type == "audit.leaves_erased":
                self.erasures += 1
        except (ArithmeticError, LookupError, TypeError, ValueError):
            # A leaf the rules cannot read (a shape no rule expects) must not stop
            # oversight of every leaf after it; it is counted, the same on every replay.
            self.unjudged.append(index)

    def findings(self) -> list[Finding]:
        """Every finding, in the order of the leaf that raised it (then by rule)."""
        if self._findings is None or self._findings[0] != self.size:
            found = [
                *self.raised,
                *registry.nik_twice(self),
                *community.late(self),
                *distribution.collectors(self),
            ]
            found.sort(key=lambda f: (f.evidence[-1], f.rule, f.evidence))
            self._findings = (self.size, found)
        return self._findings[1]

    def finding_counts(self) -> dict[str, int]:
        return dict(Counter(f.rule for f in self.findings()))

    def times(self) -> list[StepTime]:
        if self._times is None or self._times[0] != self.size:
            self._times = (self.size, step_times(steps(self)))
        return self._times[1]
