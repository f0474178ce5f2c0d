"""Checking the households of an import batch: each row with the rules of a single
registration (api/schemas.py: MemberIn, HouseholdIn, the RW list), a new household with
the household decider's (one head, NIK unique in the household and among active
households), and the commands and personal-data rows of the households that pass. A
household with a refused row is refused whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from services.registry import jobs
from services.registry.api.schemas import HouseholdIn, MemberIn
from services.registry.domain import dtks
from services.registry.domain.commands import (
    AddMember,
    Reconcile,
    RegisterHousehold,
    UpdateHousehold,
)
from services.registry.domain.household import Household, households
from services.registry.import_file import Row
from services.registry.settings import RegistrySettings
from shared import clock
from shared.domain import DomainError
from shared.events.registry import MemberFacts
from shared.pii import Commitments

Line = tuple[int, str, str, str]  # an error report line: row, column, value, rule

# Rules the importer adds to the registry's own (README "Import a DTKS list").
HOUSEHOLD_REFUSED = "household_refused"  # another row of the household was refused
NIK_REPEATED_IN_FILE = "nik_repeated_in_file"  # the NIK is on an earlier row of the file
HOUSEHOLD_REPEATED = "household_repeated_in_batch"  # two No. KK, one DTKS id
PLACEHOLDER = MemberIn(  # stands in for the members while the household's fields are checked
    full_name="x", birth_date=date(1980, 1, 1), sex="M", nik="3174090101800001", relationship="head"
)
PERSONAL = ("address", "phone", "dtks_ref")  # household fields kept as personal data


@dataclass
class Group:
    """The rows of one No. KK in a batch, and what checking them found."""

    key: str
    rows: list[Row]
    people: dict[int, MemberIn] = field(default_factory=dict)  # row -> valid member
    form: dict[str, Any] = field(default_factory=dict)
    form_row: int = 0
    lines: list[Line] = field(default_factory=list)

    def refuse(self, row: int, column: str, value: Any, rule: str) -> None:
        self.lines.append((row, column, "" if value is None else str(value), rule))


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(jobs.COUNTS, 0))
    lines: list[Line] = field(default_factory=list)
    niks: dict[str, int] = field(default_factory=dict)  # NIK commitment -> first row


def raw(cells: list[Any], cols: dtks.Columns, name: str) -> Any:
    return dtks.cell(cells, cols, name)


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field, rule) of each problem, as the HTTP edge names them (shared/http.py)."""
    out = []
    for problem in error.errors():
        loc = [str(p) for p in problem.get("loc", ())]
        rule = {"missing": "required"}.get(problem["type"], problem["type"])
        out.append((loc[0] if loc else "", rule))
    return out


def check_rows(group: Group, cols: dtks.Columns, settings: RegistrySettings) -> None:
    """The registration rules a row can break on its own."""
    for number, cells in group.rows:
        try:
            group.people[number] = MemberIn.model_validate(dtks.person(cells, cols))
        except ValidationError as error:
            for name, rule in _problems(error):
                group.refuse(number, cols.name(name), raw(cells, cols, name), rule)
    # The household's fields from its head's row (else its first): DTKS repeats them.
    heads = [(n, c) for n, c in group.rows if dtks.relationship(c, cols) == "head"]
    group.form_row, cells = (heads or group.rows)[0]
    group.form = dtks.household(cells, cols)
    try:
        HouseholdIn.model_validate({**group.form, "members": [PLACEHOLDER]})
    except ValidationError as error:
        for name, rule in _problems(error):
            group.refuse(group.form_row, cols.name(name), raw(cells, cols, name), rule)
    rw = group.form.get("rw")
    if rw is not None and rw.isdigit() and len(rw) == 2 and rw not in settings.rw_list:
        group.refuse(group.form_row, cols.name("rw"), rw, "rw_outside_kelurahan")


def register_command(
    group: Group,
    cols: dtks.Columns,
    facts: dict[int, MemberFacts],
    keys: Commitments,
    taken: dict[str, UUID],
) -> RegisterHousehold | None:
    """A new household's command, or None with the rows refused (the decider's rules)."""
    rel = cols.name("relationship")
    heads = [n for n, p in group.people.items() if p.relationship == "head"]
    if not heads:
        first, cells = group.rows[0]
        group.refuse(first, rel, raw(cells, cols, "relationship"), "one_head_required")
    for extra in heads[1:]:
        group.refuse(extra, rel, group.people[extra].relationship, "one_head_required")
    for number, fact in facts.items():
        if fact.nik_commitment in taken:
            group.refuse(
                number, cols.name("nik"), group.people[number].nik, "nik_already_registered"
            )
    if group.lines:
        return None
    command = RegisterHousehold(
        rt=group.form["rt"],
        rw=group.form["rw"],
        kk_commitment=keys.kk(group.form["kk_number"]),
        members=tuple(facts.values()),
        monthly_income_idr=int(group.form["monthly_income_idr"]),
        desil=int(group.form["desil"]) if group.form["desil"] else None,
        dtks_listed=group.form["dtks_ref"] is not None,
        today=clock.today(),
        taken=holders_of(taken, facts.values()),
    )
    try:  # the decider's own word, before the batch
        households.decide(Household(), command)
    except DomainError as refused:
        group.refuse(group.form_row, refused.field or "", "", refused.code)
        return None
    return command


def changes_of(group: Group, held: dict[str, Any], cols: dtks.Columns) -> dict[str, Any]:
    """The household's fields the file states differently (columns it lacks change nothing)."""
    form = HouseholdIn.model_validate({**group.form, "members": [PLACEHOLDER]})
    stated: dict[str, Any] = {
        "rt": form.rt,
        "rw": form.rw,
        "address": form.address,
        "desil": form.desil,
        "dtks_ref": form.dtks_ref,
    }
    if "monthly_income_idr" in cols.index:
        stated["monthly_income_idr"] = form.monthly_income_idr
    if "phone" in cols.index:
        stated["phone"] = form.phone
    return {k: v for k, v in stated.items() if v is not None and held.get(k) != v}


def holders_of(taken: dict[str, UUID], facts: Iterable[MemberFacts]) -> dict[str, UUID]:
    """The holders of these members' NIKs, as the command's facts (a copy: the batch's
    map grows as it registers)."""
    return {f.nik_commitment: taken[f.nik_commitment] for f in facts if f.nik_commitment in taken}


def reconcile_command(
    group: Group, changes: dict[str, Any], fresh: dict[int, MemberFacts], taken: dict[str, UUID]
) -> Reconcile:
    update = UpdateHousehold(
        rt=changes.get("rt"),
        rw=changes.get("rw"),
        monthly_income_idr=changes.get("monthly_income_idr"),
        desil=changes.get("desil"),
        dtks_listed=True if changes.get("dtks_ref") else None,
        address_changed="address" in changes,
    )
    added = tuple(
        AddMember(member=f, today=clock.today(), taken=holders_of(taken, [f]))
        for f in fresh.values()
    )
    return Reconcile(update, added)


def member_rows(
    hid: UUID, group: Group, facts: dict[int, MemberFacts], first: int
) -> list[dict[str, Any]]:
    return [
        {
            "member_id": fact.member_id,
            "household_id": hid,
            **group.people[number].model_dump(
                include={"full_name", "nik", "birth_date", "sex", "relationship", "disabled"}
            ),
            "position": first + i,
        }
        for i, (number, fact) in enumerate(facts.items())
    ]


def refuse_whole(group: Group) -> None:
    """A household with a refused row is refused whole: its other rows say so."""
    bad = {row for row, *_ in group.lines}
    for number, _ in group.rows:
        if number not in bad:
            group.lines.append((number, "", "", HOUSEHOLD_REFUSED))
