"""Distribution consumers: what the registry says about households, and nothing else.

A household can be allocated aid only while this projection (`shared/households.py`)
shows it active and eligible; the allocation records the registry event it rested on.
"""

from __future__ import annotations

from shared import households

CONSUMERS = [households.subscription("distribution")]
