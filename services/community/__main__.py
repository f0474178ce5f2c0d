"""`python -m services.community`: serve the community service alone (port 8004 by default)."""

from services.community.service import SERVICE
from shared.serve import serve

serve(SERVICE)
