"""Imports of DTKS lists: jobs with their cursor, their error reports and the NIKs a job
has read; the personal-data store indexed by KK number and DTKS id, which an import
looks households up by.

Revision ID: r0003
"""

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

COUNTS = (
    "rows_read",
    "rows_accepted",
    "rows_updated",
    "rows_unchanged",
    "rows_refused",
    "households_registered",
    "households_updated",
    "households_unchanged",
    "households_refused",
)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("job_id", sa.Uuid, primary_key=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("format", sa.String(4), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("cursor", BigId, nullable=False),
        sa.Column("rows_total", BigId),
        *(sa.Column(name, BigId, nullable=False) for name in COUNTS),
        sa.Column("failure", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "import_errors",
        sa.Column("job_id", sa.Uuid, nullable=False),
        sa.Column("row", BigId, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("column", sa.String(80), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(60), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "row", "seq", name="import_errors_pkey"),
    )
    op.create_table(
        "import_niks",
        sa.Column("job_id", sa.Uuid, nullable=False),
        sa.Column("nik_commitment", sa.String(64), nullable=False),
        sa.Column("row", BigId, nullable=False),
        sa.PrimaryKeyConstraint("job_id", "nik_commitment", name="import_niks_pkey"),
    )
    op.create_index("ix_household_pii_kk_number", "household_pii", ["kk_number"])
    op.create_index("ix_household_pii_dtks_ref", "household_pii", ["dtks_ref"])


def downgrade() -> None:
    op.drop_index("ix_household_pii_dtks_ref", "household_pii")
    op.drop_index("ix_household_pii_kk_number", "household_pii")
    op.drop_table("import_niks")
    op.drop_table("import_errors")
    op.drop_table("import_jobs")
