"""Community service: complaints, feedback and meetings (port 8004)."""
