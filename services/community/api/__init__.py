"""The community's HTTP API: routes per resource, their schemas and read-model queries."""

from services.community.api.routes import (
    appeals,
    cases,
    complaints,
    feedback,
    meetings,
    verification,
)

ROUTERS = [
    complaints.router,
    feedback.router,
    meetings.router,
    cases.router,
    verification.router,
    appeals.router,
]
