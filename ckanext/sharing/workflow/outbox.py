"""Jobs queued by a transaction, enqueued only when it commits (SPEC §4: never inside the request).

:func:`after_commit` stores the callable itself (an importable module function, as RQ needs) with
its arguments in the session; the commit hands them to CKAN's queue, a rollback drops them, so a
worker always finds the committed row and nothing is sent for a change that did not happen.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional

import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan import model

log = logging.getLogger(__name__)

_INFO_KEY = "sharing_outbox"


def after_commit(job: Callable[..., Any], *args: Any) -> None:
    """Queue ``job(*args)`` for when the current transaction commits."""
    model.Session.info.setdefault(_INFO_KEY, []).append((job, args))


def _on_commit(session: Any) -> None:
    for job, args in session.info.pop(_INFO_KEY, []):
        enqueue(job, *args)


def _on_end(session: Any, transaction: Any) -> None:
    """The outermost transaction ended without a commit (rollback, close): its jobs are dropped, so they
    can never leak into a later, unrelated commit. (After a commit, ``_on_commit`` has taken them.)"""
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)


if not sa.event.contains(model.Session, "after_commit", _on_commit):
    sa.event.listen(model.Session, "after_commit", _on_commit)
    sa.event.listen(model.Session, "after_transaction_end", _on_end)


def enqueue(job: Callable[..., Any], *args: Any) -> Optional[str]:
    """Put ``job`` on CKAN's default queue; a Redis failure is logged with its traceback, not raised
    (the change it reports is already committed and recorded in the audit ledger)."""
    try:
        queued = tk.enqueue_job(job, list(args), title=f"sharing: {job.__name__}")
    except Exception:  # noqa: BLE001 - the queue being down must not undo a committed decision
        log.exception("could not enqueue %s%r", job.__name__, args)
        return None
    return queued.id
