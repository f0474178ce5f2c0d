"""Distribution's domain: the budget, officer, round and allocation deciders, and the ids
and periods they share. Pure: no I/O."""
