"""Distribution's HTTP API: routes per resource, their schemas and read-model queries."""

from services.distribution.api.deps import ALLOCATION_READERS
from services.distribution.api.routes import allocations, budgets, manifest, officers, rounds
from services.registry import published

ROUTERS = [
    budgets.router,
    officers.router,
    rounds.router,
    allocations.router,
    manifest.router,
    published.router(*ALLOCATION_READERS),  # GET /eligibility/{household_id}
]
