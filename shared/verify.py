"""`bansos verify`: check the audit ledger offline, trusting nothing the server says
(docs/architecture.md#the-ledger).

The verifier downloads every entry, recomputes every leaf hash and the tree head, and checks
them against a signed checkpoint (shared/verify_tree.py); with ``--witness``/``--quorum`` that
checkpoint must also carry K witness cosignatures (shared/quorum.py); with ``--sealed`` an
auditor opens every leaf too (shared/verify_sealed.py). It shares no code with the server's
storage: only the pure RFC 9162 / C2SP / public-view functions and httpx, so a bug in the
server cannot hide behind the same bug here. Memory stays O(log n) plus one page.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from shared.checkpoint import Checkpoint, CheckpointError, parse_and_verify
from shared.ledger_client import VerificationError, b64, consistent, get_json, make_client, unb64
from shared.merkle import Frontier
from shared.quorum import WAIT_FOR_WITNESSES, Witness, check_quorum, parse_witnesses
from shared.verify_sealed import Openings
from shared.verify_tree import Prefix, Progressed, check_history, extend, first_bad_leaf

__all__ = ["Report", "VerificationError", "load_state", "make_client", "save_state"]


@dataclass(frozen=True)
class Report:
    """What a run established; ``consistency_from`` is the trusted size it was proven from."""

    tree_size: int
    root_hash: bytes
    origin: str
    key_name: str
    entries_checked: int
    consistency_from: int | None
    note: str = ""  # the verified signed note, so callers can save it as the new state
    public_key: bytes = b""  # the key the note was verified with (pinned, stored or served)
    cosigned_by: tuple[str, ...] = ()  # witnesses of the quorum, when one was demanded
    sealed_opened: int | None = None  # with --sealed: leaves opened and matched
    sealed_erased: int | None = None  # with --sealed: leaves whose opening was erased


def trusted_key(
    client: httpx.Client, pinned: bytes | None, key_name: str | None, state: dict[str, Any] | None
) -> tuple[str, bytes]:
    body = get_json(client, "/ledger/public-key")
    if body.get("algorithm") != "ed25519":
        raise VerificationError(None, f"unsupported key algorithm {body.get('algorithm')!r}")
    served = unb64(body.get("public_key"), None, "public_key")
    if pinned is not None and served != pinned:
        raise VerificationError(None, "the served public key differs from the pinned one")
    if state is not None and unb64(state["public_key"], None, "stored key") != served:
        raise VerificationError(None, "the served public key differs from the stored one")
    name = key_name or body.get("key_name")
    if not isinstance(name, str) or not name:
        raise VerificationError(None, "the server names no signing key")
    return name, served


def _checkpoint_note(client: httpx.Client, quorum: int) -> str:
    if quorum == 0:
        response = client.get("/ledger/checkpoint")
    else:
        response = client.get("/ledger/checkpoint", params={"cosigned": quorum})
        if response.status_code == 404:
            raise VerificationError(
                None,
                f"quorum not met: the ledger serves no checkpoint cosigned by {quorum} witnesses",
                WAIT_FOR_WITNESSES,
            )
    response.raise_for_status()
    return response.text


def _check_not_rewritten_since(
    client: httpx.Client, log_key: tuple[str, bytes], cosigned: Checkpoint
) -> None:
    """The leaves do not match what the witnesses cosigned. If the log's own latest
    checkpoint does not extend the cosigned one, say so: the history was rewritten after
    the witnesses saw it (the server's proofs then describe the new history, so bisecting
    with them could not name the leaf)."""
    try:
        latest = parse_and_verify(_checkpoint_note(client, 0), *log_key, cosigned.origin)
    except CheckpointError:
        return
    size, root = cosigned.tree_size, cosigned.root_hash
    if latest.tree_size < size or not consistent(
        client, size, latest.tree_size, root, latest.root_hash
    ):
        raise VerificationError(
            None,
            f"the log was rewritten after its witnesses cosigned size {size}: its latest "
            f"checkpoint (size {latest.tree_size}) does not extend that one",
        )


def verify_ledger(
    client: httpx.Client,
    *,
    public_key: bytes | None,
    key_name: str | None = None,
    state: dict[str, Any] | None = None,
    progress: Progressed | None = None,
    page_size: int = 1000,
    witnesses: Sequence[Witness] = (),
    quorum: int = 0,
    sealed_token: str | None = None,
) -> Report:
    """Verify the ledger behind ``client`` (base_url set) up to its latest checkpoint, or
    with a quorum up to its latest checkpoint cosigned by ``quorum`` of ``witnesses``;
    with ``sealed_token`` open every leaf as an auditor. Raise VerificationError."""
    name, key = trusted_key(client, public_key, key_name, state)
    try:
        checkpoint = parse_and_verify(
            _checkpoint_note(client, quorum),
            name,
            key,
            expected_origin=state["origin"] if state else None,
        )
    except CheckpointError as e:
        raise VerificationError(None, f"checkpoint: {e}") from e
    cosigned = check_quorum(checkpoint.note, witnesses, quorum) if quorum else {}
    size, root = checkpoint.tree_size, checkpoint.root_hash
    old_size = state["tree_size"] if state else 0
    old_root = unb64(state["root_hash"], None, "stored root") if state else b""
    openings = Openings(client, sealed_token) if sealed_token is not None else None
    on_page = openings.check if openings is not None else None
    overall = None if progress is None else lambda done, _: progress(done, size)
    prefix, old_local = Prefix(Frontier()), None
    if 0 < old_size <= size:
        # Stop at the trusted size once to take the root there, then carry on to the end.
        extend(client, prefix, old_size, page_size, overall, on_page)
        old_local = prefix.frontier.root()
    extend(client, prefix, size, page_size, overall, on_page)
    if prefix.frontier.root() != root:
        # Every leaf matched its data, so the served leaves are not the ones signed.
        if quorum:
            _check_not_rewritten_since(client, (name, key), checkpoint)
        bad = first_bad_leaf(client, size, root, page_size)
        raise VerificationError(bad, "leaf does not belong to the signed tree")
    if old_size > 0:
        check_history(client, (old_size, old_root), old_local, (size, root), quorum > 0)
    return Report(
        size,
        root,
        checkpoint.origin,
        name,
        prefix.frontier.size,
        old_size or None,
        checkpoint.note,
        key,
        tuple(sorted(cosigned)),
        openings.opened if openings else None,
        openings.erased if openings else None,
    )


def load_state(path: Path) -> dict[str, Any] | None:
    """The last trusted checkpoint, or None before the first run; ValueError if damaged."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise ValueError(f"{path} is not a verifier state file") from e
    keys = {"key_name", "public_key", "origin", "tree_size", "root_hash", "note"}
    if not isinstance(state, dict) or not keys <= set(state) or type(state["tree_size"]) is not int:
        raise ValueError(f"{path} is not a verifier state file")
    return state


def save_state(path: Path, report: Report, note: str, key_name: str, public_key: bytes) -> None:
    state = {
        "key_name": key_name,
        "public_key": b64(public_key),
        "origin": report.origin,
        "tree_size": report.tree_size,
        "root_hash": b64(report.root_hash),
        "note": note,
    }
    write_atomically(path, json.dumps(state, indent=2) + "\n")


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path``: a crash mid-write must not lose the checkpoint we trust."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pinned_key(text: str) -> bytes:
    try:
        key = unb64(text, None, "--public-key")
    except VerificationError:
        key = b""
    if len(key) != 32:
        raise ValueError("--public-key must be the base64 of a raw 32-byte Ed25519 key")
    return key


@dataclass(frozen=True)
class _Options:
    pinned: bytes | None
    stored: dict[str, Any] | None
    witnesses: list[Witness]
    quorum: int
    token: str | None


def _options(
    public_key: str | None,
    state: Path | None,
    witness: list[str],
    quorum: int | None,
    sealed: bool,
    token: str | None,
) -> _Options:
    """Check the command line before touching the network; ValueError says what is wrong."""
    if sealed and not token:
        raise ValueError(
            "--sealed needs --token with an auditor token (bansos token --role auditor --sub NAME)"
        )
    if token and not sealed:
        raise ValueError("--token is only used with --sealed: add --sealed to open the leaves")
    witnesses = parse_witnesses(witness)
    if quorum is not None and not witnesses:
        raise ValueError("--quorum needs the witnesses' keys: add --witness VKEY for each")
    count = len({w.public_key for w in witnesses})
    wanted = count if quorum is None else quorum
    if witnesses and not 1 <= wanted <= count:
        raise ValueError(f"--quorum must be between 1 and the {count} distinct --witness keys")
    pinned = pinned_key(public_key) if public_key else None
    stored = load_state(state) if state else None
    return _Options(pinned, stored, witnesses, wanted if witnesses else 0, token)


def _print_report(console: Console, report: Report, quorum: int) -> None:
    since = report.consistency_from
    console.print(f"[green]OK[/green]: {report.tree_size} entries verified")
    console.print(f"root   {b64(report.root_hash)}\norigin {escape(report.origin)}")
    console.print(f"key    {escape(report.key_name)}")
    if quorum:
        names = ", ".join(report.cosigned_by)
        console.print(
            f"cosigned by {len(report.cosigned_by)} witnesses ({escape(names)}); quorum {quorum}"
        )
    if report.sealed_opened is not None:
        console.print(
            f"sealed: {report.sealed_opened} opened and matched, {report.sealed_erased} erased"
        )
    console.print(
        f"consistency proof from the checkpoint you trusted (size {since}): OK"
        if since
        else "no stored checkpoint: no consistency proof checked"
    )


def _http_failure(console: Console, url: str, error: httpx.HTTPError) -> None:
    status = error.response.status_code if isinstance(error, httpx.HTTPStatusError) else None
    if status in (401, 403) and error.request.url.path.startswith("/ledger/sealed"):
        console.print(f"[red]the audit service refused the token (HTTP {status})[/red]")
        console.print("--sealed needs an auditor token: bansos token --role auditor --sub NAME")
        return
    if status == 404 and error.request.url.path.startswith("/ledger/"):
        console.print(f"[red]{escape(url)} serves no ledger ({error.request.url.path}: 404)[/red]")
        console.print("the audit service holds it: port 8005 by default (--url ...:8005)")
        return
    console.print(f"[red]cannot read the ledger at {escape(url)}: {escape(str(error))}[/red]")
    console.print("check the URL and that the audit service is running, then run again")


# The options every command that checks the ledger from outside takes.
AuditURL = Annotated[str, typer.Option(help="audit service base URL, e.g. http://127.0.0.1:8005")]
PinnedKey = Annotated[
    str | None, typer.Option("--public-key", help="base64 Ed25519 log key to pin")
]
WitnessKeys = Annotated[
    list[str] | None,
    typer.Option(help="a witness's vkey, obtained from the witness itself (repeatable)"),
]
Quorum = Annotated[
    int | None,
    typer.Option(help="cosignatures required from distinct --witness keys (default: all)"),
]


def verify_command(
    url: AuditURL,
    public_key: PinnedKey = None,
    state: Annotated[
        Path | None, typer.Option(help="file that keeps the last trusted checkpoint")
    ] = None,
    witness: WitnessKeys = None,
    quorum: Quorum = None,
    sealed: Annotated[
        bool, typer.Option("--sealed", help="open every sealed leaf too (needs --token)")
    ] = False,
    token: Annotated[str | None, typer.Option(help="an auditor bearer token, for --sealed")] = None,
) -> None:
    """Verify every entry of the audit ledger against its signed checkpoint."""
    console = Console(soft_wrap=True)
    try:
        options = _options(public_key, state, witness or [], quorum, sealed, token)
    except (ValueError, OSError) as e:
        console.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(2) from e
    if options.pinned is None and options.stored is None:
        tofu = "trusting the key the server serves (TOFU); a --state file pins it for next time"
        console.print(f"[yellow]warning: no --public-key: {tofu}[/yellow]")
    try:
        with (
            make_client(url) as client,
            Progress(console=console, transient=True, disable=not console.is_terminal) as bar,
        ):
            task = bar.add_task("downloading entries", total=None)
            report = verify_ledger(
                client,
                public_key=options.pinned,
                state=options.stored,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                witnesses=options.witnesses,
                quorum=options.quorum,
                sealed_token=options.token,
            )
    except VerificationError as e:
        where = "" if e.index is None else f" at index {e.index}"
        console.print(f"[bold red]FAILED{where}: {escape(e.reason)}[/bold red]")
        console.print(escape(e.hint or DO_NOT_TRUST))
        raise typer.Exit(1) from e
    except httpx.HTTPError as e:
        _http_failure(console, url, e)
        raise typer.Exit(2) from e
    _print_report(console, report, options.quorum)
    if state is None:
        return
    if options.stored is not None and options.stored["tree_size"] > report.tree_size:
        console.print(
            f"state kept at size {options.stored['tree_size']} (newer than this checkpoint)"
        )
        return
    try:
        save_state(state, report, report.note, report.key_name, report.public_key)
    except OSError as e:
        console.print(f"[red]verified, but cannot save the state file: {escape(str(e))}[/red]")
        console.print("check that its directory exists and is writable")
        raise typer.Exit(2) from e


DO_NOT_TRUST = (
    "the ledger does not prove what it claims: keep this output and report it to the"
    " operator and your oversight body"
)
