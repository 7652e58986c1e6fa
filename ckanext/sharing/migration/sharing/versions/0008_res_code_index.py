"""Catalogue import speed (issue 15, SPEC §10/§12): an expression index on the datasets' ``res_code``.

Every create or update checks that no other live dataset has the row's resource code
(``sharing_res_code_unique``) and the importer matches rows with stored datasets by code. Without an
index each check scans every dataset's extras: at 40,000 datasets that made each row cost a full scan.
The index is on core's ``package`` table but only reads it (no constraint, no foreign key); the
downgrade drops it. Revision 0008sharing, after 0007sharing (the outbox messages).
"""
from __future__ import annotations

from alembic import op

revision, down_revision = "0008sharing", "0007sharing"
branch_labels = depends_on = None

INDEX = "sharing_package_res_code_idx"


def upgrade() -> None:
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON package ((extras ->> 'res_code'))")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
