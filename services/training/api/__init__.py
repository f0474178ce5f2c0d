"""Training's HTTP API: routes per resource, their schemas and read-model queries."""

from services.registry import published
from services.training.api.deps import READERS
from services.training.api.routes import courses, enrolments, reports

# GET /eligibility/{household_id}: what training knows of a household from the registry.
ROUTERS = [courses.router, enrolments.router, reports.router, published.router(*READERS)]
