"""The published rule of a verification sample (issue 15): which of a closed round's
hand-overs are verified with their recipients, as a pure function of a ledger checkpoint's
root. The community service draws with it (services/community/domain/verification.py) and
anyone recomputes with it (`bansos sample-check`), so it lives in the kernel, with the
ledger's other public code.

Each allocation id is ranked by SHA-256(root || the id as its 36-character lowercase text)
and the first k are taken, k = max(min(n, minimum), ceil(share % of n)) of n hand-overs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from uuid import UUID

MINIMUM = 10  # BANSOS_SAMPLE_MINIMUM's default
SHARE_PCT = 5.0  # BANSOS_SAMPLE_SHARE_PCT's default


def sample_size(n: int, minimum: int = MINIMUM, share_pct: float = SHARE_PCT) -> int:
    """How many of n hand-overs are verified: all of a small round, else at least
    `minimum`, and at least `share_pct` % of a large one."""
    return max(min(n, minimum), min(n, math.ceil(n * share_pct / 100)))


def rank(root: bytes, allocation_id: UUID) -> bytes:
    return hashlib.sha256(root + str(allocation_id).encode()).digest()


def draw(root: bytes, allocation_ids: Iterable[UUID], k: int) -> tuple[UUID, ...]:
    """The first k allocation ids by their rank under the root (ties cannot matter: a
    SHA-256 collision)."""
    return tuple(sorted(set(allocation_ids), key=lambda a: rank(root, a))[:k])
