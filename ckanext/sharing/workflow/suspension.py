"""Suspension of a requesting side's sharing rights (《政务数据共享条例》 Art. 27, SPEC §4b).

On misuse the authority (共享主管部门) or the provider suspends the requester's sharing rights. A
suspension names a user, an organization (the requesting department), or both, and one provider
organization (``provider_org_id``) or, when none is named, every provider. While it holds:

* the suspended side's grants from that provider stay ``active`` but give no access: the policy's
  fact ``Subject.suspended`` (:func:`ckanext.sharing.access.facts.suspended_providers`) and its reason
  ``suspended``; a suspended organization's members are suspended with it (they request as its staff,
  Art. 2–3), and a suspended user is suspended whatever organization's grant they use;
* new requests to that provider by the suspended side are refused (:func:`refuse_request`).

Lifting ends it at once. Each transition locks its row, writes a ledger row and e-mails the suspended
side after the commit.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import roles
from ckanext.sharing.ledger import events
from ckanext.sharing.model.obligations import SUSPENSION_ACTIVE, SUSPENSION_LIFTED, SharingSuspension
from ckanext.sharing.workflow import clock, notify, outbox
from ckanext.sharing.workflow.dictize import _iso, _names
from ckanext.sharing.workflow.transitions import _audit, _invalid, _locked


def is_authority(user: Optional[model.User]) -> bool:
    """The authority of SPEC §4b (:func:`ckanext.sharing.access.roles.is_authority`)."""
    return roles.is_authority(user)


def may_suspend(user: Optional[model.User], provider_org_id: Optional[str]) -> bool:
    """The authority for any provider; a provider's deciders for their own organization only (SPEC §4b)."""
    if user is None:
        return False
    if is_authority(user):
        return True
    return bool(provider_org_id) and roles.is_decider(user, provider_org_id)


def holding(user: model.User, provider_org_id: Optional[str], org_id: Optional[str] = None) -> Optional[SharingSuspension]:
    """The active suspension of the user (or their organizations, or ``org_id``) towards this provider."""
    orgs = set(roles.own_orgs(user)) | ({org_id} if org_id else set())
    side = SharingSuspension.user_id == user.id
    if orgs:
        side = sa.or_(side, SharingSuspension.organization_id.in_(orgs))
    provider = SharingSuspension.provider_org_id.is_(None)
    if provider_org_id:
        provider = sa.or_(provider, SharingSuspension.provider_org_id == provider_org_id)
    return (
        model.Session.query(SharingSuspension)
        .filter(SharingSuspension.state == SUSPENSION_ACTIVE, side, provider)
        .order_by(SharingSuspension.created)
        .first()
    )


def refuse_request(user: model.User, data: Mapping[str, Any]) -> None:
    """Art. 27: a suspended side cannot ask the provider for data. ValidationError naming the field:
    ``organization_id`` when the organization asked for is suspended, else ``package_id``."""
    pkg = model.Package.get(str(data.get("package_id") or ""))
    if pkg is None:
        return  # the request's own checks answer "not found"
    found = holding(user, pkg.owner_org, data.get("organization_id"))
    if found is None:
        return
    field = "organization_id" if found.organization_id and found.organization_id == data.get("organization_id") \
        else "package_id"
    raise _invalid(field, tk._("Your sharing rights towards this provider are suspended (Art. 27): %s")
                   % found.reason)


def create(user: model.User, data: Mapping[str, Any]) -> SharingSuspension:
    """Suspend a user and/or an organization towards one provider (or all); commits, e-mails them."""
    user_ref, org_ref, provider_ref = data.get("user_id"), data.get("organization_id"), data.get("provider_org_id")
    if not user_ref and not org_ref:
        raise _invalid("user_id", tk._("Name the user or the organization to suspend"))
    target_user = model.User.get(user_ref) if user_ref else None
    if user_ref and (target_user is None or target_user.state != "active"):
        raise _invalid("user_id", tk._("User not found"))
    org = _organization(org_ref, "organization_id")
    provider = _organization(provider_ref, "provider_org_id")
    if org is not None and provider is not None and org.id == provider.id:
        raise _invalid("organization_id", tk._("An organization cannot be suspended towards itself"))
    row = SharingSuspension(
        user_id=target_user.id if target_user else None,
        organization_id=org.id if org else None,
        provider_org_id=provider.id if provider else None,
        reason=data["reason"],
        state=SUSPENSION_ACTIVE,
        created=clock.now(),
        created_by=user.id,
    )
    model.Session.add(row)
    try:
        model.Session.flush()
    except IntegrityError:  # the partial unique index: the same suspension already holds
        model.Session.rollback()
        raise _invalid("user_id" if user_ref else "organization_id", tk._("This suspension already holds"))
    _audit(
        events.SUSPENSION_CREATE, user, organization_id=row.provider_org_id,
        detail={"suspension_id": row.id, "user_id": row.user_id, "organization_id": row.organization_id,
                "provider_org_id": row.provider_org_id, "reason": row.reason},
    )
    outbox.after_commit(notify_suspended, row.id)
    model.Session.commit()
    return row


def _organization(ref: Optional[str], field: str) -> Optional[model.Group]:
    """The active organization named by ``ref`` (None when no ref); ValidationError naming ``field``."""
    if not ref:
        return None
    org = model.Group.get(ref)
    if org is None or not org.is_organization or org.state != "active":
        raise _invalid(field, tk._("Organization not found"))
    return org


def lock(suspension_id: str) -> SharingSuspension:
    """The suspension row, locked and re-read."""
    return _locked(SharingSuspension, suspension_id, tk._("Suspension not found"))


def lift(user: model.User, suspension_id: str, reason: str) -> SharingSuspension:
    """End a suspension at once (access of its side's grants comes back); commits, e-mails them.
    Two lifts at once: the row lock lets one through; the other finds it lifted."""
    row = lock(suspension_id)
    if row.state != SUSPENSION_ACTIVE:
        model.Session.rollback()
        raise _invalid("id", tk._("This suspension has already been lifted"))
    row.state, row.lifted_at, row.lifted_by, row.lift_reason = SUSPENSION_LIFTED, clock.now(), user.id, reason
    _audit(
        events.SUSPENSION_LIFT, user, organization_id=row.provider_org_id,
        detail={"suspension_id": row.id, "user_id": row.user_id, "organization_id": row.organization_id,
                "provider_org_id": row.provider_org_id, "reason": reason},
    )
    outbox.after_commit(notify_suspended, row.id)
    model.Session.commit()
    return row


def visible(user: model.User, state: Optional[str] = None) -> Any:
    """Suspensions the user may see: all (the authority); those towards organizations they decide for;
    their own and their organizations' (the suspended side is told)."""
    q = model.Session.query(SharingSuspension)
    if not is_authority(user):
        own = roles.own_orgs(user)
        seen = [SharingSuspension.user_id == user.id]
        if own:
            seen.append(SharingSuspension.organization_id.in_(own))
        decided = roles.decided_orgs(user)
        if decided:
            seen.append(SharingSuspension.provider_org_id.in_(decided))
        q = q.filter(sa.or_(*seen))
    if state:
        q = q.filter(SharingSuspension.state == state)
    return q.order_by(sa.case((SharingSuspension.state == SUSPENSION_ACTIVE, 0), else_=1),
                      SharingSuspension.created.desc())


def dicts(rows: list[SharingSuspension]) -> list[dict[str, Any]]:
    """Plain dicts of suspensions with names and titles."""
    users, _, orgs = _names([r.user_id for r in rows] + [r.created_by for r in rows] + [r.lifted_by for r in rows],
                            [], [r.organization_id for r in rows] + [r.provider_org_id for r in rows])

    def title(org_id: Optional[str]) -> Optional[str]:
        org = orgs.get(org_id or "")
        return (org.title or org.name) if org else None

    return [{
        "id": r.id,
        "user_id": r.user_id,
        "user_name": users[r.user_id].name if r.user_id in users else None,
        "organization_id": r.organization_id,
        "organization_title": title(r.organization_id),
        "provider_org_id": r.provider_org_id,
        "provider_org_title": title(r.provider_org_id),
        "reason": r.reason,
        "state": r.state,
        "created": _iso(r.created),
        "created_by": r.created_by,
        "lifted_at": _iso(r.lifted_at),
        "lifted_by": r.lifted_by,
        "lift_reason": r.lift_reason,
    } for r in rows]


def notify_suspended(suspension_id: str) -> int:
    """E-mail the suspended side (the user; the organization's admins) that its rights are suspended or
    restored (Art. 27: the requester is affected). A background job."""
    row = model.Session.get(SharingSuspension, suspension_id)
    if row is None:
        return 0
    provider = model.Group.get(row.provider_org_id) if row.provider_org_id else None
    towards = (provider.title or provider.name) if provider else tk._("every provider")
    if row.state == SUSPENSION_ACTIVE:
        subject = tk._("Sharing rights suspended")
        lines = [tk._("Your sharing rights towards %s are suspended (Art. 27).") % towards,
                 tk._("Reason: %s") % row.reason]
    else:
        subject = tk._("Sharing rights restored")
        lines = [tk._("The suspension of your sharing rights towards %s was lifted.") % towards,
                 tk._("Reason: %s") % (row.lift_reason or "-")]
    people: list[model.User] = []
    if row.user_id:
        person = model.User.get(row.user_id)
        people += [person] if person else []
    if row.organization_id:
        people += [u for u in roles.deciders_of(row.organization_id) if u not in people]
    return sum(notify._send(u, subject, "\n".join(lines)) for u in people)

