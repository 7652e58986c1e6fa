"""The request → decision → grant workflow (SPEC §4): state transitions, audit rows, notifications.

Actions (:mod:`ckanext.sharing.logic.action`) validate input and check auth, then call these
functions. Each transition writes its audit row in the same transaction as the state change and
queues its e-mail with :func:`ckanext.sharing.jobs.sharing_after_commit`, so nothing is sent for a
change that was rolled back, and nothing is sent from inside the web request.
Access decisions are never made here: they are :func:`ckanext.sharing.access.decide_for_package`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import access, audit, jobs, policy, workdays
from ckanext.sharing.model import (
    GRANT_ACTIVE,
    GRANT_EXPIRED,
    GRANT_REVOKED,
    REQUEST_APPROVED,
    REQUEST_CANCELLED,
    REQUEST_PENDING,
    REQUEST_REJECTED,
    REQUEST_WITHDRAWN,
    SharingAudit,
    SharingGrant,
    SharingRequest,
)

REMINDER_DAYS = 7
# Ledger action of a request whose reply deadline passed (written once per request, when deciders are told).
REQUEST_OVERDUE = "request_overdue"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _invalid(field: str, message: str) -> tk.ValidationError:
    return tk.ValidationError({field: [message]})


# --- who decides ------------------------------------------------------------------------------


def sharing_decider_capacities() -> tuple[str, ...]:
    """Capacities in the owning organization that may decide (``ckanext.sharing.approver_capacity``)."""
    if tk.config.get("ckanext.sharing.approver_capacity") == "editor":
        return ("admin", "editor")
    return ("admin",)


def sharing_is_decider(user: Optional[model.User], owner_org: Optional[str]) -> bool:
    """Sysadmins, and members of ``owner_org`` with a deciding capacity."""
    if user is None:
        return False
    if user.sysadmin:
        return True
    if not owner_org:
        return False
    return access.user_capacities(user.id).get(owner_org) in sharing_decider_capacities()


def sharing_decided_orgs(user: Optional[model.User]) -> list[str]:
    """Organizations whose requests ``user`` decides (not meaningful for sysadmins: they decide all)."""
    if user is None:
        return []
    allowed = sharing_decider_capacities()
    return [org for org, cap in access.user_capacities(user.id).items() if cap in allowed]


def sharing_package_org(package_id: str, fallback: Optional[str] = None) -> Optional[str]:
    """The dataset's current owner organization (a moved dataset is decided by its new owner)."""
    pkg = model.Package.get(package_id)
    return pkg.owner_org if pkg is not None else fallback


# --- dictization --------------------------------------------------------------------------------


def _iso(value: Any) -> Optional[str]:
    return value.isoformat() if value is not None else None


def _names(user_ids: Iterable[Optional[str]], pkg_ids: Iterable[str], org_ids: Iterable[Optional[str]]):
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


def sharing_request_dicts(rows: list[SharingRequest]) -> list[dict[str, Any]]:
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
    today = workdays.sharing_today()
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


def sharing_grant_dicts(rows: list[SharingGrant]) -> list[dict[str, Any]]:
    """Plain dicts of grants; ``effective_state`` says ``expired`` as soon as the clock passes ``expires``."""
    users, pkgs, orgs = _names(
        [g.user_id for g in rows] + [g.created_by for g in rows] + [g.revoked_by for g in rows],
        [g.package_id for g in rows],
        [g.owner_org for g in rows] + [g.organization_id for g in rows],
    )
    now = _now()
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
    return out


# --- transitions ----------------------------------------------------------------------------------


def _audit(action: str, user: Optional[model.User], **kwargs: Any) -> None:
    audit.record(action, actor_id=user.id if user else None, actor_name=user.name if user else None, **kwargs)


def sharing_create_request(user: model.User, data: Mapping[str, Any]) -> SharingRequest:
    """Create a pending request after the checks of SPEC §4; commits and queues the deciders' e-mail."""
    pkg = model.Package.get(data["package_id"])
    if pkg is None or pkg.state != "active":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    tier = access.tier_of_package(pkg)
    if tier == policy.OPEN:
        raise _invalid("package_id", tk._("This dataset is already open: its data needs no request"))
    if tier == policy.NOT_SHARED:
        raise _invalid("package_id", tk._("This dataset is not shared: it cannot be requested"))

    resource_ids = list(data.get("resource_ids") or [])
    active = {r.id for r in pkg.resources}
    unknown = [rid for rid in resource_ids if rid not in active]
    if unknown:
        raise _invalid("resource_ids", tk._("Not resources of this dataset: %s") % ", ".join(unknown))

    decisions = [access.decide_for_package({"auth_user_obj": user, "user": user.name}, pkg, rid)
                 for rid in (resource_ids or [None])]
    if all(d.full for d in decisions):
        raise _invalid("package_id", tk._("You already have access to this data"))

    org_id = data.get("organization_id")
    if org_id:
        org = model.Group.get(org_id)
        if org is None or not org.is_organization or org.state != "active":
            raise _invalid("organization_id", tk._("Organization not found"))
        if org.id not in access.user_capacities(user.id):
            raise _invalid("organization_id", tk._("You can only request on behalf of your own organization"))
        org_id = org.id

    if _pending_exists(user.id, pkg.id):
        raise _invalid("package_id", tk._("You already have a pending request for this dataset"))

    now = _now()
    req = SharingRequest(
        package_id=pkg.id,
        owner_org=pkg.owner_org,
        requester_id=user.id,
        organization_id=org_id,
        resource_ids=resource_ids,
        purpose=data["purpose"],
        use_scenario=data["use_scenario"],
        requested_days=int(data["requested_days"]),
        state=REQUEST_PENDING,
        created=now,
        modified=now,
        due_date=workdays.sharing_due_date(now),
    )
    model.Session.add(req)
    try:
        model.Session.flush()
    except IntegrityError:  # a concurrent request won the partial unique index
        model.Session.rollback()
        raise _invalid("package_id", tk._("You already have a pending request for this dataset"))
    _audit(
        audit.REQUEST_CREATE, user, package_id=pkg.id, organization_id=pkg.owner_org, request_id=req.id,
        detail={"resource_ids": resource_ids, "requested_days": req.requested_days, "on_behalf_of": org_id,
                "purpose": req.purpose, "due_date": req.due_date.isoformat()},
    )
    jobs.sharing_after_commit("sharing_notify_new_request", req.id)
    model.Session.commit()
    return req


def _pending_exists(user_id: str, package_id: str) -> bool:
    return model.Session.query(
        model.Session.query(SharingRequest.id)
        .filter_by(requester_id=user_id, package_id=package_id, state=REQUEST_PENDING)
        .exists()
    ).scalar()


def _locked(cls: Any, row_id: str, not_found: str) -> Any:
    """The row, locked (``SELECT … FOR UPDATE``) and re-read, for a transition."""
    row = model.Session.query(cls).filter(cls.id == row_id).with_for_update().populate_existing().one_or_none()
    if row is None:
        raise tk.ObjectNotFound(not_found)
    return row


def sharing_lock_request(request_id: str) -> SharingRequest:
    """The request row, locked and re-read, for a transition."""
    return _locked(SharingRequest, request_id, tk._("Access request not found"))


def _require_pending(req: SharingRequest) -> None:
    if req.state != REQUEST_PENDING:
        model.Session.rollback()
        raise _invalid("id", tk._("This request is no longer pending (it is %s)") % req.state)


def sharing_approve(
    user: model.User,
    request_id: str,
    expires: Optional[dt.datetime] = None,
    resource_ids: Optional[list[str]] = None,
    reason: Optional[str] = None,
) -> SharingGrant:
    """Approve a pending request: one grant (period ≤ requested, scope ⊆ requested); commits."""
    req = sharing_lock_request(request_id)
    _require_pending(req)
    now = _now()
    longest = now + dt.timedelta(days=req.requested_days)
    if expires is None:
        expires = longest
    elif expires <= now:
        model.Session.rollback()
        raise _invalid("expires", tk._("Must be in the future"))
    elif expires > longest + dt.timedelta(days=1):  # a bare date means the end of that day
        model.Session.rollback()
        raise _invalid("expires", tk._("Must not be later than the requested period (%s)") % longest.date().isoformat())
    expires = min(expires, longest + dt.timedelta(days=1))

    pkg = model.Package.get(req.package_id)
    if pkg is None or pkg.state != "active":
        model.Session.rollback()
        raise _invalid("id", tk._("The dataset of this request no longer exists"))
    if access.tier_of_package(pkg) != policy.CONDITIONAL:
        model.Session.rollback()
        raise _invalid("id", tk._("The dataset is no longer shared on request"))
    scope = list(resource_ids or [])
    allowed = set(req.resource_ids or []) or {r.id for r in pkg.resources}
    outside = [rid for rid in scope if rid not in allowed]
    if outside:
        model.Session.rollback()
        raise _invalid("resource_ids", tk._("Not within the requested resources: %s") % ", ".join(outside))
    if not scope:
        scope = list(req.resource_ids or [])

    grant = SharingGrant(
        request_id=req.id,
        package_id=req.package_id,
        owner_org=pkg.owner_org,
        user_id=None if req.organization_id else req.requester_id,
        organization_id=req.organization_id,
        resource_ids=scope,
        state=GRANT_ACTIVE,
        starts=now,
        expires=expires,
        created=now,
        created_by=user.id,
    )
    req.state = REQUEST_APPROVED
    req.decided_by, req.decided_at, req.decision_reason, req.modified = user.id, now, reason, now
    model.Session.add(grant)
    try:
        model.Session.flush()
    except IntegrityError:  # the unique index on sharing_grant.request_id: someone else decided
        model.Session.rollback()
        raise _invalid("id", tk._("This request has already been decided"))
    _audit(
        audit.REQUEST_APPROVE, user, package_id=req.package_id, organization_id=pkg.owner_org,
        request_id=req.id, grant_id=grant.id,
        detail={"expires": expires.isoformat(), "resource_ids": scope, "requester_id": req.requester_id,
                "organization_id": req.organization_id, "reason": reason},
    )
    jobs.sharing_after_commit("sharing_notify_decision", req.id)
    model.Session.commit()
    return grant


def sharing_reject(user: model.User, request_id: str, reason: str) -> SharingRequest:
    """Reject a pending request with a reason; commits and queues the requester's e-mail."""
    req = sharing_lock_request(request_id)
    _require_pending(req)
    now = _now()
    req.state = REQUEST_REJECTED
    req.decided_by, req.decided_at, req.decision_reason, req.modified = user.id, now, reason, now
    _audit(
        audit.REQUEST_REJECT, user, package_id=req.package_id, organization_id=req.owner_org,
        request_id=req.id, detail={"reason": reason, "requester_id": req.requester_id},
    )
    jobs.sharing_after_commit("sharing_notify_decision", req.id)
    model.Session.commit()
    return req


def sharing_withdraw(user: model.User, request_id: str, reason: Optional[str] = None) -> SharingRequest:
    """The requester takes back a pending request; commits."""
    req = sharing_lock_request(request_id)
    _require_pending(req)
    now = _now()
    req.state = REQUEST_WITHDRAWN
    req.decision_reason, req.modified = reason, now
    _audit(
        audit.REQUEST_WITHDRAW, user, package_id=req.package_id, organization_id=req.owner_org,
        request_id=req.id, detail={"reason": reason},
    )
    model.Session.commit()
    return req


def sharing_lock_grant(grant_id: str) -> SharingGrant:
    """The grant row, locked and re-read, for a revocation or expiry."""
    return _locked(SharingGrant, grant_id, tk._("Grant not found"))


def _revoke(grant: SharingGrant, user: Optional[model.User], reason: str, now: dt.datetime) -> None:
    grant.state = GRANT_REVOKED
    grant.revoked_by, grant.revoked_at, grant.revoke_reason = (user.id if user else None), now, reason
    _audit(
        audit.GRANT_REVOKE, user, package_id=grant.package_id, organization_id=grant.owner_org,
        request_id=grant.request_id, grant_id=grant.id,
        detail={"reason": reason, "user_id": grant.user_id, "organization_id": grant.organization_id},
    )
    jobs.sharing_after_commit("sharing_notify_revocation", grant.id)


def sharing_revoke(user: model.User, grant_id: str, reason: str) -> SharingGrant:
    """Revoke an active grant at once (the next access is refused); commits and notifies the grantee."""
    grant = sharing_lock_grant(grant_id)
    if grant.state != GRANT_ACTIVE:
        model.Session.rollback()
        raise _invalid("id", tk._("This grant is no longer active (it is %s)") % grant.state)
    _revoke(grant, user, reason, _now())
    model.Session.commit()
    return grant


def sharing_expire_grants(now: Optional[dt.datetime] = None) -> list[str]:
    """Mark active grants past their end ``expired`` (one audit row each); commits; returns their ids.

    Access never waits for this: the policy compares ``expires`` with the clock at each access.
    ``SKIP LOCKED`` lets several workers run it at once without doing a grant twice.
    """
    now = now or _now()
    rows = (
        model.Session.query(SharingGrant)
        .filter(SharingGrant.state == GRANT_ACTIVE, SharingGrant.expires <= now)
        .order_by(SharingGrant.expires)
        .with_for_update(skip_locked=True)
        .all()
    )
    for grant in rows:
        grant.state = GRANT_EXPIRED
        audit.record(
            audit.GRANT_EXPIRE, package_id=grant.package_id, organization_id=grant.owner_org,
            request_id=grant.request_id, grant_id=grant.id, detail={"expires": grant.expires.isoformat()},
        )
    model.Session.commit()
    return [g.id for g in rows]


def sharing_grants_to_remind(now: Optional[dt.datetime] = None) -> list[str]:
    """Active grants ending within 7 days whose grantee has not been reminded yet."""
    now = now or _now()
    return [
        gid for (gid,) in model.Session.query(SharingGrant.id)
        .filter(SharingGrant.state == GRANT_ACTIVE)
        .filter(SharingGrant.expires > now)
        .filter(SharingGrant.expires <= now + dt.timedelta(days=REMINDER_DAYS))
        .filter(SharingGrant.reminded_at.is_(None))
        .order_by(SharingGrant.expires)
    ]


def sharing_flag_overdue(now: Optional[dt.datetime] = None) -> list[str]:
    """Pending requests past their due date not yet flagged: one ``request_overdue`` ledger row each
    (committed), and the deciders' e-mail queued. Returns the request ids."""
    today = workdays.sharing_local_date(now or _now())
    flagged = sa.select(SharingAudit.request_id).where(SharingAudit.action == REQUEST_OVERDUE)
    rows = (
        model.Session.query(SharingRequest)
        .filter(SharingRequest.state == REQUEST_PENDING, SharingRequest.due_date < today)
        .filter(SharingRequest.id.not_in(flagged))
        .order_by(SharingRequest.due_date)
        .with_for_update(skip_locked=True)
        .all()
    )
    for req in rows:
        audit.record(
            REQUEST_OVERDUE, package_id=req.package_id, organization_id=req.owner_org, request_id=req.id,
            detail={"due_date": req.due_date.isoformat() if req.due_date else None},
        )
        jobs.sharing_after_commit("sharing_notify_overdue", req.id)
    model.Session.commit()
    return [r.id for r in rows]


def on_tier_change(context: Mapping[str, Any], pkg_dict: Mapping[str, Any], old: Optional[str], new: str) -> None:
    """Follow-up of a tier change (SPEC §4): leaving ``conditional`` cancels pending requests; going to
    ``not_shared`` also revokes active grants. Requesters are notified after the commit.

    Called inside the transaction that records the change; the caller commits.
    """
    if old != policy.CONDITIONAL or new == policy.CONDITIONAL:
        return
    user = access.user_from_context(context)
    now = _now()
    note = (tk._("The dataset is now open: its data needs no request") if new == policy.OPEN
            else tk._("The dataset is no longer shared"))
    pending = (
        model.Session.query(SharingRequest)
        .filter(SharingRequest.package_id == pkg_dict["id"], SharingRequest.state == REQUEST_PENDING)
        .with_for_update()
        .all()
    )
    for req in pending:
        req.state = REQUEST_CANCELLED
        req.decision_reason, req.decided_at, req.modified = note, now, now
        req.decided_by = user.id if user else None
        _audit(
            audit.REQUEST_CANCEL, user, package_id=req.package_id, organization_id=req.owner_org,
            request_id=req.id, detail={"reason": note, "old_tier": old, "new_tier": new},
        )
        jobs.sharing_after_commit("sharing_notify_decision", req.id)
    if new == policy.NOT_SHARED:
        grants = (
            model.Session.query(SharingGrant)
            .filter(SharingGrant.package_id == pkg_dict["id"], SharingGrant.state == GRANT_ACTIVE)
            .with_for_update()
            .all()
        )
        for grant in grants:
            _revoke(grant, user, note, now)
    model.Session.flush()


def sharing_visible_requests(
    user: model.User,
    *,
    package_id: Optional[str] = None,
    organization_id: Optional[str] = None,
    state: Optional[str] = None,
    mine: bool = False,
) -> sa.orm.Query:
    """Requests the user may see (own; plus the organizations they decide), filtered; overdue first."""
    q = model.Session.query(SharingRequest)
    if mine:
        q = q.filter(SharingRequest.requester_id == user.id)
    elif not user.sysadmin:
        orgs = sharing_decided_orgs(user)
        q = q.filter(sa.or_(SharingRequest.requester_id == user.id, SharingRequest.owner_org.in_(orgs))
                     if orgs else SharingRequest.requester_id == user.id)
    if package_id:
        pkg = model.Package.get(package_id)
        q = q.filter(SharingRequest.package_id == (pkg.id if pkg else package_id))
    if organization_id:
        org = model.Group.get(organization_id)
        q = q.filter(SharingRequest.owner_org == (org.id if org else organization_id))
    if state:
        q = q.filter(SharingRequest.state == state)
    return q.order_by(
        sa.case((SharingRequest.state == REQUEST_PENDING, 0), else_=1),
        SharingRequest.due_date.asc().nulls_last(),
        SharingRequest.created.desc(),
    )


def sharing_visible_grants(
    user: model.User,
    *,
    package_id: Optional[str] = None,
    organization_id: Optional[str] = None,
    state: Optional[str] = None,
    mine: bool = False,
) -> sa.orm.Query:
    """Grants the user may see (to them or their organizations; plus those of organizations they decide)."""
    q = model.Session.query(SharingGrant)
    own_orgs = list(access.user_capacities(user.id))
    own = SharingGrant.user_id == user.id
    if own_orgs:
        own = sa.or_(own, SharingGrant.organization_id.in_(own_orgs))
    if mine:
        q = q.filter(own)
    elif not user.sysadmin:
        orgs = sharing_decided_orgs(user)
        q = q.filter(sa.or_(own, SharingGrant.owner_org.in_(orgs)) if orgs else own)
    if package_id:
        pkg = model.Package.get(package_id)
        q = q.filter(SharingGrant.package_id == (pkg.id if pkg else package_id))
    if organization_id:
        org = model.Group.get(organization_id)
        q = q.filter(SharingGrant.owner_org == (org.id if org else organization_id))
    if state:
        q = q.filter(SharingGrant.state == state)
    return q.order_by(
        sa.case((SharingGrant.state == GRANT_ACTIVE, 0), else_=1), SharingGrant.expires.asc()
    )
