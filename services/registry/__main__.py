"""`python -m services.registry`: serve the registry alone (port 8001 by default)."""

from services.registry.service import SERVICE
from shared.serve import serve

serve(SERVICE)
