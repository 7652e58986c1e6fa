"""The workflow's scheduled work (SPEC §4): grant expiry, the 7-day reminders and the overdue notices.

One job, :func:`expire_and_remind`; every e-mail it causes goes through the durable outbox. Run it hourly from cron, either directly::

    0 * * * *  ckan -c /etc/ckan/ckan.ini sharing grants expire

or by putting it on the queue for a worker (``ckan jobs worker``) to run::

    0 * * * *  ckan -c /etc/ckan/ckan.ini sharing grants expire --enqueue

Access never depends on it: expiry is checked against the clock at every access.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Optional

import sqlalchemy as sa

from ckan import model

from ckanext.sharing.ledger import chain, events
from ckanext.sharing.model import SharingAudit, SharingGrant, SharingRequest
from ckanext.sharing.workflow import clock, corrections, delivery, flags, notify, outbox, queries, use_reports
from ckanext.sharing.workflow.states import GRANT_ACTIVE, GRANT_EXPIRED, REQUEST_PENDING

log = logging.getLogger(__name__)


def expire_grants(now: Optional[dt.datetime] = None) -> list[str]:
    """Mark active grants past their end ``expired`` (one audit row each); commits; returns their ids.

    Access never waits for this: the policy compares ``expires`` with the clock at each access.
    ``SKIP LOCKED`` lets several workers run it at once without doing a grant twice.
    """
    now = now or clock.now()
    rows = (
        model.Session.query(SharingGrant)
        .filter(SharingGrant.state == GRANT_ACTIVE, SharingGrant.expires <= now)
        .order_by(SharingGrant.expires)
        .with_for_update(skip_locked=True)
        .all()
    )
    for grant in rows:
        grant.state = GRANT_EXPIRED
        chain.append(
            events.GRANT_EXPIRE, package_id=grant.package_id, organization_id=grant.owner_org,
            request_id=grant.request_id, grant_id=grant.id, detail={"expires": grant.expires.isoformat()},
        )
    model.Session.commit()
    return [g.id for g in rows]


def queue_expiry_reminders(now: Optional[dt.datetime] = None) -> list[str]:
    """Active grants ending within 7 days not yet reminded: mark each ``reminded_at`` and queue its e-mail in
    the durable outbox in the same transaction (committed), like every other e-mail (SPEC §8): a Redis or
    SMTP outage delays a reminder, never loses it, and a grant is reminded once. Returns the grant ids.
    ``SKIP LOCKED`` lets several workers run it at once."""
    rows = queries.grants_to_remind(now).with_for_update(skip_locked=True).all()
    for grant in rows:
        grant.reminded_at = now or clock.now()
        outbox.after_commit(notify.expiry_reminder, grant.id)
    model.Session.commit()
    return [g.id for g in rows]


def flag_overdue(now: Optional[dt.datetime] = None) -> list[str]:
    """Pending requests past their due date not yet flagged: one ``request_overdue`` ledger row each
    (committed), and the deciders' e-mail queued. Returns the request ids."""
    today = clock.local_date(now or clock.now())
    flagged = sa.select(SharingAudit.request_id).where(SharingAudit.action == events.REQUEST_OVERDUE)
    rows = flags.past_due(SharingRequest, REQUEST_PENDING, today, flagged)
    flags.flag_each(rows, events.REQUEST_OVERDUE, lambda req: {
        "package_id": req.package_id, "organization_id": req.owner_org, "request_id": req.id,
        "detail": {"due_date": req.due_date.isoformat() if req.due_date else None}},
        notify.overdue, lambda req: (req.id,))
    return [r.id for r in rows]


def expire_and_remind() -> dict[str, Any]:
    """The scheduled job: mark ended grants expired (audited), queue the 7-day reminders, flag
    requests past their reply deadline to the deciders (once each) and deliver the outbox's due rows
    (among them the reminders and notices just queued)."""
    expired = expire_grants()
    reminded = queue_expiry_reminders()
    overdue = flag_overdue()
    outbox.deliver_due()  # these e-mails, and retries of those that failed (or waited for Redis), SPEC §8
    log.info("sharing: %d grants expired, %d reminders queued, %d requests overdue", len(expired), len(reminded),
             len(overdue))
    # Regulation Art. 22, 29, 26: late deliveries, use reports due, late correction answers (once each)
    obligations = {"deliveries_overdue": delivery.flag_overdue(), "use_reports_due": use_reports.flag_due(),
                   "corrections_overdue": corrections.flag_overdue()}
    log.info("sharing: %s", {k: len(v) for k, v in obligations.items()})
    return {"expired": expired, "reminders": reminded, "overdue": overdue, **obligations}
