"""Plain dicts of requests and grants for the API and the pages (SPEC §4), built in a few queries."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ckan import model

from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import clock, delivery
from ckanext.sharing.workflow.states import GRANT_ACTIVE, GRANT_EXPIRED, REQUEST_PENDING


def _iso(value: Any) -> Optional[str]:
    """ISO text of a date or moment (None stays None)."""
    return value.isoformat() if value is not None else None


def _names(user_ids: Iterable[Optional[str]], pkg_ids: Iterable[str], org_ids: Iterable[Optional[str]]):
    """Names and titles of the users, datasets and organizations the rows refer to (three queries)."""
    uids = {u for u in user_ids if u}
    pids = {p for p in pkg_ids if p}
    oids = {o for o in org_ids if o}
    users = {
        r.id: r for r in model.Session.query(model.User.id, model.User.name, model.User.fullname)
        .filter(model.User.id.in_(uids))
    } if uids else {}
    pkgs = {
        r.id: r for r in model.Session.query(model.Package.id, model.Package.name, model.Package.title)
        .filter(model.Package.id.in_(pids))
    } if pids else {}
    orgs = {
        r.id: r for r in model.Session.query(model.Group.id, model.Group.name, model.Group.title)
        .filter(model.Group.id.in_(oids))
    } if oids else {}
    return users, pkgs, orgs


def request_dicts(rows: list[SharingRequest]) -> list[dict[str, Any]]:
    """Plain dicts of requests with names and titles, ``overdue`` and the grant id, in few queries."""
    users, pkgs, orgs = _names(
        [r.requester_id for r in rows] + [r.decided_by for r in rows],
        [r.package_id for r in rows],
        [r.owner_org for r in rows] + [r.organization_id for r in rows],
    )
    grants = dict(
        model.Session.query(SharingGrant.request_id, SharingGrant.id)
        .filter(SharingGrant.request_id.in_([r.id for r in rows]))
        .all()
    ) if rows else {}
    today = clock.today()
    out = []
    for r in rows:
        pkg, requester = pkgs.get(r.package_id), users.get(r.requester_id)
        owner, on_behalf = orgs.get(r.owner_org or ""), orgs.get(r.organization_id or "")
        decider = users.get(r.decided_by or "")
        out.append({
            "id": r.id,
            "package_id": r.package_id,
            "package_name": pkg.name if pkg else None,
            "package_title": (pkg.title or pkg.name) if pkg else None,
            "owner_org": r.owner_org,
            "owner_org_title": (owner.title or owner.name) if owner else None,
            "requester_id": r.requester_id,
            "requester_name": requester.name if requester else None,
            "requester_display_name": (requester.fullname or requester.name) if requester else None,
            "organization_id": r.organization_id,
            "organization_title": (on_behalf.title or on_behalf.name) if on_behalf else None,
            "resource_ids": list(r.resource_ids or []),
            "purpose": r.purpose,
            "use_scenario": r.use_scenario,
            "requested_days": r.requested_days,
            "state": r.state,
            "created": _iso(r.created),
            "modified": _iso(r.modified),
            "due_date": _iso(r.due_date),
            "overdue": bool(r.state == REQUEST_PENDING and r.due_date and r.due_date < today),
            "decided_by": r.decided_by,
            "decided_by_name": decider.name if decider else None,
            "decided_at": _iso(r.decided_at),
            "decision_reason": r.decision_reason,
            "grant_id": grants.get(r.id),
        })
    return out


def grant_dicts(rows: list[SharingGrant]) -> list[dict[str, Any]]:
    """Plain dicts of grants; ``effective_state`` says ``expired`` as soon as the clock passes ``expires``."""
    users, pkgs, orgs = _names(
        [g.user_id for g in rows] + [g.created_by for g in rows] + [g.revoked_by for g in rows],
        [g.package_id for g in rows],
        [g.owner_org for g in rows] + [g.organization_id for g in rows],
    )
    now = clock.now()
    out = []
    for g in rows:
        pkg, grantee, org = pkgs.get(g.package_id), users.get(g.user_id or ""), orgs.get(g.organization_id or "")
        owner = orgs.get(g.owner_org or "")
        effective = g.state
        if g.state == GRANT_ACTIVE and g.expires <= now:
            effective = GRANT_EXPIRED
        out.append({
            "id": g.id,
            "request_id": g.request_id,
            "package_id": g.package_id,
            "package_name": pkg.name if pkg else None,
            "package_title": (pkg.title or pkg.name) if pkg else None,
            "owner_org": g.owner_org,
            "owner_org_title": (owner.title or owner.name) if owner else None,
            "user_id": g.user_id,
            "user_name": grantee.name if grantee else None,
            "organization_id": g.organization_id,
            "organization_title": (org.title or org.name) if org else None,
            "resource_ids": list(g.resource_ids or []),
            "state": g.state,
            "effective_state": effective,
            "starts": _iso(g.starts),
            "expires": _iso(g.expires),
            "created": _iso(g.created),
            "created_by": g.created_by,
            "revoked_by": g.revoked_by,
            "revoked_at": _iso(g.revoked_at),
            "revoke_reason": g.revoke_reason,
        })
    return delivery.annotate(out)  # Art. 22: delivery_due, delivered
