"""Correction requests about a dataset's data (校核, 《政务数据共享条例》 Art. 26, SPEC §4b).

A logged-in user who may get a dataset's data reports an error in it (纠错); the provider's deciders
are e-mailed and must check, fix and answer within ``ckanext.sharing.correction_working_days`` (10)
working days (the calendar of :mod:`ckanext.sharing.workflow.clock`). ``open → answered`` once, under a
row lock; unanswered requests past their due date are flagged once by the scheduled job.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import roles
from ckanext.sharing.ledger import events
from ckanext.sharing.model import SharingAudit
from ckanext.sharing.model.obligations import CORRECTION_ANSWERED, CORRECTION_OPEN, SharingCorrection
from ckanext.sharing.workflow import clock, flags, notify, outbox, queries
from ckanext.sharing.workflow.dictize import _iso, _names
from ckanext.sharing.workflow.suspension import is_authority
from ckanext.sharing.workflow.transitions import _audit, _invalid, _locked


def due_date(created: dt.datetime) -> dt.date:
    """The answer's deadline for a correction request made at ``created`` (Art. 26)."""
    return clock.add_workdays(clock.local_date(created), config.correction_working_days(), config.holidays(),
                              config.extra_workdays())


def create(user: model.User, pkg: model.Package, resource_id: Optional[str], description: str) -> SharingCorrection:
    """Record a correction request; commits, e-mails the provider's deciders."""
    if resource_id:
        res = model.Resource.get(resource_id)
        if res is None or res.package_id != pkg.id or res.state != "active":
            raise _invalid("resource_id", tk._("Not a resource of this dataset"))
        resource_id = res.id
    now = clock.now()
    row = SharingCorrection(package_id=pkg.id, resource_id=resource_id, owner_org=pkg.owner_org,
                            requester_id=user.id, description=description, state=CORRECTION_OPEN,
                            created=now, due_date=due_date(now))
    model.Session.add(row)
    model.Session.flush()
    _audit(events.CORRECTION_CREATE, user, package_id=pkg.id, resource_id=resource_id,
           organization_id=pkg.owner_org, detail={"correction_id": row.id, "due_date": row.due_date.isoformat()})
    outbox.after_commit(notify_deciders, row.id)
    model.Session.commit()
    return row


def may_answer(user: Optional[model.User], row: Optional[SharingCorrection]) -> bool:
    """The deciders of the dataset's (current) owner organization."""
    return row is not None and roles.is_decider(user, queries.package_org(row.package_id, row.owner_org))


def may_read(user: Optional[model.User], row: Optional[SharingCorrection]) -> bool:
    """Its requester, the provider's deciders and the authority."""
    return user is not None and row is not None and (
        row.requester_id == user.id or may_answer(user, row) or is_authority(user))


def answer(user: model.User, correction_id: str, text: str, corrected: bool) -> SharingCorrection:
    """Answer an open correction request (once); commits, e-mails the requester. Two answers at once:
    the row lock lets one through, the other finds it answered."""
    row = _locked(SharingCorrection, correction_id, tk._("Correction request not found"))
    if row.state != CORRECTION_OPEN:
        model.Session.rollback()
        raise _invalid("id", tk._("This correction request has already been answered"))
    row.state, row.answer, row.corrected = CORRECTION_ANSWERED, text, corrected
    row.answered_by, row.answered_at = user.id, clock.now()
    _audit(events.CORRECTION_ANSWER, user, package_id=row.package_id, resource_id=row.resource_id,
           organization_id=row.owner_org,
           detail={"correction_id": row.id, "corrected": corrected, "late": clock.today() > row.due_date})
    outbox.after_commit(notify_requester, row.id)
    model.Session.commit()
    return row


def visible(user: model.User, *, package_id: Optional[str] = None, organization_id: Optional[str] = None,
            state: Optional[str] = None, mine: bool = False) -> Any:
    """Correction requests the user may see (own; the organizations they decide for; all for the
    authority), open and most overdue first."""
    q = model.Session.query(SharingCorrection)
    if mine:
        q = q.filter(SharingCorrection.requester_id == user.id)
    elif not is_authority(user):
        decided = roles.decided_orgs(user)
        own = SharingCorrection.requester_id == user.id
        q = q.filter(sa.or_(own, SharingCorrection.owner_org.in_(decided)) if decided else own)
    q = queries.filtered(q, SharingCorrection, package_id, organization_id, state)
    return q.order_by(sa.case((SharingCorrection.state == CORRECTION_OPEN, 0), else_=1),
                      SharingCorrection.due_date.asc(), SharingCorrection.created.desc())


def dicts(rows: list[SharingCorrection]) -> list[dict[str, Any]]:
    """Plain dicts of correction requests with names, titles and ``overdue``."""
    users, pkgs, orgs = _names([r.requester_id for r in rows] + [r.answered_by for r in rows],
                               [r.package_id for r in rows], [r.owner_org for r in rows])
    today = clock.today()
    out = []
    for r in rows:
        pkg, owner = pkgs.get(r.package_id), orgs.get(r.owner_org or "")
        out.append({
            "id": r.id, "package_id": r.package_id, "package_name": pkg.name if pkg else None,
            "package_title": (pkg.title or pkg.name) if pkg else None, "resource_id": r.resource_id,
            "owner_org": r.owner_org, "owner_org_title": (owner.title or owner.name) if owner else None,
            "requester_id": r.requester_id,
            "requester_name": users[r.requester_id].name if r.requester_id in users else None,
            "description": r.description, "state": r.state, "created": _iso(r.created),
            "due_date": _iso(r.due_date), "overdue": r.state == CORRECTION_OPEN and r.due_date < today,
            "answer": r.answer, "corrected": r.corrected, "answered_by": r.answered_by,
            "answered_at": _iso(r.answered_at),
        })
    return out


def flag_overdue(now: Optional[dt.datetime] = None) -> list[str]:
    """Open correction requests past their due date not yet flagged: one ``correction_overdue`` ledger
    row each (committed) and one e-mail to the provider's deciders (Art. 26, 39). Returns their ids."""
    today = clock.local_date(now or clock.now())
    flagged = sa.select(SharingAudit.detail["correction_id"].astext).where(
        SharingAudit.action == events.CORRECTION_OVERDUE)
    rows = flags.past_due(SharingCorrection, CORRECTION_OPEN, today, flagged)
    flags.flag_each(rows, events.CORRECTION_OVERDUE, lambda row: {
        "package_id": row.package_id, "resource_id": row.resource_id, "organization_id": row.owner_org,
        "detail": {"correction_id": row.id, "due_date": row.due_date.isoformat()}},
        notify_deciders, lambda row: (row.id,))
    return [r.id for r in rows]


def notify_deciders(correction_id: str) -> int:
    """E-mail the provider's deciders about a new (or overdue) correction request (Art. 26)."""
    row = model.Session.get(SharingCorrection, correction_id)
    if row is None or row.state != CORRECTION_OPEN:
        return 0
    site, _ = notify._site()
    title, url = notify._dataset_line(row.package_id)
    late = clock.today() > row.due_date
    subject = (tk._("Overdue correction request: %s") if late else tk._("Correction request: %s")) % title
    body = "\n".join([
        tk._("An error was reported in the data of “%(title)s” (%(url)s):") % {"title": title, "url": url},
        row.description,
        "",
        tk._("Check, correct and answer by %s (Art. 26).") % row.due_date.isoformat(),
        tk._("Answer here: %s") % f"{site}/organization/{row.owner_org}/corrections",
    ])
    owner = queries.package_org(row.package_id, row.owner_org)
    return sum(notify._send(u, subject, body) for u in roles.deciders_of(owner))


def notify_requester(correction_id: str) -> int:
    """E-mail the requester the provider's answer."""
    row = model.Session.get(SharingCorrection, correction_id)
    if row is None or row.state != CORRECTION_ANSWERED:
        return 0
    title, url = notify._dataset_line(row.package_id)
    body = "\n".join([
        tk._("Your correction request about “%(title)s” (%(url)s) was answered.") % {"title": title, "url": url},
        tk._("Corrected: %s") % (tk._("yes") if row.corrected else tk._("no")),
        tk._("Answer: %s") % (row.answer or "-"),
    ])
    return int(notify._send(model.User.get(row.requester_id), tk._("Correction answered: %s") % title, body))
