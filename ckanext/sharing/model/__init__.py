"""Tables of ckanext-sharing: the audit ledger, access requests and grants.

Declared on CKAN's ``toolkit.BaseModel`` so they share CKAN's metadata and session; created only by
the alembic migrations in ``migration/sharing`` (``ckan db upgrade -p sharing``), never at start-up.
No foreign keys point at core tables: package, resource, user and organization ids are plain text.
"""
from __future__ import annotations

import datetime as _dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk

from ckanext.sharing.workflow.states import GRANT_ACTIVE, REQUEST_PENDING


def _uuid() -> str:
    return str(uuid.uuid4())


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class SharingAudit(tk.BaseModel):  # type: ignore[misc, valid-type]
    """One append-only, hash-chained ledger row (SPEC §5)."""

    __tablename__ = "sharing_audit"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    actor_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    actor_name: Mapped[str | None] = mapped_column(sa.UnicodeText)
    action: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    package_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    resource_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    organization_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    request_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    grant_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    hash: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    leaf_index: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, unique=True)


class SharingRequest(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A request for the data of a conditional dataset (SPEC §4)."""

    __tablename__ = "sharing_request"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=_uuid)
    package_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    owner_org: Mapped[str | None] = mapped_column(sa.UnicodeText)
    requester_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    organization_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    resource_ids: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    purpose: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    use_scenario: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    requested_days: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, default=REQUEST_PENDING)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    modified: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    due_date: Mapped[_dt.date | None] = mapped_column(sa.Date)
    decided_by: Mapped[str | None] = mapped_column(sa.UnicodeText)
    decided_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(sa.UnicodeText)
    # The 2025 Regulation (migration 0003): Art. 20 fields, return (Art. 21), extension (Art. 21),
    # escalation to the authority (Art. 28).
    use_basis: Mapped[str | None] = mapped_column(sa.UnicodeText)
    use_scope: Mapped[str | None] = mapped_column(sa.UnicodeText)
    share_method: Mapped[str | None] = mapped_column(sa.UnicodeText)
    missing: Mapped[list[str] | None] = mapped_column(JSONB)
    returned_by: Mapped[str | None] = mapped_column(sa.UnicodeText)
    returned_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resubmitted_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    extension_state: Mapped[str | None] = mapped_column(sa.UnicodeText)
    extension_days: Mapped[int | None] = mapped_column(sa.Integer)
    extension_reason: Mapped[str | None] = mapped_column(sa.UnicodeText)
    extension_requested_by: Mapped[str | None] = mapped_column(sa.UnicodeText)
    extension_requested_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    extension_decided_by: Mapped[str | None] = mapped_column(sa.UnicodeText)
    extension_decided_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    extension_note: Mapped[str | None] = mapped_column(sa.UnicodeText)
    escalation_reason: Mapped[str | None] = mapped_column(sa.UnicodeText)
    escalated_from: Mapped[str | None] = mapped_column(sa.UnicodeText)
    escalated_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(sa.UnicodeText)
    resolved_by: Mapped[str | None] = mapped_column(sa.UnicodeText)
    resolved_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    resolution_note: Mapped[str | None] = mapped_column(sa.UnicodeText)


class SharingGrant(tk.BaseModel):  # type: ignore[misc, valid-type]
    """Time-limited access to a conditional dataset (or some of its resources) for a user or an organization."""

    __tablename__ = "sharing_grant"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=_uuid)
    request_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    package_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    owner_org: Mapped[str | None] = mapped_column(sa.UnicodeText)
    user_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    organization_id: Mapped[str | None] = mapped_column(sa.UnicodeText)
    resource_ids: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, default=GRANT_ACTIVE)
    starts: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    expires: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    created_by: Mapped[str | None] = mapped_column(sa.UnicodeText)
    revoked_by: Mapped[str | None] = mapped_column(sa.UnicodeText)
    revoked_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(sa.UnicodeText)
    reminded_at: Mapped[_dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class SharingAuditNode(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A complete interior node of the ledger's Merkle tree (ledger/tree.py): a cache the rows determine."""

    __tablename__ = "sharing_audit_node"

    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)


class SharingAuditHead(tk.BaseModel):  # type: ignore[misc, valid-type]
    """The tree's size and right edge (the only row, id 1), updated with every append."""

    __tablename__ = "sharing_audit_head"

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    edge: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    root: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    updated: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)


class SharingAuditCheckpoint(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A signed checkpoint of the tree (C2SP tlog-checkpoint), kept here as a copy (SPEC §5)."""

    __tablename__ = "sharing_audit_checkpoint"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    size: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    root: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    note: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
