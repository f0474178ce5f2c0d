"""The `bansos` command: run the stack, mint tokens, load demo data."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from shared.auth import Role, issue_token
from shared.launcher import DEMO_WITNESSES, Stack, available_services
from shared.settings import CommonSettings
from shared.verify import verify_command
from shared.witness import witness_command

app = typer.Typer(
    help="Bansos Tanjung Barat: run, demo and verify the programme's services.",
    no_args_is_help=True,
)
app.command("verify", help="Verify the audit ledger from outside, trusting nothing served.")(
    verify_command
)
app.command("witness", help="Cosign the audit ledger's checkpoints as an oversight body.")(
    witness_command
)
console = Console()

DEMO_SUBJECTS = {
    Role.registry_operator: "operator.siti",
    Role.distribution_officer: "petugas.agus",
    Role.programme_manager: "manager.dewi",
    Role.training_coordinator: "coordinator.rina",
    Role.community_facilitator: "facilitator.yusuf",
    Role.auditor: "inspektorat.hasan",
    Role.admin: "admin",
}


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="role claim")],
    sub: Annotated[str, typer.Option(help="subject: who acts (recorded on every event)")],
    hours: Annotated[float, typer.Option(help="validity in hours")] = 12.0,
) -> None:
    """Mint a development bearer token (HS256 with BANSOS_JWT_SECRET)."""
    from datetime import timedelta

    typer.echo(issue_token(CommonSettings(), sub, role, timedelta(hours=hours)))


@app.command()
def up(
    var: Annotated[Path, typer.Option(help="data directory (NATS store, SQLite files)")] = Path(
        "var"
    ),
    nats_port: Annotated[int, typer.Option(help="embedded nats-server port")] = 14222,
    port_base: Annotated[int, typer.Option(help="service N listens on port_base + N")] = 8000,
    demo: Annotated[bool, typer.Option(help="load demo data once the services are up")] = False,
    households: Annotated[int, typer.Option(help="demo households")] = 500,
) -> None:
    """Start nats-server (unless NATS_URL is set) and every service; Ctrl-C stops them."""
    stack = Stack(
        var=var,
        nats_port=nats_port,
        port_base=port_base,
        nats_url=os.environ.get("NATS_URL") or os.environ.get("BANSOS_NATS_URL"),
        database_url=os.environ.get("DATABASE_URL"),
        log_dir=var / "logs",
        witnesses=DEMO_WITNESSES if demo else (),
    )
    console.print(f"starting {', '.join(stack.services)} (logs in {var / 'logs'}) ...")
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    # Ctrl-C stops the stack even when started in the background, where the shell had
    # SIGINT ignored and Python kept it so.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    try:
        stack.start()
        _print_stack(stack, time.monotonic() - started)
        if demo:
            try:
                urls = {s: stack.url(s) for s in DEMO_SERVICES if s in stack.services}
                run_demo(stack.url("registry"), households, seed=None, urls=urls)
            except Exception as exc:  # the stack stays up; the operator sees why
                console.print(f"[red]demo data failed: {exc}[/red]")
        console.print("[bold]Ctrl-C stops everything.[/bold]")
        while not stopping:
            dead = [n for n, p in stack.procs.items() if p.poll() is not None]
            if dead:
                console.print(f"[red]{', '.join(dead)} stopped unexpectedly[/red]; see logs")
                raise typer.Exit(1)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]could not start: {exc}[/red] — see {var / 'logs'}")
        raise typer.Exit(1) from exc
    finally:
        console.print("stopping ...")
        stack.stop()


def _print_stack(stack: Stack, seconds: float) -> None:
    table = Table(title=f"Bansos Tanjung Barat is up ({seconds:.1f} s)")
    table.add_column("service")
    table.add_column("URL")
    table.add_column("docs")
    for name in stack.services:
        table.add_row(name, stack.url(name), f"{stack.url(name)}/docs")
    table.add_row("nats", stack.effective_nats_url, "")
    console.print(table)
    settings = CommonSettings(mode="development")
    console.print(
        "[yellow]Development mode[/yellow]: the services accept built-in secrets"
        + (
            " (BANSOS_JWT_SECRET and BANSOS_PROGRAMME_KEY are the development defaults: "
            "anyone can mint tokens and recompute NIK commitments). Never expose this stack."
            if settings.uses_development_secrets()
            else "."
        )
    )
    if stack.witnesses:
        console.print(
            f"Witnesses cosign the ledger's checkpoints: {', '.join(stack.witnesses)} (keys and "
            f"vkeys under {stack.var / 'witnesses'}; `bansos verify --witness` takes the vkeys):"
        )
        for vkey in stack.witness_vkeys():
            console.print(f"  {vkey}", soft_wrap=True)
    console.print("Tokens (valid 12 h), e.g. [bold]export TOKEN=...[/bold]:")
    for role, sub in DEMO_SUBJECTS.items():
        console.print(
            f"  {role.value:22} sub={sub:20} {issue_token(settings, sub, role)}", soft_wrap=True
        )


@app.command()
def demo(
    households: Annotated[int, typer.Option(help="households to register")] = 500,
    registry_url: Annotated[str, typer.Option(help="registry URL")] = "http://127.0.0.1:8001",
    distribution_url: Annotated[
        str, typer.Option(help="distribution URL; 'none' skips the aid rounds")
    ] = "http://127.0.0.1:8002",
    training_url: Annotated[
        str, typer.Option(help="training URL; 'none' skips the courses")
    ] = "http://127.0.0.1:8003",
    community_url: Annotated[
        str, typer.Option(help="community URL; 'none' skips complaints and meetings")
    ] = "http://127.0.0.1:8004",
    seed: Annotated[int | None, typer.Option(help="random seed (default: fresh)")] = None,
) -> None:
    """Fill the running system with a realistic Tanjung Barat scenario."""
    given = {
        "distribution": distribution_url,
        "training": training_url,
        "community": community_url,
    }
    present = available_services()
    urls = {s: url for s, url in given.items() if url != "none" and s in present}
    run_demo(registry_url, households, seed, urls)


# Services whose demo follows the registry's, in this order.
DEMO_SERVICES = ("distribution", "training", "community")


def run_demo(
    registry_url: str, households: int, seed: int | None, urls: dict[str, str] | None = None
) -> dict[str, Any]:
    """Seed every service present; returns what was made (households with their personal
    data, rounds with the receipt codes handed out, courses, complaint tickets)."""
    from services.registry import demo as registry_demo

    settings = CommonSettings()
    rng = random.Random(seed)
    started = time.monotonic()
    with Progress(console=console) as progress:
        task = progress.add_task("registering households", total=households)
        created = asyncio.run(
            registry_demo.seed(
                registry_url,
                issue_token(
                    settings, DEMO_SUBJECTS[Role.registry_operator], Role.registry_operator
                ),
                households,
                settings.rw_list,
                rng,
                advance=lambda: progress.advance(task),
            )
        )
    console.print(
        f"registered {len(created)} households over RW "
        f"{settings.rw_list[0]}–{settings.rw_list[-1]} "
        f"in {time.monotonic() - started:.1f} s"
    )
    urls = urls or {}
    made: dict[str, Any] = {"households": created, "rounds": [], "courses": [], "community": {}}
    subjects: list[tuple[str, str]] = []  # rounds and courses, for community feedback
    if "distribution" in urls:
        made["rounds"] = _demo_rounds(urls["distribution"], registry_url, created, settings, rng)
        subjects += [("round", str(r["round_id"])) for r in made["rounds"]]
    if "training" in urls:
        made["courses"] = _demo_courses(urls["training"], created, settings, rng)
        subjects += [("course", str(c["course_id"])) for c in made["courses"]]
    if "community" in urls:
        made["community"] = _demo_community(urls["community"], settings, subjects, rng)
    return made


def _demo_rounds(
    url: str,
    registry_url: str,
    households: list[dict[str, Any]],
    settings: CommonSettings,
    rng: random.Random,
) -> list[dict[str, Any]]:
    from services.distribution import demo as distribution_demo

    roles = (Role.programme_manager, Role.community_facilitator, Role.distribution_officer)
    tokens = {r.value: issue_token(settings, DEMO_SUBJECTS[r], r) for r in roles}
    started = time.monotonic()
    operator = issue_token(settings, DEMO_SUBJECTS[Role.registry_operator], Role.registry_operator)

    async def run() -> list[dict[str, Any]]:
        auth = {"Authorization": f"Bearer {operator}"}
        async with httpx.AsyncClient(base_url=registry_url, headers=auth, timeout=60) as registry:
            return await distribution_demo.seed(
                url,
                tokens,
                DEMO_SUBJECTS[Role.distribution_officer],
                households,
                settings.rw_list,
                rng,
                registry=registry,
            )

    with console.status("aid rounds: budgets, endorsement, allocation, hand-over ..."):
        summaries = asyncio.run(run())
    for s in summaries:
        console.print(
            f"{s['programme']} round {s['round_id']}: {s['allocated']} allocated, "
            f"{s['received']} handed over, {s['undelivered']} undelivered, "
            f"{s['pending']} pending"
        )
    codes = [c for s in summaries for c in s["receipt_codes"]]
    if codes:
        console.print(
            f"receipt codes handed to recipients, e.g. [bold]{codes[0]}[/bold] "
            "(a resident checks their aid with it)"
        )
    console.print(f"aid rounds done in {time.monotonic() - started:.1f} s")
    return summaries


def _demo_courses(
    url: str, households: list[dict[str, Any]], settings: CommonSettings, rng: random.Random
) -> list[dict[str, Any]]:
    from services.training import demo as training_demo

    coordinator = DEMO_SUBJECTS[Role.training_coordinator]
    token = issue_token(settings, coordinator, Role.training_coordinator)
    started = time.monotonic()
    with console.status("courses: enrolment, attendance, completion, outcomes ..."):
        courses = asyncio.run(training_demo.seed(url, token, households, rng))
    for c in courses:
        console.print(
            f"{c['category']} course {c['course_id']}: {c['seated']} seated, "
            f"{c['waitlisted']} waiting, {c['completed']} completed"
        )
    console.print(f"courses done in {time.monotonic() - started:.1f} s")
    return courses


def _demo_community(
    url: str, settings: CommonSettings, subjects: list[tuple[str, str]], rng: random.Random
) -> dict[str, Any]:
    from services.community import demo as community_demo

    facilitator = DEMO_SUBJECTS[Role.community_facilitator]
    token = issue_token(settings, facilitator, Role.community_facilitator)
    started = time.monotonic()
    with console.status("community: complaints, feedback, meetings ..."):
        done = asyncio.run(community_demo.seed(url, token, settings.rw_list, subjects, rng))
    console.print(
        f"{len(done['tickets'])} complaints (tickets e.g. {done['tickets'][0]}), "
        f"{done['ratings']} ratings, {done['meetings']} meetings "
        f"in {time.monotonic() - started:.1f} s"
    )
    return done


@app.command("init-stream")
def init_stream() -> None:
    """Create or update the BANSOS stream (run as the NATS admin user in production)."""
    import nats

    from shared.messaging import ensure_stream

    async def run() -> None:
        settings = CommonSettings(manage_stream=True)
        nc = await nats.connect(settings.nats_url.split(","), connect_timeout=5)
        try:
            await ensure_stream(nc.jetstream(), settings)
            info = await nc.jetstream().stream_info(settings.stream_name)
            console.print(
                f"stream {info.config.name}: subjects {info.config.subjects}, "
                f"replicas {info.config.num_replicas}, {info.state.messages} messages"
            )
        finally:
            await nc.close()

    asyncio.run(run())


@app.command()
def services() -> None:
    """List the services this checkout can run."""
    for name in available_services():
        typer.echo(name)
