import sys

from pydantic import ValidationError

from services.audit.app import create
from services.audit.settings import AuditSettings
from shared.serve import serve

try:
    settings = AuditSettings()
except ValidationError as exc:  # e.g. a bad BANSOS_WITNESSES key: say which, and stop
    sys.exit(f"audit: refusing to start, invalid settings:\n{exc}")
serve(create, settings)
