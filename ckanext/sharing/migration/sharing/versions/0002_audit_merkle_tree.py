"""The audit ledger refuses UPDATE, DELETE and TRUNCATE; an RFC 6962 Merkle tree over its rows.

Adds ``sharing_audit.leaf_index`` (the row's position in the tree, numbered in id order for the
rows already there), the tree's stored nodes and head, and the table of signed checkpoints; builds
the tree over the existing rows once; then puts row triggers (UPDATE, DELETE) and statement
triggers (TRUNCATE) on the ledger, its nodes and its checkpoints (SPEC §5).

Revision ID: 0002sharing
Revises: 0001sharing
Create Date: 2026-12-01

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002sharing"
down_revision = "0001sharing"
branch_labels = None
depends_on = None

APPEND_ONLY = ("sharing_audit", "sharing_audit_node", "sharing_audit_checkpoint")


def upgrade() -> None:
    from ckanext.sharing.ledger import tree

    op.add_column("sharing_audit", sa.Column("leaf_index", sa.BigInteger))
    op.create_table(
        "sharing_audit_node",
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "sharing_audit_head",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("edge", sa.LargeBinary, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("id = 1", name="sharing_audit_head_one_ck"),
    )
    op.create_table(
        "sharing_audit_checkpoint",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.UnicodeText, nullable=False),
    )
    op.create_index("sharing_audit_checkpoint_size_idx", "sharing_audit_checkpoint", ["size"])

    # Number the existing rows (the one UPDATE this table ever gets) and build their tree.
    op.execute("DROP TRIGGER IF EXISTS sharing_audit_no_update ON sharing_audit")
    op.execute(
        "UPDATE sharing_audit SET leaf_index = n.pos FROM "
        "(SELECT id, row_number() OVER (ORDER BY id) - 1 AS pos FROM sharing_audit) n WHERE sharing_audit.id = n.id"
    )
    op.alter_column("sharing_audit", "leaf_index", nullable=False)
    op.create_index("sharing_audit_leaf_uq", "sharing_audit", ["leaf_index"], unique=True)
    tree.rebuild(op.get_bind())

    op.execute(
        """
        CREATE OR REPLACE FUNCTION sharing_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION sharing_audit_refuse()")
        op.execute(f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION sharing_audit_refuse()")
    op.execute("DROP FUNCTION IF EXISTS sharing_audit_no_update()")


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_change ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS sharing_audit_refuse()")
    op.drop_table("sharing_audit_checkpoint")
    op.drop_table("sharing_audit_head")
    op.drop_table("sharing_audit_node")
    op.drop_index("sharing_audit_leaf_uq", table_name="sharing_audit")
    op.drop_column("sharing_audit", "leaf_index")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION sharing_audit_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'sharing_audit is append-only'; END $$;
        CREATE TRIGGER sharing_audit_no_update BEFORE UPDATE ON sharing_audit
            FOR EACH ROW EXECUTE FUNCTION sharing_audit_no_update();
        """
    )
