"""The `bansos sample-check` command line: options, the keys it trusts, and what it prints
(shared/sample_check.py does the checking). Exit 0: the sample is the one the published
rule gives; 1: it is not, or the ledger does not prove it (FAILED); 2: it cannot be
checked now (options, network, nothing drawn yet, the witnesses behind)."""

from __future__ import annotations

import contextlib
from typing import Annotated
from uuid import UUID

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from shared.ledger_client import VerificationError, b64, get_json, make_client
from shared.quorum import Witness, parse_witnesses
from shared.sample_check import CannotCheck, SampleReport, Trust, check_sample
from shared.sampling import MINIMUM, SHARE_PCT
from shared.verify import (
    DO_NOT_TRUST,
    AuditURL,
    PinnedKey,
    Quorum,
    WitnessKeys,
    pinned_key,
    trusted_key,
)

TOFU = "trusting what the server serves (TOFU): pin them out of band, as for `bansos verify`"


def _trust(
    client: httpx.Client,
    console: Console,
    public_key: str | None,
    given: list[Witness],
    quorum: int | None,
) -> Trust:
    pinned = pinned_key(public_key) if public_key else None
    name, key = trusted_key(client, pinned, None, None)
    witnesses = given
    if not given:
        served = get_json(client, "/ledger/witnesses").get("witnesses") or []
        try:
            witnesses = parse_witnesses([str(w.get("vkey")) for w in served if isinstance(w, dict)])
        except ValueError as e:
            raise VerificationError(None, f"/ledger/witnesses: {e}") from e
    unpinned = [o for o, off in (("--public-key", pinned is None), ("--witness", not given)) if off]
    if unpinned and (pinned is None or witnesses):
        console.print(f"[yellow]warning: no {' or '.join(unpinned)}: {TOFU}[/yellow]")
    wanted = len({w.public_key for w in witnesses}) if quorum is None else quorum
    if not witnesses:
        console.print(
            "[yellow]warning: the ledger names no witness: no cosignature is checked, and "
            "the ledger's operator could have signed a root of its choosing[/yellow]"
        )
    return Trust(name, key, witnesses, wanted)


def _options(round_id: str, witness: list[str], quorum: int | None) -> tuple[UUID, list[Witness]]:
    """Check the command line before touching the network; ValueError says what is wrong."""
    try:
        rid = UUID(round_id)
    except ValueError as e:
        raise ValueError(f"--round must be a round id (a UUID), not {round_id!r}") from e
    witnesses = parse_witnesses(witness)
    if quorum is not None and not witnesses:
        raise ValueError("--quorum needs the witnesses' keys: add --witness VKEY for each")
    count = len({w.public_key for w in witnesses})
    if quorum is not None and not 1 <= quorum <= count:
        raise ValueError(f"--quorum must be between 1 and the {count} distinct --witness keys")
    return rid, witnesses


def _print(console: Console, report: SampleReport, quorum: int) -> None:
    anchor = report.anchor
    after = report.tree_size - report.closure_index - 1
    console.print(
        f"round {report.round_id}: sample of {report.k} drawn from tree size "
        f"{report.tree_size}, {after} leaves after the round's closure (leaf "
        f"{report.closure_index})"
    )
    console.print(f"root   {b64(report.root)}")
    cosigned = ", ".join(report.cosigned_by) or "none"
    console.print(
        f"checkpoint {anchor.tree_size} ({escape(anchor.origin)}): signature OK, "
        f"cosigned by {escape(cosigned)} (quorum {quorum}); its {anchor.tree_size} leaves "
        f"recomputed: the root at tree size {report.tree_size} is the draw's"
    )
    console.print(
        f"hand-overs received in the round: {report.handed} (the closure counts "
        f"{report.closure_received}); k = sample_size({report.handed}) = {report.k}: matches"
    )
    if report.late:
        console.print(f"[yellow]{report.late} hand-over leaves after the closure[/yellow]")
    if report.opened is not None:
        exact = (
            "the sample recomputed from their allocation ids is the one drawn, in order"
            if report.exact
            else "an erased hand-over's id is gone: the exact sample cannot be recomputed"
        )
        console.print(
            f"opened the round's hand-over leaves: {report.opened} matched their "
            f"commitments, {report.erased} erased; {exact}"
        )
    else:
        console.print(
            "which hand-overs were drawn is not public (their leaves carry no allocation "
            "id): an auditor recomputes them with --token"
        )
    for line in report.community:
        console.print(f"community: {escape(line)}")
    console.print("[green]OK[/green]: the sample is the one the published rule gives")


def sample_check_command(
    url: AuditURL,
    round_id: Annotated[str, typer.Option("--round", help="the closed round's id")],
    public_key: PinnedKey = None,
    witness: WitnessKeys = None,
    quorum: Quorum = None,
    token: Annotated[
        str | None,
        typer.Option(help="an auditor token: open the hand-overs, recompute the exact sample"),
    ] = None,
    community: Annotated[
        str | None, typer.Option(help="the community service's URL, to compare what it serves")
    ] = None,
    minimum: Annotated[int, typer.Option(help="BANSOS_SAMPLE_MINIMUM of the draw")] = MINIMUM,
    share_pct: Annotated[
        float, typer.Option(help="BANSOS_SAMPLE_SHARE_PCT of the draw")
    ] = SHARE_PCT,
    wait: Annotated[
        float, typer.Option(help="seconds to wait for the witnesses to cosign the draw")
    ] = 30.0,
) -> None:
    """Recompute a closed round's verification sample from the public ledger."""
    console = Console(soft_wrap=True)
    try:
        rid, given = _options(round_id, witness or [], quorum)
        if public_key:
            pinned_key(public_key)  # a bad key is an option error, before the network
    except ValueError as e:
        console.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(2) from e
    try:
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(make_client(url))
            other = stack.enter_context(make_client(community)) if community else None
            trust = _trust(client, console, public_key, given, quorum)
            report = check_sample(
                client,
                rid,
                trust,
                minimum=minimum,
                share_pct=share_pct,
                token=token,
                community=other,
                wait_s=wait,
                waiting=lambda why: console.print(escape(why)),
            )
    except VerificationError as e:
        where = "" if e.index is None else f" at index {e.index}"
        console.print(f"[bold red]FAILED{where}: {escape(e.reason)}[/bold red]")
        console.print(escape(e.hint or DO_NOT_TRUST))
        raise typer.Exit(1) from e
    except CannotCheck as e:
        console.print(f"[red]cannot check: {escape(str(e))}[/red]")
        raise typer.Exit(2) from e
    except httpx.HTTPError as e:
        status = e.response.status_code if isinstance(e, httpx.HTTPStatusError) else None
        where = f"{e.request.url.host}:{e.request.url.port}{e.request.url.path}"
        hint = " (the token must be an auditor's)" if status in (401, 403) else ""
        console.print(f"[red]cannot read {escape(where)}: {escape(str(e))}{hint}[/red]")
        raise typer.Exit(2) from e
    _print(console, report, trust.quorum)
