"""An erased or unreadable leaf in the oversight fold: only its public view counts. An
erased allocation or hand-over still counts in its round's figures (by RW and amount), an
erased undelivered report in its round's total only; no rule is judged on it, but its day
moves the fold's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from services.audit.domain.oversight import rounds
from services.audit.domain.oversight.state import State
from shared.clock import JAKARTA
from shared.events.distribution import Posko


def fold(s: State, i: int, view: dict[str, Any]) -> None:
    _tick_day(s, view.get("day"))
    kind = view.get("type")
    round_id = _uuid(view.get("round_id"))
    amount = view.get("amount_idr")
    rw = view.get("rw")
    if kind == "distribution.programme_budgeted":
        budget = _uuid(view.get("budget_id"))
        if budget is not None and isinstance(view.get("amount_idr"), int):
            rounds.budgeted(
                s,
                i,
                budget,
                str(view.get("programme")),
                str(view.get("period")),
                int(view["amount_idr"]),
                view.get("benefit_idr"),
            )
    elif kind == "distribution.round_scheduled" and round_id is not None:
        budget = _uuid(view.get("budget_id"))
        try:
            poskos = tuple(Posko.model_validate(p) for p in view.get("poskos") or ())
        except ValueError:
            poskos = ()
        if budget is not None:
            rounds.scheduled(
                s, i, round_id, str(view.get("programme")), str(view.get("period")), budget, poskos
            )
    elif kind == "distribution.round_endorsed" and round_id in s.rounds:
        rounds.endorsed(s, i, round_id)
    elif kind == "distribution.round_closed" and round_id is not None:
        rounds.closed(s, i, round_id, view, str(view.get("day")))
    elif round_id in s.rounds and isinstance(rw, str) and isinstance(amount, int):
        counts = s.rounds[round_id].rw(rw)
        if kind == "distribution.aid_allocated":
            counts.allocated += 1
            counts.allocated_idr += amount
            rounds.charge(s, i, s.rounds[round_id], amount, str(view.get("day")), None)
        elif kind == "distribution.aid_received":
            counts.received += 1
            counts.received_idr += amount
    elif kind == "distribution.aid_undelivered" and round_id in s.rounds:
        s.rounds[round_id].unattributed_undelivered += 1


def _tick_day(s: State, day: Any) -> None:
    if isinstance(day, str):
        try:
            moment = _day_start(day)
        except ValueError:
            return
        if s.now is None or moment > s.now:
            s.now = moment


def _day_start(day: str) -> datetime:
    """A public view's day as the moment it began in Jakarta."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), JAKARTA).astimezone(UTC)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None
