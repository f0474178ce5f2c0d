"""`python -m services.audit`: serve the audit ledger alone (port 8005 by default)."""

from services.audit.service import SERVICE
from shared.serve import serve

serve(SERVICE)
