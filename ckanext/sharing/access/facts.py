"""Facts for the policy: who the user is to a dataset, read from the database.

This module only *gathers* (memberships, collaborations, grants, the tier); every decision is
:func:`ckanext.sharing.access.policy.decide`. Nothing here is cached across requests: each answer
reads the database, so several web and worker processes always agree (SPEC §8). Within one request the
subjects already read are kept (:func:`subjects`): a download asks the guard and then ``package_show``
twice about the same dataset, and that is one facts query, not three (issue 16). That memo lives in
``flask.g``, is dropped at the start of every request and by any flush, commit or rollback of the session,
so a write in the request (a grant approved, a membership changed) is seen by the next check.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Optional

import sqlalchemy as sa

from flask import g, has_app_context

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
            # the object flask-login loaded for this request: no second query (issue 16)
            obj = current_user._get_current_object()  # type: ignore[attr-defined]
            if isinstance(obj, model.User) and not sa.inspect(obj).detached:
                return obj
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


def narrowed(q: Any, package_column: Any, package: Optional[str], org_column: Any, organization: Optional[str]) -> Any:
    """``q`` narrowed to one dataset and one organization where given, each by id or name: the filters of
    the request, grant, correction and ledger lists."""
    if package:
        q = q.filter(package_column == package_id_of(package))
    if organization:
        q = q.filter(org_column == group_id_of(organization))
    return q


def user_id_of(ref: str) -> str:
    """The id of the user named or identified by ``ref`` (``ref`` itself when there is none)."""
    user = model.User.get(ref)
    return user.id if user is not None else ref


def _memberships(user_id: str, *columns: Any) -> sa.Select:
    """``SELECT columns`` over the user's active memberships of active organizations."""
    return (
        sa.select(*columns)
        .select_from(model.Member)
        .join(model.Group, model.Group.id == model.Member.group_id)
        .where(model.Member.table_name == "user", model.Member.table_id == user_id,
               model.Member.state == "active", model.Group.state == "active",
               model.Group.is_organization.is_(True))
    )


def user_capacities(user_id: str) -> dict[str, str]:
    """``{organization id: capacity}`` of the user's active memberships."""
    rows = model.Session.execute(_memberships(user_id, model.Member.group_id, model.Member.capacity)).all()
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


# The facts query is the function of migration 0009sharing: one fixed string, planned once per database
# connection (issue 16). Building the four-part UNION ALL with SQLAlchemy on every call cost ~1 ms of Python
# and PostgreSQL re-planned it each time (~0.25 ms), for ~0.05 ms of execution.
_FACTS_SQL = ("SELECT kind, a, b, expires, resource_ids FROM sharing_member_facts"
              "(%(user_id)s, %(package_ids)s::text[], %(collaborators)s)")


def member_facts(
    user_id: str, pkgs: list[tuple[str, Optional[str]]]
) -> tuple[dict[str, str], set[str], dict[str, list[policy.Grant]], set[Optional[str]]]:
    """The user's capacities, collaborations, active grants (own or through an organization) on ``pkgs``
    and the providers towards which the user is suspended, in ONE database round trip (issue 16: a search
    page or a download costs one facts query).

    Same answers as :func:`user_capacities`, :func:`collaborations`, :func:`grants_for` and
    :func:`suspended_providers` (Regulation Art. 27): grants and collaborations are kept only for datasets
    whose owner organization does not already decide.
    """
    ids = sorted({pid for pid, _ in pkgs})
    session = model.Session()
    if session.autoflush:  # as an ORM query would: this session's pending writes are part of the answer
        session.flush()
    rows = session.connection().exec_driver_sql(_FACTS_SQL, {
        "user_id": user_id, "package_ids": ids, "collaborators": _collaborators_enabled()}).all()
    capacities = {a: b for kind, a, b, _, _ in rows if kind == "c"}
    decided = {pid for pid, owner in pkgs if owner and owner in capacities}
    collab = {a for kind, a, _, _, _ in rows if kind == "p" and a not in decided}
    grants: dict[str, list[policy.Grant]] = {}
    for kind, gid, pid, expires, res_ids in rows:
        if kind == "g" and pid not in decided:
            grants.setdefault(pid, []).append(policy.Grant(gid, expires, frozenset(res_ids or ())))
    held = {a for kind, a, _, _, _ in rows if kind == "s"}
    return capacities, collab, grants, held


_MEMO = "_sharing_subjects"


def _memo() -> Optional[dict[tuple[str, str, Optional[str]], policy.Subject]]:
    """This request's subjects read so far, ``{(user id, package id, owner org): Subject}`` (None outside
    an application context: CLI and workers read every time)."""
    if not has_app_context():
        return None
    memo = g.get(_MEMO)
    if memo is None:
        memo = {}
        setattr(g, _MEMO, memo)
    return memo


def forget_request_facts(*_args: Any) -> None:
    """Drop the request's memo of subjects (a new request, or the session wrote or ended a transaction)."""
    if has_app_context():
        g.pop(_MEMO, None)


for _event in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    if not sa.event.contains(model.Session, _event, forget_request_facts):
        sa.event.listen(model.Session, _event, forget_request_facts)


def subjects(
    user: Optional[model.User], packages: Iterable[tuple[str, Optional[str]]]
) -> dict[str, policy.Subject]:
    """A :class:`policy.Subject` per ``(package id, owner org id)``, in one query (none for anonymous
    users and sysadmins, none for datasets already asked about in this request)."""
    pkgs = list(packages)
    if user is None:
        return {pid: policy.Subject() for pid, _ in pkgs}
    if user.sysadmin:
        return {pid: policy.Subject(user_id=user.id, sysadmin=True) for pid, _ in pkgs}
    memo = _memo()
    known = {} if memo is None else {pid: memo[key] for pid, owner in pkgs if (key := (user.id, pid, owner)) in memo}
    todo = [(pid, owner) for pid, owner in pkgs if pid not in known]
    if not todo:
        return known
    capacities, collab, grants, held = member_facts(user.id, todo)
    read = {
        pid: policy.Subject(
            user_id=user.id,
            capacity=capacities.get(owner) if owner else None,
            collaborator=pid in collab,
            grants=tuple(grants.get(pid, ())),
            suspended=pid in grants and (None in held or owner in held),
        )
        for pid, owner in todo
    }
    memo = _memo()  # the query may have ended a transaction and dropped the memo: keep what was just read
    if memo is not None:
        memo.update({(user.id, pid, owner): read[pid] for pid, owner in todo})
    return {**known, **read}


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
