"""The access check's facts query as a PL/pgSQL function (issue 16, SPEC §10: ≤ 500 µs per check).

``facts.member_facts`` sent one UNION ALL of four parts (memberships, grants, suspensions,
collaborations). PostgreSQL planned it afresh on every call: ~0.2-0.3 ms of planning for ~0.05 ms of
execution, and SQLAlchemy built, cache-keyed and compiled the statement for another ~1 ms of Python.
A PL/pgSQL function keeps its plan for the life of the database session (the pooled connection), so a
call costs about one round trip more than ``SELECT 1``; Python sends one fixed string.

The function reads only; it is ``STABLE`` (it sees the calling statement's snapshot, so the
transaction's own writes as before). Its answers are the query's, part for part: the states are the
values of ``workflow.states.GRANT_ACTIVE`` and ``model.obligations.SUSPENSION_ACTIVE``; suspensions are
read only when datasets are asked about, as before. Revision 0009sharing, after 0008sharing.
"""
from __future__ import annotations

from alembic import op

revision, down_revision = "0009sharing", "0008sharing"
branch_labels = depends_on = None

FUNCTION = "sharing_member_facts"

# (kind, a, b, expires, resource_ids): kind c = capacity (a org, b capacity); g = grant (a id, b package);
# s = suspension (a provider org, NULL: every provider); p = collaboration (a package)
SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(p_user_id text, p_package_ids text[], p_collaborators boolean)
RETURNS TABLE (kind text, a text, b text, expires timestamptz, resource_ids jsonb)
LANGUAGE plpgsql STABLE AS $body$
BEGIN
  RETURN QUERY
  WITH orgs AS MATERIALIZED (
    SELECT m.group_id, m.capacity FROM member m JOIN "group" g ON g.id = m.group_id
    WHERE m.table_name = 'user' AND m.table_id = p_user_id AND m.state = 'active'
      AND g.state = 'active' AND g.is_organization IS TRUE)
  SELECT 'c'::text, o.group_id::text, o.capacity::text, NULL::timestamptz, NULL::jsonb FROM orgs o
  UNION ALL
  SELECT 'g'::text, sg.id::text, sg.package_id::text, sg.expires, sg.resource_ids FROM sharing_grant sg
  WHERE sg.package_id = ANY (p_package_ids) AND sg.state = 'active'
    AND (sg.user_id = p_user_id OR sg.organization_id IN (SELECT o.group_id FROM orgs o))
  UNION ALL
  SELECT 's'::text, ss.provider_org_id::text, NULL::text, NULL::timestamptz, NULL::jsonb FROM sharing_suspension ss
  WHERE cardinality(p_package_ids) > 0 AND ss.state = 'active'
    AND (ss.user_id = p_user_id OR ss.organization_id IN (SELECT o.group_id FROM orgs o))
  UNION ALL
  SELECT 'p'::text, pm.package_id::text, NULL::text, NULL::timestamptz, NULL::jsonb FROM package_member pm
  WHERE p_collaborators AND pm.user_id = p_user_id AND pm.package_id = ANY (p_package_ids);
END
$body$
"""


def upgrade() -> None:
    op.execute(SQL)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text, text[], boolean)")
