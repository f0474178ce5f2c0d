"""The registry's error codes (the kernel's shared ones are in shared/errors.py)."""

from shared.errors import declare

HOUSEHOLD_EXISTS = declare(409, "household_exists", "this household is already registered")
ONE_HEAD_REQUIRED = declare(422, "one_head_required", "a household has exactly one head")
NIK_REPEATED = declare(422, "nik_repeated", "the same NIK twice in one household")
NIK_ALREADY_MEMBER = declare(409, "nik_already_member", "the NIK is already a member here")
NIK_ALREADY_REGISTERED = declare(
    409, "nik_already_registered", "the NIK belongs to another active household"
)
DUPLICATE_OF_REQUIRED = declare(
    422, "duplicate_of_required", "a duplicate names the household it duplicates"
)
DUPLICATE_OF_SELF = declare(422, "duplicate_of_self", "a household cannot duplicate itself")
SURVEYED_ON_FUTURE = declare(422, "surveyed_on_future", "a survey cannot be in the future")
IMPORT_NOT_FOUND = declare(404, "import_not_found", "no such import job")
IMPORT_REPORT_EXPIRED = declare(
    410, "import_report_expired", "the import's error report was deleted after its retention"
)
IMPORT_FILE_REQUIRED = declare(
    422, "import_file_required", "send the file as the multipart part `file`"
)
IMPORT_FILE_UNREADABLE = declare(
    422, "import_file_unreadable", "the file is not a CSV or XLSX DTKS list with its header row"
)
# Appeals: an intake is only ever created by the consumer, so this is never answered.
APPEAL_INTAKE_NOT_FOUND = declare(404, "appeal_intake_not_found", "no such appeal intake")
