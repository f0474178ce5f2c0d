"""`python -m services.distribution`: serve distribution alone (port 8002 by default)."""

from services.distribution.service import SERVICE
from shared.serve import serve

serve(SERVICE)
