"""The audit service's HTTP API under /ledger: public (checkpoints, entries, proofs,
search, cosignatures), auditor (sealed openings) and admin (erasures)."""

from services.audit.api import auditor, checkpoints, erasures, public

routers = [public.router, checkpoints.router, auditor.router, erasures.router]
