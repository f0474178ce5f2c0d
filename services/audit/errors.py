"""The audit's error codes (the kernel's shared ones are in shared/errors.py).

The ledger's parameters are read strictly and a bad one is a 400 naming it, never a 500:
oversight bodies script against these routes, and a verifier must tell "you asked wrong"
from "the tree is not there" (404) and "opened no more" (410).
"""

from shared.errors import declare

# --- parameters (400) ----------------------------------------------------------------------
PARAMETER_REQUIRED = declare(400, "parameter_required", "a required parameter is missing")
NOT_A_NUMBER = declare(400, "not_a_number", "the parameter is not a whole number")
OUT_OF_RANGE = declare(400, "out_of_range", "the number is outside the parameter's bounds")
NOT_A_DAY = declare(400, "not_a_day", "the parameter is not a day, YYYY-MM-DD")
BEYOND_TREE = declare(400, "beyond_tree", "the tree size asked for is beyond the tree")
FIRST_AFTER_SECOND = declare(400, "first_after_second", "a consistency proof needs first <= second")

# --- the tree and its checkpoints ------------------------------------------------------------
INDEX_BEYOND_TREE = declare(404, "index_beyond_tree", "no leaf at this index in the tree")
NO_CHECKPOINT = declare(404, "no_checkpoint", "the ledger has not signed a checkpoint yet")
NO_COSIGNED_CHECKPOINT = declare(
    404, "no_cosigned_checkpoint", "no checkpoint holds that many witnesses' cosignatures"
)
CHECKPOINT_NOT_FOUND = declare(
    404, "checkpoint_not_found", "the ledger signed no checkpoint at this tree size"
)
LEAF_ERASED = declare(410, "leaf_erased", "the leaf was erased: its commitment cannot be opened")

# --- witnesses' cosignatures ---------------------------------------------------------------
UNKNOWN_WITNESS = declare(403, "unknown_witness", "not a configured witness (name or key ID)")
BAD_COSIGNATURE = declare(
    422, "bad_cosignature", "not a cosignature line that verifies over that checkpoint"
)

# --- erasure ---------------------------------------------------------------------------------
ERASURE_NOT_FOUND = declare(404, "erasure_not_found", "no such erasure")
ONE_TARGET_REQUIRED = declare(
    422, "one_target_required", "give exactly one of household_id and aggregate_id"
)
NO_MATCHING_LEAVES = declare(404, "no_matching_leaves", "no leaf of the target is left to erase")
ERASURE_DONE = declare(409, "erasure_done", "this erasure has been recorded already")

# --- oversight (auditors) --------------------------------------------------------------------
NOT_A_CHOICE = declare(400, "not_a_choice", "the parameter is not one of its allowed values")
MALFORMED_PARAMETER = declare(
    400, "malformed_parameter", "the parameter does not have its required form"
)
ROUND_NOT_IN_LEDGER = declare(404, "round_not_in_ledger", "the ledger holds no such round")
HOUSEHOLD_NOT_IN_LEDGER = declare(
    404, "household_not_in_ledger", "the ledger holds no entry about this household"
)
OVERSIGHT_NOT_READY = declare(
    503, "oversight_not_ready", "oversight is still folding the ledger from leaf 0; retry shortly"
)
# --- cek bansos (the public page) --------------------------------------------------------------
RECEIPT_NOT_FOUND = declare(
    404, "receipt_not_found", "no hand-over in the ledger has this receipt code"
)
RECEIPT_NOT_YET_SIGNED = declare(
    409, "receipt_not_yet_signed", "the hand-over is in the ledger but not yet in a checkpoint"
)
