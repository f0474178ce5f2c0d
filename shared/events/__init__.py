"""Every event of the DESIGN catalogue, one typed payload per (type, schema_version)."""

from shared.events import (
    audit,
    community,
    community_appeals,  # issue 15: appeals
    community_cases,
    community_verification,
    distribution,
    registry,
    training,
)
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
from shared.events.public import public_view, unparseable_view

__all__ = [
    "PAYLOAD_TYPES",
    "Envelope",
    "EventPayload",
    "UndecodableEvent",
    "UnknownEventType",
    "audit",
    "canonical_json",
    "community",
    "community_appeals",
    "community_cases",
    "community_verification",
    "decode",
    "distribution",
    "public_view",
    "registry",
    "subject_for",
    "training",
    "unparseable_view",
    "utcnow",
]
