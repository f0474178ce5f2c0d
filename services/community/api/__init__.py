"""The community's HTTP API: routes per resource, their schemas and read-model queries."""

from services.community.api.routes import appeals, complaints, feedback, meetings

ROUTERS = [
    complaints.router,
    feedback.router,
    meetings.router,
    appeals.router,
]
