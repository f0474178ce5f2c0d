"""`bansos import`, `bansos imports` and `bansos export usulan`: an HTTP client of the
registry's imports and exports (it imports no service; `shared/cli.py` registers them)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.auth import Role, issue_token
from shared.clock import JAKARTA, day_of
from shared.settings import CommonSettings

console = Console()

REGISTRY_URL = "http://127.0.0.1:8001"
UrlOption = Annotated[str, typer.Option(help="the registry's URL")]
TokenOption = Annotated[
    str | None,
    typer.Option(help="a registry_operator bearer token (default: a development one)"),
]


def _operator_token(given: str | None, sub: str) -> str:
    return given or issue_token(CommonSettings(), sub, Role.registry_operator)


def _refused(reply: httpx.Response) -> str:
    try:
        body = reply.json()
        return f"{reply.status_code} {body.get('error')}: {body.get('message')}"
    except ValueError:
        return f"{reply.status_code}: {reply.text[:200]}"


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]", soft_wrap=True)
    return typer.Exit(2)


def import_command(
    file: Annotated[Path, typer.Argument(help="a DTKS list, CSV or XLSX, one row per person")],
    url: UrlOption = REGISTRY_URL,
    token: TokenOption = None,
    interval: Annotated[float, typer.Option(help="seconds between progress polls")] = 0.5,
) -> None:
    """Import a DTKS list into the registry: upload, follow the job, print its counts."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    headers = {"Authorization": f"Bearer {_operator_token(token, 'cli.import')}"}
    if not file.is_file():
        raise _fail(f"no file {file}")
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
            with file.open("rb") as content:
                reply = client.post("/imports", files={"file": (file.name, content)})
            if reply.status_code != 202:
                raise _fail(f"the registry refused {file.name}: {_refused(reply)}")
            job = reply.json()
            columns = (
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TextColumn("{task.fields[rate]} rows/s  ETA {task.fields[eta]}"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console) as progress:
                task = progress.add_task(file.name, total=None, rows="-", rate="-", eta="-")
                while job["status"] in ("queued", "running"):
                    time.sleep(interval)
                    reply = client.get(f"/imports/{job['job_id']}")
                    if reply.status_code != 200:
                        raise _fail(f"cannot follow import {job['job_id']}: {_refused(reply)}")
                    job = reply.json()
                    rate, eta, total = job["rows_per_s"], job["eta_s"], job["rows_total"]
                    progress.update(
                        task,
                        total=total,
                        completed=job["rows_read"],
                        rows=f"{job['rows_read']:,}/{total:,}" if total is not None else "-",
                        rate=f"{rate:,.0f}" if rate else "-",
                        eta=f"{eta:,.0f} s" if eta is not None else "-",
                    )
    except httpx.TransportError as exc:
        raise _fail(f"cannot reach the registry at {url}: {exc}") from exc
    if job["status"] == "failed":
        raise _fail(f"import {job['job_id']} failed: {job['failure']}")
    console.print(
        f"rows: {job['rows_read']:,} read, {job['rows_accepted']:,} accepted, "
        f"{job['rows_updated']:,} updated, {job['rows_unchanged']:,} unchanged, "
        f"{job['rows_refused']:,} refused\n"
        f"households: {job['households_registered']:,} registered, "
        f"{job['households_updated']:,} updated, {job['households_unchanged']:,} unchanged, "
        f"{job['households_refused']:,} refused (a household with a refused row is refused "
        "whole)"
    )
    if job["rows_refused"] and job["errors_csv"]:
        console.print(
            f"error report: {url}{job['errors_csv']} (it quotes the refused cells: download "
            f"it by {_day(job['report_expires_at'])}, after which it is deleted)",
            soft_wrap=True,
        )


def imports_command(
    url: UrlOption = REGISTRY_URL,
    token: TokenOption = None,
    status: Annotated[
        str | None, typer.Option(help="only jobs queued, running, done or failed")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="how many, newest first")] = 20,
) -> None:
    """List the registry's imports: when, which file, how far, and until when each error
    report is kept."""
    headers = {"Authorization": f"Bearer {_operator_token(token, 'cli.import')}"}
    params: dict[str, str | int] = {"limit": limit, **({"status": status} if status else {})}
    try:
        reply = httpx.get(f"{url}/imports", params=params, headers=headers, timeout=30)
    except httpx.TransportError as exc:
        raise _fail(f"cannot reach the registry at {url}: {exc}") from exc
    if reply.status_code != 200:
        raise _fail(f"cannot list imports: {_refused(reply)}")
    table = Table("uploaded (WIB)", "file", "status", "households", "rows refused", "report")
    for job in reply.json()["items"]:
        if not job["rows_refused"]:
            report = "-"
        elif job["report_expired_at"]:
            report = f"deleted {_day(job['report_expired_at'])}"
        else:
            report = f"{url}{job['errors_csv']} until {_day(job['report_expires_at'])}"
        uploaded = datetime.fromisoformat(job["created_at"]).astimezone(JAKARTA)
        table.add_row(
            f"{uploaded:%Y-%m-%d %H:%M}",
            job["filename"],
            job["status"] if job["status"] != "failed" else f"failed: {job['failure']}",
            f"{job['households_registered']:,} new, {job['households_updated']:,} updated, "
            f"{job['households_refused']:,} refused",
            f"{job['rows_refused']:,}",
            report,
        )
    console.print(table)


def _day(moment: str | None) -> str:
    """The Jakarta day of an ISO moment from the API, as the programme names days."""
    return day_of(datetime.fromisoformat(moment)).isoformat() if moment else "-"


export_app = typer.Typer(help="Exports for the Dinas Sosial.", no_args_is_help=True)


@export_app.command("usulan")
def export_usulan(
    since: Annotated[str, typer.Option(help="the first day (WIB) to include, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="the CSV file to write")],
    url: UrlOption = REGISTRY_URL,
    token: TokenOption = None,
) -> None:
    """Eligibility decisions and data changes since a day, as CSV keyed by DTKS id."""
    headers = {"Authorization": f"Bearer {_operator_token(token, 'cli.export')}"}
    lines = 0
    try:
        with (
            httpx.Client(base_url=url, headers=headers, timeout=600) as client,
            client.stream("GET", "/exports/usulan", params={"since": since}) as reply,
        ):
            if reply.status_code != 200:
                reply.read()
                raise _fail(f"the registry refused the export: {_refused(reply)}")
            with out.open("wb") as target:
                for chunk in reply.iter_bytes():
                    target.write(chunk)
                    lines += chunk.count(b"\n")
    except httpx.TransportError as exc:
        raise _fail(f"cannot reach the registry at {url}: {exc}") from exc
    console.print(f"{max(0, lines - 1):,} usulan since {since} written to {out}")
