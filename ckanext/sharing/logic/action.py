"""Actions: core ones chained for tiers and masking, and the workflow's own (``sharing_*``)."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import Context, DataDict

from ckanext.sharing import access, activity_filter, audit, masking, policy, tiers

Action = Callable[[Context, DataDict], Any]


# --- the tier on create / update ------------------------------------------------------------


def _after_tier_change(context: Context, pkg_dict: dict[str, Any], old: str | None, new: str, reason: str | None):
    """Audit the change (old, new, actor, reason) and run the workflow follow-up (SPEC §1, §4)."""
    user = access.user_from_context(context)
    audit.record(
        audit.TIER_CHANGE,
        actor_id=user.id if user else None,
        actor_name=user.name if user else context.get("user"),
        package_id=pkg_dict["id"],
        organization_id=pkg_dict.get("owner_org"),
        detail={"old": old, "new": new, "reason": reason},
    )
    from ckanext.sharing import workflow

    workflow.on_tier_change(context, pkg_dict, old, new)
    model.Session.commit()


def _before_tier_change(context: Context, data: DataDict, existing: model.Package | None, old: str | None, new: str):
    """Checks that must pass before a dataset takes a new tier (personal-information guard)."""
    if new == policy.OPEN and old != policy.OPEN:
        from ckanext.sharing import pi_guard

        pi_guard.check_dataset_open(context, data, existing)


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    reason = data_dict.pop("sharing_change_reason", None)
    new, _ = tiers.prepare(data_dict, None)
    _before_tier_change(context, data_dict, None, None, new)
    result = next_action(context, data_dict)
    pkg_id = result if isinstance(result, str) else result["id"]
    pkg = model.Package.get(pkg_id)
    if pkg is not None:
        _after_tier_change(context, {"id": pkg.id, "owner_org": pkg.owner_org}, None, new, reason)
    return result


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    reason = data_dict.pop("sharing_change_reason", None)
    ref = data_dict.get("id") or data_dict.get("name")
    existing = model.Package.get(ref) if ref else None
    if existing is None:
        return next_action(context, data_dict)  # CKAN raises NotFound / validation as usual
    new, old = tiers.prepare(data_dict, existing)
    if new != old:
        _before_tier_change(context, data_dict, existing, old, new)
    result = next_action(context, data_dict)
    if new != old:
        _after_tier_change(context, {"id": existing.id, "owner_org": existing.owner_org}, old, new, reason)
    return result


# --- uploads to open datasets: the personal-information guard (SPEC §6) ---------------------


@tk.chained_action
def resource_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    from ckanext.sharing import pi_guard

    pi_guard.check_resource_upload(context, data_dict)
    return next_action(context, data_dict)


@tk.chained_action
def resource_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    from ckanext.sharing import pi_guard

    pi_guard.check_resource_upload(context, data_dict)
    return next_action(context, data_dict)


# --- resource views: no view that renders data for metadata-only users -----------------------


@tk.side_effect_free
@tk.chained_action
def resource_view_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    views = next_action(context, data_dict)
    res = model.Resource.get(data_dict.get("id") or "")
    if res is None or res.package is None:
        return views
    if not access.decide_for_package(context, res.package, res.id).full:
        return []
    return views


# --- resource_search: a plain SQL search over resource fields, url included -------------------


@tk.side_effect_free
@tk.chained_action
def resource_search(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """Mask results of datasets whose data the user may not get; when the query itself matches on
    ``url``, drop them (the match alone would disclose the URL)."""
    result = next_action(context, data_dict)
    query = data_dict.get("query") or []
    terms = [query] if isinstance(query, str) else list(query)
    by_url = any(str(t).split(":", 1)[0].strip() in ("url", "original_url") for t in terms)
    results = result.get("results") or []
    # the internal search API (context["search_query"]) gets Resource objects, the Action API dicts
    refs = [(r.package_id, r.id, True) if isinstance(r, model.Resource) else (r.get("package_id"), r.get("id"), False)
            for r in results]
    pkg_ids = {pid for pid, _, _ in refs if pid}
    pkgs = {p.id: p for p in model.Session.query(model.Package).filter(model.Package.id.in_(pkg_ids))} if pkg_ids else {}
    subjects = access.subjects(access.user_from_context(context), [(p.id, p.owner_org) for p in pkgs.values()])
    kept = []
    for res, (pid, rid, is_object) in zip(results, refs):
        pkg = pkgs.get(pid)
        if pkg is None:
            continue
        decision = policy.decide(access.tier_of_package(pkg), subjects[pkg.id], rid)
        if decision.full:
            kept.append(res)
        elif decision.access is policy.Access.METADATA and not by_url and not is_object:
            masking.mask_resource(res, masking.request_url(pkg.id))
            kept.append(res)  # objects are never masked in place (that would write to the database)
    removed = len(result.get("results") or []) - len(kept)
    result["results"] = kept
    result["count"] = max(0, result.get("count", 0) - removed)
    return result


# --- activity: no restricted URL, old or new; nothing of hidden datasets ----------------------


def _filtered_activity_list(name: str) -> Action:
    """A chained ``*_activity_list`` action whose result goes through the activity filter."""

    @tk.side_effect_free
    @tk.chained_action
    def chained(next_action: Action, context: Context, data_dict: DataDict) -> Any:
        return activity_filter.filter_list(context, next_action(context, data_dict))

    chained.__name__ = chained.__qualname__ = name
    chained.__doc__ = f"CKAN's ``{name}`` without restricted resource URLs or hidden datasets."
    return chained


package_activity_list = _filtered_activity_list("package_activity_list")
user_activity_list = _filtered_activity_list("user_activity_list")
group_activity_list = _filtered_activity_list("group_activity_list")
organization_activity_list = _filtered_activity_list("organization_activity_list")
recently_changed_packages_activity_list = _filtered_activity_list("recently_changed_packages_activity_list")
dashboard_activity_list = _filtered_activity_list("dashboard_activity_list")


@tk.side_effect_free
@tk.chained_action
def activity_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    # CKAN 2.12's activity_show auth reads data_dict["include_data"] unguarded (a 500 without it);
    # the action returns the data either way, so default it as the docs describe.
    data_dict.setdefault("include_data", True)
    return activity_filter.filter_one(context, next_action(context, data_dict))


@tk.side_effect_free
@tk.chained_action
def activity_data_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activity_filter.require_full_for_activity(context, data_dict.get("id"))
    return next_action(context, data_dict)


@tk.side_effect_free
@tk.chained_action
def activity_diff(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    activity_filter.require_full_for_activity(context, data_dict.get("id"))
    return next_action(context, data_dict)


# --- the access-request workflow (SPEC §4) and the audit ledger (SPEC §5) ----------------------
# Input is validated with logic/schema.py, access is checked with the sharing_* auth functions,
# and the transitions live in workflow.py.


def _page(query: Any, data: DataDict, to_dicts: Callable[[list[Any]], list[dict[str, Any]]]) -> dict[str, Any]:
    """``{"count", "results"}`` of one page (``offset``/``limit`` from the validated input)."""
    count = query.order_by(None).count()
    rows = query.offset(data.get("offset", 0)).limit(data.get("limit", 50)).all()
    return {"count": count, "results": to_dicts(rows)}


def _wf_user(context: Context) -> model.User:
    user = access.user_from_context(context)
    if user is None:  # the auth functions refuse anonymous callers first; this is a second fence
        raise tk.NotAuthorized(tk._("You must be logged in"))
    return user


def _wf_request(request_id: str):
    from ckanext.sharing.model import SharingRequest

    req = model.Session.get(SharingRequest, request_id)
    if req is None:
        raise tk.ObjectNotFound(tk._("Access request not found"))
    return req


def _wf_grant(grant_id: str):
    from ckanext.sharing.model import SharingGrant

    grant = model.Session.get(SharingGrant, grant_id)
    if grant is None:
        raise tk.ObjectNotFound(tk._("Grant not found"))
    return grant


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
    :param requested_days: length of the access asked for, 1 … ``ckanext.sharing.max_grant_days``
        (default ``ckanext.sharing.default_grant_days``)
    :type requested_days: int
    :param organization_id: ask on behalf of your own organization (optional); a grant then covers
        all its members
    :type organization_id: string
    :returns: the request
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    tk.check_access("sharing_request_create", context, data_dict)
    data = schema.sharing_validate(data_dict, schema.sharing_request_create_schema(), context)
    req = workflow.sharing_create_request(_wf_user(context), data)
    return workflow.sharing_request_dicts([req])[0]


@tk.side_effect_free
def sharing_request_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One access request: visible to its requester and to the deciders of the owning organization.

    :param id: the request id
    :type id: string
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_id_schema(), context)
    req = _wf_request(data["id"])
    tk.check_access("sharing_request_show", context, data)
    return workflow.sharing_request_dicts([req])[0]


@tk.side_effect_free
def sharing_request_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Access requests the caller may see: their own, and those of organizations they decide for.

    Pending requests come first, the most overdue first (``overdue`` flags a passed ``due_date``).

    :param package_id: only requests for this dataset (optional)
    :type package_id: string
    :param organization_id: only requests to this owning organization (optional; deciders of it only)
    :type organization_id: string
    :param state: ``pending``, ``approved``, ``rejected``, ``withdrawn`` or ``cancelled`` (optional)
    :type state: string
    :param mine: only the caller's own requests (optional, default false)
    :type mine: bool
    :param limit: page size, 1 … 1000 (default 50)
    :type limit: int
    :param offset: rows to skip (default 0)
    :type offset: int
    :returns: ``{"count": total, "results": [request, …]}``
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_request_list_schema(), context)
    tk.check_access("sharing_request_list", context, data)
    query = workflow.sharing_visible_requests(
        _wf_user(context), package_id=data.get("package_id"), organization_id=data.get("organization_id"),
        state=data.get("state"), mine=bool(data.get("mine")),
    )
    return _page(query, data, workflow.sharing_request_dicts)


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
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_request_approve_schema(), context)
    _wf_request(data["id"])
    tk.check_access("sharing_request_approve", context, data)
    grant = workflow.sharing_approve(
        _wf_user(context), data["id"], data.get("expires"), data.get("resource_ids"), data.get("reason")
    )
    return workflow.sharing_grant_dicts([grant])[0]


def sharing_request_reject(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Reject a pending request, with a reason (deciders of the owning organization only).

    :param id: the request id
    :type id: string
    :param reason: why (sent to the requester)
    :type reason: string
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_reason_schema(), context)
    _wf_request(data["id"])
    tk.check_access("sharing_request_reject", context, data)
    req = workflow.sharing_reject(_wf_user(context), data["id"], data["reason"])
    return workflow.sharing_request_dicts([req])[0]


def sharing_request_withdraw(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Withdraw your own pending request (the requester only).

    :param id: the request id
    :type id: string
    :param reason: optional note
    :type reason: string
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_withdraw_schema(), context)
    _wf_request(data["id"])
    tk.check_access("sharing_request_withdraw", context, data)
    req = workflow.sharing_withdraw(_wf_user(context), data["id"], data.get("reason"))
    return workflow.sharing_request_dicts([req])[0]


@tk.side_effect_free
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
    :param limit: page size, 1 … 1000 (default 50)
    :type limit: int
    :param offset: rows to skip (default 0)
    :type offset: int
    :returns: ``{"count": total, "results": [grant, …]}``
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_grant_list_schema(), context)
    tk.check_access("sharing_grant_list", context, data)
    query = workflow.sharing_visible_grants(
        _wf_user(context), package_id=data.get("package_id"), organization_id=data.get("organization_id"),
        state=data.get("state"), mine=bool(data.get("mine")),
    )
    return _page(query, data, workflow.sharing_grant_dicts)


@tk.side_effect_free
def sharing_grant_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """One grant: visible to the grantee (user or organization member), the requester and the deciders.

    :param id: the grant id
    :type id: string
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_id_schema(), context)
    grant = _wf_grant(data["id"])
    tk.check_access("sharing_grant_show", context, data)
    return workflow.sharing_grant_dicts([grant])[0]


def sharing_grant_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revoke an active grant at once, with a reason (deciders of the owning organization only).

    :param id: the grant id
    :type id: string
    :param reason: why (sent to the grantee)
    :type reason: string
    :rtype: dictionary
    """
    from ckanext.sharing import workflow
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_reason_schema(), context)
    _wf_grant(data["id"])
    tk.check_access("sharing_grant_revoke", context, data)
    grant = workflow.sharing_revoke(_wf_user(context), data["id"], data["reason"])
    return workflow.sharing_grant_dicts([grant])[0]


@tk.side_effect_free
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
    from ckanext.sharing import masking
    from ckanext.sharing.logic import schema

    data = schema.sharing_validate(data_dict, schema.sharing_access_check_schema(), context)
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
    decision = access.decide_for_package(context, pkg, resource_id)
    return {
        "package_id": pkg.id,
        "resource_id": resource_id,
        "allowed": decision.full,
        "access": decision.access.value,
        "reason": decision.reason,
        "request_url": masking.request_url(pkg.id),
    }


@tk.side_effect_free
def sharing_audit_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Rows of the audit ledger, newest first: sysadmins see all, organization admins their organization's.

    :param package_id: only rows about this dataset (optional)
    :type package_id: string
    :param organization_id: only rows of this organization (optional; required scope for non-sysadmins)
    :type organization_id: string
    :param actor_id: only rows by this user (id or name, optional)
    :type actor_id: string
    :param action: only this event, e.g. ``request_create``, ``data_access``, ``tier_change`` (optional)
    :type action: string
    :param since: rows at or after this ISO date/date-time (optional)
    :type since: string
    :param until: rows at or before this ISO date/date-time (optional)
    :type until: string
    :param limit: page size, 1 … 1000 (default 100)
    :type limit: int
    :param offset: rows to skip (default 0)
    :type offset: int
    :returns: ``{"count": total, "results": [row, …]}``
    :rtype: dictionary
    """
    from ckanext.sharing.logic import schema
    from ckanext.sharing.model import SharingAudit

    data = schema.sharing_validate(data_dict, schema.sharing_audit_list_schema(), context)
    tk.check_access("sharing_audit_list", context, data)
    user = _wf_user(context)
    query = model.Session.query(SharingAudit)
    if not user.sysadmin:
        admin_of = [org for org, cap in access.user_capacities(user.id).items() if cap == "admin"]
        query = query.filter(SharingAudit.organization_id.in_(admin_of))
    if data.get("package_id"):
        pkg = model.Package.get(data["package_id"])
        query = query.filter(SharingAudit.package_id == (pkg.id if pkg else data["package_id"]))
    if data.get("organization_id"):
        org = model.Group.get(data["organization_id"])
        query = query.filter(SharingAudit.organization_id == (org.id if org else data["organization_id"]))
    if data.get("actor_id"):
        actor = model.User.get(data["actor_id"])
        query = query.filter(SharingAudit.actor_id == (actor.id if actor else data["actor_id"]))
    if data.get("action"):
        query = query.filter(SharingAudit.action == data["action"])
    if data.get("since"):
        query = query.filter(SharingAudit.created >= data["since"])
    if data.get("until"):
        query = query.filter(SharingAudit.created <= data["until"])
    count = query.count()
    rows = query.order_by(SharingAudit.id.desc()).offset(data.get("offset", 0)).limit(data.get("limit", 100)).all()
    return {
        "count": count,
        "results": [
            {
                "id": r.id, "created": r.created.isoformat(), "actor_id": r.actor_id, "actor_name": r.actor_name,
                "action": r.action, "package_id": r.package_id, "resource_id": r.resource_id,
                "organization_id": r.organization_id, "request_id": r.request_id, "grant_id": r.grant_id,
                "detail": r.detail, "prev_hash": r.prev_hash, "hash": r.hash,
            }
            for r in rows
        ],
    }


# --- DataStore calls by grantees are data access: one audit row each (SPEC §5) -----------------


def _audit_datastore(context: Context, resource_ids: list[str], channel: str) -> None:
    """Write a ``data_access`` row for each conditional resource read via a grant (members when configured)."""
    user = access.user_from_context(context)
    wrote = False
    for rid in resource_ids:
        res = model.Resource.get(rid)
        if res is None or res.package is None or access.tier_of_package(res.package) != policy.CONDITIONAL:
            continue
        decision = access.decide_for_package(context, res.package, res.id)
        grant_id = decision.reason[len("grant:"):] if decision.reason.startswith("grant:") else None
        if grant_id is None and not tk.config.get("ckanext.sharing.audit_member_access"):
            continue
        audit.record(
            audit.DATA_ACCESS,
            actor_id=user.id if user else None,
            actor_name=user.name if user else None,
            package_id=res.package_id,
            resource_id=res.id,
            organization_id=res.package.owner_org,
            grant_id=grant_id,
            detail={"channel": channel, "reason": decision.reason},
        )
        wrote = True
    if wrote:
        model.Session.commit()


@tk.side_effect_free
@tk.chained_action
def datastore_search(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    result = next_action(context, data_dict)
    _audit_datastore(context, [data_dict.get("resource_id") or ""], "datastore_search")
    return result


def _wf_direct_api_call(action_name: str) -> bool:
    """Is this action the API call the client made (not one a page makes while rendering)?"""
    from flask import has_request_context, request

    return has_request_context() and request.endpoint == "api.action" and \
        (request.view_args or {}).get("logic_function") == action_name


@tk.side_effect_free
@tk.chained_action
def datastore_info(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    result = next_action(context, data_dict)
    # the table's fields and size: audited when a client asks for them; a resource view page asks while
    # rendering, and that page is itself the audited access (one use, one row)
    if _wf_direct_api_call("datastore_info"):
        _audit_datastore(context, [data_dict.get("id") or data_dict.get("resource_id") or ""], "datastore_info")
    return result


@tk.side_effect_free
@tk.chained_action
def datastore_search_sql(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    result = next_action(context, data_dict)
    _audit_datastore(context, list(context.get("table_names") or []), "datastore_search_sql")
    return result
