"""Bureaucracy times (monitoring and evaluation): how long each step of the programme takes,
from the ledger's own timestamps (the envelopes' `occurred_at`), as median and 90th
percentile in days, per RW (and all RWs), programme (and all) and month of the step's end.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.audit.domain.oversight.state import State
from shared.clock import JAKARTA

STEPS = (
    "registered_to_surveyed",
    "surveyed_to_eligible",
    "registered_to_eligible",
    "eligible_to_allocated",
    "allocated_to_received",
    "complaint_filed_to_acknowledged",
    "complaint_filed_to_resolved",
)
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class StepTime:
    step: str  # one of STEPS
    rw: str | None  # "03", or None for all RWs
    programme: str | None  # None: all programmes (and steps before any programme)
    month: str  # "YYYY-MM" (Jakarta) of the step's end
    count: int
    median_days: float
    p90_days: float


@dataclass(frozen=True)
class Step:
    """One measured step: from one event to another, of one household or complaint."""

    step: str
    rw: str
    programme: str | None
    started: datetime
    ended: datetime


def month_of(moment: datetime) -> str:
    return moment.astimezone(JAKARTA).strftime("%Y-%m")


def p90(sorted_days: list[float]) -> float:
    """Nearest rank: the smallest value at or above 90 % of the values."""
    return sorted_days[max(0, math.ceil(0.9 * len(sorted_days)) - 1)]


def step_times(steps: Iterable[Step]) -> list[StepTime]:
    """Each step in every grouping: (RW | all) x (programme | all) x month."""
    groups: dict[tuple[str, str | None, str | None, str], list[float]] = defaultdict(list)
    for s in steps:
        days = max(0.0, (s.ended - s.started).total_seconds() / DAY_SECONDS)
        month = month_of(s.ended)
        for rw in (s.rw, None):
            for programme in {s.programme, None}:
                groups[(s.step, rw, programme, month)].append(days)
    order = {step: i for i, step in enumerate(STEPS)}
    out = []
    for (step, rw, programme, month), values in sorted(
        groups.items(),
        key=lambda kv: (order[kv[0][0]], kv[0][3], kv[0][1] or "", kv[0][2] or ""),
    ):
        values.sort()
        out.append(
            StepTime(
                step=step,
                rw=rw,
                programme=programme,
                month=month,
                count=len(values),
                median_days=round(statistics.median(values), 3),
                p90_days=round(p90(values), 3),
            )
        )
    return out


def steps(s: State) -> list[Step]:
    """The steps the fold's state has seen end: of households, allocations, complaints."""
    found = []

    def step(name: str, rw: str, programme: str | None, start: Any, end: Any) -> None:
        if start is not None and end is not None and end >= start:
            found.append(Step(name, rw, programme, start, end))

    for rw, registered, survey, eligible in s.households.times():
        step("registered_to_surveyed", rw, None, registered, survey)
        step("surveyed_to_eligible", rw, None, survey, eligible)
        step("registered_to_eligible", rw, None, registered, eligible)
    for rw, programme, eligible, allocated in s.households.allocation_times():
        step("eligible_to_allocated", rw, programme, eligible, allocated)
    for rw, programme, allocated, received in s.allocations.received_times():
        step("allocated_to_received", rw, programme, allocated, received)
    for c in s.complaints.values():
        acknowledged = c.acknowledged_at or c.resolved_at  # resolving acknowledges too
        step("complaint_filed_to_acknowledged", c.rw, None, c.filed_at, acknowledged)
        step("complaint_filed_to_resolved", c.rw, None, c.filed_at, c.resolved_at)
    return found
