"""The ``sharing_*`` actions of the request → decision → grant workflow (SPEC §4).

Each validates its input with CKAN's ``validate`` decorator and a schema of :mod:`..schema`, loads the
row by its own id (kept in the context, so the auth function does not load it again), checks access
with the ``sharing_*`` auth function, and delegates the transition to :mod:`ckanext.sharing.workflow`.
"""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.logic import validate
from ckan.types import Context, DataDict

from ckanext.sharing.access import facts, masking
from ckanext.sharing.api import docs
from ckanext.sharing.logic import schema
from ckanext.sharing.logic.auth.workflow import GRANT_KEY, REQUEST_KEY
from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import dictize, queries, suspension, transitions



def available() -> bool:
    """The workflow's own actions are always there."""
    return True


def page(query: Any, data: DataDict, to_dicts: Callable[[list[Any]], list[dict[str, Any]]]) -> dict[str, Any]:
    """``{"count", "results"}`` of one page (``offset``/``limit`` from the validated input)."""
    count = query.order_by(None).count()
    rows = query.offset(data.get("offset", 0)).limit(data.get("limit", 50)).all()
    return {"count": count, "results": to_dicts(rows)}


def _listing(
    context: Context, data: DataDict, auth_name: str, visible: Callable[..., Any],
    to_dicts: Callable[[list[Any]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """One page of the requests or grants the caller may see, filtered as the list actions document."""
    tk.check_access(auth_name, context, data)
    filters = {key: data.get(key) for key in ("package_id", "organization_id", "state")}
    return page(visible(_user(context), mine=bool(data.get("mine")), **filters), data, to_dicts)


def _user(context: Context) -> model.User:
    """The acting user; the workflow has no anonymous actor."""
    user = facts.user_from_context(context)
    if user is None:  # the auth functions refuse anonymous callers first; this is a second fence
        raise tk.NotAuthorized(tk._("You must be logged in"))
    return user


def _load_request(context: Context, request_id: str) -> SharingRequest:
    """The request by its own id, kept in the context for the auth function (loaded once)."""
    req = model.Session.get(SharingRequest, request_id)
    if req is None:
        raise tk.ObjectNotFound(tk._("Access request not found"))
    context[REQUEST_KEY] = req  # type: ignore[literal-required]
    return req


def _load_grant(context: Context, grant_id: str) -> SharingGrant:
    """The grant by its own id, kept in the context for the auth function (loaded once)."""
    grant = model.Session.get(SharingGrant, grant_id)
    if grant is None:
        raise tk.ObjectNotFound(tk._("Grant not found"))
    context[GRANT_KEY] = grant  # type: ignore[literal-required]
    return grant


def _transition(
    context: Context, data: DataDict, auth_name: str, run: Callable[[model.User, DataDict], Any],
    on_grant: bool = False,
) -> dict[str, Any]:
    """Load the row by its own id, authorise on it, run the transition, and return the changed row's dict
    (a request, or a grant with ``on_grant``): the shape of every state-changing action here."""
    (_load_grant if on_grant else _load_request)(context, data["id"])
    tk.check_access(auth_name, context, data)
    row = run(_user(context), data)
    return (dictize.grant_dicts if on_grant else dictize.request_dicts)([row])[0]


@validate(schema.sharing_request_create_schema)
def sharing_request_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ask the owning department for the data of a conditional dataset.

    Refused for open datasets ("already open"), not_shared datasets ("cannot be requested"), a
    requester who already has access, and a second pending request by the same requester for the
    same dataset. The reply is due ``ckanext.sharing.reply_working_days`` working days later;
    the deciders are e-mailed from a background job.

    :param package_id: id or name of the dataset
    :type package_id: string
    :param resource_ids: resources asked for (optional; empty or missing = the whole dataset)
    :type resource_ids: list of strings
    :param purpose: what the data will be used for (用途)
    :type purpose: string
    :param use_scenario: the application scenario (应用场景)
    :type use_scenario: string
    :param use_basis: the legal or policy basis for using the data (使用依据, Art. 20)
    :type use_basis: string
    :param use_scope: who and what the data will be used for (使用范围, Art. 20)
    :type use_scope: string
    :param share_method: how the data is to be shared (共享方式): ``接口``, ``文件下载`` or ``库表交换``
        (``api``, ``file``, ``database`` accepted); one the dataset's catalogue entry offers
    :type share_method: string
    :param requested_days: length of the access asked for, 1 … ``ckanext.sharing.max_grant_days``
        (default ``ckanext.sharing.default_grant_days``)
    :type requested_days: int
    :param organization_id: ask on behalf of your own organization (optional); a grant then covers
        all its members
    :type organization_id: string
    :returns: the request
    :rtype: dictionary
    """
    tk.check_access("sharing_request_create", context, data_dict)
    data = data_dict
    suspension.refuse_request(_user(context), data)  # Art. 27: a suspended side cannot ask
    req = transitions.create_request(_user(context), data)
    return dictize.request_dicts([req])[0]


@tk.side_effect_free
@validate(schema.sharing_id_schema)
def sharing_request_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One access request: visible to its requester, the deciders of the owning organization and, once
    it was put before it (an extension ask, an escalation), the authority. ``timeline`` lists its
    transitions in order, from the ledger.

    :param id: the request id
    :type id: string
    :rtype: dictionary
    """
    data = data_dict
    req = _load_request(context, data["id"])
    tk.check_access("sharing_request_show", context, data)
    out = dictize.request_dicts([req])[0]
    out["timeline"] = dictize.timeline_dicts(queries.timeline(req.id))
    return out


@docs.paged("request")
@tk.side_effect_free
@validate(schema.sharing_request_list_schema)
def sharing_request_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Access requests the caller may see: their own, and those of organizations they decide for.

    Pending requests come first, the most overdue first (``overdue`` flags a passed ``due_date``).

    :param package_id: only requests for this dataset (optional)
    :type package_id: string
    :param organization_id: only requests to this owning organization (optional; deciders of it only)
    :type organization_id: string
    :param state: ``pending``, ``approved``, ``rejected``, ``withdrawn``, ``cancelled``, ``returned`` or
        ``escalated`` (optional)
    :type state: string
    :param mine: only the caller's own requests (optional, default false)
    :type mine: bool
    """
    return _listing(context, data_dict, "sharing_request_list", queries.visible_requests, dictize.request_dicts)


@validate(schema.sharing_request_approve_schema)
def sharing_request_approve(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approve a pending request (deciders of the owning organization only): creates one grant.

    Two deciders acting at once end in exactly one decision: the request row is locked
    (``SELECT … FOR UPDATE``) and the database allows one grant per request.

    :param id: the request id
    :type id: string
    :param expires: end of access, ISO date or date-time (optional; default and maximum: the
        requested period from now)
    :type expires: string
    :param resource_ids: narrow the grant to these of the requested resources (optional)
    :type resource_ids: list of strings
    :param reason: a note for the requester (optional)
    :type reason: string
    :returns: the grant
    :rtype: dictionary
    """
    _load_request(context, data_dict["id"])
    tk.check_access("sharing_request_approve", context, data_dict)
    grant = transitions.approve(
        _user(context), data_dict["id"], data_dict.get("expires"), data_dict.get("resource_ids"),
        data_dict.get("reason"), bare_date=bool(data_dict.get(schema.BARE_DATE_KEY)),
    )
    return dictize.grant_dicts([grant])[0]


@validate(schema.sharing_reason_schema)
def sharing_request_reject(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Reject a pending request, with a reason (deciders of the owning organization only).

    :param id: the request id
    :type id: string
    :param reason: why (sent to the requester)
    :type reason: string
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_request_reject",
                       lambda user, data: transitions.reject(user, data["id"], data["reason"]))


@validate(schema.sharing_withdraw_schema)
def sharing_request_withdraw(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Withdraw your own pending request (the requester only).

    :param id: the request id
    :type id: string
    :param reason: optional note
    :type reason: string
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_request_withdraw",
                       lambda user, data: transitions.withdraw(user, data["id"], data.get("reason")))


@docs.paged("grant")
@tk.side_effect_free
@validate(schema.sharing_grant_list_schema)
def sharing_grant_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Grants the caller may see: to them or their organizations, and those of organizations they decide for.

    ``effective_state`` is ``expired`` as soon as ``expires`` has passed, even before the expiry job runs.

    :param package_id: only grants on this dataset (optional)
    :type package_id: string
    :param organization_id: only grants on datasets of this owning organization (optional; its deciders only)
    :type organization_id: string
    :param state: ``active``, ``expired`` or ``revoked`` (optional)
    :type state: string
    :param mine: only grants to the caller or the caller's organizations (optional)
    :type mine: bool
    """
    return _listing(context, data_dict, "sharing_grant_list", queries.visible_grants, dictize.grant_dicts)


@tk.side_effect_free
@validate(schema.sharing_id_schema)
def sharing_grant_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One grant: visible to the grantee (user or organization member), the requester and the deciders.

    :param id: the grant id
    :type id: string
    :rtype: dictionary
    """
    data = data_dict
    grant = _load_grant(context, data["id"])
    tk.check_access("sharing_grant_show", context, data)
    return dictize.grant_dicts([grant])[0]


@validate(schema.sharing_reason_schema)
def sharing_grant_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revoke an active grant at once, with a reason (deciders of the owning organization only).

    :param id: the grant id
    :type id: string
    :param reason: why (sent to the grantee)
    :type reason: string
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_grant_revoke",
                       lambda user, data: transitions.revoke(user, data["id"], data["reason"]), on_grant=True)


@tk.side_effect_free
@validate(schema.sharing_access_check_schema)
def sharing_access_check(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """May the caller get the data of a dataset (or of one resource), and why.

    ``reason`` is ``open``, ``member``, ``collaborator``, ``sysadmin``, ``grant:<id>``, or the refusal:
    ``conditional`` (ask for access), ``grant_expired``, ``grant_scope`` (a grant covers other resources).

    :param package_id: id or name of the dataset
    :type package_id: string
    :param resource_id: one resource (optional; default: all the data of the dataset)
    :type resource_id: string
    :returns: ``{"allowed": bool, "access": "full"|"metadata", "reason": str, "request_url": str}``
    :rtype: dictionary
    """
    data = data_dict
    pkg = model.Package.get(data["package_id"])
    if pkg is None or pkg.state != "active":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    tk.check_access("sharing_access_check", context, {"package_id": pkg.id})
    resource_id = data.get("resource_id")
    if resource_id:
        res = model.Resource.get(resource_id)
        if res is None or res.package_id != pkg.id or res.state != "active":
            raise tk.ValidationError({"resource_id": [tk._("Not a resource of this dataset")]})
        resource_id = res.id
    decision = facts.decide_for_package(context, pkg, resource_id)
    return {
        "package_id": pkg.id,
        "resource_id": resource_id,
        "allowed": decision.full,
        "access": decision.access.value,
        "reason": decision.reason,
        "request_url": masking.request_url(pkg.id),
    }


# --- the request's lifecycle under the 2025 Regulation (SPEC §4b) -------------------------------


@validate(schema.sharing_request_return_schema)
def sharing_request_return(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Return a pending request for completion, listing everything missing in one notice (2025
    Regulation Art. 21, 一次性告知; deciders of the owning organization). ``pending → returned``: the
    reply clock stops until the requester resubmits. Once per request.

    :param id: the request id
    :type id: string
    :param missing: what the requester must add or fix: a non-empty list of texts
    :type missing: list of strings
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_request_return",
                       lambda user, data: transitions.return_request(user, data["id"], data["missing"]))


@validate(schema.sharing_request_resubmit_schema)
def sharing_request_resubmit(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Resubmit a returned request with what was missing (Art. 21; the requester only).
    ``returned → pending``; ``due_date`` is counted again from now.

    :param id: the request id
    :type id: string
    :param purpose, use_scenario, use_basis, use_scope, share_method, requested_days, resource_ids: any
        field of ``sharing_request_create`` to change (optional)
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_request_resubmit",
                       lambda user, data: transitions.resubmit(user, data["id"], data))


@validate(schema.sharing_request_extend_schema)
def sharing_request_extend(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ask the authority for more time to answer a pending request (Art. 21; deciders of the owning
    organization). Once per request; the due date moves only when the authority approves.

    :param id: the request id
    :type id: string
    :param working_days: 1 … ``ckanext.sharing.max_extension_working_days`` (default 10)
    :type working_days: int
    :param reason: why more time is needed
    :type reason: string
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_request_extend", lambda user, data: transitions.extend(
        user, data["id"], data["working_days"], data["reason"]))


@validate(schema.sharing_extension_decide_schema)
def sharing_extension_decide(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The authority approves or refuses the extension asked for a request (Art. 21; sysadmins and
    admins of ``ckanext.sharing.authority_org``). Approved: ``due_date`` moves by that many working
    days; the requester is told.

    :param id: the request id
    :type id: string
    :param approve: true to approve, false to refuse
    :type approve: bool
    :param note: a note for the requester and the provider (optional)
    :type note: string
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_extension_decide", lambda user, data: transitions.decide_extension(
        user, data["id"], data["approve"], data.get("note")))


@validate(schema.sharing_reason_schema)
def sharing_request_escalate(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Bring a rejected request, or a pending one past its due date, to the authority for coordination
    (Art. 28; the requester only): ``→ escalated``. Once per request.

    :param id: the request id
    :type id: string
    :param reason: why the requester disagrees
    :type reason: string
    :rtype: dictionary
    """
    return _transition(context, data_dict, "sharing_request_escalate",
                       lambda user, data: transitions.escalate(user, data["id"], data["reason"]))


@validate(schema.sharing_request_resolve_schema)
def sharing_request_resolve(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The authority decides an escalated request (Art. 28): ``approve`` makes the grant as
    ``sharing_request_approve`` does; ``reject`` is final.

    :param id: the request id
    :type id: string
    :param decision: ``approve`` or ``reject``
    :type decision: string
    :param note: the authority's note (optional)
    :type note: string
    :param expires: with ``approve``: end of access (optional, as in ``sharing_request_approve``)
    :type expires: string
    :param resource_ids: with ``approve``: narrow the grant (optional)
    :type resource_ids: list of strings
    :returns: the request (with ``grant_id`` when approved)
    :rtype: dictionary
    """
    def run(user: model.User, data: DataDict) -> SharingRequest:
        req, _ = transitions.resolve(user, data["id"], data["decision"], data.get("note"), data.get("expires"),
                                     data.get("resource_ids"), bare_date=bool(data.get(schema.BARE_DATE_KEY)))
        return req

    return _transition(context, data_dict, "sharing_request_resolve", run)


@docs.paged("request")
@tk.side_effect_free
@validate(schema.sharing_authority_queue_schema)
def sharing_authority_queue(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What waits for the sharing authority (SPEC §4b; the authority only): ``escalations`` (Art. 28)
    or ``extensions`` asked (Art. 21), the oldest first.

    :param kind: ``escalations`` or ``extensions``
    :type kind: string
    """
    tk.check_access("sharing_authority_queue", context, data_dict)
    return page(queries.authority_queue(data_dict["kind"]), data_dict, dictize.request_dicts)


# What this module registers: every sharing_* function defined above.
__all__ = sorted(n for n in list(globals()) if n.startswith("sharing_") and callable(globals()[n]))
