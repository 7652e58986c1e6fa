"""Statistics (issue 17, SPEC §13): the indexes the aggregations need and the per-day figure cache.

Partial indexes on the ledger's ``data_access`` rows (by organization and time, by dataset and
resource, by grant) and on requests by owner and creation time, so the statistics pages read ranges
instead of scanning a million-row ledger; ``sharing_stats_cache`` keeps figures that may be a day
old (``ckanext/sharing/stats/cache.py``). Indexes only read the ledger: its append-only triggers
are untouched. Revision 0006sharing (the lead re-chains it after the other 2026-12 migrations).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

_ACCESS = "action = 'data_access'"  # the ledger rows the statistics count

revision, down_revision = "0006sharing", "0004sharing"
branch_labels = depends_on = None


def upgrade() -> None:
    op.create_index("sharing_stats_access_org_idx", "sharing_audit", ["organization_id", "created"],
                    postgresql_where=sa.text(_ACCESS))
    op.create_index("sharing_stats_access_created_idx", "sharing_audit", ["created"],
                    postgresql_where=sa.text(_ACCESS))
    op.create_index("sharing_stats_access_pkg_idx", "sharing_audit", ["package_id", "resource_id"],
                    postgresql_where=sa.text(_ACCESS))
    op.create_index("sharing_stats_access_grant_idx", "sharing_audit", ["grant_id"],
                    postgresql_where=sa.text(_ACCESS + " AND grant_id IS NOT NULL"))
    op.create_index("sharing_stats_request_owner_created_idx", "sharing_request", ["owner_org", "created"])
    op.create_table(
        "sharing_stats_cache",
        sa.Column("key", sa.UnicodeText, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("computed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sharing_stats_cache")
    op.drop_index("sharing_stats_request_owner_created_idx", table_name="sharing_request")
    for name in ("grant", "pkg", "created", "org"):
        op.drop_index(f"sharing_stats_access_{name}_idx", table_name="sharing_audit")
