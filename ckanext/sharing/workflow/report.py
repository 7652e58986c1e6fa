"""Plain-text lists behind ``ckan sharing requests list`` and ``ckan sharing grants list``."""
from __future__ import annotations

from typing import Iterator, Optional

import sqlalchemy as sa

from ckan import model

from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import clock
from ckanext.sharing.workflow.states import REQUEST_PENDING


def request_lines(state: Optional[str] = None, overdue: bool = False) -> Iterator[str]:
    """Tab-separated request lines, pending (most overdue) first."""
    today = clock.today()
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


def grant_lines(state: Optional[str] = None) -> Iterator[str]:
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
