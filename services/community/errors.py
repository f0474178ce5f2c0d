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
