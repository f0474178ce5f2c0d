"""`bansos verify`: check the audit ledger offline, trusting nothing the server says (DESIGN §6).

The verifier downloads every entry, recomputes every leaf hash and the tree head, and checks
them against a signed checkpoint. It shares no code with the server's storage: only the pure
RFC 9162 / C2SP functions and httpx, so a bug in the server cannot hide behind the same bug
here. Memory stays O(log n): leaves are folded into a Frontier as they stream past.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from shared.checkpoint import CheckpointError, parse_and_verify
from shared.events import canonical_json
from shared.merkle import Frontier, ProofError, leaf_hash, verify_consistency

Progressed = Callable[[int, int], None]
_PARSED_LEAF = {"stream_seq", "subject", "event"}
_UNPARSEABLE_LEAF = {"stream_seq", "subject", "unparseable", "raw_base64"}


class VerificationError(Exception):
    """The ledger, as served, does not prove what it claims; ``index`` names the leaf if known."""

    def __init__(self, index: int | None, reason: str) -> None:
        super().__init__(reason if index is None else f"index {index}: {reason}")
        self.index = index
        self.reason = reason


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


@dataclass
class _Prefix:
    """Leaves [0, size) folded into a frontier plus the last stream_seq: enough to resume."""

    frontier: Frontier
    last_seq: int | None = None


def _unb64(value: Any, index: int | None, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(index, f"{what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise VerificationError(index, f"{what} is not valid base64") from e


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _get_json(client: httpx.Client, path: str, **params: int) -> dict[str, Any]:
    response = client.get(path, params=params)
    response.raise_for_status()  # HTTP failures are "cannot check", not "checked and failed"
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise VerificationError(None, f"{path} did not return a JSON object")
    return body


def _trusted_key(
    client: httpx.Client, pinned: bytes | None, key_name: str | None, state: dict[str, Any] | None
) -> tuple[str, bytes]:
    body = _get_json(client, "/ledger/public-key")
    if body.get("algorithm") != "ed25519":
        raise VerificationError(None, f"unsupported key algorithm {body.get('algorithm')!r}")
    served = _unb64(body.get("public_key"), None, "public_key")
    if pinned is not None and served != pinned:
        raise VerificationError(None, "the served public key differs from the pinned one")
    if state is not None and _unb64(state["public_key"], None, "stored key") != served:
        raise VerificationError(None, "the served public key differs from the stored one")
    name = key_name or body.get("key_name")
    if not isinstance(name, str) or not name:
        raise VerificationError(None, "the server names no signing key")
    return name, served


def _same_json(a: Any, b: Any) -> bool:
    # Compare canonical bytes, not Python values: in Python True == 1 and 1 == 1.0.
    try:
        return canonical_json(a) == canonical_json(b)
    except ValueError:
        return False


def _check_leaf_fields(data: bytes, entry: dict[str, Any], index: int) -> int:
    """The hashed bytes must say what the entry says; return the leaf's stream_seq."""
    try:
        leaf = json.loads(data)
        # Re-encoding must give the same bytes: one leaf, one spelling (no duplicate keys).
        canonical = isinstance(leaf, dict) and canonical_json(leaf) == data
    except ValueError:
        canonical = False
    if not canonical:
        raise VerificationError(index, "leaf_data is not a canonical JSON object")
    if set(leaf) == _PARSED_LEAF and isinstance(leaf["event"], dict):
        event: Any = leaf["event"]
    elif set(leaf) == _UNPARSEABLE_LEAF and leaf["unparseable"] is True:
        _unb64(leaf["raw_base64"], index, "raw_base64")
        event = None
    else:
        raise VerificationError(index, "leaf_data has neither an event nor a flagged raw message")
    seq = leaf["stream_seq"]
    if type(seq) is not int or seq != entry.get("stream_seq"):
        raise VerificationError(index, "leaf_data disagrees with the entry's stream_seq")
    if not isinstance(leaf["subject"], str) or leaf["subject"] != entry.get("subject"):
        raise VerificationError(index, "leaf_data disagrees with the entry's subject")
    if not _same_json(event, entry.get("event")):
        raise VerificationError(index, "leaf_data disagrees with the entry's event")
    return seq


def _check_entry(entry: Any, index: int, last_seq: int | None) -> tuple[bytes, int]:
    """Check one served entry on its own and against its predecessor; return (hash, seq)."""
    if not isinstance(entry, dict):
        raise VerificationError(index, "entry is not a JSON object")
    served_index = entry.get("index")
    if type(served_index) is int and served_index > index:
        raise VerificationError(index, "missing entry (gap in the ledger)")
    if served_index != index:
        raise VerificationError(index, f"unexpected entry index {served_index!r}")
    data = _unb64(entry.get("leaf_data"), index, "leaf_data")
    digest = leaf_hash(data)
    if digest != _unb64(entry.get("leaf_hash"), index, "leaf_hash"):
        raise VerificationError(index, "leaf_hash does not match leaf_data")
    seq = _check_leaf_fields(data, entry, index)
    if last_seq is not None and seq != last_seq + 1:
        raise VerificationError(index, f"gap in stream_seq: {last_seq} then {seq}")
    return digest, seq


def _extend(
    client: httpx.Client,
    prefix: _Prefix,
    end: int,
    page_size: int,
    progress: Progressed | None = None,
) -> None:
    """Download, check and fold entries [prefix size, end) into ``prefix``."""
    while (start := prefix.frontier.size) < end:
        # Always ask from the next index we need: the server's "next" is not trusted.
        page = _get_json(client, "/ledger/entries", start=start, limit=min(page_size, end - start))
        entries = page.get("entries")
        if not isinstance(entries, list) or not entries:
            raise VerificationError(start, "missing entry (gap in the ledger)")
        for entry in entries[: end - start]:
            index = prefix.frontier.size
            digest, prefix.last_seq = _check_entry(entry, index, prefix.last_seq)
            prefix.frontier.append(digest)
        if progress is not None:
            progress(prefix.frontier.size, end)


def _consistent(
    client: httpx.Client, first: int, second: int, first_root: bytes, root: bytes
) -> bool:
    body = _get_json(client, "/ledger/consistency", first=first, second=second)
    try:
        proof = [_unb64(h, None, "proof hash") for h in body["hashes"]]
        verify_consistency(first, second, first_root, root, proof)
    except (KeyError, TypeError, ProofError, VerificationError):
        return False  # an unusable proof proves nothing
    return True


def _first_bad_leaf(client: httpx.Client, size: int, root: bytes, page_size: int) -> int:
    """Bisect for the first leaf outside the signed tree, using the server's own proofs.

    Prefix m is good iff the server can prove our root of its first m leaves is a prefix
    of the signed tree. The frontier of the last good prefix is kept, so each step only
    downloads [good, mid): the whole search re-reads at most ``size`` entries.
    """
    good, bad = _Prefix(Frontier()), size  # the empty prefix is good, the whole tree is not
    while bad - good.frontier.size > 1:
        mid = (good.frontier.size + bad) // 2
        trial = copy.deepcopy(good)
        _extend(client, trial, mid, page_size)
        if _consistent(client, mid, size, trial.frontier.root(), root):
            good = trial
        else:
            bad = mid
    return bad - 1


def _check_rewrite(
    client: httpx.Client, old: tuple[int, bytes], local: bytes | None, size: int, root: bytes
) -> None:
    """The log we trusted must be a prefix of today's, by our own leaves and by proof."""
    old_size, old_root = old
    rewritten = f"the log was rewritten since the checkpoint you trusted (size {old_size})"
    if size < old_size:
        raise VerificationError(None, f"{rewritten}: it now has only {size} entries")
    if local != old_root or not _consistent(client, old_size, size, old_root, root):
        raise VerificationError(None, rewritten)


def verify_ledger(
    client: httpx.Client,
    *,
    public_key: bytes | None,
    key_name: str | None = None,
    state: dict[str, Any] | None = None,
    progress: Progressed | None = None,
    page_size: int = 1000,
) -> Report:
    """Verify the whole ledger behind ``client`` (base_url set); raise VerificationError."""
    name, key = _trusted_key(client, public_key, key_name, state)
    response = client.get("/ledger/checkpoint")
    response.raise_for_status()
    try:
        checkpoint = parse_and_verify(
            response.text, name, key, expected_origin=state["origin"] if state else None
        )
    except CheckpointError as e:
        raise VerificationError(None, f"checkpoint: {e}") from e
    size, root = checkpoint.tree_size, checkpoint.root_hash
    old_size = state["tree_size"] if state else 0
    old_root = _unb64(state["root_hash"], None, "stored root") if state else b""
    overall = None if progress is None else lambda done, _: progress(done, size)
    prefix, old_local = _Prefix(Frontier()), None
    if 0 < old_size <= size:
        # Stop at the trusted size once to take the root there, then carry on to the end.
        _extend(client, prefix, old_size, page_size, overall)
        old_local = prefix.frontier.root()
    _extend(client, prefix, size, page_size, overall)
    if prefix.frontier.root() != root:
        # Every leaf matched its data, so the served leaves are not the ones signed.
        bad = _first_bad_leaf(client, size, root, page_size)
        raise VerificationError(bad, "leaf does not belong to the signed tree")
    if old_size > 0:
        _check_rewrite(client, (old_size, old_root), old_local, size, root)
    checked, since = prefix.frontier.size, old_size or None
    return Report(size, root, checkpoint.origin, name, checked, since, checkpoint.note, key)


def load_state(path: Path) -> dict[str, Any] | None:
    """The last trusted checkpoint, or None before the first run; ValueError if damaged."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    keys = {"key_name", "public_key", "origin", "tree_size", "root_hash", "note"}
    if not isinstance(state, dict) or not keys <= set(state) or type(state["tree_size"]) is not int:
        raise ValueError(f"{path} is not a verifier state file")
    return state


def save_state(path: Path, report: Report, note: str, key_name: str, public_key: bytes) -> None:
    state = {
        "key_name": key_name,
        "public_key": _b64(public_key),
        "origin": report.origin,
        "tree_size": report.tree_size,
        "root_hash": _b64(report.root_hash),
        "note": note,
    }
    # Replace atomically: a crash mid-write must not lose the checkpoint we trust.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def _pinned_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ValueError("--public-key must be the base64 of a raw 32-byte Ed25519 key")
    return key


def make_client(url: str) -> httpx.Client:
    """The HTTP client the command uses; tests swap this for one on a mock transport."""
    return httpx.Client(base_url=url, timeout=30.0)


def verify_command(
    url: Annotated[str, typer.Option(help="audit service base URL, e.g. http://127.0.0.1:8005")],
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="base64 Ed25519 key to pin")
    ] = None,
    state: Annotated[
        Path | None, typer.Option(help="file that keeps the last trusted checkpoint")
    ] = None,
) -> None:
    """Verify every entry of the audit ledger against its signed checkpoint."""
    console = Console()
    try:
        pinned = _pinned_key(public_key) if public_key else None
        stored = load_state(state) if state else None
    except (ValueError, OSError) as e:
        console.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(2) from e
    if pinned is None and stored is None:
        tofu = "trusting the key the server serves (TOFU); a --state file pins it for next time"
        console.print(f"[yellow]warning: no --public-key: {tofu}[/yellow]")
    try:
        with make_client(url) as client, Progress(console=console) as bar:
            task = bar.add_task("downloading entries", total=None)
            report = verify_ledger(
                client,
                public_key=pinned,
                state=stored,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except VerificationError as e:
        where = "" if e.index is None else f" at index {e.index}"
        console.print(f"[bold red]FAILED{where}: {escape(e.reason)}[/bold red]")
        raise typer.Exit(1) from e
    except httpx.HTTPError as e:
        console.print(f"[red]cannot read the ledger at {escape(url)}: {escape(str(e))}[/red]")
        raise typer.Exit(2) from e
    since = report.consistency_from
    console.print(f"[green]OK[/green]: {report.tree_size} entries verified")
    console.print(f"root   {_b64(report.root_hash)}\norigin {escape(report.origin)}")
    console.print(f"key    {escape(report.key_name)}")
    console.print(
        f"consistency proof from the checkpoint you trusted (size {since}): OK"
        if since
        else "no stored checkpoint: no consistency proof checked"
    )
    if state is not None:
        save_state(state, report, report.note, report.key_name, report.public_key)
