"""The community's error codes (the kernel's shared ones are in shared/errors.py)."""

from shared.errors import declare

# Complaints: the kernel answers `complaint_not_found` for a command on an unknown one.
COMPLAINT_NOT_FOUND = declare(404, "complaint_not_found", "no such complaint")
COMPLAINT_EXISTS = declare(409, "complaint_exists", "this complaint is already filed")
ANONYMOUS_WITH_CONTACT = declare(
    422, "anonymous_with_contact", "an anonymous complaint leaves no contact"
)
CONTACT_REQUIRED = declare(
    422, "contact_required", "a named complaint gives a phone number or an e-mail address"
)
COMPLAINT_RESOLVED = declare(409, "complaint_resolved", "the complaint is resolved")
ALREADY_ACKNOWLEDGED = declare(409, "already_acknowledged", "the complaint is acknowledged")
ALREADY_ESCALATED = declare(409, "already_escalated", "the complaint is already with them")
TICKET_NOT_FOUND = declare(404, "ticket_not_found", "no complaint has this ticket code")
TICKET_COLLISION = declare(409, "ticket_collision", "a ticket code was drawn twice; try again")
# Feedback: each is new (a fresh id), so `feedback_not_found` is never answered.
FEEDBACK_NOT_FOUND = declare(404, "feedback_not_found", "no such feedback")
FEEDBACK_EXISTS = declare(409, "feedback_exists", "this feedback is already recorded")
SUBJECT_UNKNOWN = declare(
    422, "subject_unknown", "no such round or course has been announced (yet)"
)
# Meetings.
MEETING_NOT_FOUND = declare(404, "meeting_not_found", "no such meeting")
MEETING_EXISTS = declare(409, "meeting_exists", "this meeting is already recorded")
HELD_ON_FUTURE = declare(422, "held_on_future", "a meeting is recorded once it was held")
ATTENDANCE_INCONSISTENT = declare(
    422, "attendance_inconsistent", "a group (elderly, disabled, youth) outnumbers all attendees"
)
FOLLOW_UP_NOT_FOUND = declare(404, "follow_up_not_found", "the meeting has no such follow-up")
# Mentoring cases (pendampingan): the kernel answers `case_not_found` for a command on an
# unknown one.
CASE_NOT_FOUND = declare(404, "case_not_found", "no such mentoring case")
CASE_EXISTS = declare(409, "case_exists", "this case is already open")
CASE_CLOSED = declare(409, "case_closed", "the case is closed")
MEMBER_REQUIRED = declare(422, "member_required", "a trainee's case names the member")
COMPLAINT_REQUIRED = declare(
    422, "complaint_required", "a case opened after a complaint names the complaint"
)
OPENED_ON_FUTURE = declare(422, "opened_on_future", "a case is opened on a day that has come")
VISIT_PLANNED_BEFORE_OPENING = declare(
    422, "visit_planned_before_opening", "a visit is planned for a day the case is open"
)
VISITED_ON_FUTURE = declare(422, "visited_on_future", "a visit is recorded once it was made")
PLANNED_VISIT_NOT_FOUND = declare(
    404, "planned_visit_not_found", "the case has no such visit planned and still to make"
)
BUSINESS_FOLLOW_UP_INCOMPLETE = declare(
    422,
    "business_follow_up_incomplete",
    "a business follow-up says whether the business runs and its income band, and only it does",
)
REFERRAL_PENDING = declare(
    409, "referral_pending", "a referral of the case still waits for the office's answer"
)
REFERRAL_NOT_FOUND = declare(404, "referral_not_found", "the case has no such referral")
REFERRAL_ANSWERED = declare(409, "referral_answered", "the office has answered this referral")
# Verification with recipients: samples of a closed round's hand-overs, and verifications.
ROUND_NOT_CLOSED = declare(409, "round_not_closed", "the round has not been closed (yet)")
SAMPLE_EXISTS = declare(409, "sample_exists", "the round's verification sample is drawn")
# The kernel's codes for a command on an unknown sample or verification (each is created
# by its first command, so they are answered only by the reads).
SAMPLE_NOT_FOUND = declare(
    404, "verification_sample_not_found", "no verification sample of this round"
)
VERIFICATION_NOT_FOUND = declare(404, "verification_not_found", "no such verification")
SAMPLE_EMPTY = declare(409, "sample_empty", "the round has no received hand-over to sample")
SAMPLE_INCOMPLETE = declare(
    409, "sample_incomplete", "community has not learnt all the round's hand-overs yet"
)
SAMPLE_KEY_UNSET = declare(
    409, "sample_key_unset", "the ledger's public key is not configured (BANSOS_LEDGER_PUBLIC_KEY)"
)
SAMPLE_WITNESSES_UNSET = declare(
    409,
    "sample_witnesses_unset",
    "no witness cosignature is required (BANSOS_LEDGER_WITNESSES, BANSOS_SAMPLE_QUORUM)",
)
SAMPLE_CHECKPOINT_INVALID = declare(
    422, "sample_checkpoint_invalid", "not a checkpoint signed by the ledger's key"
)
SAMPLE_CHECKPOINT_EARLY = declare(
    422, "sample_checkpoint_early", "the checkpoint does not cover the round's closure"
)
SAMPLE_COSIGNATURES_MISSING = declare(
    422, "sample_cosignatures_missing", "the checkpoint lacks the witnesses' cosignatures"
)
NOT_IN_SAMPLE = declare(409, "not_in_sample", "the hand-over is not in its round's sample")
VERIFICATION_EXISTS = declare(409, "verification_exists", "this hand-over is already verified")
VERIFICATION_INCONSISTENT = declare(
    422, "verification_inconsistent", "the answers contradict each other"
)
RECEIPT_UNKNOWN = declare(404, "receipt_unknown", "no hand-over has this receipt code")
RECEIPT_RATED = declare(409, "receipt_rated", "this receipt's hand-over is already rated")
RECEIPT_OTHER_ROUND = declare(
    422, "receipt_other_round", "the receipt's hand-over is of another round"
)
# Appeals (banding): the kernel answers `appeal_not_found` for a command on an unknown one.
APPEAL_NOT_FOUND = declare(404, "appeal_not_found", "no such appeal")
APPEAL_EXISTS = declare(409, "appeal_exists", "this appeal is already filed")
APPEAL_HOUSEHOLD_REQUIRED = declare(
    422, "appeal_household_required", "an appeal names the household: the head's NIK or the KK"
)
APPEAL_CODE_NOT_FOUND = declare(404, "appeal_code_not_found", "no appeal has this tracking code")
APPEAL_CODE_COLLISION = declare(
    409, "appeal_code_collision", "a tracking code was drawn twice; try again"
)
