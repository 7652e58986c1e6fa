"""Use records of shared data and their retention (《政务数据共享条例》 Art. 27, 29, SPEC §4b).

The requesting side records 使用场景 (``scenario``), 使用过程 (``process``), 应用成效 (``outcome``),
存储情况 (``storage``) and 销毁情况 (``destruction``) of the data of each grant, and keeps the records
at least three years; the provider and the authority may inspect them. A report is a new row, never an
edit (a later report supersedes an earlier one). A grant that has ended without a report stating
destruction is flagged ``report_due`` to the grantee ``ckanext.sharing.report_working_days`` working
days after its end, once (:func:`flag_due`, from the scheduled job).

Retention: the migration's trigger refuses UPDATE and TRUNCATE of ``sharing_use_report`` and DELETE of a
row younger than ``greatest(3, sharing.retention_years)`` years; :func:`purge` (``ckan sharing retention
purge``) is the one command that removes reports, and only those older than
``ckanext.sharing.retention_years``. No action deletes a report.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import roles
from ckanext.sharing.ledger import chain, events
from ckanext.sharing.model import SharingAudit, SharingGrant, SharingRequest
from ckanext.sharing.model.obligations import SharingUseReport
from ckanext.sharing.workflow import clock, delivery, flags, notify
from ckanext.sharing.workflow.dictize import _iso, _names
from ckanext.sharing.workflow.states import GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED
from ckanext.sharing.workflow.suspension import is_authority
from ckanext.sharing.workflow.transitions import _audit

FIELDS = ("scenario", "process", "outcome", "storage", "destruction")


def requester_of(grant: SharingGrant) -> Optional[str]:
    """The user who asked for the grant (None for grants made without a request)."""
    req = model.Session.get(SharingRequest, grant.request_id) if grant.request_id else None
    return req.requester_id if req is not None else None


def may_report(user: Optional[model.User], grant: Optional[SharingGrant]) -> bool:
    """The grantee (user, or member of the grantee organization) or its requester (Art. 29)."""
    return grant is not None and roles.is_grantee(user, grant, requester_of(grant))


def may_read(user: Optional[model.User], grant: Optional[SharingGrant]) -> bool:
    """The grantee, the provider's deciders and the authority may read a grant's reports (Art. 29)."""
    if user is None or grant is None:
        return False
    return may_report(user, grant) or roles.is_decider(user, grant.owner_org) or is_authority(user)


def create(user: model.User, grant: SharingGrant, data: Mapping[str, Any]) -> SharingUseReport:
    """File a use report on a grant; commits (one ledger row). The provider's deciders may read it."""
    row = SharingUseReport(
        grant_id=grant.id, package_id=grant.package_id, owner_org=grant.owner_org, reporter_id=user.id,
        created=clock.now(), **{f: data.get(f) or None for f in FIELDS},
    )
    model.Session.add(row)
    model.Session.flush()
    _audit(
        events.USE_REPORT_CREATE, user, **delivery.grant_fields(grant),
        detail={"use_report_id": row.id, "destruction_stated": bool(row.destruction)},
    )
    model.Session.commit()
    return row


def visible(user: model.User, grant_id: Optional[str] = None) -> Any:
    """Reports the user may read: everything (authority); their organizations' as provider (deciders);
    those on grants to them or their organizations, or that they filed."""
    q = model.Session.query(SharingUseReport)
    if grant_id:
        q = q.filter(SharingUseReport.grant_id == grant_id)
    if not is_authority(user):
        own = roles.own_orgs(user)
        grantee = sa.or_(SharingGrant.user_id == user.id, SharingGrant.organization_id.in_(own)) if own \
            else SharingGrant.user_id == user.id
        mine = sa.select(SharingGrant.id).where(grantee)
        seen = [SharingUseReport.reporter_id == user.id, SharingUseReport.grant_id.in_(mine)]
        decided = roles.decided_orgs(user)
        if decided:
            seen.append(SharingUseReport.owner_org.in_(decided))
        q = q.filter(sa.or_(*seen))
    return q.order_by(SharingUseReport.created.desc())


def dicts(rows: list[SharingUseReport]) -> list[dict[str, Any]]:
    """Plain dicts of use reports."""
    users, pkgs, _ = _names([r.reporter_id for r in rows], [r.package_id for r in rows], [])
    out = []
    for r in rows:
        pkg = pkgs.get(r.package_id)
        out.append({
            "id": r.id, "grant_id": r.grant_id, "package_id": r.package_id,
            "package_title": (pkg.title or pkg.name) if pkg else None, "owner_org": r.owner_org,
            "reporter_id": r.reporter_id, "reporter_name": users[r.reporter_id].name if r.reporter_id in users else None,
            **{f: getattr(r, f) for f in FIELDS}, "created": _iso(r.created),
        })
    return out


def ended_at(grant: SharingGrant) -> Optional[dt.datetime]:
    """When the grant ended: its revocation, or its end of period once passed (None while it runs)."""
    if grant.state == GRANT_REVOKED:
        return grant.revoked_at
    if grant.state == GRANT_EXPIRED or grant.expires <= clock.now():
        return grant.expires
    return None


def report_due_date(grant: SharingGrant) -> Optional[dt.date]:
    """The date by which a report stating destruction is due: end + ``report_working_days`` (Art. 29)."""
    end = ended_at(grant)
    if end is None:
        return None
    return clock.add_workdays(clock.local_date(end), config.report_working_days(), config.holidays(),
                              config.extra_workdays())


def _destroyed():
    """Grant ids with a report stating destruction."""
    return sa.select(SharingUseReport.grant_id).where(
        SharingUseReport.destruction.is_not(None), SharingUseReport.destruction != "")


def due_for_user(user: model.User) -> list[dict[str, Any]]:
    """Ended grants of the user (or the user's organizations, or that they asked for) without a report
    stating destruction, with their due date and ``report_due`` once it has passed (the dashboard)."""
    own = roles.own_orgs(user)
    asked = sa.select(SharingRequest.id).where(SharingRequest.requester_id == user.id)
    grantee = [SharingGrant.user_id == user.id, SharingGrant.request_id.in_(asked)]
    if own:
        grantee.append(SharingGrant.organization_id.in_(own))
    rows = (
        model.Session.query(SharingGrant)
        .filter(sa.or_(*grantee))
        .filter(sa.or_(SharingGrant.state.in_([GRANT_EXPIRED, GRANT_REVOKED]), SharingGrant.expires <= clock.now()))
        .filter(SharingGrant.id.not_in(_destroyed()))
        .order_by(SharingGrant.expires)
        .limit(200)
        .all()
    )
    today = clock.today()
    _, pkgs, _ = _names([], [g.package_id for g in rows], [])
    out = []
    for g in rows:
        due = report_due_date(g)
        pkg = pkgs.get(g.package_id)
        out.append({"grant_id": g.id, "package_id": g.package_id,
                    "package_title": (pkg.title or pkg.name) if pkg else g.package_id,
                    "ended": _iso(ended_at(g)), "report_due_date": _iso(due),
                    "report_due": bool(due and due < today)})
    return out


def flag_due(now: Optional[dt.datetime] = None) -> list[str]:
    """Ended grants whose report stating destruction is past due, not yet flagged: one
    ``use_report_due`` ledger row each (committed) and one e-mail to the grantee. Returns the grant ids."""
    now = now or clock.now()
    today = clock.local_date(now)
    flagged = sa.select(SharingAudit.grant_id).where(SharingAudit.action == events.USE_REPORT_DUE,
                                                     SharingAudit.grant_id.is_not(None))
    # a cheap bound in SQL (ended before today), the working-day due date in Python
    candidates = (
        model.Session.query(SharingGrant)
        .filter(sa.or_(sa.and_(SharingGrant.state == GRANT_REVOKED, SharingGrant.revoked_at < now),
                       sa.and_(SharingGrant.state.in_([GRANT_EXPIRED, GRANT_ACTIVE]), SharingGrant.expires < now)))
        .filter(SharingGrant.id.not_in(_destroyed()), SharingGrant.id.not_in(flagged))
        .order_by(SharingGrant.expires)
        .with_for_update(skip_locked=True)
        .all()
    )
    due = {g.id: report_due_date(g) for g in candidates}
    done = [g for g in candidates if due[g.id] is not None and due[g.id] < today]
    flags.flag_each(done, events.USE_REPORT_DUE, lambda g: {
        **delivery.grant_fields(g), "detail": {"report_due_date": due[g.id].isoformat()}},
        notify_due, lambda g: (g.id, due[g.id].isoformat()))
    return [g.id for g in done]


def notify_due(grant_id: str, due: str) -> int:
    """E-mail the grantee that the use report (with destruction) of an ended grant is due (Art. 29)."""
    grant = model.Session.get(SharingGrant, grant_id)
    if grant is None:
        return 0
    site, _ = notify._site()
    title, url = notify._dataset_line(grant.package_id)
    body = "\n".join([
        tk._("Your access to the data of “%(title)s” (%(url)s) has ended.") % {"title": title, "url": url},
        tk._("Record its use, storage and destruction (Art. 29); it was due by %s.") % due,
        tk._("File it here: %s") % f"{site}/dashboard/use-reports",
    ])
    return sum(notify._send(u, tk._("Use report due: %s") % title, body) for u in notify._grant_recipients(grant))


def purge(session: Any = None) -> int:
    """Delete use reports older than ``ckanext.sharing.retention_years`` (the only deletion there is);
    the trigger re-checks the age with the same number of years. Commits; returns how many."""
    session = session or model.Session
    years = config.retention_years()
    session.execute(sa.text("SELECT set_config('sharing.retention_years', :y, true)"), {"y": str(years)})
    cutoff = sa.func.now() - sa.func.make_interval(years)
    count = session.query(SharingUseReport).filter(SharingUseReport.created <= cutoff).delete(
        synchronize_session=False)
    if count:
        chain.append(events.USE_REPORT_PURGE, detail={"deleted": count, "retention_years": years}, session=session)
    session.commit()
    return count
