"""The data-access record (SPEC §5): each access to a conditional dataset's data by a grantee
(and by members when ``ckanext.sharing.audit_member_access``) is one ledger row."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from ckan import model

from ckanext.sharing import config
from ckanext.sharing.access import facts, policy
from ckanext.sharing.ledger import chain, events


def grant_of(decision: policy.Decision) -> Optional[str]:
    """The grant id a ``grant:<id>`` decision names (None for other reasons)."""
    return decision.reason[len("grant:"):] if decision.reason.startswith("grant:") else None


def _should_record(pkg: model.Package, decision: policy.Decision) -> bool:
    if not policy.audited(facts.tier_of_package(pkg)):
        return False
    return grant_of(decision) is not None or config.audit_member_access()


def record(
    user: Optional[model.User], pkg: model.Package, resource_id: Optional[str], channel: str,
    decision: policy.Decision,
) -> bool:
    """Append one ``data_access`` row when the access must be audited; True if a row was written.

    The caller commits (a GET that reads data has no other transaction to join).
    """
    if not _should_record(pkg, decision):
        return False
    chain.append(
        events.DATA_ACCESS,
        actor_id=user.id if user else None,
        actor_name=user.name if user else None,
        package_id=pkg.id,
        resource_id=resource_id,
        organization_id=pkg.owner_org,
        grant_id=grant_of(decision),
        detail={"channel": channel, "reason": decision.reason},
    )
    return True


def record_resources(context: Any, resource_ids: Iterable[str], channel: str) -> None:
    """One row per conditional resource read (DataStore calls); commits if any row was written."""
    user = facts.user_from_context(context)
    wrote = False
    for rid in resource_ids:
        res = model.Resource.get(rid)
        if res is None or res.package is None:
            continue
        decision = facts.decide_for_package(context, res.package, res.id)
        wrote = record(user, res.package, res.id, channel, decision) or wrote
    if wrote:
        model.Session.commit()
