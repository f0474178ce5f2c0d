"""The community's aggregates as pure deciders: complaints (with their SLA), feedback and
meetings."""
