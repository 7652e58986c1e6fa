"""Who may do what in the workflow and the ledger: the only place these questions are answered.

Access to *data* is :mod:`ckanext.sharing.access.policy`; this module answers the other role
questions of SPEC §4–6: who decides a request (the owning organization's admins, or editors with
``ckanext.sharing.approver_capacity = editor``, and sysadmins), who reads the ledger (sysadmins,
the configured auditors, organization admins for their organization), who may attest
de-identification (sysadmins and organization admins), who is a grantee of a grant.
Every answer reads the database (SPEC §8).
"""
from __future__ import annotations

from typing import Any, Optional

from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import facts
from ckanext.sharing.model import SharingRequest

ADMIN = "admin"
EDITOR = "editor"


def capacities(user: Optional[model.User]) -> dict[str, str]:
    """``{organization id: capacity}`` of the user's active memberships (empty for anonymous)."""
    return facts.user_capacities(user.id) if user is not None else {}


def own_orgs(user: Optional[model.User]) -> list[str]:
    """Organizations the user belongs to, in any capacity."""
    return list(capacities(user))


def decider_capacities() -> tuple[str, ...]:
    """Capacities in the owning organization that may decide (``ckanext.sharing.approver_capacity``)."""
    return (ADMIN, EDITOR) if config.approver_capacity() == EDITOR else (ADMIN,)


def is_decider(user: Optional[model.User], owner_org: Optional[str]) -> bool:
    """Sysadmins, and members of ``owner_org`` with a deciding capacity."""
    if user is None:
        return False
    if user.sysadmin:
        return True
    return bool(owner_org) and capacities(user).get(owner_org or "") in decider_capacities()


def decided_orgs(user: Optional[model.User]) -> list[str]:
    """Organizations whose requests ``user`` decides (sysadmins decide all: not listed here)."""
    allowed = decider_capacities()
    return [org for org, cap in capacities(user).items() if cap in allowed]


def deciders_of(owner_org: Optional[str]) -> list[model.User]:
    """The users who decide requests of ``owner_org``; the sysadmins when the organization has none."""
    return _members_or_sysadmins(owner_org, decider_capacities())


def _members_or_sysadmins(org_id: Optional[str], capacities: tuple[str, ...]) -> list[model.User]:
    """Active users holding one of ``capacities`` in ``org_id``; the sysadmins when there are none."""
    users: list[model.User] = []
    if org_id:
        users = (
            model.Session.query(model.User)
            .join(model.Member, model.Member.table_id == model.User.id)
            .filter(model.Member.group_id == org_id, model.Member.table_name == "user")
            .filter(model.Member.state == "active", model.Member.capacity.in_(capacities))
            .filter(model.User.state == "active")
            .all()
        )
    return users or model.Session.query(model.User).filter_by(sysadmin=True, state="active").all()


def admin_orgs(user: Optional[model.User]) -> set[str]:
    """Organizations the user administers."""
    return {org for org, cap in capacities(user).items() if cap == ADMIN}


def is_auditor(user: Optional[model.User]) -> bool:
    """An active account named in ``ckanext.sharing.auditors`` (三员分立, GB/T 39477: reads the whole
    ledger, administers nothing)."""
    return user is not None and user.state == "active" and user.name in config.auditors()


def reads_everything(user: Optional[model.User]) -> bool:
    """Sysadmins and auditors read the whole ledger and its checkpoints (SPEC §5)."""
    return user is not None and (bool(user.sysadmin) or is_auditor(user))


def ledger_scope(user: Optional[model.User]) -> Optional[set[str]]:
    """Which ledger rows the user reads: ``None`` = all (sysadmins, auditors), else the organizations
    whose rows (their own admins, SPEC §5); an empty set = none."""
    if user is None:
        return set()
    if reads_everything(user):
        return None
    return admin_orgs(user)


def may_read_row(user: Optional[model.User], row: Any) -> bool:
    """May the user read (and prove) this ledger row? Sysadmins, auditors, admins of its organization,
    and the requester of its request ("a requester can prove that their request was recorded", SPEC §5)."""
    if user is None:
        return False
    if reads_everything(user):
        return True
    if row.get("organization_id") and row["organization_id"] in admin_orgs(user):
        return True
    if row.get("request_id"):
        request = model.Session.get(SharingRequest, row["request_id"])
        return request is not None and request.requester_id == user.id
    return False


def may_read_ledger(user: Optional[model.User], organization_id: Optional[str] = None) -> bool:
    """May the user read the ledger (of one organization, or at all)?"""
    scope = ledger_scope(user)
    if scope is None:
        return True
    if organization_id:
        return organization_id in scope
    return bool(scope)


def may_attest(user: Optional[model.User], owner_org: Optional[str]) -> bool:
    """Sysadmins and admins of the owning organization may attest de-identification (SPEC §6)."""
    if user is None:
        return False
    if user.sysadmin:
        return True
    org = model.Group.get(owner_org) if owner_org else None
    return org is not None and org.id in admin_orgs(user)


def is_grantee(user: Optional[model.User], grant: Any, requester_id: Optional[str] = None) -> bool:
    """The grant is to the user, to one of the user's organizations, or the user asked for it."""
    if user is None or grant is None:
        return False
    if grant.user_id == user.id or requester_id == user.id:
        return True
    return grant.organization_id is not None and grant.organization_id in capacities(user)


def authority_org_id() -> Optional[str]:
    """The id of the authority's organization (``ckanext.sharing.authority_org``, name or id), or None."""
    ref = config.authority_org()
    org = model.Group.get(ref) if ref else None
    return org.id if org is not None and org.is_organization and org.state == "active" else None


def is_authority(user: Optional[model.User]) -> bool:
    """The sharing authority (共享主管部门, SPEC §4b): sysadmins and the admins of the organization named
    by ``ckanext.sharing.authority_org``. It decides extension asks and resolves escalations (Art. 21, 28)."""
    if user is None or user.state != "active":
        return False
    if user.sysadmin:
        return True
    org_id = authority_org_id()
    return org_id is not None and org_id in admin_orgs(user)


def authority_users() -> list[model.User]:
    """Who the authority's e-mails go to: the admins of its organization, else the sysadmins."""
    return _members_or_sysadmins(authority_org_id(), (ADMIN,))
