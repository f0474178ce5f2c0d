"""Training consumers: the registry's households (`shared/households.py`), so that only
members of registered, active households enrol, eligible households first."""

from __future__ import annotations

from shared import households

CONSUMERS = [households.subscription("training")]
