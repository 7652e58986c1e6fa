"""The ``sharing_*`` actions of the obligations after a decision (《政务数据共享条例》, SPEC §4b):
delivery (Art. 22), suspension (Art. 27), use reports (Art. 29), correction requests (Art. 26).

Each validates its input with a schema of :mod:`..obligations_schema`, loads the row by its own id
(kept in the context for the auth function), checks access with the ``sharing_*`` auth function of
:mod:`ckanext.sharing.logic.auth.obligations`, and delegates to the workflow module that owns the rule.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.logic import validate
from ckan.types import Context, DataDict

from ckanext.sharing.api import docs
from ckanext.sharing.logic import obligations_schema as schema
from ckanext.sharing.logic.action.workflow import _user, page
from ckanext.sharing.logic.auth.obligations import ROW_KEY
from ckanext.sharing.model import SharingGrant
from ckanext.sharing.model.obligations import SharingCorrection, SharingSuspension
from ckanext.sharing.workflow import corrections, delivery, dictize, suspension, use_reports


def available() -> bool:
    """The obligation actions are always there."""
    return True


def _load(context: Context, cls: Any, row_id: str, not_found: str) -> Any:
    """The row by its own id, kept in the context for the auth function (loaded once)."""
    row = model.Session.get(cls, row_id)
    if row is None:
        raise tk.ObjectNotFound(not_found)
    context[ROW_KEY] = row  # type: ignore[literal-required]
    return row


def _grant_dict(grant: SharingGrant) -> dict[str, Any]:
    return delivery.annotate(dictize.grant_dicts([grant]))[0]


@validate(schema.sharing_grant_deliver_schema)
def sharing_grant_deliver(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Record that an approved grant's data was delivered outside the portal (Art. 22; the providing
    organization's deciders). Grants whose data the portal serves are delivered at approval.

    Every grant has ``delivery_due`` (decision + ``ckanext.sharing.delivery_working_days`` working
    days) and ``delivered``; undelivered grants past it are flagged to the deciders by the scheduled job.

    :param id: the grant id
    :type id: string
    :param method: ``接口`` (API), ``文件下载`` (file) or ``库表交换`` (database exchange)
    :type method: string
    :param note: how and where, for the grantee (optional)
    :type note: string
    :returns: the grant, with ``delivery_due`` and ``delivered``
    :rtype: dictionary
    """
    grant = _load(context, SharingGrant, data_dict["id"], tk._("Grant not found"))
    tk.check_access("sharing_grant_deliver", context, data_dict)
    delivery.deliver(_user(context), grant.id, data_dict["method"], data_dict.get("note"))
    return _grant_dict(model.Session.get(SharingGrant, grant.id))


@validate(schema.sharing_suspension_create_schema)
def sharing_suspension_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Suspend the sharing rights of a requesting side (Art. 27): its grants from the provider give no
    access (``sharing_access_check`` reason ``suspended``) and its new requests are refused, until lifted.

    The authority may suspend towards any provider (or all); a provider's deciders towards their own
    organization only (``provider_org_id`` required).

    :param user_id: the user suspended (optional if ``organization_id`` is given)
    :type user_id: string
    :param organization_id: the requesting organization suspended, with its members (optional)
    :type organization_id: string
    :param provider_org_id: towards this providing organization (optional: all providers; authority only)
    :type provider_org_id: string
    :param reason: why (told to the suspended side)
    :type reason: string
    :rtype: dictionary
    """
    tk.check_access("sharing_suspension_create", context, data_dict)
    row = suspension.create(_user(context), data_dict)
    return suspension.dicts([row])[0]


@validate(schema.sharing_suspension_lift_schema)
def sharing_suspension_lift(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Lift a suspension at once (the authority; a provider's deciders for one towards their organization).

    :param id: the suspension id
    :type id: string
    :param reason: why
    :type reason: string
    :rtype: dictionary
    """
    _load(context, SharingSuspension, data_dict["id"], tk._("Suspension not found"))
    tk.check_access("sharing_suspension_lift", context, data_dict)
    row = suspension.lift(_user(context), data_dict["id"], data_dict["reason"])
    return suspension.dicts([row])[0]


@docs.paged("suspension")
@tk.side_effect_free
@validate(schema.sharing_suspension_list_schema)
def sharing_suspension_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Suspensions the caller may see: all (the authority), those towards organizations they decide
    for, and their own or their organizations'. Active ones first.

    :param state: ``active`` or ``lifted`` (optional)
    :type state: string
    """
    tk.check_access("sharing_suspension_list", context, data_dict)
    return page(suspension.visible(_user(context), data_dict.get("state")), data_dict, suspension.dicts)


@validate(schema.sharing_use_report_create_schema)
def sharing_use_report_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Record the use, storage and destruction of a grant's data (Art. 29; the grantee or a member of the
    grantee organization). Reports are kept at least ``ckanext.sharing.retention_years`` years.

    :param grant_id: the grant
    :type grant_id: string
    :param scenario: 使用场景, where the data was used
    :type scenario: string
    :param process: 使用过程, how
    :type process: string
    :param outcome: 应用成效, with what result
    :type outcome: string
    :param storage: 存储情况, where and how the data is kept
    :type storage: string
    :param destruction: 销毁情况, when and how it was destroyed (optional while in use; an ended grant
        is flagged ``report_due`` until a report states it)
    :type destruction: string
    :rtype: dictionary
    """
    grant = _load(context, SharingGrant, data_dict["grant_id"], tk._("Grant not found"))
    tk.check_access("sharing_use_report_create", context, data_dict)
    row = use_reports.create(_user(context), grant, data_dict)
    return use_reports.dicts([row])[0]


@docs.paged("report")
@tk.side_effect_free
@validate(schema.sharing_use_report_list_schema)
def sharing_use_report_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Use reports the caller may read: their own grants', their organizations' as provider (deciders),
    all (the authority). Newest first.

    :param grant_id: one grant's reports (optional)
    :type grant_id: string
    """
    if data_dict.get("grant_id"):
        _load(context, SharingGrant, data_dict["grant_id"], tk._("Grant not found"))
    tk.check_access("sharing_use_report_list", context, data_dict)
    return page(use_reports.visible(_user(context), data_dict.get("grant_id")), data_dict, use_reports.dicts)


@validate(schema.sharing_correction_create_schema)
def sharing_correction_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Report an error in a dataset's data (纠错, Art. 26; a logged-in user who may get the data). The
    provider's deciders are e-mailed and must answer within ``ckanext.sharing.correction_working_days``
    working days (``due_date``).

    :param package_id: id or name of the dataset
    :type package_id: string
    :param resource_id: the resource concerned (optional)
    :type resource_id: string
    :param description: what is wrong
    :type description: string
    :rtype: dictionary
    """
    pkg = model.Package.get(data_dict["package_id"])
    if pkg is None or pkg.state != "active":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    try:  # a dataset hidden from the caller is never named
        tk.check_access("package_show", dict(context), {"id": pkg.id})
    except tk.NotAuthorized:
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    tk.check_access("sharing_correction_create", context, {**data_dict, "package_id": pkg.id})
    row = corrections.create(_user(context), pkg, data_dict.get("resource_id"), data_dict["description"])
    return corrections.dicts([row])[0]


@validate(schema.sharing_correction_answer_schema)
def sharing_correction_answer(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Answer a correction request, once (the providing organization's deciders); the requester is told.

    :param id: the correction request id
    :type id: string
    :param answer: what was checked and done
    :type answer: string
    :param corrected: whether the data was corrected
    :type corrected: bool
    :rtype: dictionary
    """
    _load(context, SharingCorrection, data_dict["id"], tk._("Correction request not found"))
    tk.check_access("sharing_correction_answer", context, data_dict)
    row = corrections.answer(_user(context), data_dict["id"], data_dict["answer"], data_dict["corrected"])
    return corrections.dicts([row])[0]


@docs.paged("correction")
@tk.side_effect_free
@validate(schema.sharing_correction_list_schema)
def sharing_correction_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Correction requests the caller may see: their own, their organizations' as provider (deciders),
    all (the authority). Open and most overdue first (``overdue`` flags a passed ``due_date``).

    :param package_id: only about this dataset (optional)
    :type package_id: string
    :param organization_id: only to this providing organization (optional; its deciders)
    :type organization_id: string
    :param state: ``open`` or ``answered`` (optional)
    :type state: string
    :param mine: only the caller's own (optional)
    :type mine: bool
    """
    tk.check_access("sharing_correction_list", context, data_dict)
    q = corrections.visible(_user(context), mine=bool(data_dict.get("mine")),
                            **{k: data_dict.get(k) for k in ("package_id", "organization_id", "state")})
    return page(q, data_dict, corrections.dicts)


# What this module registers: every sharing_* function defined above.
__all__ = sorted(n for n in list(globals()) if n.startswith("sharing_") and callable(globals()[n]))
