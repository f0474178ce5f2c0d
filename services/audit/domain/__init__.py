"""The audit's pure rules: what a ledger leaf is (leaf.py) and what an erasure erases
(erasure.py, with the decider of its event). No I/O."""
