"""Training's private store for version-2 events: trainers and staff notes (with their
salts) move out of the read models, and the households view drops the head's masked NIK.

Version-2 events carry neither the trainer nor notes, so a rebuild of the read models could
not restore them there: they move to `trainers` and `notes`, which a rebuild leaves.
Existing trainers are copied from `courses`; existing notes from the version-1 events that
carried them (no salt: those events held the note itself). The registry's events no longer
carry masked NIKs, and `shared/households.py` no longer writes one.

Revision ID: t0002
"""

import json
import uuid

import sqlalchemy as sa
from alembic import op

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None

NOTED = {"training.trainee_withdrawn": "withdrawal", "training.outcome_recorded": "outcome"}


def upgrade() -> None:
    op.create_table(
        "trainers",
        sa.Column("course_id", sa.Uuid, primary_key=True),
        sa.Column("trainer", sa.String(120), nullable=False),
    )
    op.execute("INSERT INTO trainers (course_id, trainer) SELECT course_id, trainer FROM courses")
    notes = op.create_table(
        "notes",
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("enrolment_id", sa.Uuid, nullable=False, index=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("months_after", sa.Integer),
        sa.Column("body", sa.String(500), nullable=False),
        sa.Column("salt", sa.LargeBinary(16)),
    )
    kept = _notes_of_version_1_events()
    if kept:
        op.bulk_insert(notes, kept)
    with op.batch_alter_table("courses") as batch:
        batch.drop_column("trainer")
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("eligibility") as batch:
        batch.drop_column("head_nik_masked")


def _notes_of_version_1_events() -> list[dict[str, object]]:
    events = sa.table(
        "events",
        sa.column("event_id", sa.Uuid),
        sa.column("type", sa.String),
        sa.column("body", sa.Text),
    )
    rows = op.get_bind().execute(
        sa.select(events.c.event_id, events.c.body).where(events.c.type.in_(list(NOTED)))
    )
    kept: list[dict[str, object]] = []
    for event_id, body in rows:
        envelope = json.loads(body)
        payload = envelope["payload"]
        if envelope["schema_version"] == 1 and payload.get("note"):
            kept.append(
                {
                    "event_id": event_id,
                    "enrolment_id": uuid.UUID(payload["enrolment_id"]),
                    "kind": NOTED[envelope["type"]],
                    "months_after": payload.get("months_after"),
                    "body": payload["note"],
                    "salt": None,
                }
            )
    return kept


def downgrade() -> None:
    # The masked NIKs are gone for good; the column comes back empty.
    with op.batch_alter_table("eligibility") as batch:
        batch.add_column(
            sa.Column("head_nik_masked", sa.String(32), nullable=False, server_default="")
        )
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(sa.Column("note", sa.String(500), nullable=False, server_default=""))
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("trainer", sa.String(120), nullable=False, server_default=""))
    op.execute(
        "UPDATE courses SET trainer = (SELECT trainer FROM trainers"
        " WHERE trainers.course_id = courses.course_id)"
        " WHERE course_id IN (SELECT course_id FROM trainers)"
    )
    op.execute(
        "UPDATE outcomes SET note = (SELECT body FROM notes WHERE notes.kind = 'outcome'"
        " AND notes.enrolment_id = outcomes.enrolment_id"
        " AND notes.months_after = outcomes.months_after)"
        " WHERE EXISTS (SELECT 1 FROM notes WHERE notes.kind = 'outcome'"
        " AND notes.enrolment_id = outcomes.enrolment_id"
        " AND notes.months_after = outcomes.months_after)"
    )
    op.drop_table("notes")
    op.drop_table("trainers")
