"""Distribution service: budgets, rounds, allocations and hand-overs (port 8002)."""
