"""Delivery, suspensions, use reports and correction requests (《政务数据共享条例》 Art. 22, 26, 27, 29).

Creates ``sharing_delivery`` (one row per grant; the grants already there were all served by the
portal, the only channel before this revision, so they are recorded as delivered by it when they were
made), ``sharing_suspension``, ``sharing_use_report`` and ``sharing_correction``. Use reports are kept:
a trigger refuses UPDATE, TRUNCATE, and DELETE of a report younger than the retention period (Art. 29) —
``greatest(3, current_setting('sharing.retention_years'))`` years, so plain SQL can never go below the
Regulation's three years and ``ckan sharing retention purge`` applies ``ckanext.sharing.retention_years``.

Revision ID: 0004sharing
Revises: 0002sharing
Create Date: 2026-12-02

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004sharing"
down_revision = "0005sharing"  # the outbox (0005) was merged before this one, so it comes first
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sharing_delivery",
        sa.Column("grant_id", sa.UnicodeText, primary_key=True),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("delivered_at", _TS),
        sa.Column("delivered_by", sa.UnicodeText),
        sa.Column("method", sa.UnicodeText),
        sa.Column("note", sa.UnicodeText),
        sa.Column("created", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.execute(
        "INSERT INTO sharing_delivery (grant_id, due, delivered_at, delivered_by, method, created) "
        "SELECT id, created::date, created, created_by, 'portal', created FROM sharing_grant"
    )
    op.create_table(
        "sharing_suspension",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("user_id", sa.UnicodeText),
        sa.Column("organization_id", sa.UnicodeText),
        sa.Column("provider_org_id", sa.UnicodeText),
        sa.Column("reason", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False, server_default="active"),
        sa.Column("created", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.UnicodeText),
        sa.Column("lifted_at", _TS),
        sa.Column("lifted_by", sa.UnicodeText),
        sa.Column("lift_reason", sa.UnicodeText),
        sa.CheckConstraint("user_id IS NOT NULL OR organization_id IS NOT NULL", name="sharing_suspension_side_ck"),
    )
    op.create_index("sharing_suspension_user_idx", "sharing_suspension", ["user_id", "state"])
    op.create_index("sharing_suspension_org_idx", "sharing_suspension", ["organization_id", "state"])
    # one active suspension per (user, organization, provider): a second create is refused, even at once
    op.execute("CREATE UNIQUE INDEX sharing_suspension_active_uq ON sharing_suspension "
               "(coalesce(user_id, ''), coalesce(organization_id, ''), coalesce(provider_org_id, '')) "
               "WHERE state = 'active'")
    op.create_table(
        "sharing_use_report",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("grant_id", sa.UnicodeText, nullable=False),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("owner_org", sa.UnicodeText),
        sa.Column("reporter_id", sa.UnicodeText, nullable=False),
        sa.Column("scenario", sa.UnicodeText, nullable=False),
        sa.Column("process", sa.UnicodeText, nullable=False),
        sa.Column("outcome", sa.UnicodeText, nullable=False),
        sa.Column("storage", sa.UnicodeText, nullable=False),
        sa.Column("destruction", sa.UnicodeText),
        sa.Column("created", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("sharing_use_report_grant_idx", "sharing_use_report", ["grant_id"])
    op.create_table(
        "sharing_correction",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("resource_id", sa.UnicodeText),
        sa.Column("owner_org", sa.UnicodeText),
        sa.Column("requester_id", sa.UnicodeText, nullable=False),
        sa.Column("description", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False, server_default="open"),
        sa.Column("created", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("answer", sa.UnicodeText),
        sa.Column("corrected", sa.Boolean),
        sa.Column("answered_by", sa.UnicodeText),
        sa.Column("answered_at", _TS),
    )
    op.create_index("sharing_correction_pkg_idx", "sharing_correction", ["package_id"])
    op.create_index("sharing_correction_org_state_idx", "sharing_correction", ["owner_org", "state"])
    op.execute(
        """
        CREATE OR REPLACE FUNCTION sharing_use_report_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            years integer := greatest(3, coalesce(nullif(current_setting('sharing.retention_years', true), '')::integer, 3));
        BEGIN
            IF TG_OP = 'DELETE' AND OLD.created <= now() - make_interval(years => years) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'sharing_use_report keeps its records for % years (Art. 29): % refused', years, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    op.execute("CREATE TRIGGER sharing_use_report_keep_row BEFORE UPDATE OR DELETE ON sharing_use_report "
               "FOR EACH ROW EXECUTE FUNCTION sharing_use_report_keep()")
    op.execute("CREATE TRIGGER sharing_use_report_keep_truncate BEFORE TRUNCATE ON sharing_use_report "
               "FOR EACH STATEMENT EXECUTE FUNCTION sharing_use_report_keep()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS sharing_use_report_keep_row ON sharing_use_report")
    op.execute("DROP TRIGGER IF EXISTS sharing_use_report_keep_truncate ON sharing_use_report")
    op.execute("DROP FUNCTION IF EXISTS sharing_use_report_keep()")
    for table in ("sharing_correction", "sharing_use_report", "sharing_suspension", "sharing_delivery"):
        op.drop_table(table)
