"""The durable outbox (SPEC §4, §8): jobs a transaction queues, written to PostgreSQL in that transaction
and delivered after its commit, with retries.

:func:`after_commit` (the public entry point of every e-mail of the workflow) inserts one row of
``sharing_outbox`` — the job as an importable ``module:function`` name and its JSON arguments — into
the current transaction: the row commits or rolls back with the event it announces. After the commit
the row's id is handed to CKAN's queue (RQ); a worker runs :func:`run`, which locks the row
(``FOR UPDATE SKIP LOCKED`` on a connection of its own), runs the job, and records the outcome on the
row: ``sent``, or the attempt, the traceback and the time of the next attempt (exponential back-off,
``ckanext.sharing.outbox_retry_seconds``), ``failed`` after ``ckanext.sharing.outbox_max_attempts``.
When Redis is down nothing is lost: the row waits, and :func:`deliver_due` (``ckan sharing outbox
deliver`` from cron, and the scheduled job) delivers every due row, in this process or through the queue.

Once per e-mail: a row is only run under its row lock and only while it is ``pending``/``retrying``, so a
worker and a sweep (or two sweeps, or a duplicated queue entry) never run it both. A process killed mid-job
loses its lock with its connection and leaves the row due, so the job runs again. Inside a job each e-mail
goes through :func:`send_once`: claimed before it is handed to the mail server, marked sent after the server
accepted it, skipped by every later attempt, and sent with a Message-ID derived from the row id and the
recipient (:func:`message_id`). What stays at-least-once: a crash after the server accepted a message and
before its ``sent`` mark committed; the next attempt sends it again with the same Message-ID, which lets the
receiving side drop the duplicate.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import importlib
import json
import logging
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import config
from ckanext.sharing.model.outbox import (
    DUE_STATES,
    FAILED,
    MESSAGE_SENDING,
    MESSAGE_SENT,
    MESSAGE_UNSENT,
    PENDING,
    RETRYING,
    SENT,
    SharingOutbox,
    SharingOutboxMessage,
)

log = logging.getLogger(__name__)

_INFO_KEY = "sharing_outbox"
# The longest wait between two attempts, whatever the back-off reaches.
MAX_BACKOFF = dt.timedelta(hours=6)
# How much of a traceback a row keeps.
ERROR_CHARS = 8000

_current: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("sharing_outbox_id", default=None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def job_name(job: Callable[..., Any]) -> str:
    """``module:function`` of an importable module-level function; ValueError for anything else (a lambda,
    a method, a closure), which a worker in another process could not find."""
    module, name = getattr(job, "__module__", None), getattr(job, "__qualname__", "")
    try:
        found = getattr(importlib.import_module(module), name) if module and "." not in name else None
    except (ImportError, AttributeError):
        found = None
    if found is not job:
        raise ValueError(f"outbox jobs must be importable module functions, not {job!r}")
    return f"{module}:{name}"


def resolve(name: str) -> Callable[..., Any]:
    """The function a ``module:function`` name stands for."""
    module, _, func = name.partition(":")
    return getattr(importlib.import_module(module), func)


def after_commit(job: Callable[..., Any], *args: Any) -> None:
    """Queue ``job(*args)`` for when the current transaction commits: one ``sharing_outbox`` row in that
    transaction (``args`` must be JSON values, e.g. ids). A rollback removes it with the event."""
    name = job_name(job)
    row_id = str(uuid.uuid4())
    now = _now()
    model.Session.execute(sa.insert(SharingOutbox.__table__).values(
        id=row_id, job=name, args=json.loads(json.dumps(list(args))), title=f"sharing: {job.__name__}",
        state=PENDING, attempts=0, created=now, next_attempt_at=now,
    ))
    model.Session.info.setdefault(_INFO_KEY, []).append((row_id, job.__name__))


def _on_commit(session: Any) -> None:
    """The transaction committed: hand its outbox rows to the queue (a Redis failure leaves them due)."""
    for row_id, name in session.info.pop(_INFO_KEY, []):
        _enqueue_row(row_id, name)


def _on_end(session: Any, transaction: Any) -> None:
    """The outermost transaction ended without a commit (rollback, close): forget its row ids (the rows
    are rolled back with it). After a commit, ``_on_commit`` has taken them."""
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)


if not sa.event.contains(model.Session, "after_commit", _on_commit):
    sa.event.listen(model.Session, "after_commit", _on_commit)
    sa.event.listen(model.Session, "after_transaction_end", _on_end)


def _enqueue_row(row_id: str, name: str) -> Optional[str]:
    """Put the delivery of one outbox row on CKAN's queue; None (logged) when the queue is unreachable."""
    try:
        queued = tk.enqueue_job(run, [row_id], title=f"sharing: {name}")
    except Exception:  # noqa: BLE001 - Redis down: the committed row waits for `ckan sharing outbox deliver`
        log.exception("sharing outbox: could not enqueue %s (row %s); it stays due in sharing_outbox", name, row_id)
        return None
    return queued.id


def enqueue(job: Callable[..., Any], *args: Any) -> Optional[str]:
    """Put ``job`` on CKAN's default queue now (no outbox row: for jobs that are not the consequence of a
    transaction, e.g. the scheduled job); a Redis failure is logged with its traceback and gives None."""
    try:
        queued = tk.enqueue_job(job, list(args), title=f"sharing: {job.__name__}")
    except Exception:  # noqa: BLE001 - the queue being down must not undo a committed decision
        log.exception("could not enqueue %s%r", job.__name__, args)
        return None
    return queued.id


def current_id() -> Optional[str]:
    """The id of the outbox row whose job runs now (None outside a delivery): a stable key a job can use to
    make its effect idempotent (e.g. an e-mail's Message-ID)."""
    return _current.get()


class MessageBusy(RuntimeError):
    """Another attempt of the same outbox row is handing the same message to the mail server right now."""


def message_id(row_id: str, key: str) -> str:
    """The Message-ID of message ``key`` of outbox row ``row_id``: the same on every attempt, so a receiving
    system can drop the copy a crash after the mail server's acceptance may produce (RFC 5322 §3.6.4)."""
    host = urlsplit(tk.config.get("ckan.site_url") or "").hostname or "ckan.invalid"
    return f"<sharing-outbox.{row_id}.{hashlib.sha256(key.encode()).hexdigest()[:16]}@{host}>"


_MESSAGES = SharingOutboxMessage.__table__


def send_once(key: str, send: Callable[[Optional[str]], Any]) -> bool:
    """Send message ``key`` (e.g. ``user:<id>``) of the running outbox row unless an earlier attempt of that row
    already did; ``send(message_id)`` hands it to the mail server. False when it was sent before.

    The claim protocol (SPEC §8): on a connection of its own the attempt takes a session advisory lock on
    (row, key) — held by a live process only, so a killed worker's lock goes with its connection —, skips a
    message recorded ``sent``, commits the claim ``sending`` (attempts + 1), calls ``send``, and commits
    ``sent`` once the server accepted it (``unsent`` when it refused). A claim still ``sending`` when the next
    attempt comes means the last one died between handing the message over and recording the outcome: the
    message goes again with the same Message-ID (logged) — the one at-least-once window. Outside a delivery
    (no outbox row runs) ``send(None)`` is called directly."""
    row_id = current_id()
    if row_id is None:
        send(None)
        return True
    mid = message_id(row_id, key)
    lock = sa.func.hashtextextended(f"sharing_outbox_message:{row_id}:{key}", 0)
    where = (_MESSAGES.c.outbox_id == row_id) & (_MESSAGES.c.key == key)
    with model.meta.engine.connect() as conn:
        if not conn.execute(sa.select(sa.func.pg_try_advisory_lock(lock))).scalar():
            conn.rollback()
            raise MessageBusy(f"message {key} of outbox row {row_id} is being sent by another attempt")
        try:
            before = conn.execute(sa.select(_MESSAGES.c.state).where(where)).scalar()
            if before == MESSAGE_SENT:
                conn.rollback()
                return False
            if before == MESSAGE_SENDING:
                log.warning("sharing outbox: the last attempt of row %s died while sending %s; sending it again "
                            "with the same Message-ID %s (a possible duplicate the recipient can drop)",
                            row_id, key, mid)
            conn.execute(pg_insert(_MESSAGES).values(
                outbox_id=row_id, key=key, message_id=mid, state=MESSAGE_SENDING, attempts=1, claimed_at=_now(),
            ).on_conflict_do_update(index_elements=[_MESSAGES.c.outbox_id, _MESSAGES.c.key], set_={
                "state": MESSAGE_SENDING, "attempts": _MESSAGES.c.attempts + 1, "claimed_at": _now()}))
            conn.commit()
            try:
                send(mid)
            except Exception:
                conn.execute(sa.update(_MESSAGES).where(where).values(state=MESSAGE_UNSENT))
                conn.commit()
                raise
            conn.execute(sa.update(_MESSAGES).where(where).values(state=MESSAGE_SENT, sent_at=_now()))
            conn.commit()
            return True
        finally:
            try:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(lock)))
                conn.commit()
            except sa.exc.DBAPIError:  # the connection is gone (database restarted): so is its lock
                log.warning("sharing outbox: lost the connection holding the claim of %s (row %s)", key, row_id)


def messages(row_id: str) -> list[Any]:
    """The message claims of one outbox row (key, Message-ID, state, attempts, times)."""
    found = model.Session.execute(sa.select(_MESSAGES).where(_MESSAGES.c.outbox_id == row_id)
                                  .order_by(_MESSAGES.c.claimed_at)).mappings().all()
    return list(found)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: ``outbox_retry_seconds`` × 2^(attempts − 1), at most 6 h."""
    seconds = config.outbox_retry_seconds() * (2 ** max(attempts - 1, 0))
    return min(dt.timedelta(seconds=seconds), MAX_BACKOFF)


_COLUMNS = SharingOutbox.__table__.c


def _lock(conn: Any, row_id: Optional[str], ignore_backoff: bool) -> Optional[Any]:
    """Lock one deliverable row on ``conn`` (``FOR UPDATE SKIP LOCKED``): the given one, else the first due."""
    query = sa.select(SharingOutbox.__table__).where(_COLUMNS.state.in_(DUE_STATES))
    if row_id is not None:
        query = query.where(_COLUMNS.id == row_id)
    else:
        if not ignore_backoff:
            query = query.where(_COLUMNS.next_attempt_at <= sa.func.now())
        query = query.order_by(_COLUMNS.next_attempt_at, _COLUMNS.created)
    return conn.execute(query.limit(1).with_for_update(skip_locked=True)).mappings().first()


def _attempt(conn: Any, row: Any) -> bool:
    """Run the locked row's job and record the outcome on ``conn`` (committed, which frees the row); True
    when the job succeeded. A failure is logged with its traceback and kept on the row."""
    token = _current.set(row["id"])
    now = _now()
    attempts = row["attempts"] + 1
    try:
        resolve(row["job"])(*row["args"])
        model.Session.commit()
        values: dict[str, Any] = {"state": SENT, "delivered_at": _now()}
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row and retried
        model.Session.rollback()
        final = attempts >= config.outbox_max_attempts()
        log.exception("sharing outbox: %s%r failed (attempt %d%s, row %s)", row["job"], tuple(row["args"]),
                      attempts, ", giving up" if final else "", row["id"])
        values = {"state": FAILED if final else RETRYING, "next_attempt_at": now + backoff(attempts),
                  "last_error": "".join(traceback.format_exception(exc))[-ERROR_CHARS:]}
    finally:
        _current.reset(token)
    conn.execute(sa.update(SharingOutbox.__table__).where(_COLUMNS.id == row["id"]).values(
        attempts=attempts, last_attempt_at=now, **values))
    conn.commit()
    return values["state"] == SENT


def run(row_id: str) -> Optional[bool]:
    """The queued job: deliver one outbox row. None when there is nothing to do (already delivered, or
    another process holds it); else whether the job succeeded (a failure is recorded, not raised)."""
    with model.meta.engine.connect() as conn:
        row = _lock(conn, row_id, ignore_backoff=True)
        if row is None:
            conn.rollback()
            return None
        return _attempt(conn, row)


@dataclass
class Delivery:
    """What a sweep did."""

    sent: int = 0
    failed: int = 0
    ids: list[str] = field(default_factory=list)


def deliver_due(limit: Optional[int] = None, ignore_backoff: bool = False) -> Delivery:
    """Deliver every due row here, one at a time, each under its own row lock (``ckan sharing outbox
    deliver``, the scheduled job). ``ignore_backoff`` also takes rows whose next attempt is not due yet
    (after the mail server is fixed). Rows other processes hold are skipped, never run twice."""
    done = Delivery()
    seen: set[str] = set()
    while limit is None or len(done.ids) < limit:
        with model.meta.engine.connect() as conn:
            row = _lock(conn, None, ignore_backoff)
            if row is None or row["id"] in seen:  # nothing due, or only rows this sweep already failed
                conn.rollback()
                break
            seen.add(row["id"])
            done.ids.append(row["id"])
            if _attempt(conn, row):
                done.sent += 1
            else:
                done.failed += 1
    return done


def enqueue_due() -> list[str]:
    """Hand every due row to the queue (``ckan sharing outbox deliver --enqueue``); the ids queued."""
    rows = model.Session.execute(
        sa.select(_COLUMNS.id, _COLUMNS.title).where(_COLUMNS.state.in_(DUE_STATES),
                                                       _COLUMNS.next_attempt_at <= sa.func.now())
        .order_by(_COLUMNS.next_attempt_at)).all()
    model.Session.rollback()
    return [r.id for r in rows if _enqueue_row(r.id, r.title.removeprefix("sharing: "))]


def retry(row_id: str) -> bool:
    """Make a ``failed`` or ``retrying`` row due now again (attempts kept); False when there is no such row."""
    result = model.Session.execute(sa.update(SharingOutbox.__table__).where(
        _COLUMNS.id == row_id, _COLUMNS.state.in_((FAILED, RETRYING))).values(state=RETRYING, next_attempt_at=_now()))
    model.Session.commit()
    return bool(result.rowcount)


def rows(failed: bool = False, state: Optional[str] = None, limit: int = 100, offset: int = 0) -> Iterator[Any]:
    """Outbox rows, newest first; ``failed``: those whose last attempt failed (retrying or given up)."""
    query = model.Session.query(SharingOutbox)
    if failed:
        query = query.filter(SharingOutbox.state.in_((RETRYING, FAILED)))
    if state:
        query = query.filter(SharingOutbox.state == state)
    yield from query.order_by(SharingOutbox.created.desc()).offset(offset).limit(limit)


def counts() -> dict[str, int]:
    """Rows per state (every state present, zero included)."""
    found = dict(model.Session.query(SharingOutbox.state, sa.func.count()).group_by(SharingOutbox.state).all())
    return {s: int(found.get(s, 0)) for s in (PENDING, RETRYING, SENT, FAILED)}


def line(row: Any) -> str:
    """One row of ``ckan sharing outbox list`` (tab separated; the error's last line)."""
    error = (row.last_error or "").strip().splitlines()
    moment = (lambda v: v.isoformat(timespec="seconds") if v else "-")
    return "\t".join([row.id, row.state, str(row.attempts), moment(row.created), moment(row.next_attempt_at),
                      row.job, json.dumps(row.args, ensure_ascii=False), error[-1] if error else "-"])
