"""What training learns from other services' events: the registry's households (its
published view, services/registry/published.py), so that only members of registered,
active households enrol, eligible households first."""

from __future__ import annotations

from services.registry import published

CONSUMERS = [published.subscription("training")]
