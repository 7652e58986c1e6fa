"""State transitions of the request → decision → grant workflow (SPEC §4).

Actions (:mod:`ckanext.sharing.logic.action.workflow`) validate input and check auth, then call these
functions. Each transition locks its row, writes its ledger row in the same transaction as the state
change and queues its e-mail with :func:`ckanext.sharing.workflow.outbox.after_commit`, so nothing is
sent for a change that was rolled back, and nothing is sent from inside the web request. Access
decisions are never made here: they are :func:`ckanext.sharing.access.facts.decide_for_package`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

from sqlalchemy.exc import IntegrityError

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import facts, policy, roles
from ckanext.sharing.ledger import chain, events
from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import clock, notify, outbox, queries
from ckanext.sharing.workflow.states import (
    GRANT_ACTIVE,
    GRANT_REVOKED,
    REQUEST_APPROVED,
    REQUEST_CANCELLED,
    REQUEST_PENDING,
    REQUEST_REJECTED,
    REQUEST_WITHDRAWN,
)


def _invalid(field: str, message: str) -> tk.ValidationError:
    """A ValidationError naming one field."""
    return tk.ValidationError({field: [message]})


def _audit(action: str, user: Optional[model.User], **kwargs: Any) -> None:
    """Append a ledger row for this transition, acted by ``user``."""
    chain.append(action, actor_id=user.id if user else None, actor_name=user.name if user else None, **kwargs)


def create_request(user: model.User, data: Mapping[str, Any]) -> SharingRequest:
    """Create a pending request after the checks of SPEC §4; commits and queues the deciders' e-mail."""
    pkg = model.Package.get(data["package_id"])
    if pkg is None or pkg.state != "active":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    tier = facts.tier_of_package(pkg)
    if tier == policy.OPEN:
        raise _invalid("package_id", tk._("This dataset is already open: its data needs no request"))
    if tier == policy.NOT_SHARED:
        raise _invalid("package_id", tk._("This dataset is not shared: it cannot be requested"))

    resource_ids = list(data.get("resource_ids") or [])
    active = {r.id for r in pkg.resources}
    unknown = [rid for rid in resource_ids if rid not in active]
    if unknown:
        raise _invalid("resource_ids", tk._("Not resources of this dataset: %s") % ", ".join(unknown))

    decisions = [facts.decide_for_package({"auth_user_obj": user, "user": user.name}, pkg, rid)
                 for rid in (resource_ids or [None])]
    if all(d.full for d in decisions):
        raise _invalid("package_id", tk._("You already have access to this data"))

    org_id = data.get("organization_id")
    if org_id:
        org = model.Group.get(org_id)
        if org is None or not org.is_organization or org.state != "active":
            raise _invalid("organization_id", tk._("Organization not found"))
        if org.id not in roles.capacities(user):
            raise _invalid("organization_id", tk._("You can only request on behalf of your own organization"))
        org_id = org.id

    if queries.pending_exists(user.id, pkg.id):
        raise _invalid("package_id", tk._("You already have a pending request for this dataset"))

    now = clock.now()
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
        due_date=clock.due_date(now),
    )
    model.Session.add(req)
    try:
        model.Session.flush()
    except IntegrityError:  # a concurrent request won the partial unique index
        model.Session.rollback()
        raise _invalid("package_id", tk._("You already have a pending request for this dataset"))
    _audit(
        events.REQUEST_CREATE, user, package_id=pkg.id, organization_id=pkg.owner_org, request_id=req.id,
        detail={"resource_ids": resource_ids, "requested_days": req.requested_days, "on_behalf_of": org_id,
                "purpose": req.purpose, "due_date": req.due_date.isoformat()},
    )
    outbox.after_commit(notify.new_request, req.id)
    model.Session.commit()
    return req


def _locked(cls: Any, row_id: str, not_found: str) -> Any:
    """The row, locked (``SELECT … FOR UPDATE``) and re-read, for a transition."""
    row = model.Session.query(cls).filter(cls.id == row_id).with_for_update().populate_existing().one_or_none()
    if row is None:
        raise tk.ObjectNotFound(not_found)
    return row


def lock_request(request_id: str) -> SharingRequest:
    """The request row, locked and re-read, for a transition."""
    return _locked(SharingRequest, request_id, tk._("Access request not found"))


def _require_pending(req: SharingRequest) -> None:
    if req.state != REQUEST_PENDING:
        model.Session.rollback()
        raise _invalid("id", tk._("This request is no longer pending (it is %s)") % req.state)


def approve(
    user: model.User,
    request_id: str,
    expires: Optional[dt.datetime] = None,
    resource_ids: Optional[list[str]] = None,
    reason: Optional[str] = None,
    bare_date: bool = False,
) -> SharingGrant:
    """Approve a pending request: one grant (period ≤ requested, scope ⊆ requested); commits.

    ``bare_date``: ``expires`` was given as a date (it means the end of that day), so it may pass the
    requested period by up to a day; a date-time may not pass it at all (issue 10).
    """
    req = lock_request(request_id)
    _require_pending(req)
    now = clock.now()
    longest = now + dt.timedelta(days=req.requested_days)
    latest = longest + dt.timedelta(days=1) if bare_date else longest
    if expires is None:
        expires = longest
    elif expires <= now:
        model.Session.rollback()
        raise _invalid("expires", tk._("Must be in the future"))
    elif expires > latest:
        model.Session.rollback()
        raise _invalid("expires", tk._("Must not be later than the requested period (%s)") % longest.date().isoformat())
    expires = min(expires, latest)

    pkg = model.Package.get(req.package_id)
    if pkg is None or pkg.state != "active":
        model.Session.rollback()
        raise _invalid("id", tk._("The dataset of this request no longer exists"))
    if not policy.requestable(facts.tier_of_package(pkg)):
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
        events.REQUEST_APPROVE, user, package_id=req.package_id, organization_id=pkg.owner_org,
        request_id=req.id, grant_id=grant.id,
        detail={"expires": expires.isoformat(), "resource_ids": scope, "requester_id": req.requester_id,
                "organization_id": req.organization_id, "reason": reason},
    )
    outbox.after_commit(notify.decision, req.id)
    model.Session.commit()
    return grant


def reject(user: model.User, request_id: str, reason: str) -> SharingRequest:
    """Reject a pending request with a reason; commits and queues the requester's e-mail."""
    req = lock_request(request_id)
    _require_pending(req)
    now = clock.now()
    req.state = REQUEST_REJECTED
    req.decided_by, req.decided_at, req.decision_reason, req.modified = user.id, now, reason, now
    _audit(
        events.REQUEST_REJECT, user, package_id=req.package_id, organization_id=req.owner_org,
        request_id=req.id, detail={"reason": reason, "requester_id": req.requester_id},
    )
    outbox.after_commit(notify.decision, req.id)
    model.Session.commit()
    return req


def withdraw(user: model.User, request_id: str, reason: Optional[str] = None) -> SharingRequest:
    """The requester takes back a pending request; commits."""
    req = lock_request(request_id)
    _require_pending(req)
    now = clock.now()
    req.state = REQUEST_WITHDRAWN
    req.decision_reason, req.modified = reason, now
    _audit(
        events.REQUEST_WITHDRAW, user, package_id=req.package_id, organization_id=req.owner_org,
        request_id=req.id, detail={"reason": reason},
    )
    model.Session.commit()
    return req


def lock_grant(grant_id: str) -> SharingGrant:
    """The grant row, locked and re-read, for a revocation or expiry."""
    return _locked(SharingGrant, grant_id, tk._("Grant not found"))


def _revoke(grant: SharingGrant, user: Optional[model.User], reason: str, now: dt.datetime) -> None:
    grant.state = GRANT_REVOKED
    grant.revoked_by, grant.revoked_at, grant.revoke_reason = (user.id if user else None), now, reason
    _audit(
        events.GRANT_REVOKE, user, package_id=grant.package_id, organization_id=grant.owner_org,
        request_id=grant.request_id, grant_id=grant.id,
        detail={"reason": reason, "user_id": grant.user_id, "organization_id": grant.organization_id},
    )
    outbox.after_commit(notify.revocation, grant.id)


def revoke(user: model.User, grant_id: str, reason: str) -> SharingGrant:
    """Revoke an active grant at once (the next access is refused); commits and notifies the grantee."""
    grant = lock_grant(grant_id)
    if grant.state != GRANT_ACTIVE:
        model.Session.rollback()
        raise _invalid("id", tk._("This grant is no longer active (it is %s)") % grant.state)
    _revoke(grant, user, reason, clock.now())
    model.Session.commit()
    return grant


def tier_changed(
    context: Mapping[str, Any], package_id: str, owner_org: Optional[str], old: Optional[str], new: str,
    reason: Optional[str],
) -> None:
    """Record a tier change (old, new, actor, reason: SPEC §1) and run its workflow follow-up (SPEC §4).

    Called from the dataset's create/update hooks, inside the transaction core commits, so the ledger
    row, the cancellations and the revocations commit or roll back together with the change.
    """
    user = facts.user_from_context(context)
    _audit(
        events.TIER_CHANGE, user, package_id=package_id, organization_id=owner_org,
        detail={"old": old, "new": new, "reason": reason},
    )
    on_tier_change(context, {"id": package_id, "owner_org": owner_org}, old, new)


def on_tier_change(context: Mapping[str, Any], pkg_dict: Mapping[str, Any], old: Optional[str], new: str) -> None:
    """Follow-up of a tier change (SPEC §4): leaving ``conditional`` cancels pending requests; entering a
    tier of :func:`policy.revokes_grants` revokes every active grant whatever the path (issue 10: a grant
    must not come back after conditional → open → not_shared → conditional). Requesters are notified
    after the commit.

    Called inside the transaction that records the change; the caller commits.
    """
    if old == new or new == policy.CONDITIONAL:
        return
    user = facts.user_from_context(context)
    now = clock.now()
    note = (tk._("The dataset is now open: its data needs no request") if new == policy.OPEN
            else tk._("The dataset is no longer shared"))
    pending = [] if old != policy.CONDITIONAL else (
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
            events.REQUEST_CANCEL, user, package_id=req.package_id, organization_id=req.owner_org,
            request_id=req.id, detail={"reason": note, "old_tier": old, "new_tier": new},
        )
        outbox.after_commit(notify.decision, req.id)
    if policy.revokes_grants(new):
        grants = (
            model.Session.query(SharingGrant)
            .filter(SharingGrant.package_id == pkg_dict["id"], SharingGrant.state == GRANT_ACTIVE)
            .with_for_update()
            .all()
        )
        for grant in grants:
            _revoke(grant, user, note, now)
    model.Session.flush()


def owner_changed(context: Mapping[str, Any], package_id: str, old_owner: Optional[str], new_owner: Optional[str]) -> None:
    """A dataset moved to another organization: its requests and grants move to the new owner's
    queues (SPEC §4; issue 10, hole 6), so the new deciders see them and get the overdue mails and the
    old ones no longer do. One ledger row; called inside core's transaction, the caller commits."""
    if old_owner == new_owner:
        return
    moved_requests = (
        model.Session.query(SharingRequest).filter(SharingRequest.package_id == package_id)
        .update({SharingRequest.owner_org: new_owner}, synchronize_session=False)
    )
    moved_grants = (
        model.Session.query(SharingGrant).filter(SharingGrant.package_id == package_id)
        .update({SharingGrant.owner_org: new_owner}, synchronize_session=False)
    )
    _audit(
        events.OWNER_CHANGE, facts.user_from_context(context), package_id=package_id, organization_id=new_owner,
        detail={"old": old_owner, "new": new_owner, "requests": moved_requests, "grants": moved_grants},
    )
    model.Session.flush()
