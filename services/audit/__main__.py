from services.audit.app import create
from services.audit.settings import AuditSettings
from shared.serve import serve

serve(create, AuditSettings())
