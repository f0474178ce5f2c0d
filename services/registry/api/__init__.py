"""The registry's HTTP API: routes per resource, their schemas and read-model queries."""

from services.registry.api.routes import households, imports

ROUTERS = [households.router, imports.router]
