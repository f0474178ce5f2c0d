"""Oversight for auditors, computed from ledger entries alone (pure): the fold of leaves
into state (`fold.Oversight`), the rules and their findings (`findings`), round
reconciliation (`reconciliation`) and bureaucracy times (`times`)."""

from services.audit.domain.oversight.findings import RULES, Finding, Rule
from services.audit.domain.oversight.fold import Oversight
from services.audit.domain.oversight.reconciliation import Reconciliation, reconcile
from services.audit.domain.oversight.times import STEPS, StepTime

__all__ = [
    "RULES",
    "STEPS",
    "Finding",
    "Oversight",
    "Reconciliation",
    "Rule",
    "StepTime",
    "reconcile",
]
