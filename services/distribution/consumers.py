"""What distribution learns from other services: the registry's households, and nothing else.

A household can be allocated aid only while this view (services/registry/published.py)
shows it active and eligible; the allocation records the registry event it rested on.
"""

from services.registry import published

CONSUMERS = [published.subscription("distribution")]
