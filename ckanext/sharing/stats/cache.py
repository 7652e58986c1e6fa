"""The per-day cache of statistics (issue 17): figures that may be a day old are computed once per day.

Kept in PostgreSQL (table ``sharing_stats_cache``, migration 0006), not in a process, so every web
process shows the same figures with the same "computed at" time (SPEC §8). A key is recomputed when
its row is from an earlier day (the portal's day, ``ckan.display_timezone``); two processes that
compute at once both write, the later wins, and both answers were correct for the day.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, mapped_column

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.workflow import clock


class SharingStatsCache(tk.BaseModel):  # type: ignore[misc, valid-type]
    """One cached block of figures: its key, the day it is valid for, when it was computed."""

    __tablename__ = "sharing_stats_cache"

    key: Mapped[str] = mapped_column(sa.UnicodeText, primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    computed: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


def daily(key: str, compute: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], dt.datetime]:
    """``(figures, computed at)`` of ``key``: today's stored row, else ``compute()`` stored for today.

    ``compute`` must return JSON-serialisable data (it is stored as ``jsonb``). The write is committed
    at once in its own statement (an upsert), so a page that only reads still leaves the cache filled.
    """
    today = clock.today()
    row = model.Session.execute(
        sa.select(SharingStatsCache.payload, SharingStatsCache.computed)
        .where(SharingStatsCache.key == key, SharingStatsCache.day == today)
    ).first()
    if row is not None:
        return row.payload, row.computed
    payload = compute()
    computed = clock.now()
    stmt = insert(SharingStatsCache).values(key=key, day=today, computed=computed, payload=payload)
    model.Session.execute(stmt.on_conflict_do_update(
        index_elements=[SharingStatsCache.key],
        set_={"day": stmt.excluded.day, "computed": stmt.excluded.computed, "payload": stmt.excluded.payload},
    ))
    model.Session.commit()
    return payload, computed


def clear() -> int:
    """Forget every cached figure (``ckan sharing stats refresh``, tests); how many rows went."""
    deleted = model.Session.execute(sa.delete(SharingStatsCache)).rowcount
    model.Session.commit()
    return int(deleted or 0)
