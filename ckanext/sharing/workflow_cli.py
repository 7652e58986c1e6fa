"""The work behind the ``ckan sharing requests|grants|audit export`` commands (kept out of cli.py)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from typing import Iterator, Optional

import sqlalchemy as sa

from ckan import model

from ckanext.sharing.model import REQUEST_PENDING, SharingAudit, SharingGrant, SharingRequest

CSV_COLUMNS = ("id", "created", "actor_id", "actor_name", "action", "package_id", "resource_id",
               "organization_id", "request_id", "grant_id", "detail", "prev_hash", "hash")


def _moment(value: Optional[str], end_of_day: bool) -> Optional[dt.datetime]:
    if not value:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, dt.time(23, 59, 59) if end_of_day else dt.time(0), dt.timezone.utc)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO date or date-time: {value}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def sharing_audit_rows(
    organization: Optional[str] = None, package: Optional[str] = None, action: Optional[str] = None,
    since: Optional[str] = None, until: Optional[str] = None, batch: int = 1000,
) -> Iterator[SharingAudit]:
    """Ledger rows, oldest first, filtered; read in batches (the ledger may be large)."""
    q = model.Session.query(SharingAudit)
    if organization:
        org = model.Group.get(organization)
        q = q.filter(SharingAudit.organization_id == (org.id if org else organization))
    if package:
        pkg = model.Package.get(package)
        q = q.filter(SharingAudit.package_id == (pkg.id if pkg else package))
    if action:
        q = q.filter(SharingAudit.action == action)
    start, end = _moment(since, False), _moment(until, True)
    if start:
        q = q.filter(SharingAudit.created >= start)
    if end:
        q = q.filter(SharingAudit.created <= end)
    last = 0
    while True:
        rows = q.filter(SharingAudit.id > last).order_by(SharingAudit.id).limit(batch).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def sharing_audit_export(out: str, **filters: Optional[str]) -> int:
    """Write the (filtered) ledger as CSV to a path or '-' (stdout); returns the row count."""
    import json

    handle = sys.stdout if out == "-" else io.open(out, "w", encoding="utf-8", newline="")
    count = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in sharing_audit_rows(**filters):
            writer.writerow([
                row.id, row.created.isoformat(), row.actor_id or "", row.actor_name or "", row.action,
                row.package_id or "", row.resource_id or "", row.organization_id or "", row.request_id or "",
                row.grant_id or "", json.dumps(row.detail or {}, ensure_ascii=False, sort_keys=True),
                row.prev_hash, row.hash,
            ])
            count += 1
    finally:
        if handle is not sys.stdout:
            handle.close()
    return count


def sharing_request_lines(state: Optional[str] = None, overdue: bool = False) -> Iterator[str]:
    """Tab-separated request lines, pending (most overdue) first."""
    from ckanext.sharing.workdays import sharing_today

    today = sharing_today()
    q = model.Session.query(SharingRequest, model.Package.name, model.User.name).outerjoin(
        model.Package, model.Package.id == SharingRequest.package_id
    ).outerjoin(model.User, model.User.id == SharingRequest.requester_id)
    if state:
        q = q.filter(SharingRequest.state == state)
    if overdue:
        q = q.filter(SharingRequest.state == REQUEST_PENDING, SharingRequest.due_date < today)
    q = q.order_by(sa.case((SharingRequest.state == REQUEST_PENDING, 0), else_=1),
                   SharingRequest.due_date.asc().nulls_last(), SharingRequest.created.desc())
    yield "id\tstate\tdue_date\toverdue\tdataset\trequester"
    for req, pkg_name, user_name in q:
        late = req.state == REQUEST_PENDING and req.due_date is not None and req.due_date < today
        yield "\t".join([req.id, req.state, req.due_date.isoformat() if req.due_date else "",
                         "overdue" if late else "", pkg_name or req.package_id, user_name or req.requester_id])


def sharing_grant_lines(state: Optional[str] = None) -> Iterator[str]:
    """Tab-separated grant lines, soonest expiry first."""
    q = model.Session.query(SharingGrant, model.Package.name).outerjoin(
        model.Package, model.Package.id == SharingGrant.package_id
    )
    if state:
        q = q.filter(SharingGrant.state == state)
    yield "id\tstate\tdataset\tgrantee\texpires"
    for grant, pkg_name in q.order_by(SharingGrant.expires):
        grantee = f"user:{grant.user_id}" if grant.user_id else f"organization:{grant.organization_id}"
        yield "\t".join([grant.id, grant.state, pkg_name or grant.package_id, grantee, grant.expires.isoformat()])
