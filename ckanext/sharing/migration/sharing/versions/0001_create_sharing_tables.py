"""Create the audit ledger, request and grant tables.

Revision ID: 0001sharing
Revises:
Create Date: 2026-11-29

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001sharing"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor_id", sa.UnicodeText),
        sa.Column("actor_name", sa.UnicodeText),
        sa.Column("action", sa.UnicodeText, nullable=False),
        sa.Column("package_id", sa.UnicodeText),
        sa.Column("resource_id", sa.UnicodeText),
        sa.Column("organization_id", sa.UnicodeText),
        sa.Column("request_id", sa.UnicodeText),
        sa.Column("grant_id", sa.UnicodeText),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.Column("prev_hash", sa.UnicodeText, nullable=False),
        sa.Column("hash", sa.UnicodeText, nullable=False),
    )
    op.create_index("sharing_audit_package_idx", "sharing_audit", ["package_id"])
    op.create_index("sharing_audit_org_idx", "sharing_audit", ["organization_id"])
    op.create_index("sharing_audit_actor_idx", "sharing_audit", ["actor_id"])
    op.create_index("sharing_audit_action_created_idx", "sharing_audit", ["action", "created"])
    # Append-only at the database level too: rows may be inserted, never updated.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION sharing_audit_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'sharing_audit is append-only'; END $$;
        CREATE TRIGGER sharing_audit_no_update BEFORE UPDATE ON sharing_audit
            FOR EACH ROW EXECUTE FUNCTION sharing_audit_no_update();
        """
    )

    op.create_table(
        "sharing_request",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("owner_org", sa.UnicodeText),
        sa.Column("requester_id", sa.UnicodeText, nullable=False),
        sa.Column("organization_id", sa.UnicodeText),
        sa.Column("resource_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("purpose", sa.UnicodeText, nullable=False),
        sa.Column("use_scenario", sa.UnicodeText, nullable=False),
        sa.Column("requested_days", sa.Integer, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False, server_default="pending"),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("due_date", sa.Date),
        sa.Column("decided_by", sa.UnicodeText),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_reason", sa.UnicodeText),
        sa.CheckConstraint(
            "state IN ('pending','approved','rejected','withdrawn','cancelled')", name="sharing_request_state_ck"
        ),
        sa.CheckConstraint("requested_days > 0", name="sharing_request_days_ck"),
    )
    op.create_index("sharing_request_package_idx", "sharing_request", ["package_id", "state"])
    op.create_index("sharing_request_owner_idx", "sharing_request", ["owner_org", "state"])
    op.create_index("sharing_request_requester_idx", "sharing_request", ["requester_id"])
    # One pending request per requester and dataset, enforced by the database.
    op.create_index(
        "sharing_request_one_pending_uq",
        "sharing_request",
        ["requester_id", "package_id"],
        unique=True,
        postgresql_where=sa.text("state = 'pending'"),
    )

    op.create_table(
        "sharing_grant",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("request_id", sa.UnicodeText),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("owner_org", sa.UnicodeText),
        sa.Column("user_id", sa.UnicodeText),
        sa.Column("organization_id", sa.UnicodeText),
        sa.Column("resource_ids", JSONB, nullable=False, server_default="[]"),
        sa.Column("state", sa.UnicodeText, nullable=False, server_default="active"),
        sa.Column("starts", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.UnicodeText),
        sa.Column("revoked_by", sa.UnicodeText),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoke_reason", sa.UnicodeText),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("state IN ('active','expired','revoked')", name="sharing_grant_state_ck"),
        sa.CheckConstraint("user_id IS NOT NULL OR organization_id IS NOT NULL", name="sharing_grant_grantee_ck"),
    )
    op.create_index("sharing_grant_package_idx", "sharing_grant", ["package_id", "state"])
    op.create_index("sharing_grant_user_idx", "sharing_grant", ["user_id", "state"])
    op.create_index("sharing_grant_org_idx", "sharing_grant", ["organization_id", "state"])
    # At most one grant per request (two deciders at once end in one grant).
    op.create_index(
        "sharing_grant_request_uq", "sharing_grant", ["request_id"], unique=True,
        postgresql_where=sa.text("request_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("sharing_grant")
    op.drop_table("sharing_request")
    op.execute("DROP TRIGGER IF EXISTS sharing_audit_no_update ON sharing_audit")
    op.drop_table("sharing_audit")
    op.execute("DROP FUNCTION IF EXISTS sharing_audit_no_update()")
