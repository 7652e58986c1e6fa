"""Audit of data use: each data access to a conditional dataset by a non-member is a ledger row."""
from __future__ import annotations

from typing import Any, Optional

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import access, audit, policy


def record_access(pkg: model.Package, resource_id: Optional[str], channel: str, decision: policy.Decision) -> None:
    """Write a ``data_access`` row for grantees (and members when configured), committed at once."""
    if access.tier_of_package(pkg) != policy.CONDITIONAL:
        return
    grant_id = decision.reason[len("grant:"):] if decision.reason.startswith("grant:") else None
    if grant_id is None and not tk.config.get("ckanext.sharing.audit_member_access"):
        return
    user = access.user_from_context(None)
    audit.record(
        audit.DATA_ACCESS,
        actor_id=user.id if user else None,
        actor_name=user.name if user else None,
        package_id=pkg.id,
        resource_id=resource_id,
        organization_id=pkg.owner_org,
        grant_id=grant_id,
        detail={"channel": channel, "reason": decision.reason},
    )
    model.Session.commit()
