"""`bansos witness`: an oversight body's witness for the audit ledger
(docs/architecture.md#the-ledger).

Each round it fetches the ledger's checkpoint, checks the log's signature, and cosigns
(C2SP tlog-cosignature, Ed25519) only a checkpoint consistent with the last one it
cosigned: never a smaller tree, never another root for the same size, never without a
valid consistency proof. Its state (the last cosigned checkpoint) is saved atomically
before the cosignature leaves, as tlog-witness demands, so a crash cannot roll it back.
A refusal is kept in the state with the offending checkpoint as evidence, and the witness
does not cosign that log again until a person has looked (docs/architecture.md#the-ledger: a
witness exists to
make a rewritten history visible, not to be talked round by the next checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from shared.checkpoint import (
    Checkpoint,
    CheckpointError,
    Cosigner,
    load_or_create_key,
    note_body,
    parse_and_verify,
    parse_vkey,
    vkey_string,
)
from shared.ledger_client import (
    VerificationError,
    b64,
    consistency_proof,
    get_json,
    make_client,
    proves_consistency,
    unb64,
)
from shared.verify import write_atomically

EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162: the root of the empty tree
COSIGNED, REFUSED, UNAVAILABLE = 0, 1, 2  # outcomes, and the exit codes of one round


@dataclass(frozen=True)
class WitnessState:
    """The log this witness follows and the last checkpoint it cosigned; ``refused`` holds
    the reason and evidence once it caught the log misbehaving."""

    log_vkey: str
    origin: str | None = None
    tree_size: int = 0
    root_hash: bytes = b""
    note: str = ""
    refused: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "log_vkey": self.log_vkey,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": b64(self.root_hash),
            "note": self.note,
        }
        return data if self.refused is None else {**data, "refused": self.refused}


def load_witness_state(path: Path) -> WitnessState | None:
    """The saved state, None before the first round; ValueError if damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise ValueError(f"{path} is not a witness state file") from e
    try:
        parse_vkey(data["log_vkey"])
        state = WitnessState(
            data["log_vkey"],
            data["origin"],
            data["tree_size"],
            unb64(data["root_hash"], None, "root_hash"),
            data["note"],
            data.get("refused"),
        )
    except (KeyError, TypeError, CheckpointError, VerificationError) as e:
        raise ValueError(f"{path} is not a witness state file") from e
    if type(state.tree_size) is not int or not isinstance(state.note, str):
        raise ValueError(f"{path} is not a witness state file")
    return state


def save_witness_state(path: Path, state: WitnessState) -> None:
    write_atomically(path, json.dumps(state.to_json(), indent=2) + "\n")


def judge(
    state: WitnessState | None, checkpoint: Checkpoint, proof: list[bytes] | None
) -> str | None:
    """Why this checkpoint must not be cosigned, or None: the witness's whole rule (pure).
    ``proof`` is the log's consistency proof from the state's size (when it grew)."""
    size, root = checkpoint.tree_size, checkpoint.root_hash
    if size == 0 and root != EMPTY_ROOT:
        return "an empty tree's root must be SHA-256 of nothing"
    if state is None or state.tree_size == 0:
        return None  # the first checkpoint seen: nothing to be consistent with yet
    old = f"the checkpoint this witness cosigned (size {state.tree_size})"
    if size < state.tree_size:
        return f"the log shrank: it now claims {size} entries, fewer than {old}"
    if size == state.tree_size:
        return None if root == state.root_hash else f"fork: another root for the size of {old}"
    if not proves_consistency(proof, state.tree_size, size, state.root_hash, root):
        return f"the log's consistency proof from {old} to size {size} does not verify"
    return None


@dataclass(frozen=True)
class Outcome:
    code: int  # COSIGNED, REFUSED or UNAVAILABLE
    message: str
    fatal: bool = False  # bad input that another round cannot cure: stop looping


@dataclass
class Witness:
    """One witness: its key and name, the log it follows and where it keeps its state."""

    cosigner: Cosigner
    state_path: Path
    log_vkey: str | None = None  # from --log-key; else the state's; else TOFU
    refused: bool = False  # set once a round refused: never cosign again in this process

    def round(self, client: httpx.Client, now: int) -> Outcome:
        state = load_witness_state(self.state_path)
        if self.refused or (state is not None and state.refused is not None):
            reason = state.refused.get("reason", "?") if state and state.refused else "see above"
            return Outcome(
                REFUSED,
                f"refusing: this witness caught the log misbehaving ({reason}); it cosigns "
                f"nothing more until you investigate (evidence in {self.state_path})",
            )
        log_vkey = self._log_vkey(client, state)
        key_name, public_key = parse_vkey(log_vkey)
        response = client.get("/ledger/checkpoint")
        response.raise_for_status()
        origin = state.origin if state else None
        try:
            checkpoint = parse_and_verify(response.text, key_name, public_key, origin)
        except CheckpointError as e:
            return Outcome(REFUSED, f"refused: the checkpoint is not the log's ({e})")
        proof = None
        if state is not None and 0 < state.tree_size < checkpoint.tree_size:
            proof = consistency_proof(client, state.tree_size, checkpoint.tree_size)
        reason = judge(state, checkpoint, proof)
        if reason is not None:
            return self._refuse(state, checkpoint, reason, now)
        return self._cosign(client, state, log_vkey, checkpoint, now)

    def _log_vkey(self, client: httpx.Client, state: WitnessState | None) -> str:
        if self.log_vkey is not None:
            if state is not None and state.log_vkey != self.log_vkey:
                raise ValueError(
                    f"--log-key differs from the log key in {self.state_path}: a new log "
                    "needs a new --state file"
                )
            return self.log_vkey
        if state is not None:
            return state.log_vkey
        body = get_json(client, "/ledger/public-key")
        served = unb64(body.get("public_key"), None, "public_key")
        try:
            self.log_vkey = vkey_string(str(body.get("key_name")), served)
        except ValueError as e:
            raise VerificationError(None, f"/ledger/public-key: {e}") from e
        return self.log_vkey

    def _refuse(
        self, state: WitnessState | None, checkpoint: Checkpoint, reason: str, now: int
    ) -> Outcome:
        self.refused = True  # in this process even if the evidence cannot be saved
        if state is None:
            return Outcome(REFUSED, f"REFUSED: {reason}")
        evidence = {"reason": reason, "note": checkpoint.note, "at": now}
        save_witness_state(self.state_path, replace(state, refused=evidence))
        return Outcome(
            REFUSED,
            f"REFUSED: {reason}. This witness will not cosign this log again; the evidence "
            f"is in {self.state_path}",
        )

    def _cosign(
        self,
        client: httpx.Client,
        state: WitnessState | None,
        log_vkey: str,
        checkpoint: Checkpoint,
        now: int,
    ) -> Outcome:
        line = self.cosigner.cosign(note_body(checkpoint.note), now)
        new = WitnessState(
            log_vkey,
            checkpoint.origin,
            checkpoint.tree_size,
            checkpoint.root_hash,
            checkpoint.note,
        )
        save_witness_state(self.state_path, new)  # before the cosignature leaves
        posted = client.post(
            "/ledger/cosignatures", json={"tree_size": checkpoint.tree_size, "cosignature": line}
        )
        what = f"{checkpoint.origin} size {checkpoint.tree_size}"
        if posted.status_code == 403:
            return Outcome(
                UNAVAILABLE,
                f"cosigned {what}, but the log does not know this witness: ask its operator "
                f"to add {self.cosigner.vkey} to BANSOS_WITNESSES",
            )
        if posted.status_code >= 500:
            posted.raise_for_status()  # the service is down: "try again later"
        if posted.status_code not in (200, 201):
            return Outcome(
                UNAVAILABLE,
                f"cosigned {what}, but the log rejected the cosignature (HTTP "
                f"{posted.status_code}: {posted.text[:200]}); tell its operator",
            )
        since = f" (consistent with size {state.tree_size})" if state and state.tree_size else ""
        return Outcome(COSIGNED, f"cosigned {what}{since}")


def _cosigner(key: Path, name: str | None) -> Cosigner:
    """The witness's key (created, mode 0600, if missing) and name (default: the key
    file's name without its extension); ValueError says what is wrong."""
    try:
        private_key = load_or_create_key(key)
    except (OSError, TypeError, ValueError) as e:
        reason = str(e).split(". See ")[0]  # cryptography appends a link to its FAQ
        raise ValueError(f"cannot use the key file {key}: {reason}") from e
    return Cosigner(name or key.stem, private_key)


def vkey_path(key: Path) -> Path:
    """Where the witness's vkey is published: beside its key, as ``<stem>.vkey``."""
    path = key.with_name(f"{key.stem}.vkey")
    if path == key:
        raise ValueError(f"the key file {key} must not end in .vkey")
    return path


def publish_vkey(key: Path, cosigner: Cosigner) -> Path:
    """Write the witness's vkey beside its key: the public half, what the oversight body
    hands to the log's operator and to verifiers, out of band."""
    path = vkey_path(key)
    try:
        write_atomically(path, cosigner.vkey + "\n")
    except OSError as e:
        raise ValueError(f"cannot write {path}: {e}") from e
    return path


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def witness_command(
    url: Annotated[str, typer.Option(help="audit service base URL, e.g. http://127.0.0.1:8005")],
    key: Annotated[Path, typer.Option(help="this witness's Ed25519 key (PEM; created if missing)")],
    state: Annotated[Path, typer.Option(help="file that keeps the last cosigned checkpoint")],
    name: Annotated[
        str | None, typer.Option(help="witness name (default: the key file's name)")
    ] = None,
    log_key: Annotated[
        str | None, typer.Option("--log-key", help="the log's vkey, obtained out of band")
    ] = None,
    interval: Annotated[
        float | None, typer.Option(help="run a round every SECONDS (default: once)")
    ] = None,
) -> None:
    """Cosign the ledger's checkpoint if it is consistent with the last one cosigned."""
    console = Console(soft_wrap=True)
    try:
        if interval is not None and interval <= 0:
            raise ValueError("--interval must be a positive number of seconds")
        if log_key is not None:
            parse_vkey(log_key)
        vkey_path(key)  # before a key file is created under a name that would clash
        cosigner = _cosigner(key, name)
        published = publish_vkey(key, cosigner)
    except (ValueError, CheckpointError) as e:
        console.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(UNAVAILABLE) from e
    console.print(f"witness {escape(cosigner.vkey)} (also in {escape(str(published))})")
    if log_key is None and not state.exists():
        console.print(
            "[yellow]warning: no --log-key: trusting the log key the server serves (TOFU) "
            f"and pinning it in {escape(str(state))}[/yellow]"
        )
    witness = Witness(cosigner, state, log_key)
    code = UNAVAILABLE
    try:
        with make_client(url) as client:
            while True:
                outcome = _run_round(witness, client, url)
                code = outcome.code
                style = {COSIGNED: "green", REFUSED: "bold red"}.get(code, "red")
                console.print(f"[{style}]{escape(outcome.message)}[/{style}]")
                if interval is None or outcome.fatal:
                    break
                _sleep(interval)
    except KeyboardInterrupt:
        pass
    raise typer.Exit(code)


def _run_round(witness: Witness, client: httpx.Client, url: str) -> Outcome:
    try:
        return witness.round(client, int(time.time()))
    except ValueError as e:  # a damaged state file, a --log-key that does not match it
        return Outcome(UNAVAILABLE, f"bad input: {e}", fatal=True)
    except VerificationError as e:
        return Outcome(UNAVAILABLE, f"the ledger answered nonsense: {e}; try again later")
    except httpx.HTTPError as e:
        return Outcome(UNAVAILABLE, f"cannot reach the ledger at {url}: {e}; try again later")
    except OSError as e:
        return Outcome(UNAVAILABLE, f"cannot save the state file: {e}", fatal=True)
