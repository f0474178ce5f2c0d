"""Audit service: every event of the BANSOS stream in a verifiable Merkle ledger (port 8005)."""
