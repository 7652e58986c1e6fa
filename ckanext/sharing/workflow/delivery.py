"""Delivery of approved data (《政务数据共享条例》 Art. 22, SPEC §4b).

Every grant gets one ``sharing_delivery`` row in the transaction that creates it, whatever the path
(an approval, the authority's resolution of an escalation, a script): the session hook below sees each
new :class:`SharingGrant` and opens its delivery before the commit. ``delivery_due`` is the decision's
date + ``ckanext.sharing.delivery_working_days`` working days (the calendar of
:mod:`ckanext.sharing.workflow.clock`: holidays and 调休).

**Automatic when the portal serves the data.** Decided at grant time, not at first access: approval is
the moment the grantee can get the data, the deadline is about the provider, not about whether the
grantee looks. The portal delivers (``method`` = ``portal``, delivered at the decision) when the grant
covers at least one resource on the portal (an upload, a link, a DataStore table), unless the request
asks for ``库表交换`` (database exchange: outside the portal), or for ``接口`` (API) where a covered
resource is not a DataStore table (the DataStore API is the portal's interface); without a method in
the request, the methods the dataset offers (catalogue ``share_method``) decide the same way. Everything else — a
catalogue entry without resources, an exchange — is delivered by the provider's deciders with
:func:`deliver` (``sharing_grant_deliver``). Undelivered grants past their due date are flagged once
by the scheduled job (:func:`flag_overdue`).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Optional

import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import roles
from ckanext.sharing.ledger import chain, events
from ckanext.sharing.model import SharingAudit, SharingGrant, SharingRequest
from ckanext.sharing.model.obligations import DELIVERY_PORTAL, SharingDelivery
from ckanext.sharing.workflow import clock, flags, notify, outbox
from ckanext.sharing.workflow.states import GRANT_ACTIVE, SHARE_METHODS
from ckanext.sharing.workflow.transitions import _audit, _invalid, offered_methods

# Art. 22: 服务接口, 批量交换 (库表交换), 文件下载 — the catalogue's share_method values (SPEC §6).
METHOD_API, METHOD_FILE, METHOD_EXCHANGE = SHARE_METHODS
METHODS = SHARE_METHODS

_NEW_GRANTS = "sharing_new_grants"


def due_for(decided: dt.datetime) -> dt.date:
    """The delivery deadline of a grant decided at ``decided`` (Art. 22)."""
    return clock.add_workdays(clock.local_date(decided), config.delivery_working_days(),
                              config.holidays(), config.extra_workdays())


def _methods(request_id: Optional[str], pkg: model.Package) -> set[str]:
    """The share methods the request asked for (Art. 20 ``share_method``), else those the dataset
    offers (catalogue ``share_method``, SPEC §6); empty when neither says."""
    req = model.Session.get(SharingRequest, request_id) if request_id else None
    asked = getattr(req, "share_method", None) if req is not None else None
    if not asked:
        asked = offered_methods(pkg)
    return {asked} if isinstance(asked, str) else set(asked)


def portal_serves(grant: SharingGrant) -> bool:
    """Does the portal itself deliver this grant's data (see the module docstring)?"""
    pkg = model.Package.get(grant.package_id)
    if pkg is None:
        return False
    covered = [r for r in pkg.resources if not grant.resource_ids or r.id in grant.resource_ids]
    if not covered:
        return False
    methods = _methods(grant.request_id, pkg)
    if not methods or METHOD_FILE in methods:
        return True
    if METHOD_API in methods:
        return all(tk.asbool(r.extras.get("datastore_active")) for r in covered)
    return False


def grant_fields(grant: SharingGrant) -> dict[str, Any]:
    """The ledger columns of a row about a grant."""
    return {"package_id": grant.package_id, "organization_id": grant.owner_org, "request_id": grant.request_id,
            "grant_id": grant.id}


def open_delivery(grant: SharingGrant) -> SharingDelivery:
    """The delivery row of a new grant, delivered at once (with its ledger row) when the portal serves it."""
    row = SharingDelivery(grant_id=grant.id, due=due_for(grant.created or clock.now()), created=clock.now())
    if portal_serves(grant):
        row.delivered_at, row.delivered_by, row.method = grant.created, grant.created_by, DELIVERY_PORTAL
        chain.append(
            events.GRANT_DELIVER, actor_id=grant.created_by, **grant_fields(grant),
            detail={"method": DELIVERY_PORTAL, "automatic": True, "due": row.due.isoformat()},
        )
    model.Session.add(row)
    return row


def _note_new_grants(session: Any, flush_context: Any) -> None:
    """After a flush: remember the grants it inserted (their delivery opens before the commit)."""
    ids = [obj.id for obj in session.new if isinstance(obj, SharingGrant)]
    if ids:
        session.info.setdefault(_NEW_GRANTS, []).extend(ids)


def _open_before_commit(session: Any) -> None:
    """Before the commit: open the delivery of every grant this transaction created (same transaction)."""
    if any(isinstance(obj, SharingGrant) for obj in session.new):
        session.flush()
    ids = session.info.pop(_NEW_GRANTS, [])
    for grant_id in dict.fromkeys(ids):
        grant = session.get(SharingGrant, grant_id)
        if grant is not None and session.get(SharingDelivery, grant_id) is None:
            open_delivery(grant)
    if ids:
        session.flush()


def _forget(session: Any, transaction: Any) -> None:
    """A rolled-back transaction's grants never existed: forget them."""
    if transaction.parent is None:
        session.info.pop(_NEW_GRANTS, None)


if not sa.event.contains(model.Session, "before_commit", _open_before_commit):
    sa.event.listen(model.Session, "after_flush", _note_new_grants)
    sa.event.listen(model.Session, "before_commit", _open_before_commit)
    sa.event.listen(model.Session, "after_transaction_end", _forget)


def deliver(user: model.User, grant_id: str, method: str, note: Optional[str]) -> SharingDelivery:
    """The provider's deciders record a delivery made outside the portal; commits, tells the grantee.
    Two at once: the delivery row's lock lets one through, the other finds it delivered."""
    row = (model.Session.query(SharingDelivery).filter(SharingDelivery.grant_id == grant_id)
           .with_for_update().populate_existing().one_or_none())
    if row is None:
        raise tk.ObjectNotFound(tk._("Grant not found"))
    if row.delivered_at is not None:
        model.Session.rollback()
        raise _invalid("id", tk._("This grant has already been delivered"))
    grant = model.Session.get(SharingGrant, grant_id)
    if grant is None or grant.state != GRANT_ACTIVE:
        model.Session.rollback()
        raise _invalid("id", tk._("Only an active grant can be delivered"))
    row.delivered_at, row.delivered_by, row.method, row.note = clock.now(), user.id, method, note
    _audit(
        events.GRANT_DELIVER, user, **grant_fields(grant),
        detail={"method": method, "note": note, "due": row.due.isoformat(), "automatic": False},
    )
    outbox.after_commit(notify_delivered, grant.id)
    model.Session.commit()
    return row


def flag_overdue(now: Optional[dt.datetime] = None) -> list[str]:
    """Undelivered active grants past ``delivery_due`` not yet flagged: one ``delivery_overdue`` ledger
    row each (committed) and one e-mail to the deciders (Art. 22, 39). Returns the grant ids."""
    today = clock.local_date(now or clock.now())
    flagged = sa.select(SharingAudit.grant_id).where(SharingAudit.action == events.DELIVERY_OVERDUE,
                                                     SharingAudit.grant_id.is_not(None))
    rows = (
        model.Session.query(SharingDelivery, SharingGrant)
        .join(SharingGrant, SharingGrant.id == SharingDelivery.grant_id)
        .filter(SharingDelivery.delivered_at.is_(None), SharingDelivery.due < today)
        .filter(SharingGrant.state == GRANT_ACTIVE)
        .filter(SharingDelivery.grant_id.not_in(flagged))
        .order_by(SharingDelivery.due)
        .with_for_update(of=SharingDelivery, skip_locked=True)
        .all()
    )
    flags.flag_each(rows, events.DELIVERY_OVERDUE, lambda pair: {
        **grant_fields(pair[1]), "detail": {"due": pair[0].due.isoformat()}},
        notify_overdue, lambda pair: (pair[1].id,))
    return [grant.id for _, grant in rows]


def annotate(grants: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``delivery_due``, ``delivered`` (``{"at", "by", "method", "note"}`` or None) and
    ``delivery_overdue`` to grant dicts (one query)."""
    out = list(grants)
    ids = [g["id"] for g in out]
    rows = {r.grant_id: r for r in model.Session.query(SharingDelivery).filter(SharingDelivery.grant_id.in_(ids))} \
        if ids else {}
    today = clock.today()
    for g in out:
        row = rows.get(g["id"])
        g["delivery_due"] = row.due.isoformat() if row else None
        g["delivered"] = {"at": row.delivered_at.isoformat(), "by": row.delivered_by, "method": row.method,
                          "note": row.note} if row and row.delivered_at else None
        g["delivery_overdue"] = bool(row and not row.delivered_at and row.due < today
                                     and g.get("state") == GRANT_ACTIVE)
    return out


def notify_delivered(grant_id: str) -> int:
    """E-mail the grantee that the data was delivered, and how (Art. 22)."""
    grant = model.Session.get(SharingGrant, grant_id)
    row = model.Session.get(SharingDelivery, grant_id)
    if grant is None or row is None or row.delivered_at is None:
        return 0
    title, url = notify._dataset_line(grant.package_id)
    body = "\n".join([
        tk._("The data of “%(title)s” (%(url)s) was delivered to you.") % {"title": title, "url": url},
        tk._("Method: %s") % (row.method or "-"),
        tk._("Note: %s") % (row.note or "-"),
    ])
    return sum(notify._send(u, tk._("Data delivered: %s") % title, body) for u in notify._grant_recipients(grant))


def notify_overdue(grant_id: str) -> int:
    """E-mail the provider's deciders that a grant's delivery is overdue (Art. 22)."""
    grant = model.Session.get(SharingGrant, grant_id)
    row = model.Session.get(SharingDelivery, grant_id)
    if grant is None or row is None or row.delivered_at is not None:
        return 0
    site, _ = notify._site()
    title, _url = notify._dataset_line(grant.package_id)
    body = "\n".join([
        tk._("The delivery of the approved data of “%(title)s” was due on %(date)s.") % {
            "title": title, "date": row.due.isoformat()},
        tk._("Record the delivery here: %s") % f"{site}/organization/{grant.owner_org}/access-grants",
    ])
    subject = tk._("Overdue delivery: %s") % title
    return sum(notify._send(u, subject, body) for u in roles.deciders_of(grant.owner_org))
