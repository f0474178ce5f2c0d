"""Reading the audit ledger's public API from outside, as `bansos verify` and `bansos
witness` do: httpx and the pure RFC 9162 functions, nothing of the server's storage.

HTTP failures are raised as httpx errors ("cannot check"); answers that are not what the
API promises are a VerificationError ("checked, and the server does not prove it").
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx

from shared.merkle import ProofError, verify_consistency


class VerificationError(Exception):
    """The ledger, as served, does not prove what it claims; ``index`` names the leaf if
    known, ``hint`` what the person running the check can do about it."""

    def __init__(self, index: int | None, reason: str, hint: str | None = None) -> None:
        super().__init__(reason if index is None else f"index {index}: {reason}")
        self.index = index
        self.reason = reason
        self.hint = hint


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(value: Any, index: int | None, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(index, f"{what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise VerificationError(index, f"{what} is not valid base64") from e


def make_client(url: str) -> httpx.Client:
    """The HTTP client the commands use; tests swap it for one on a mock transport."""
    return httpx.Client(base_url=url, timeout=30.0)


def get_json(
    client: httpx.Client, path: str, headers: dict[str, str] | None = None, **params: int
) -> dict[str, Any]:
    response = client.get(path, params=params, headers=headers)
    response.raise_for_status()
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise VerificationError(None, f"{path} did not return a JSON object")
    return body


def consistency_proof(client: httpx.Client, first: int, second: int) -> list[bytes] | None:
    """The server's proof that tree ``first`` is a prefix of tree ``second``; None when the
    answer is not a list of base64 hashes (an unusable proof proves nothing)."""
    body = get_json(client, "/ledger/consistency", first=first, second=second)
    hashes = body.get("hashes")
    if not isinstance(hashes, list):
        return None
    try:
        return [unb64(h, None, "proof hash") for h in hashes]
    except VerificationError:
        return None


def proves_consistency(
    proof: list[bytes] | None, first: int, second: int, first_root: bytes, root: bytes
) -> bool:
    if proof is None:
        return False
    try:
        verify_consistency(first, second, first_root, root, proof)
    except ProofError:
        return False
    return True


def consistent(
    client: httpx.Client, first: int, second: int, first_root: bytes, root: bytes
) -> bool:
    proof = consistency_proof(client, first, second)
    return proves_consistency(proof, first, second, first_root, root)
