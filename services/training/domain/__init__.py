"""Training's domain: the course decider (course.py) over its state (state.py), with the
rules for its trainees (enrolment_rules.py). Pure: no I/O."""
