"""Training's error codes (the kernel's shared ones, household_* among them, are in
shared/errors.py)."""

from shared.errors import declare

# What a command can address that is not there (the kernel answers course_not_found).
COURSE_NOT_FOUND = declare(404, "course_not_found", "no such course")
ENROLMENT_NOT_FOUND = declare(404, "enrolment_not_found", "no such enrolment in this course")
SESSION_NOT_FOUND = declare(404, "session_not_found", "the course has no such session")

# Opening a course.
COURSE_EXISTS = declare(409, "course_exists", "this course is already open")
SESSIONS_REQUIRED = declare(422, "sessions_required", "a course has at least one session")
SESSION_REPEATED = declare(422, "session_repeated", "session ids must differ")
CAPACITY_TOO_SMALL = declare(422, "capacity_too_small", "a course has at least one seat")

# Enrolment and withdrawal.
NOT_A_MEMBER = declare(422, "not_a_member", "the NIK is not a member of the household")
ALREADY_ENROLLED = declare(
    409, "already_enrolled", "the member is already enrolled or waiting in this course"
)
NOT_WITHDRAWABLE = declare(
    409, "not_withdrawable", "the trainee has completed or withdrawn already"
)

# Attendance.
NOT_ENROLLED = declare(
    422, "not_enrolled", "a listed enrolment holds no seat (waitlisted, withdrawn or unknown)"
)
SESSION_IN_FUTURE = declare(422, "session_in_future", "attendance is recorded from the session on")
PRESENT_AND_ABSENT = declare(422, "present_and_absent", "a trainee listed as present and absent")

# Completion and outcomes.
COURSE_NOT_FINISHED = declare(
    422, "course_not_finished", "completion is decided once the course's last session is held"
)
NOT_COMPLETABLE = declare(409, "not_completable", "the trainee is waitlisted or withdrawn")
ALREADY_COMPLETED = declare(409, "already_completed", "the trainee has completed already")
ATTENDANCE_TOO_LOW = declare(422, "attendance_too_low", "attendance below the course's threshold")
NOT_COMPLETED = declare(409, "not_completed", "outcomes follow trainees who completed")
FOLLOW_UP_TOO_EARLY = declare(
    422, "follow_up_too_early", "an N-month outcome is recorded N months after the course ended"
)
OUTCOME_RECORDED = declare(409, "outcome_recorded", "this follow-up month is recorded already")
