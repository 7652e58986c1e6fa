"""Facts for the policy: who the user is to a dataset, read from the database.

This module only *gathers* (memberships, collaborations, grants, the tier); every decision is
:func:`ckanext.sharing.access.policy.decide`. Nothing here is cached across requests: each answer
reads the database, so several web and worker processes always agree (SPEC §8).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Optional

import sqlalchemy as sa

from ckan import model
from ckan.common import current_user

from ckanext.sharing import values
from ckanext.sharing.access import policy
from ckanext.sharing.model import SharingGrant
from ckanext.sharing.model.obligations import SUSPENSION_ACTIVE, SharingSuspension
from ckanext.sharing.workflow.states import GRANT_ACTIVE

Context = Mapping[str, Any]


def user_from_context(context: Optional[Context] = None) -> Optional[model.User]:
    """The acting user object (None for anonymous) from an action context or the request."""
    context = context or {}
    user = context.get("auth_user_obj")
    if isinstance(user, model.User):
        return user
    name = context.get("user")
    if name:
        return model.User.get(name)
    if context:
        return None
    try:
        if current_user and current_user.is_authenticated:
            return model.User.get(current_user.id)  # type: ignore[attr-defined]
    except (RuntimeError, AttributeError):  # outside a request
        pass
    return None


def tier_of_dict(pkg_dict: Mapping[str, Any]) -> str:
    """The tier of a package dict, from the field, the extras, or CKAN's ``private`` flag."""
    tier = values.field_or_extra(pkg_dict, "sharing_tier")
    return policy.normalise_tier(tier, values.truthy(pkg_dict.get("private")))


def tier_of_package(pkg: model.Package) -> str:
    """The stored tier of a package object (extra ``sharing_tier``, else its ``private`` flag)."""
    return policy.normalise_tier(pkg.extras.get("sharing_tier"), pkg.private)


def package_id_of(ref: str) -> str:
    """The id of the dataset named or identified by ``ref`` (``ref`` itself when there is none)."""
    pkg = model.Package.get(ref)
    return pkg.id if pkg is not None else ref


def group_id_of(ref: str) -> str:
    """The id of the organization or group named or identified by ``ref`` (``ref`` itself when none)."""
    group = model.Group.get(ref)
    return group.id if group is not None else ref


def user_id_of(ref: str) -> str:
    """The id of the user named or identified by ``ref`` (``ref`` itself when there is none)."""
    user = model.User.get(ref)
    return user.id if user is not None else ref


def user_capacities(user_id: str) -> dict[str, str]:
    """``{organization id: capacity}`` of the user's active memberships."""
    rows = (
        model.Session.query(model.Member.group_id, model.Member.capacity)
        .join(model.Group, model.Group.id == model.Member.group_id)
        .filter(model.Member.table_name == "user")
        .filter(model.Member.table_id == user_id)
        .filter(model.Member.state == "active")
        .filter(model.Group.state == "active")
        .filter(model.Group.is_organization.is_(True))
        .all()
    )
    return {group_id: capacity for group_id, capacity in rows}


def collaborations(user_id: str, package_ids: Iterable[str]) -> set[str]:
    ids = list(package_ids)
    if not ids:
        return set()
    rows = (
        model.Session.query(model.PackageMember.package_id)
        .filter(model.PackageMember.user_id == user_id)
        .filter(model.PackageMember.package_id.in_(ids))
        .all()
    )
    return {r[0] for r in rows}


def grants_for(
    user_id: str, org_ids: Iterable[str], package_ids: Iterable[str]
) -> dict[str, list[policy.Grant]]:
    """Active grants on these datasets to the user or to any of the user's organizations.

    Expiry is left to the policy (checked against the clock at decision time).
    """
    ids = list(package_ids)
    if not ids:
        return {}
    orgs = list(org_ids)
    grantee = SharingGrant.user_id == user_id
    if orgs:
        grantee = sa.or_(grantee, SharingGrant.organization_id.in_(orgs))
    rows = (
        model.Session.query(SharingGrant.id, SharingGrant.package_id, SharingGrant.expires, SharingGrant.resource_ids)
        .filter(SharingGrant.package_id.in_(ids))
        .filter(SharingGrant.state == GRANT_ACTIVE)
        .filter(grantee)
        .all()
    )
    out: dict[str, list[policy.Grant]] = {}
    for gid, pid, expires, res_ids in rows:
        out.setdefault(pid, []).append(policy.Grant(gid, expires, frozenset(res_ids or ())))
    return out


def suspended_providers(user_id: str, org_ids: Iterable[str]) -> set[Optional[str]]:
    """Provider organizations towards which the user, or one of the user's organizations, is suspended
    (Regulation Art. 27); ``None`` in the set: towards every provider."""
    orgs = list(org_ids)
    side = SharingSuspension.user_id == user_id
    if orgs:
        side = sa.or_(side, SharingSuspension.organization_id.in_(orgs))
    rows = (
        model.Session.query(SharingSuspension.provider_org_id)
        .filter(SharingSuspension.state == SUSPENSION_ACTIVE)
        .filter(side)
        .all()
    )
    return {provider for (provider,) in rows}


def subjects(
    user: Optional[model.User], packages: Iterable[tuple[str, Optional[str]]]
) -> dict[str, policy.Subject]:
    """A :class:`policy.Subject` per ``(package id, owner org id)``, in three queries at most."""
    pkgs = list(packages)
    if user is None:
        return {pid: policy.Subject() for pid, _ in pkgs}
    if user.sysadmin:
        return {pid: policy.Subject(user_id=user.id, sysadmin=True) for pid, _ in pkgs}
    capacities = user_capacities(user.id)
    # a capacity in the owner organization already decides; only the others need more facts
    pkg_ids = [pid for pid, owner in pkgs if not (owner and owner in capacities)]
    collab = collaborations(user.id, pkg_ids) if pkg_ids and _collaborators_enabled() else set()
    grants = grants_for(user.id, capacities.keys(), pkg_ids)
    # suspensions only matter to grant holders: asked only when there are grants
    held = suspended_providers(user.id, capacities.keys()) if grants else set()
    return {
        pid: policy.Subject(
            user_id=user.id,
            capacity=capacities.get(owner) if owner else None,
            collaborator=pid in collab,
            grants=tuple(grants.get(pid, ())),
            suspended=pid in grants and (None in held or owner in held),
        )
        for pid, owner in pkgs
    }


def subject(user: Optional[model.User], package_id: str, owner_org: Optional[str]) -> policy.Subject:
    """The :class:`policy.Subject` of one dataset."""
    return subjects(user, [(package_id, owner_org)])[package_id]


def _collaborators_enabled() -> bool:
    from ckan.plugins import toolkit as tk

    return tk.asbool(tk.config.get("ckan.auth.allow_dataset_collaborators"))


def decide_for_package(
    context: Optional[Context], pkg: model.Package, resource_id: Optional[str] = None, now: Optional[dt.datetime] = None
) -> policy.Decision:
    """The decision for the acting user and a package object (one resource, or all the data)."""
    user = user_from_context(context)
    return policy.decide(tier_of_package(pkg), subject(user, pkg.id, pkg.owner_org), resource_id, now)
