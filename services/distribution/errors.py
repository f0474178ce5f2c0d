"""Distribution's error codes (the kernel's shared ones are in shared/errors.py)."""

from shared.errors import declare

# --- budgets -------------------------------------------------------------------------------
BUDGET_NOT_FOUND = declare(404, "budget_not_found", "no budget for this programme and period")
BUDGET_EXISTS = declare(409, "budget_exists", "the programme and period has a budget; top it up")
BUDGET_REQUIRED = declare(
    422, "budget_required", "a round needs a budget for its programme and period first"
)
PACKAGE_REQUIRED = declare(422, "package_required", "a sembako budget names its package")
PACKAGE_NOT_CASH = declare(422, "package_not_cash", "BLT is cash: no package")
BENEFIT_EXCEEDS_BUDGET = declare(
    422, "benefit_exceeds_budget", "the benefit per household exceeds the whole budget"
)
BUDGET_EXCEEDED = declare(409, "budget_exceeded", "the budget has not enough left for this")

# --- officers ------------------------------------------------------------------------------
OFFICER_NOT_FOUND = declare(404, "officer_not_found", "no certificate recorded for this officer")
CERTIFIED_ON_FUTURE = declare(422, "certified_on_future", "a certificate cannot be dated ahead")
EXPIRY_BEFORE_CERTIFICATION = declare(
    422, "expiry_before_certification", "expires_on must come after certified_on"
)
CERTIFICATE_RECORDED = declare(
    409, "certificate_recorded", "this certificate number is already recorded"
)
OFFICER_NOT_CERTIFIED = declare(
    403, "officer_not_certified", "no distribution certificate valid on the hand-over date"
)

# --- rounds --------------------------------------------------------------------------------
ROUND_NOT_FOUND = declare(404, "round_not_found", "no such round")
ROUND_EXISTS = declare(409, "round_exists", "this round is already scheduled")
POSKOS_REQUIRED = declare(422, "poskos_required", "a round covers at least one RW")
RW_REPEATED = declare(422, "rw_repeated", "one posko per RW")
POSKO_DATE_PAST = declare(422, "posko_date_past", "a posko date is in the past")
POSKO_OUTSIDE_PERIOD = declare(422, "posko_outside_period", "a posko date is outside the period")
ROUND_ENDORSED = declare(409, "round_endorsed", "the round is already endorsed")
ROUND_CLOSED = declare(409, "round_closed", "the round is closed")
ROUND_NOT_ENDORSED = declare(
    409, "round_not_endorsed", "the community has not endorsed the round yet: no hand-over"
)
ROUND_NOT_OPEN = declare(
    409, "round_not_open", "the round is not open for hand-overs (not endorsed, or closed)"
)

# --- allocations and hand-overs ------------------------------------------------------------
ALLOCATION_NOT_FOUND = declare(404, "allocation_not_found", "no such allocation")
ALREADY_ALLOCATED = declare(409, "already_allocated", "the household is allocated in this round")
ALREADY_ALLOCATED_IN_PERIOD = declare(
    409, "already_allocated_in_period", "the household has the programme for the period already"
)
HOUSEHOLD_NOT_ELIGIBLE = declare(
    422, "household_not_eligible", "no eligibility decision in the household's favour"
)
HOUSEHOLD_OUTSIDE_ROUND = declare(
    422, "household_outside_round", "the household's RW is not covered by the round"
)
RECIPIENT_NOT_MEMBER = declare(
    422, "recipient_not_member", "the recipient's NIK is not a member of the household"
)
RECEIVED_AT_FUTURE = declare(422, "received_at_future", "received_at cannot be in the future")
ALREADY_RECEIVED = declare(409, "already_received", "the aid was already handed over")
ALREADY_UNDELIVERED = declare(
    409, "already_undelivered", "the aid was reported undelivered for a final reason"
)
