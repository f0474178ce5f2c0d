"""Training service: skills courses, enrolment, attendance, completion, outcomes (port 8003)."""
