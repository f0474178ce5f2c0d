"""Registry consumers: none. The registry is the source of household facts and learns
nothing from other services' events; the list stays so every service has the same shape."""

from __future__ import annotations

from shared.consumers import Subscription

CONSUMERS: list[Subscription] = []
