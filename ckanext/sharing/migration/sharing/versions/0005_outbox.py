"""The durable outbox ``sharing_outbox``: jobs written in the event's transaction, delivered with retries.

Revision ID: 0005sharing
Revises: 0002sharing
Create Date: 2026-12-02

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005sharing"
down_revision = "0003sharing"  # revisions are chained in the order they were merged: 0003, 0005, 0004, 0006
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_outbox",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("job", sa.UnicodeText, nullable=False),
        sa.Column("args", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("title", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("state", sa.UnicodeText, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.UnicodeText),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("state IN ('pending', 'retrying', 'sent', 'failed')", name="sharing_outbox_state_ck"),
    )
    # what a delivery sweep reads: due rows in the order they are due
    op.create_index("sharing_outbox_due_idx", "sharing_outbox", ["next_attempt_at"],
                    postgresql_where=sa.text("state IN ('pending', 'retrying')"))


def downgrade() -> None:
    op.drop_index("sharing_outbox_due_idx", table_name="sharing_outbox")
    op.drop_table("sharing_outbox")
