"""The registry's HTTP API: routes per resource, their schemas and read-model queries."""

from services.registry.api.routes import households, imports, resurveys

# Re-surveys first: `/households/resurveys` must not be read as `/households/{household_id}`.
ROUTERS = [resurveys.router, households.router, imports.router]
