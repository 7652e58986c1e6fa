"""Flags of passed deadlines (Regulation Art. 22, 26, 29, 39): one ledger row and one e-mail job per
object, exactly once. The callers select the rows ``FOR UPDATE SKIP LOCKED`` and leave out those whose
flag is already in the ledger, so concurrent runs of the scheduled job never flag one object twice."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ckan import model

from ckanext.sharing.ledger import chain
from ckanext.sharing.workflow import outbox


def past_due(cls: Any, state: str, today: Any, flagged: Any) -> list[Any]:
    """Rows of ``cls`` in ``state`` whose ``due_date`` is before ``today`` and whose id is not in the
    ``flagged`` subquery, oldest first, locked ``FOR UPDATE SKIP LOCKED`` (a concurrent run passes them by)."""
    return (
        model.Session.query(cls)
        .filter(cls.state == state, cls.due_date < today, cls.id.not_in(flagged))
        .order_by(cls.due_date)
        .with_for_update(skip_locked=True)
        .all()
    )


def flag_each(rows: Iterable[Any], event: str, ledger: Callable[[Any], dict[str, Any]],
              job: Callable[..., Any], job_args: Callable[[Any], tuple[Any, ...]]) -> None:
    """For each row: append ``event`` with ``ledger(row)`` as its fields and queue ``job(*job_args(row))``
    after the commit; then commit (the row locks end with it)."""
    for row in rows:
        chain.append(event, **ledger(row))
        outbox.after_commit(job, *job_args(row))
    model.Session.commit()
