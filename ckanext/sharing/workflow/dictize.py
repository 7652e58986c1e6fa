"""Plain dicts of requests and grants for the API and the pages (SPEC §4), built in a few queries."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ckan import model

from ckanext.sharing.model import SharingAudit, SharingGrant, SharingRequest
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


def _title(row: Any) -> Optional[str]:
    """The title of a name/title row, else its name (None for no row)."""
    return (row.title or row.name) if row else None


def _package_fields(row: Any, pkgs: dict[str, Any], orgs: dict[str, Any]) -> dict[str, Any]:
    """The dataset and owner fields shared by request and grant dicts."""
    pkg = pkgs.get(row.package_id)
    return {
        "id": row.id,
        "package_id": row.package_id,
        "package_name": pkg.name if pkg else None,
        "package_title": _title(pkg),
        "owner_org": row.owner_org,
        "owner_org_title": _title(orgs.get(row.owner_org or "")),
    }


def request_dicts(rows: list[SharingRequest]) -> list[dict[str, Any]]:
    """Plain dicts of requests with names and titles, ``overdue`` and the grant id, in few queries."""
    users, pkgs, orgs = _names(
        [r.requester_id for r in rows] + [r.decided_by for r in rows] + [r.returned_by for r in rows]
        + [r.extension_requested_by for r in rows] + [r.extension_decided_by for r in rows]
        + [r.resolved_by for r in rows],
        [r.package_id for r in rows],
        [r.owner_org for r in rows] + [r.organization_id for r in rows],
    )
    grants = dict(
        model.Session.query(SharingGrant.request_id, SharingGrant.id)
        .filter(SharingGrant.request_id.in_([r.id for r in rows]))
        .all()
    ) if rows else {}
    today = clock.today()

    def name(user_id: Optional[str]) -> Optional[str]:
        user = users.get(user_id or "")
        return user.name if user else None

    out = []
    for r in rows:
        requester = users.get(r.requester_id)
        running = r.state == REQUEST_PENDING and r.due_date is not None
        out.append({
            **_package_fields(r, pkgs, orgs),
            "requester_id": r.requester_id,
            "requester_name": requester.name if requester else None,
            "requester_display_name": (requester.fullname or requester.name) if requester else None,
            "organization_id": r.organization_id,
            "organization_title": _title(orgs.get(r.organization_id or "")),
            "resource_ids": list(r.resource_ids or []),
            "purpose": r.purpose,
            "use_scenario": r.use_scenario,
            "use_basis": r.use_basis,
            "use_scope": r.use_scope,
            "share_method": r.share_method,
            "requested_days": r.requested_days,
            "state": r.state,
            "created": _iso(r.created),
            "modified": _iso(r.modified),
            "due_date": _iso(r.due_date),
            "overdue": bool(running and r.due_date < today),
            # working days left until due_date (negative: overdue); None while the clock does not run
            "days_left": clock.workdays_left(r.due_date, today) if running else None,
            "decided_by": r.decided_by,
            "decided_by_name": name(r.decided_by),
            "decided_at": _iso(r.decided_at),
            "decision_reason": r.decision_reason,
            "grant_id": grants.get(r.id),
            "missing": list(r.missing or []),
            "returned_by_name": name(r.returned_by),
            "returned_at": _iso(r.returned_at),
            "resubmitted_at": _iso(r.resubmitted_at),
            "extension": None if r.extension_state is None else {
                "state": r.extension_state, "working_days": r.extension_days, "reason": r.extension_reason,
                "requested_by_name": name(r.extension_requested_by), "requested_at": _iso(r.extension_requested_at),
                "decided_by_name": name(r.extension_decided_by), "decided_at": _iso(r.extension_decided_at),
                "note": r.extension_note,
            },
            "escalation": None if r.escalated_at is None else {
                "reason": r.escalation_reason, "from": r.escalated_from, "escalated_at": _iso(r.escalated_at),
                "resolution": r.resolution, "resolved_by_name": name(r.resolved_by),
                "resolved_at": _iso(r.resolved_at), "note": r.resolution_note,
            },
        })
    return out


def timeline_dicts(rows: list[SharingAudit]) -> list[dict[str, Any]]:
    """The request's ledger rows as its timeline: event, moment, actor and the event's detail."""
    return [{"id": row.id, "action": row.action, "created": _iso(row.created), "actor_name": row.actor_name,
             "detail": dict(row.detail or {})} for row in rows]


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
        grantee = users.get(g.user_id or "")
        effective = g.state
        if g.state == GRANT_ACTIVE and g.expires <= now:
            effective = GRANT_EXPIRED
        out.append({
            **_package_fields(g, pkgs, orgs),
            "request_id": g.request_id,
            "user_id": g.user_id,
            "user_name": grantee.name if grantee else None,
            "organization_id": g.organization_id,
            "organization_title": _title(orgs.get(g.organization_id or "")),
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
