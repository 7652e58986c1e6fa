"""Tables of the Regulation's obligations after a decision (《政务数据共享条例》 Art. 22, 26, 27, 29).

Delivery of each grant, suspensions of a requesting side, use reports of a grantee, correction requests
about a dataset. Declared on CKAN's ``toolkit.BaseModel`` like :mod:`ckanext.sharing.model`; created only
by migration ``0004sharing``; no foreign keys onto core tables (ids are plain text).
"""
from __future__ import annotations

import datetime as _dt
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk

from ckanext.sharing.model import _now, _uuid

SUSPENSION_ACTIVE = "active"
SUSPENSION_LIFTED = "lifted"
CORRECTION_OPEN = "open"
CORRECTION_ANSWERED = "answered"
# ``method`` of a delivery the portal made itself (uploads, links, DataStore tables: Art. 22).
DELIVERY_PORTAL = "portal"


class SharingDelivery(tk.BaseModel):  # type: ignore[misc, valid-type]
    """Delivery of one grant (Art. 22): due 20 working days after the decision; delivered when, by whom, how."""

    __tablename__ = "sharing_delivery"

    grant_id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    due: Mapped[_dt.date] = mapped_column(sa.Date, nullable=False)
    delivered_at: Mapped[Optional[_dt.datetime]] = mapped_column(sa.DateTime(timezone=True))
    delivered_by: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    method: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    note: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)


class SharingSuspension(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A suspension of a requesting side's sharing rights (Art. 27): a user and/or an organization,
    towards one provider organization or (``provider_org_id`` empty) all of them."""

    __tablename__ = "sharing_suspension"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=_uuid)
    user_id: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    organization_id: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    provider_org_id: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    reason: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, default=SUSPENSION_ACTIVE)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    created_by: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    lifted_at: Mapped[Optional[_dt.datetime]] = mapped_column(sa.DateTime(timezone=True))
    lifted_by: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    lift_reason: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)


class SharingUseReport(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A grantee's record of use, storage and destruction of shared data (Art. 29); never updated, and
    not deleted before ``ckanext.sharing.retention_years`` (a database trigger, migration 0004)."""

    __tablename__ = "sharing_use_report"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=_uuid)
    grant_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    package_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    owner_org: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    reporter_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    scenario: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    process: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    outcome: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    storage: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    destruction: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)


class SharingCorrection(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A correction request (校核, Art. 26) about a dataset's data, answered by the provider in 10 working days."""

    __tablename__ = "sharing_correction"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=_uuid)
    package_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    resource_id: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    owner_org: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    requester_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    description: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, default=CORRECTION_OPEN)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    due_date: Mapped[_dt.date] = mapped_column(sa.Date, nullable=False)
    answer: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    corrected: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    answered_by: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    answered_at: Mapped[Optional[_dt.datetime]] = mapped_column(sa.DateTime(timezone=True))
