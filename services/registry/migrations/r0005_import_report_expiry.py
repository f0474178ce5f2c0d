"""Import error reports expire: when a job's report (which quotes cells of the file, NIKs
and names of people who were never registered among them) was deleted.

Revision ID: r0005
"""

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_jobs", sa.Column("report_expired_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("import_jobs", "report_expired_at")
