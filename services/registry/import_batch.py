"""One batch of a DTKS import, checked, decided and stored.

The rows of one No. KK are one household. Good households go in through the decider, as
`POST /households` puts them: a new one is `RegisterHousehold`; one the registry holds
(same DTKS id or No. KK) is `Reconcile`d — changed facts become `household_updated`, new
people `member_added`, and nothing changed is nothing written. A batch's events, outbox
rows, read models, personal data, error report lines and the job's cursor commit in one
transaction: a restart resumes after the last committed batch, and the result equals one
clean run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from services.registry import jobs, private, projections
from services.registry.domain import dtks
from services.registry.domain.commands import Reconcile, RegisterHousehold
from services.registry.domain.household import households
from services.registry.handlers import member_facts
from services.registry.import_checks import (
    HOUSEHOLD_REPEATED,
    NIK_REPEATED_IN_FILE,
    PERSONAL,
    Group,
    Tally,
    changes_of,
    check_rows,
    member_rows,
    raw,
    reconcile_command,
    refuse_whole,
    register_command,
)
from services.registry.import_file import Row
from services.registry.settings import RegistrySettings
from shared import eventstore
from shared.domain import DomainError
from shared.events.registry import MemberFacts
from shared.pii import commitments
from shared.runtime import Runtime
from shared.uow import Caller


@dataclass
class Checked:
    """A batch's rows grouped by No. KK, each row checked on its own, and its members'
    facts (NIK commitments): all of a batch that needs no database, so the importer checks
    the next batch while this one is stored. Its groups collect refusals as the batch is
    decided: check the rows again (`check_batch`) to decide them again."""

    rows: list[Row]
    cols: dtks.Columns
    groups: dict[str, Group]
    facts: dict[str, dict[int, MemberFacts]]


@dataclass
class InFlight:
    """A batch being stored, as the batch after it sees it while both are in flight (on
    their own connections). The later one may read and write beside it but commits after
    it, and only if neither shares what the other touches: the keys of its rows (NIK
    commitments, No. KK, DTKS ids: compared before it starts) and the households they
    found (compared before it writes)."""

    keys: frozenset[str]
    touched: asyncio.Future[frozenset[UUID]]  # the households it found, once read
    committed: asyncio.Future[None]  # its commit, or why there was none


class RunAfter(Exception):
    """The batch found a household the batch before it found too: it runs again, alone,
    once that one is committed."""


def batch_keys(checked: Checked) -> frozenset[str]:
    keys = {f.nik_commitment for fs in checked.facts.values() for f in fs.values()}
    for group in checked.groups.values():
        for name in ("kk_number", "dtks_ref"):
            if group.form.get(name):
                keys.add(f"{name}:{group.form[name]}")
    return frozenset(keys)


def check_batch(settings: RegistrySettings, batch: list[Row], cols: dtks.Columns) -> Checked:
    keys = commitments(settings)
    groups: dict[str, Group] = {}
    for number, cells in batch:
        kk = dtks.cell(cells, cols, "kk_number")
        key = f"kk:{kk}" if kk is not None else f"row:{number}"
        groups.setdefault(key, Group(key, [])).rows.append((number, cells))
    for group in groups.values():
        check_rows(group, cols, settings)
    facts = {
        group.key: {n: member_facts(keys, p, uuid4()) for n, p in group.people.items()}
        for group in groups.values()
    }
    return Checked(batch, cols, groups, facts)


async def run_batch(
    runtime: Runtime,
    job: dict[str, Any],
    checked: Checked,
    *,
    before: InFlight | None = None,
    flight: InFlight | None = None,
) -> Tally:
    """Decide and store one checked batch; with the job's cursor, in one transaction.
    Beside `before` (still in flight) as `flight`: after it, as InFlight says."""
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    keys = commitments(settings)
    caller = Caller(actor=job["actor"], role=job["actor_role"], correlation_id=job["job_id"])
    uow = runtime.unit_of_work(caller)
    tally = Tally()
    batch, cols, groups, facts = checked.rows, checked.cols, checked.groups, checked.facts

    async with uow:
        session = uow.session
        wanted = [f.nik_commitment for fs in facts.values() for f in fs.values()]
        earlier = await jobs.seen(session, job["job_id"], wanted)
        taken = await projections.holders(session, wanted)
        held = await private.active_by_reference(
            session,
            [g.form["kk_number"] for g in groups.values() if g.form.get("kk_number")],
            [g.form["dtks_ref"] for g in groups.values() if g.form.get("dtks_ref")],
        )
        by_dtks = {h["dtks_ref"]: h for h in held if h["dtks_ref"]}
        by_kk = {h["kk_number"]: h for h in held}
        niks = await private.niks_of(session, [h["household_id"] for h in held])
        found_ids = frozenset(h["household_id"] for h in held)
        if flight is not None:
            flight.touched.set_result(found_ids)

        commands: list[tuple[UUID, RegisterHousehold | Reconcile]] = []
        new_pii: list[dict[str, Any]] = []
        new_members: list[dict[str, Any]] = []
        changed_pii: list[tuple[UUID, dict[str, Any]]] = []
        row_kind: dict[int, str] = {}
        outcome: dict[str, str] = {}
        used: set[UUID] = set()
        for group in groups.values():
            mine = facts[group.key]
            # A NIK read before on another household's row: refused here, kept there.
            for number, fact in mine.items():
                first = earlier.get(fact.nik_commitment) or tally.niks.get(fact.nik_commitment)
                if (
                    first is not None
                    and first != number
                    and not any(first == n for n, _ in group.rows)
                ):
                    group.refuse(
                        number, cols.name("nik"), group.people[number].nik, NIK_REPEATED_IN_FILE
                    )
                else:
                    tally.niks.setdefault(fact.nik_commitment, number)
            for number, fact in list(mine.items()):
                same = [n for n, f in mine.items() if f.nik_commitment == fact.nik_commitment]
                if same[0] != number:
                    group.refuse(number, cols.name("nik"), group.people[number].nik, "nik_repeated")
            found = by_dtks.get(group.form.get("dtks_ref")) or by_kk.get(
                group.form.get("kk_number")
            )
            if group.lines:
                pass
            elif found is None:
                command = register_command(group, cols, mine, keys, taken)
                if command is not None:
                    hid = uuid4()
                    commands.append((hid, command))
                    new_pii.append(
                        {
                            "household_id": hid,
                            **{
                                k: group.form[k]
                                for k in ("kk_number", "address", "phone", "dtks_ref")
                            },
                        }
                    )
                    new_members += member_rows(hid, group, mine, 0)
                    outcome[group.key] = "registered"
                    row_kind.update(dict.fromkeys(group.people, "rows_accepted"))
                    taken.update(dict.fromkeys((f.nik_commitment for f in mine.values()), hid))
            else:
                hid = found["household_id"]
                reconcile: Reconcile | None = None
                if hid in used:
                    first_row, cells = group.rows[0]
                    group.refuse(
                        first_row,
                        cols.name("dtks_ref"),
                        raw(cells, cols, "dtks_ref"),
                        HOUSEHOLD_REPEATED,
                    )
                members = niks[hid]
                fresh = {n: f for n, f in mine.items() if group.people[n].nik not in members}
                for number, fact in fresh.items():
                    holder = taken.get(fact.nik_commitment)
                    if group.people[number].relationship == "head":
                        group.refuse(
                            number,
                            cols.name("relationship"),
                            raw(dict(group.rows)[number], cols, "relationship"),
                            "one_head_required",
                        )
                    elif holder is not None and holder != hid:
                        group.refuse(
                            number,
                            cols.name("nik"),
                            group.people[number].nik,
                            "nik_already_registered",
                        )
                changes = {} if group.lines else changes_of(group, found, cols)
                if not group.lines and (changes or fresh):
                    reconcile = reconcile_command(group, changes, fresh, taken)
                    try:  # the decider's own word on the household's history
                        history = await eventstore.load(session, hid)
                        households.decide(households.replay(history), reconcile)
                    except DomainError as refused:
                        group.refuse(group.form_row, refused.field or "", "", refused.code)
                if group.lines:
                    pass
                elif reconcile is None:
                    outcome[group.key] = "unchanged"
                    row_kind.update(dict.fromkeys(group.people, "rows_unchanged"))
                else:
                    commands.append((hid, reconcile))
                    personal = {k: changes[k] for k in PERSONAL if k in changes}
                    if personal:
                        changed_pii.append((hid, personal))
                    new_members += member_rows(hid, group, fresh, len(members))
                    outcome[group.key] = "updated"
                    for number in group.people:
                        row_kind[number] = (
                            "rows_accepted"
                            if number in fresh
                            else ("rows_updated" if changes else "rows_unchanged")
                        )
                    taken.update(dict.fromkeys((f.nik_commitment for f in fresh.values()), hid))
                used.add(hid)
            if group.lines:
                refuse_whole(group)

        if before is not None and found_ids & await before.touched:
            raise RunAfter(f"batch from row {batch[0][0]}: a household of the batch before")
        await uow.execute_many(households, commands)
        await private.keep_many(session, new_pii, new_members)
        for hid, personal in changed_pii:
            await private.change_household(session, hid, **personal)

        for group in groups.values():
            tally.lines += sorted(group.lines)
            kind = outcome.get(group.key, "refused")
            tally.counts[f"households_{kind}"] += 1
        tally.counts["rows_read"] = len(batch)
        tally.counts["rows_refused"] = len(batch) - len(row_kind)
        for kind in row_kind.values():
            tally.counts[kind] += 1
        new_niks = {c: r for c, r in tally.niks.items() if c not in earlier}
        await jobs.remember(session, job["job_id"], new_niks)
        await jobs.refuse(session, job["job_id"], tally.lines)
        if before is not None:
            await before.committed  # the job's cursor moves in file order
        await jobs.advance(session, job["job_id"], batch[-1][0], tally.counts)
    return tally
