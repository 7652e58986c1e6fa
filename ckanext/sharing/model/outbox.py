"""The durable outbox ``sharing_outbox`` (SPEC §8): one row per job a transaction queued.

A row is written in the same transaction as the event it announces, so it commits or rolls back with
it; :mod:`ckanext.sharing.workflow.outbox` delivers it after the commit and records every attempt.
Created only by the migration ``0005sharing`` (``ckan db upgrade -p sharing``).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk

from ckanext.sharing.model import _now, _uuid

# Row states: waiting for its first attempt, failed and waiting for the next one, done, given up.
PENDING = "pending"
RETRYING = "retrying"
SENT = "sent"
FAILED = "failed"
STATES = (PENDING, RETRYING, SENT, FAILED)
# Rows a delivery may take.
DUE_STATES = (PENDING, RETRYING)


class SharingOutbox(tk.BaseModel):  # type: ignore[misc, valid-type]
    """A job (an importable function and its JSON arguments) to run once after its transaction committed."""

    __tablename__ = "sharing_outbox"

    id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True, default=_uuid)
    job: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    args: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, default=list)
    title: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, default="")
    state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    last_error: Mapped[Optional[str]] = mapped_column(sa.UnicodeText)
    created: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=_now)
    next_attempt_at: Mapped[_dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False,
                                                          default=_now)
    last_attempt_at: Mapped[Optional[_dt.datetime]] = mapped_column(sa.DateTime(timezone=True))
    delivered_at: Mapped[Optional[_dt.datetime]] = mapped_column(sa.DateTime(timezone=True))


# Message claim states: handed to the mail server (outcome unknown until recorded), refused, accepted.
MESSAGE_SENDING = "sending"
MESSAGE_UNSENT = "unsent"
MESSAGE_SENT = "sent"


class SharingOutboxMessage(tk.BaseModel):  # type: ignore[misc, valid-type]
    """One e-mail of an outbox row's job (``key``: e.g. its recipient), claimed before it goes to the mail
    server and marked sent after the server accepted it (migration ``0007sharing``)."""

    __tablename__ = "sharing_outbox_message"

    outbox_id: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    key: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    state: Mapped[str] = mapped_column(sa.UnicodeText, nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    claimed_at: Mapped[Optional[_dt.datetime]] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[Optional[_dt.datetime]] = mapped_column(sa.DateTime(timezone=True))
