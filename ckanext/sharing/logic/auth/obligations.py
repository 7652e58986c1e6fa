"""Auth functions of the obligation actions (Regulation Art. 22, 26, 27, 29; SPEC §4b).

Each check loads the object by its own id (or takes the row the action loaded, kept in the context
under :data:`ROW_KEY`) and authorises against that object, never against other ids the caller sends
(no IDOR), as :mod:`ckanext.sharing.logic.auth.workflow` does.
"""
from __future__ import annotations

from typing import Callable, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing.access import facts, roles
from ckanext.sharing.logic.auth.workflow import _no, _row, _yes
from ckanext.sharing.model import SharingGrant
from ckanext.sharing.model.obligations import SharingCorrection, SharingSuspension
from ckanext.sharing.workflow import corrections, queries, suspension, use_reports

# The key under which the actions hand over the row they loaded.
ROW_KEY = "sharing_obligation_row"


def available() -> bool:
    """Always there, like the workflow's."""
    return True


def _user(context: Context) -> Optional[model.User]:
    return facts.user_from_context(context)


def _on_row(context: Context, cls: type, ref: object, may: Callable[[Optional[model.User], object], bool],
            refusal: str) -> AuthResult:
    """Authorise against the object the id names (the row the action loaded, or loaded here): ``may(user,
    row)`` decides; a missing row is refused like one the caller may not touch."""
    row = _row(context, ROW_KEY, cls, ref)
    return _yes() if row is not None and may(_user(context), row) else _no(refusal)


def sharing_grant_deliver(context: Context, data_dict: DataDict) -> AuthResult:
    """The deciders of the grant's provider (Art. 22)."""
    return _on_row(context, SharingGrant, data_dict.get("id"),
                   lambda user, grant: roles.is_decider(user, queries.package_org(grant.package_id, grant.owner_org)),
                   tk._("Only the providing organization's admins may record a delivery"))


def sharing_suspension_create(context: Context, data_dict: DataDict) -> AuthResult:
    """The authority for any provider; a provider's deciders towards their own organization (Art. 27)."""
    ref = data_dict.get("provider_org_id")
    org = model.Group.get(str(ref)) if ref else None
    if suspension.may_suspend(_user(context), org.id if org is not None else None):
        return _yes()
    return _no(tk._("Only the authority, or a provider's admins for their own organization, may suspend"))


def sharing_suspension_lift(context: Context, data_dict: DataDict) -> AuthResult:
    """The authority; a provider's deciders for a suspension towards their organization."""
    return _on_row(context, SharingSuspension, data_dict.get("id"),
                   lambda user, row: suspension.may_suspend(user, row.provider_org_id),
                   tk._("Not authorized to lift this suspension"))


def _listing(context: Context, narrowed: Optional[Callable[[model.User], bool]], refusal: str) -> AuthResult:
    """A list action: logged-in users (the action lists what each may see); when the caller narrows the
    list to one object, ``narrowed(user)`` must allow it."""
    user = _user(context)
    if user is None:
        return _no(tk._("You must be logged in"))
    if narrowed is not None and not narrowed(user):
        return _no(refusal)
    return _yes()


def sharing_suspension_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users; the action lists only what each may see."""
    return _listing(context, None, "")


def sharing_use_report_create(context: Context, data_dict: DataDict) -> AuthResult:
    """The grantee of the grant (user, member of the grantee organization) or its requester (Art. 29)."""
    return _on_row(context, SharingGrant, data_dict.get("grant_id"), use_reports.may_report,
                   tk._("Only the grantee may report the use of this grant's data"))


def sharing_use_report_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users (the action lists what each may read); one grant's: who may read its reports."""
    grant = _row(context, ROW_KEY, SharingGrant, data_dict["grant_id"]) if data_dict.get("grant_id") else None
    return _listing(context, (lambda user: use_reports.may_read(user, grant)) if data_dict.get("grant_id") else None,
                    tk._("Not authorized to read the use reports of this grant"))


def sharing_correction_create(context: Context, data_dict: DataDict) -> AuthResult:
    """A logged-in user who may get the dataset's data (Art. 26, SPEC §4b)."""
    user = _user(context)
    pkg = model.Package.get(str(data_dict.get("package_id") or ""))
    if user is None:
        return _no(tk._("You must be logged in to report an error"))
    if pkg is None or not facts.decide_for_package(context, pkg).full:
        return _no(tk._("Only users who may get this dataset's data may report an error in it"))
    return _yes()


def sharing_correction_answer(context: Context, data_dict: DataDict) -> AuthResult:
    """The deciders of the dataset's provider."""
    return _on_row(context, SharingCorrection, data_dict.get("id"), corrections.may_answer,
                   tk._("Only the providing organization's admins may answer this correction request"))


def sharing_correction_list(context: Context, data_dict: DataDict) -> AuthResult:
    """Logged-in users (the action lists what each may see); an organization's: its deciders, the authority."""
    ref = data_dict.get("organization_id")
    org = model.Group.get(str(ref)) if ref and not data_dict.get("mine") else None

    def decides(user: model.User) -> bool:
        return org is not None and (roles.is_decider(user, org.id) or suspension.is_authority(user))

    return _listing(context, decides if ref and not data_dict.get("mine") else None,
                    tk._("Not authorized to see the correction requests of this organization"))


# What this module registers: every sharing_* function defined above.
__all__ = sorted(n for n in list(globals()) if n.startswith("sharing_") and callable(globals()[n]))
