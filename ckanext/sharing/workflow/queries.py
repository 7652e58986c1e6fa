"""Read-only queries of the workflow: what a user may see, what is pending, what needs a reminder."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlalchemy as sa

from ckan import model

from ckanext.sharing.access import facts, roles
from ckanext.sharing.ledger import events
from ckanext.sharing.model import SharingAudit, SharingGrant, SharingRequest
from ckanext.sharing.workflow import clock
from ckanext.sharing.workflow.states import (
    EXTENSION_ASKED,
    GRANT_ACTIVE,
    REMINDER_DAYS,
    REQUEST_ESCALATED,
    REQUEST_OPEN_STATES,
    REQUEST_PENDING,
)


def package_org(package_id: str, fallback: Optional[str] = None) -> Optional[str]:
    """The dataset's current owner organization (a moved dataset is decided by its new owner)."""
    pkg = model.Package.get(package_id)
    return pkg.owner_org if pkg is not None else fallback


def pending_exists(user_id: str, package_id: str) -> bool:
    """Has this user an open request (pending, returned or escalated) for this dataset?"""
    return model.Session.query(
        model.Session.query(SharingRequest.id)
        .filter_by(requester_id=user_id, package_id=package_id)
        .filter(SharingRequest.state.in_(REQUEST_OPEN_STATES))
        .exists()
    ).scalar()


def grants_to_remind(now: Optional[dt.datetime] = None) -> sa.orm.Query:
    """Active grants ending within 7 days whose grantee has not been reminded yet, soonest first (a query,
    so that the scheduler can lock the same rows it selects in one statement)."""
    now = now or clock.now()
    return (
        model.Session.query(SharingGrant)
        .filter(SharingGrant.state == GRANT_ACTIVE)
        .filter(SharingGrant.expires > now)
        .filter(SharingGrant.expires <= now + dt.timedelta(days=REMINDER_DAYS))
        .filter(SharingGrant.reminded_at.is_(None))
        .order_by(SharingGrant.expires)
    )


def filtered(
    q: sa.orm.Query, cls: type, package_id: Optional[str] = None, organization_id: Optional[str] = None,
    state: Optional[str] = None,
) -> sa.orm.Query:
    """The list filters shared by requests and grants (``filters`` of the visible_* queries): dataset and
    owner organization (id or name), state."""
    q = facts.narrowed(q, cls.package_id, package_id, cls.owner_org, organization_id)
    return q.filter(cls.state == state) if state else q


def visible_requests(user: model.User, *, mine: bool = False, **filters: Optional[str]) -> sa.orm.Query:
    """Requests the user may see (own; plus the organizations they decide), filtered; overdue first."""
    q = model.Session.query(SharingRequest)
    if mine:
        q = q.filter(SharingRequest.requester_id == user.id)
    elif not user.sysadmin:
        orgs = roles.decided_orgs(user)
        q = q.filter(sa.or_(SharingRequest.requester_id == user.id, SharingRequest.owner_org.in_(orgs))
                     if orgs else SharingRequest.requester_id == user.id)
    q = filtered(q, SharingRequest, **filters)
    return q.order_by(
        sa.case((SharingRequest.state == REQUEST_PENDING, 0), (SharingRequest.state.in_(REQUEST_OPEN_STATES), 1),
                else_=2),
        SharingRequest.due_date.asc().nulls_last(),
        SharingRequest.created.desc(),
    )


def visible_grants(user: model.User, *, mine: bool = False, **filters: Optional[str]) -> sa.orm.Query:
    """Grants the user may see (to them or their organizations; plus those of organizations they decide)."""
    q = model.Session.query(SharingGrant)
    own_orgs = roles.own_orgs(user)
    own = SharingGrant.user_id == user.id
    if own_orgs:
        own = sa.or_(own, SharingGrant.organization_id.in_(own_orgs))
    if mine:
        q = q.filter(own)
    elif not user.sysadmin:
        orgs = roles.decided_orgs(user)
        q = q.filter(sa.or_(own, SharingGrant.owner_org.in_(orgs)) if orgs else own)
    q = filtered(q, SharingGrant, **filters)
    return q.order_by(
        sa.case((SharingGrant.state == GRANT_ACTIVE, 0), else_=1), SharingGrant.expires.asc()
    )


def authority_queue(kind: str) -> sa.orm.Query:
    """What waits for the authority (SPEC §4b, §13): ``escalations`` (escalated requests, Art. 28) or
    ``extensions`` (extension asks on pending requests, Art. 21); the oldest first."""
    q = model.Session.query(SharingRequest)
    if kind == "escalations":
        return q.filter(SharingRequest.state == REQUEST_ESCALATED).order_by(SharingRequest.escalated_at.asc())
    return (q.filter(SharingRequest.extension_state == EXTENSION_ASKED, SharingRequest.state == REQUEST_PENDING)
            .order_by(SharingRequest.extension_requested_at.asc()))


def brought_to_authority(req: SharingRequest) -> bool:
    """Was this request put before the authority (an extension ask or an escalation)? Then the
    authority may see it (SPEC §4b)."""
    return req.escalated_at is not None or req.extension_requested_at is not None


# Ledger events that make up a request's timeline on its page (data accesses are not listed there).
TIMELINE_EVENTS = (
    events.REQUEST_CREATE, events.REQUEST_RETURN, events.REQUEST_RESUBMIT, events.REQUEST_EXTEND,
    events.EXTENSION_DECIDE, events.REQUEST_OVERDUE, events.REQUEST_ESCALATE, events.REQUEST_RESOLVE,
    events.REQUEST_APPROVE, events.REQUEST_REJECT, events.REQUEST_WITHDRAW, events.REQUEST_CANCEL,
    events.GRANT_REVOKE, events.GRANT_EXPIRE, events.OWNER_CHANGE,
)


def timeline(request_id: str) -> list[SharingAudit]:
    """The request's transitions in order, read from the ledger (each transition writes one row)."""
    return (
        model.Session.query(SharingAudit)
        .filter(SharingAudit.request_id == request_id, SharingAudit.action.in_(TIMELINE_EVENTS))
        .order_by(SharingAudit.id.asc())
        .all()
    )
