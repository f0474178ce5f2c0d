"""Registry service: households, surveys and eligibility (port 8001)."""
