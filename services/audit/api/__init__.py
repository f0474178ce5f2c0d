"""The ledger's HTTP API under /ledger: routes per resource (entries and proofs,
checkpoints and cosignatures, sealed openings, erasures), their schemas and queries."""

from services.audit.api.routes import checkpoints, entries, erasures, oversight, public, sealed

ROUTERS = [
    entries.router,
    checkpoints.router,
    sealed.router,
    erasures.router,
    oversight.router,
    public.router,
]
