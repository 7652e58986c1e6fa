"""The request's lifecycle under the 2025 Regulation (SPEC §4b): Art. 20 fields, return for
completion, extension, escalation.

Adds to ``sharing_request`` the fields a request states (使用依据 ``use_basis``, 使用范围 ``use_scope``,
共享方式 ``share_method``; Art. 20), what a return listed (``missing``, Art. 21 一次性告知), the
extension asked of the authority (Art. 21) and the escalation to it (Art. 28). The state check
admits ``returned`` and ``escalated``; one open request (pending, returned or escalated) per
requester and dataset. Old rows keep NULL in the new columns and stay readable.

Revision ID: 0003sharing
Revises: 0002sharing
Create Date: 2026-12-02

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003sharing"
down_revision = "0002sharing"
branch_labels = None
depends_on = None

_TEXT = ("use_basis", "use_scope", "share_method", "returned_by", "extension_state", "extension_reason",
         "extension_requested_by", "extension_decided_by", "extension_note", "escalation_reason",
         "escalated_from", "resolution", "resolved_by", "resolution_note")
_MOMENTS = ("returned_at", "resubmitted_at", "extension_requested_at", "extension_decided_at", "escalated_at",
            "resolved_at")
_OLD_STATES = "('pending','approved','rejected','withdrawn','cancelled')"
_NEW_STATES = "('pending','approved','rejected','withdrawn','cancelled','returned','escalated')"


def upgrade() -> None:
    for name in _TEXT:
        op.add_column("sharing_request", sa.Column(name, sa.UnicodeText))
    for name in _MOMENTS:
        op.add_column("sharing_request", sa.Column(name, sa.DateTime(timezone=True)))
    op.add_column("sharing_request", sa.Column("missing", JSONB))
    op.add_column("sharing_request", sa.Column("extension_days", sa.Integer))
    op.drop_constraint("sharing_request_state_ck", "sharing_request", type_="check")
    op.create_check_constraint("sharing_request_state_ck", "sharing_request", f"state IN {_NEW_STATES}")
    op.drop_index("sharing_request_one_pending_uq", table_name="sharing_request")
    op.create_index(
        "sharing_request_one_pending_uq", "sharing_request", ["requester_id", "package_id"], unique=True,
        postgresql_where=sa.text("state IN ('pending','returned','escalated')"),
    )


def downgrade() -> None:
    op.drop_index("sharing_request_one_pending_uq", table_name="sharing_request")
    op.execute("UPDATE sharing_request SET state = 'pending' WHERE state = 'returned'")
    op.execute("UPDATE sharing_request SET state = COALESCE(escalated_from, 'rejected') WHERE state = 'escalated'")
    op.create_index(
        "sharing_request_one_pending_uq", "sharing_request", ["requester_id", "package_id"], unique=True,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_constraint("sharing_request_state_ck", "sharing_request", type_="check")
    op.create_check_constraint("sharing_request_state_ck", "sharing_request", f"state IN {_OLD_STATES}")
    for name in ("missing", "extension_days", *_TEXT, *_MOMENTS):
        op.drop_column("sharing_request", name)
