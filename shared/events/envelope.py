"""The event envelope: one schema on the bus, in every event store and in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from uuid import UUID, uuid4

import orjson
import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SUBJECT_PREFIX = "bansos"


class EventPayload(BaseModel):
    """Base of every typed payload; subclasses register themselves by (type, version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    aggregate_type: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__ or "schema_version" in cls.__dict__:
            key = (cls.event_type, cls.schema_version)
            if key in PAYLOAD_TYPES:
                raise TypeError(f"event type {key} registered twice")
            PAYLOAD_TYPES[key] = cls

    def public(self, aggregate_id: UUID) -> dict[str, Any]:
        """The event's public view (docs/architecture.md#the-ledger): an allow-list of what the
        public ledger
        shows, beside the type, day and actor role that every view carries. No household
        or member id, member fact, commitment, GPS, free text, staff name, ticket or
        receipt code. Every event type declares its own; there is no default."""
        raise NotImplementedError(f"{type(self).__name__} declares no public view")


PAYLOAD_TYPES: dict[tuple[str, int], type[EventPayload]] = {}


class UnknownEventType(ValueError):
    pass


def subject_for(event_type: str) -> str:
    """`registry.household_registered` -> `bansos.registry.household_registered`."""
    return f"{SUBJECT_PREFIX}.{event_type}"


def service_of(event_type: str) -> str:
    return event_type.split(".", 1)[0]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """docs/architecture.md#events. `payload` travels as JSON; `typed()` gives the registered
    payload model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    type: str = Field(pattern=r"^[a-z]+\.[a-z_]+$")
    schema_version: int = Field(ge=1)
    aggregate_type: str
    aggregate_id: UUID
    aggregate_version: int = Field(ge=1)
    occurred_at: datetime
    actor: str = Field(min_length=1)
    # The role the actor acted in: the public view shows it instead of the person.
    actor_role: str | None = None
    correlation_id: UUID
    causation_id: UUID | None = None
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return value.astimezone(UTC)

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        aggregate_id: UUID,
        aggregate_version: int,
        actor: str,
        actor_role: str | None = None,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Self:
        event_id = uuid4()
        envelope = cls(
            event_id=event_id,
            type=payload.event_type,
            schema_version=payload.schema_version,
            aggregate_type=payload.aggregate_type,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            occurred_at=occurred_at or utcnow(),
            actor=actor,
            actor_role=actor_role,
            correlation_id=correlation_id or event_id,
            causation_id=causation_id,
            payload=payload.model_dump(mode="json"),
        )
        # The payload model it was wrapped from, kept so `typed()` need not validate again
        # what the decider just built (an import projects thousands per transaction). Kept
        # in pydantic's private slot without declaring a private attribute: a declared one
        # costs every validation of an envelope from the bus 1.4 µs (a fifth) to set up.
        object.__setattr__(envelope, "__pydantic_private__", {"typed": payload})
        return envelope

    def __eq__(self, other: object) -> bool:
        """Equal fields are equal envelopes, wrapped here or decoded from the bus."""
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    @property
    def subject(self) -> str:
        return subject_for(self.type)

    def typed(self) -> EventPayload:
        kept = self.__pydantic_private__
        if kept:
            typed: EventPayload = kept["typed"]
            return typed
        model = PAYLOAD_TYPES.get((self.type, self.schema_version))
        if model is None:
            raise UnknownEventType(f"no payload model for {self.type} v{self.schema_version}")
        return model.model_validate(self.payload)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def canonical(self) -> bytes:
        """RFC 8785 (JCS) bytes: what goes on the bus and into ledger leaves."""
        return canonical_json(self.to_json())


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value.

    orjson's compact output with sorted keys is JCS but for three things: floats (JCS
    writes them its own way), integers beyond 2**53 - 1 (JCS refuses them) and keys
    outside ASCII (JCS sorts by UTF-16 units). So most values take orjson (~20x faster
    than the pure-Python encoder); a value whose numbers are the only difference takes
    orjson with each such number written by `rfc8785` (a hand-over's GPS); the rest go
    whole through `rfc8785`, the reference for the number format and key order.
    """
    try:
        out = orjson.dumps(value, option=_ORJSON)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a type JSON lacks
        return rfc8785.dumps(value)
    if not (out.isascii() or _ascii_keys(value)):
        return rfc8785.dumps(value)
    numbers = _numbers(value)
    if numbers == _OTHER:
        return rfc8785.dumps(value)
    if numbers == _PLAIN:
        return out
    return orjson.dumps(_jcs_numbers(value), option=_ORJSON)


# Dates, times and dataclasses are not JSON: orjson must refuse them as the reference does.
_ORJSON = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_MAX_SAFE_INTEGER = 2**53 - 1
_PLAIN, _NUMBERS, _OTHER = 0, 1, 2


def _numbers(value: Any) -> int:
    """_PLAIN: every number is one orjson writes as JCS does; _NUMBERS: a float or a
    large integer somewhere; _OTHER: a type that is not JSON (the reference refuses it).
    Exact types only: this runs for every ledger leaf, so it stays a tight loop."""
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        items = (value,)
    found = _PLAIN
    for item in items:
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER:
                found = _NUMBERS
        elif kind is float:
            found = _NUMBERS
        elif kind is dict or kind is list or kind is tuple:
            inner = _numbers(item)
            if inner == _OTHER:
                return _OTHER
            found = max(found, inner)
        else:
            return _OTHER
    return found


def _ascii_keys(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        return all(key.isascii() and _ascii_keys(item) for key, item in value.items())
    if kind is list or kind is tuple:
        return all(_ascii_keys(item) for item in value)
    return True


def _jcs_numbers(value: Any) -> Any:
    """A copy whose numbers that orjson would write differently are fragments of the
    reference encoder's bytes (which raises on what RFC 8785 cannot represent)."""
    kind = type(value)
    if kind is dict:
        return {key: _jcs_numbers(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_jcs_numbers(item) for item in value]
    if kind is float or (kind is int and not -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER):
        return orjson.Fragment(rfc8785.dumps(value))
    return value


class UndecodableEvent(ValueError):
    """Bytes from the bus that are not a valid envelope with a known, valid payload."""


def decode(raw: bytes) -> tuple[Envelope, EventPayload]:
    """Parse and validate an envelope and its payload, or raise UndecodableEvent."""
    try:
        envelope = Envelope.model_validate_json(raw)
        return envelope, envelope.typed()
    except (ValidationError, UnknownEventType, ValueError) as exc:
        raise UndecodableEvent(str(exc)[:2000]) from exc
