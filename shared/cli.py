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
from rich.table import Table

from shared.auth import Role, issue_token
from shared.demo import DEMO_SUBJECTS, DemoContext, DemoError
from shared.launcher import DEMO_WITNESSES, Stack
from shared.registry_cli import export_app, import_command, imports_command
from shared.sample_check_command import sample_check_command
from shared.settings import CommonSettings
from shared.spec import discover
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
app.command("sample-check", help="Recompute a round's verification sample from the ledger.")(
    sample_check_command
)
app.command("import")(import_command)
app.command("imports")(imports_command)
app.add_typer(export_app, name="export")
console = Console()


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
    cluster: Annotated[
        bool, typer.Option(help="three routed nats-servers, the stream on three replicas")
    ] = False,
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
        cluster=cluster,
    )
    console.print(f"starting {', '.join(stack.services)} (logs in {var / 'logs'}) ...")

    stopping = False

    def _stop(*_: object) -> None:
        # The first SIGINT or SIGTERM stops the stack; another one arriving before the stop
        # has begun (Ctrl-C then a service manager's SIGTERM) must not cut it short and
        # leave the children running.
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # Ctrl-C stops the stack even when started in the background, where the shell had
    # SIGINT ignored and Python kept it so.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stop)
    started = time.monotonic()
    try:
        try:
            stack.start()
        except (RuntimeError, TimeoutError) as exc:
            console.print(f"[red]could not start: {exc}[/red] — see {var / 'logs'}")
            raise typer.Exit(1) from exc
        _print_stack(stack, time.monotonic() - started)
        console.print(asyncio.run(_held(stack.effective_nats_url, var, stack.nats_url is None)))
        if demo:
            try:
                run_demo({s: stack.url(s) for s in stack.services}, households, seed=None)
            except Exception as exc:  # the stack stays up; the operator sees why
                console.print(f"[red]demo data failed: {exc}[/red]")
        console.print("[bold]Ctrl-C stops everything.[/bold]")
        while True:
            for line in stack.supervise():
                console.print(f"[yellow]{line}[/yellow] (logs in {var / 'logs'})")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for stop_signal in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C waits too
            signal.signal(stop_signal, signal.SIG_IGN)
        console.print("stopping ...")
        stack.stop()
    console.print("stopped.")


#: What `bansos up` counts when it reuses a data directory: event type, label.
HELD = {
    "registry.household_registered": "households registered",
    "distribution.round_scheduled": "rounds scheduled",
    "distribution.aid_allocated": "allocations",
    "training.trainee_enrolled": "enrolments",
    "community.complaint_filed": "complaints",
}


async def _held(nats_url: str, var: Path, embedded: bool) -> str:
    """Whether this run starts fresh or reuses an earlier one's events, with the counts an
    operator knows, and how to start over."""
    import nats

    from shared.events.envelope import subject_for

    nc = await nats.connect(nats_url.split(","), connect_timeout=5)
    try:
        info = await nc.jetstream().stream_info(
            CommonSettings().stream_name, subjects_filter="bansos.>"
        )
    finally:
        await nc.close()
    if not info.state.messages:
        return f"Fresh start: the stream is empty (data in {var}/)."
    counts = info.state.subjects or {}
    parts = [f"{counts.get(subject_for(kind), 0):,} {label}" for kind, label in HELD.items()]
    return (
        f"[yellow]Reusing an earlier run[/yellow]: the stream holds {info.state.messages:,} "
        f"events ({', '.join(parts)}). "
        + (
            f"To start over: Ctrl-C, `rm -rf {var}`, start again."
            if embedded
            else "The stream and databases are external (NATS_URL): empty them to start over."
        )
    )


def _print_stack(stack: Stack, seconds: float) -> None:
    table = Table(title=f"Bansos Tanjung Barat is up ({seconds:.1f} s)")
    table.add_column("service")
    table.add_column("URL")
    table.add_column("docs")
    for name in stack.services:
        table.add_row(name, stack.url(name), f"{stack.url(name)}/docs")
    table.add_row("nats" + (" (3 nodes)" if stack.cluster else ""), stack.effective_nats_url, "")
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
    host: Annotated[str, typer.Option(help="where the services listen")] = "127.0.0.1",
    port_base: Annotated[int, typer.Option(help="service N listens on port_base + N")] = 8000,
    skip: Annotated[list[str], typer.Option(help="a service not to seed (repeatable)")] = [],  # noqa: B006
    seed: Annotated[int | None, typer.Option(help="random seed (default: fresh)")] = None,
) -> None:
    """Fill the running system with a realistic Tanjung Barat scenario."""
    specs = discover()
    urls = {
        name: f"http://{host}:{port_base + spec.port - 8000}"
        for name, spec in specs.items()
        if name not in skip
    }
    try:
        run_demo(urls, households, seed)
    except httpx.TransportError as exc:
        console.print(
            f"[red]cannot reach {exc.request.url.host}:{exc.request.url.port}: {exc}[/red]"
        )
        console.print("is the stack running? start it with `bansos up` (or `make run`)")
        raise typer.Exit(2) from exc
    except DemoError as exc:
        console.print(f"[red]the demo stopped: {exc}[/red]")
        raise typer.Exit(2) from exc


def run_demo(urls: dict[str, str], households: int, seed: int | None) -> dict[str, Any]:
    """Run the demo seeder of every service in `urls`, in port order (registry first);
    returns what they made (households with their personal data, rounds with the receipt
    codes handed out, courses, complaint tickets)."""
    context = DemoContext(
        urls=urls,
        households=households,
        rng=random.Random(seed),
        settings=CommonSettings(),
        console=console,
    )
    for name, spec in discover().items():
        if spec.demo is not None and name in urls:
            started = time.monotonic()
            asyncio.run(spec.demo(context))
            console.print(f"{name} demo done in {time.monotonic() - started:.1f} s")
    return context.made


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
    for name, spec in discover().items():
        typer.echo(f"{name:14} {spec.port}  {spec.title}")
