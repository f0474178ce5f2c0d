"""The community's HTTP API: routes per resource, their schemas and read-model queries."""

from services.community.api.routes import complaints, feedback, meetings, verification

ROUTERS = [complaints.router, feedback.router, meetings.router]
ROUTERS += [verification.router]
