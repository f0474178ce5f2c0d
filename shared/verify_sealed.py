"""The sealed half of `bansos verify --sealed --token`: an auditor opens every leaf.

Each opening (salt, content) must hash to the leaf's ``sealed``, and the public view
recomputed from the content with the published rule (``public_view`` of the envelope, or
``unparseable_view`` of raw bytes) must be the leaf's ``public``, byte for byte in RFC 8785.
The rule also says which messages are flagged: a raw leaf whose content is a valid event
would hide that event's public view, so it fails too. An erased leaf (salt and content
deleted under UU 27/2022) is counted, not failed: the tree never depended on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from shared.events import Envelope, canonical_json, public_view, unparseable_view
from shared.ledger_client import VerificationError, get_json, unb64
from shared.verify_tree import Leaf, same_json

SALT_SIZE = 32


def envelope_view(content: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the envelope as JSON, its public view) when ``content`` is a valid event by the
    ledger's rule; ValueError (with the reason) when it is not."""
    try:
        received = orjson.loads(content)
    except orjson.JSONDecodeError as e:
        raise ValueError("not JSON") from e
    if not isinstance(received, dict):
        raise ValueError("not a JSON object")
    envelope = Envelope.model_validate(received)  # pydantic errors are ValueErrors
    view = public_view(envelope)
    canonical_json(received)  # the leaf hashes these bytes: JSON that JCS refuses is raw
    return received, view


def _is_event(content: bytes) -> bool:
    try:
        envelope_view(content)
    except (ValueError, TypeError, NotImplementedError):
        return False
    return True


def _recomputed_view(kind: Any, content: bytes, served: Any, index: int) -> dict[str, Any]:
    if kind == "envelope":
        try:
            received, view = envelope_view(content)
        except (ValueError, TypeError, NotImplementedError) as e:
            reason = str(e).splitlines()[0][:200]
            raise VerificationError(index, f"sealed content is not a valid event: {reason}") from e
        if canonical_json(received) != content:
            raise VerificationError(index, "sealed content is not the event's RFC 8785 bytes")
        if not same_json(served, received):
            raise VerificationError(index, "the served envelope is not the sealed content")
        return view
    if kind == "raw":
        if _is_event(content):
            raise VerificationError(
                index, "sealed content is a valid event, yet its leaf shows it as unparseable"
            )
        if served is not None:
            raise VerificationError(index, "a raw opening serves an envelope")
        return unparseable_view(content)
    raise VerificationError(index, f"sealed entry has unknown kind {kind!r}")


def check_opening(opening: Any, leaf: Leaf) -> bool:
    """Check one opening against its leaf; True if opened and matched, False if erased."""
    index = leaf.index
    if not isinstance(opening, dict):
        raise VerificationError(index, "sealed entry is not a JSON object")
    if opening.get("index") != index:
        raise VerificationError(index, f"unexpected sealed entry index {opening.get('index')!r}")
    erased = opening.get("erased")
    if erased is True:
        return False
    if erased is not False:
        raise VerificationError(index, "sealed entry does not say whether it was erased")
    salt = unb64(opening.get("salt"), index, "salt")
    if len(salt) != SALT_SIZE:
        raise VerificationError(index, f"salt is {len(salt)} bytes, not {SALT_SIZE}")
    content = unb64(opening.get("content"), index, "content")
    if hashlib.sha256(salt + content).hexdigest() != leaf.sealed:
        raise VerificationError(index, "salt and content do not open the leaf's sealed hash")
    view = _recomputed_view(opening.get("kind"), content, opening.get("envelope"), index)
    if not same_json(view, leaf.public):
        raise VerificationError(index, "public view differs from the one recomputed from content")
    return True


@dataclass
class Openings:
    """Opens, page by page, the leaves the tree check has just checked."""

    client: httpx.Client
    token: str
    opened: int = 0
    erased: int = 0

    def check(self, leaves: Sequence[Leaf]) -> None:
        auth = {"Authorization": f"Bearer {self.token}"}
        done = 0
        while done < len(leaves):
            start = leaves[done].index
            page = get_json(
                self.client, "/ledger/sealed", auth, start=start, limit=len(leaves) - done
            )
            entries = page.get("entries")
            if not isinstance(entries, list) or not entries:
                raise VerificationError(start, "sealed entry missing")
            for opening in entries[: len(leaves) - done]:
                if check_opening(opening, leaves[done]):
                    self.opened += 1
                else:
                    self.erased += 1
                done += 1
