"""The outbox's message claims ``sharing_outbox_message`` (issue 14, SPEC §8): one row per e-mail of an outbox job.

Before an attempt hands a message to the mail server it records a claim (``sending``), after the server
accepted it ``sent``; a later attempt of the same outbox row skips what is ``sent`` and sends the rest with
the same Message-ID. No foreign key: outbox rows are never deleted by the portal.

Revision ID: 0007sharing
Revises: 0006sharing
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0007sharing", "0006sharing"
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_outbox_message",
        sa.Column("outbox_id", sa.UnicodeText, primary_key=True),
        sa.Column("key", sa.UnicodeText, primary_key=True),
        sa.Column("message_id", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("state IN ('sending', 'unsent', 'sent')", name="sharing_outbox_message_state_ck"),
    )


def downgrade() -> None:
    op.drop_table("sharing_outbox_message")
