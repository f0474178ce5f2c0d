"""Every event of the DESIGN catalogue, one typed payload per (type, schema_version)."""

from shared.events import community, distribution, registry, training
from shared.events.envelope import (
    PAYLOAD_TYPES,
    Envelope,
    EventPayload,
    UndecodableEvent,
    UnknownEventType,
    canonical_json,
    decode,
    subject_for,
    utcnow,
)

__all__ = [
    "PAYLOAD_TYPES",
    "Envelope",
    "EventPayload",
    "UndecodableEvent",
    "UnknownEventType",
    "canonical_json",
    "community",
    "decode",
    "distribution",
    "registry",
    "subject_for",
    "training",
    "utcnow",
]
