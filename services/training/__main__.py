"""`python -m services.training`: serve training alone (port 8003 by default)."""

from services.training.service import SERVICE
from shared.serve import serve

serve(SERVICE)
