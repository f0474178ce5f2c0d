"""Public views (docs/architecture.md#the-ledger): what the public ledger shows of each event, and
nothing more.

A leaf commits to the whole envelope (sealed) but shows this view in the clear. Every view
carries the event's type, its day in Jakarta time (never a finer time), and the role the
actor acted in (never the person); the rest comes from the allow-list that each payload
class declares in its `public()` method, beside its schema. The rule is a pure function of
the envelope, so an auditor who opens a sealed envelope recomputes the view and checks it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python

from shared.clock import JAKARTA, WIB_OFFSET
from shared.events.envelope import Envelope

# Counts below this are shown as "<5" (small-cell suppression, see
# docs/architecture.md#personal-data).
SMALL_CELL = 5
COMMON_FIELDS = frozenset({"type", "day", "actor_role"})


def day_of(moment: datetime) -> str:
    if moment.tzinfo is UTC:  # every envelope's (validated to UTC): skip the conversion
        return (moment + WIB_OFFSET).date().isoformat()
    return moment.astimezone(JAKARTA).date().isoformat()


def suppressed(count: int) -> int | str:
    """A count as the public may see it: exact from SMALL_CELL up, else "<5"."""
    return count if count >= SMALL_CELL else f"<{SMALL_CELL}"


def actor_role(envelope: Envelope) -> str | None:
    if envelope.actor_role is not None:
        return envelope.actor_role
    return "public" if envelope.actor == "public" else None


def public_view(envelope: Envelope) -> dict[str, Any]:
    """The public view of a valid envelope; raises what `Envelope.typed()` raises."""
    view = envelope.typed().public(envelope.aggregate_id)  # a fresh dict, ours to extend
    if not COMMON_FIELDS.isdisjoint(view):
        raise ValueError(
            f"{envelope.type}: public view redefines {sorted(COMMON_FIELDS & view.keys())}"
        )
    view["type"] = envelope.type
    view["day"] = day_of(envelope.occurred_at)
    view["actor_role"] = actor_role(envelope)
    jsonable: dict[str, Any] = to_jsonable_python(view)
    return jsonable


def unparseable_view(raw: bytes) -> dict[str, Any]:
    """What the public sees of a message that is not a valid event: its size only (the
    subject is in the leaf beside it)."""
    return {"unparseable": True, "size": len(raw)}
