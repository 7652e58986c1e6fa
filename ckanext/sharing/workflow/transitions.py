"""State transitions of the request → decision → grant workflow (SPEC §4).

Actions (:mod:`ckanext.sharing.logic.action.workflow`) validate input and check auth, then call these
functions. Each transition locks its row, writes its ledger row in the same transaction as the state
change and queues its e-mail with :func:`ckanext.sharing.workflow.outbox.after_commit`, so nothing is
sent for a change that was rolled back, and nothing is sent from inside the web request. Access
decisions are never made here: they are :func:`ckanext.sharing.access.facts.decide_for_package`.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping, NoReturn, Optional

from sqlalchemy.exc import IntegrityError

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import facts, policy, roles
from ckanext.sharing.ledger import chain, events
from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import clock, notify, outbox, queries
from ckanext.sharing.workflow.states import (
    EXTENSION_APPROVED,
    EXTENSION_ASKED,
    EXTENSION_REFUSED,
    GRANT_ACTIVE,
    GRANT_REVOKED,
    REQUEST_APPROVED,
    REQUEST_CANCELLED,
    REQUEST_ESCALATED,
    REQUEST_OPEN_STATES,
    REQUEST_PENDING,
    REQUEST_REJECTED,
    REQUEST_RETURNED,
    REQUEST_WITHDRAWN,
    SHARE_METHODS,
)


def _invalid(field: str, message: str) -> tk.ValidationError:
    """A ValidationError naming one field."""
    return tk.ValidationError({field: [message]})


def _refuse(field: str, message: str) -> NoReturn:
    """Undo the transaction (releasing the row lock) and refuse with a ValidationError naming ``field``."""
    model.Session.rollback()
    raise _invalid(field, message)


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

    resource_ids = _check_scope(pkg, data.get("resource_ids"))
    _check_share_method(pkg, data["share_method"])

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
        use_basis=data["use_basis"],
        use_scope=data["use_scope"],
        share_method=data["share_method"],
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
                "purpose": req.purpose, "use_scenario": req.use_scenario, "use_basis": req.use_basis,
                "use_scope": req.use_scope, "share_method": req.share_method, "due_date": req.due_date.isoformat()},
    )
    outbox.after_commit(notify.new_request, req.id)
    model.Session.commit()
    return req


def _check_scope(pkg: model.Package, resource_ids: Any) -> list[str]:
    """The requested resources, each an active resource of the dataset (else a ValidationError)."""
    ids = list(resource_ids or [])
    active = {r.id for r in pkg.resources}
    unknown = [rid for rid in ids if rid not in active]
    if unknown:
        raise _invalid("resource_ids", tk._("Not resources of this dataset: %s") % ", ".join(unknown))
    return ids


def offered_methods(pkg: model.Package) -> tuple[str, ...]:
    """The 共享方式 the dataset's catalogue entry offers (SPEC §6 ``share_method``); all three when the
    entry names none (a dataset without the catalogue schema)."""
    raw = pkg.extras.get("share_method")
    try:
        listed = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        listed = [raw]
    listed = [listed] if isinstance(listed, str) else listed
    offered = tuple(m for m in SHARE_METHODS if m in (listed or ()))
    return offered or SHARE_METHODS


def _check_share_method(pkg: model.Package, method: str) -> None:
    """A request names one of the 共享方式 its dataset offers (SPEC §4, Art. 20)."""
    offered = offered_methods(pkg)
    if method not in offered:
        raise _invalid("share_method", tk._("This dataset is shared by: %s") % ", ".join(offered))


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
    """Refuse a transition that needs a pending request."""
    _require_state(req, REQUEST_PENDING, tk._("This request is no longer pending (it is %s)"))


def _require_state(req: SharingRequest, state: str, message: str) -> None:
    """Refuse (field ``id``) unless the locked request is in ``state``; ``message`` takes the state."""
    if req.state != state:
        _refuse("id", message % req.state)


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
    grant = _grant(user, req, expires, resource_ids, reason, bare_date)
    _audit(
        events.REQUEST_APPROVE, user, package_id=req.package_id, organization_id=grant.owner_org,
        request_id=req.id, grant_id=grant.id, detail=_grant_detail(req, grant, reason),
    )
    outbox.after_commit(notify.decision, req.id)
    model.Session.commit()
    return grant


def _grant_detail(req: SharingRequest, grant: SharingGrant, reason: Optional[str]) -> dict[str, Any]:
    """The ledger detail of a grant made by a decision."""
    return {"expires": grant.expires.isoformat(), "resource_ids": list(grant.resource_ids or []),
            "requester_id": req.requester_id, "organization_id": req.organization_id, "reason": reason}


def _grant(
    user: model.User, req: SharingRequest, expires: Optional[dt.datetime], resource_ids: Optional[list[str]],
    reason: Optional[str], bare_date: bool,
) -> SharingGrant:
    """Make the one grant of the locked request (approval, or the authority's resolution: Art. 28) and
    mark the request approved; flushed, not committed."""
    now = clock.now()
    longest = now + dt.timedelta(days=req.requested_days)
    latest = longest + dt.timedelta(days=1) if bare_date else longest
    if expires is None:
        expires = longest
    elif expires <= now:
        _refuse("expires", tk._("Must be in the future"))
    elif expires > latest:
        _refuse("expires", tk._("Must not be later than the requested period (%s)") % longest.date().isoformat())
    expires = min(expires, latest)

    pkg = model.Package.get(req.package_id)
    if pkg is None or pkg.state != "active":
        _refuse("id", tk._("The dataset of this request no longer exists"))
    if not policy.requestable(facts.tier_of_package(pkg)):
        _refuse("id", tk._("The dataset is no longer shared on request"))
    scope = list(resource_ids or [])
    allowed = set(req.resource_ids or []) or {r.id for r in pkg.resources}
    outside = [rid for rid in scope if rid not in allowed]
    if outside:
        _refuse("resource_ids", tk._("Not within the requested resources: %s") % ", ".join(outside))
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
        _refuse("id", tk._("This request has already been decided"))
    return grant


def reject(user: model.User, request_id: str, reason: str) -> SharingRequest:
    """Reject a pending request with a reason; commits and queues the requester's e-mail."""
    return _close(user, request_id, REQUEST_REJECTED, events.REQUEST_REJECT, reason, decided=True)


def withdraw(user: model.User, request_id: str, reason: Optional[str] = None) -> SharingRequest:
    """The requester takes back a pending request; commits."""
    return _close(user, request_id, REQUEST_WITHDRAWN, events.REQUEST_WITHDRAW, reason, decided=False)


def _close(
    user: model.User, request_id: str, state: str, event: str, reason: Optional[str], decided: bool,
) -> SharingRequest:
    """End a pending request without a grant: rejected by a decider (``decided``: recorded as the decision,
    the requester is e-mailed) or withdrawn by its requester; one ledger row; commits."""
    req = lock_request(request_id)
    _require_pending(req)
    now = clock.now()
    req.state, req.decision_reason, req.modified = state, reason, now
    detail: dict[str, Any] = {"reason": reason}
    if decided:
        req.decided_by, req.decided_at = user.id, now
        detail["requester_id"] = req.requester_id
        outbox.after_commit(notify.decision, req.id)
    _audit(event, user, package_id=req.package_id, organization_id=req.owner_org, request_id=req.id, detail=detail)
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
        _refuse("id", tk._("This grant is no longer active (it is %s)") % grant.state)
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
        .filter(SharingRequest.package_id == pkg_dict["id"], SharingRequest.state.in_(REQUEST_OPEN_STATES))
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


# --- the request's lifecycle under the 2025 Regulation (SPEC §4b) -------------------------------


def return_request(user: model.User, request_id: str, missing: list[str]) -> SharingRequest:
    """Return a pending request for completion, listing everything missing in one notice (Art. 21,
    一次性告知): ``pending → returned``, the reply clock stops. Once per request; commits and e-mails
    the requester the list."""
    req = lock_request(request_id)
    _require_pending(req)
    if req.returned_at is not None:
        _refuse("missing", tk._("This request was already returned once: everything missing is listed in one notice"))
    now = clock.now()
    req.state, req.missing, req.returned_by, req.returned_at, req.modified = (
        REQUEST_RETURNED, list(missing), user.id, now, now)
    _audit(
        events.REQUEST_RETURN, user, package_id=req.package_id, organization_id=req.owner_org, request_id=req.id,
        detail={"missing": list(missing), "requester_id": req.requester_id,
                "due_date_stopped": req.due_date.isoformat() if req.due_date else None},
    )
    outbox.after_commit(notify.returned, req.id)
    model.Session.commit()
    return req


RESUBMIT_FIELDS = ("purpose", "use_scenario", "use_basis", "use_scope", "share_method", "requested_days",
                   "resource_ids")


def resubmit(user: model.User, request_id: str, changes: Mapping[str, Any]) -> SharingRequest:
    """The requester completes a returned request (Art. 21): ``returned → pending`` with the changed
    fields; the reply deadline is counted again from the resubmission. Commits, e-mails the deciders."""
    req = lock_request(request_id)
    _require_state(req, REQUEST_RETURNED, tk._("Only a returned request can be resubmitted (it is %s)"))
    pkg = model.Package.get(req.package_id)
    if pkg is None or pkg.state != "active":
        _refuse("id", tk._("The dataset of this request no longer exists"))
    changed = {k: changes[k] for k in RESUBMIT_FIELDS if changes.get(k) not in (None, "")}
    try:
        if "resource_ids" in changed:
            changed["resource_ids"] = _check_scope(pkg, changed["resource_ids"])
        if "share_method" in changed:
            _check_share_method(pkg, changed["share_method"])
    except tk.ValidationError:
        model.Session.rollback()
        raise
    for key, value in changed.items():
        setattr(req, key, value)
    now = clock.now()
    req.state, req.resubmitted_at, req.modified, req.due_date = REQUEST_PENDING, now, now, clock.due_date(now)
    _audit(
        events.REQUEST_RESUBMIT, user, package_id=req.package_id, organization_id=req.owner_org, request_id=req.id,
        detail={"changed": sorted(changed), **{k: v for k, v in changed.items() if k != "resource_ids"},
                "due_date": req.due_date.isoformat()},
    )
    outbox.after_commit(notify.resubmitted, req.id)
    model.Session.commit()
    return req


def extend(user: model.User, request_id: str, working_days: int, reason: str) -> SharingRequest:
    """A decider asks the authority for more time (Art. 21: at most
    ``ckanext.sharing.max_extension_working_days``, only with the authority's approval). Once per
    request; commits and e-mails the authority."""
    req = lock_request(request_id)
    _require_pending(req)
    if req.extension_state is not None:
        _refuse("working_days", tk._("An extension was already asked for this request (once per request)"))
    now = clock.now()
    req.extension_state, req.extension_days, req.extension_reason = EXTENSION_ASKED, int(working_days), reason
    req.extension_requested_by, req.extension_requested_at, req.modified = user.id, now, now
    _audit(
        events.REQUEST_EXTEND, user, package_id=req.package_id, organization_id=req.owner_org, request_id=req.id,
        detail={"working_days": int(working_days), "reason": reason,
                "due_date": req.due_date.isoformat() if req.due_date else None},
    )
    outbox.after_commit(notify.extension_asked, req.id)
    model.Session.commit()
    return req


def decide_extension(user: model.User, request_id: str, approve: bool, note: Optional[str]) -> SharingRequest:
    """The authority approves or refuses an extension ask (Art. 21); approved, the due date moves by
    that many working days (holidays and 调休 counted). Commits; the requester and the asking decider
    are told."""
    req = lock_request(request_id)
    if req.extension_state != EXTENSION_ASKED:
        _refuse("id", tk._("No extension of this request is waiting for a decision"))
    _require_pending(req)
    now = clock.now()
    old_due = req.due_date
    if approve and req.due_date is not None:
        req.due_date = clock.add_configured_workdays(req.due_date, req.extension_days or 0)
    req.extension_state = EXTENSION_APPROVED if approve else EXTENSION_REFUSED
    req.extension_decided_by, req.extension_decided_at, req.extension_note, req.modified = user.id, now, note, now
    _audit(
        events.EXTENSION_DECIDE, user, package_id=req.package_id, organization_id=req.owner_org,
        request_id=req.id,
        detail={"approve": bool(approve), "note": note, "working_days": req.extension_days,
                "old_due_date": old_due.isoformat() if old_due else None,
                "due_date": req.due_date.isoformat() if req.due_date else None},
    )
    outbox.after_commit(notify.extension_decided, req.id)
    model.Session.commit()
    return req


def escalate(user: model.User, request_id: str, reason: str) -> SharingRequest:
    """The requester brings a rejected request, or a pending one past its due date, to the authority for
    coordination (Art. 28): ``→ escalated``. Once per request; commits and e-mails the authority and
    the provider's deciders."""
    req = lock_request(request_id)
    if req.escalated_at is not None:
        _refuse("id", tk._("This request was already brought to the authority once"))
    overdue = req.state == REQUEST_PENDING and req.due_date is not None and req.due_date < clock.today()
    if req.state != REQUEST_REJECTED and not overdue:
        _refuse("id", tk._("Only a rejected request, or a pending one past its due date, can be brought to the "
                           "authority (it is %s)") % req.state)
    now = clock.now()
    req.escalated_from, req.state = req.state, REQUEST_ESCALATED
    req.escalation_reason, req.escalated_at, req.modified = reason, now, now
    try:
        model.Session.flush()
    except IntegrityError:  # the one-open-request index: the requester asked again meanwhile
        _refuse("id", tk._("You have another open request for this dataset"))
    _audit(
        events.REQUEST_ESCALATE, user, package_id=req.package_id, organization_id=req.owner_org,
        request_id=req.id, detail={"reason": reason, "from": req.escalated_from},
    )
    outbox.after_commit(notify.escalated, req.id)
    model.Session.commit()
    return req


def resolve(
    user: model.User, request_id: str, decision: str, note: Optional[str],
    expires: Optional[dt.datetime] = None, resource_ids: Optional[list[str]] = None, bare_date: bool = False,
) -> tuple[SharingRequest, Optional[SharingGrant]]:
    """The authority decides an escalated request (Art. 28): ``approve`` makes the grant as an approval
    does, ``reject`` is final. Commits; the requester and the provider's deciders are told."""
    req = lock_request(request_id)
    _require_state(req, REQUEST_ESCALATED, tk._("Only an escalated request can be resolved (it is %s)"))
    now = clock.now()
    grant: Optional[SharingGrant] = None
    if decision == "approve":
        grant = _grant(user, req, expires, resource_ids, note, bare_date)
    else:
        req.state = REQUEST_REJECTED
        req.decided_by, req.decided_at, req.decision_reason = user.id, now, note or req.decision_reason
    req.resolution, req.resolved_by, req.resolved_at, req.resolution_note, req.modified = (
        decision, user.id, now, note, now)
    detail: dict[str, Any] = {"decision": decision, "note": note, "requester_id": req.requester_id}
    if grant is not None:
        detail.update(_grant_detail(req, grant, note))
    _audit(
        events.REQUEST_RESOLVE, user, package_id=req.package_id, organization_id=req.owner_org,
        request_id=req.id, grant_id=grant.id if grant is not None else None, detail=detail,
    )
    outbox.after_commit(notify.resolved, req.id)
    model.Session.commit()
    return req, grant
