"""The budget of a programme for a period: set once, then topped up. A pure decider."""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.distribution.errors import (
    BENEFIT_EXCEEDS_BUDGET,
    BUDGET_EXISTS,
    PACKAGE_NOT_CASH,
    PACKAGE_REQUIRED,
)
from shared.domain import DomainError
from shared.events import EventPayload
from shared.events.distribution import PackageItem, Programme, ProgrammeBudgeted
from shared.uow import Decider


@dataclass(frozen=True)
class Budget:
    programme: Programme | None = None
    period: str = ""
    total_idr: int = 0


@dataclass(frozen=True)
class SetBudget:
    programme: Programme
    period: str
    amount_idr: int
    benefit_idr: int
    package: tuple[PackageItem, ...] = ()


@dataclass(frozen=True)
class TopUp:
    amount_idr: int


Command = SetBudget | TopUp


def decide(state: Budget, command: Command) -> list[EventPayload]:
    match command:
        case SetBudget():
            if state.programme is not None:
                raise DomainError(
                    BUDGET_EXISTS,
                    f"{command.programme} {command.period} already has a budget; top it up",
                )
            if command.programme == "SEMBAKO" and not command.package:
                raise DomainError(
                    PACKAGE_REQUIRED, "a sembako budget names its package", field="package"
                )
            if command.programme == "BLT" and command.package:
                raise DomainError(PACKAGE_NOT_CASH, "BLT is cash: no package", field="package")
            if command.benefit_idr > command.amount_idr:
                raise DomainError(
                    BENEFIT_EXCEEDS_BUDGET,
                    "the benefit per household exceeds the whole budget",
                    field="benefit_idr",
                )
            return [
                ProgrammeBudgeted(
                    programme=command.programme,
                    period=command.period,
                    amount_idr=command.amount_idr,
                    benefit_idr=command.benefit_idr,
                    package=command.package,
                )
            ]
        case TopUp():
            # The unit of work answers budget_not_found before a top-up of no budget.
            assert state.programme is not None
            return [
                ProgrammeBudgeted(
                    programme=state.programme,
                    period=state.period,
                    amount_idr=command.amount_idr,
                    kind="top_up",
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Budget, event: EventPayload) -> Budget:
    if isinstance(event, ProgrammeBudgeted):
        return replace(
            state,
            programme=event.programme,
            period=event.period,
            total_idr=state.total_idr + event.amount_idr,
        )
    return state


budgets: Decider[Budget, Command] = Decider("budget", Budget(), decide, evolve)
