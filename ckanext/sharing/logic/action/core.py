"""Core actions chained for the tiers and masking (SPEC §1, §3): create/update take a tier, views and
resource search hide what the caller may not get."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

import sqlalchemy as sa

import ckan.lib.search as search
import ckan.plugins.toolkit as tk
from ckan import model
import ckan.model.misc as misc
from ckan.lib.dictization import model_dictize
from ckan.types import Context, DataDict

from ckanext.sharing.access import facts, masking, policy, tiers
from ckanext.sharing.api import output_only
from ckanext.sharing.logic import schema
from ckanext.sharing.model import SharingGrant
from ckanext.sharing.workflow import transitions
from ckanext.sharing.workflow.states import GRANT_ACTIVE

Action = Callable[[Context, DataDict], Any]

# Context key carrying a tier change from the chained action to the dataset hooks.
TIER_CHANGE_KEY = "sharing_tier_change"
# Context key carrying the owner organization before an update (a move: issue 10, hole 6).
OWNER_KEY = "sharing_old_owner"
MAX_REASON = 2000


# The actions this module registers.
__all__ = [
    "package_create",
    "package_update",
    "resource_view_list",
    "resource_search",
    "status_show",
    "dataset_followee_list",
    "followee_list",
]


def available() -> bool:
    """Core actions are always there."""
    return True


# --- the tier on create / update ------------------------------------------------------------


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``package_create`` with ``sharing_tier`` (and ``private`` derived from it)."""
    refuse_unstorable(data_dict)
    output_only.strip(data_dict, None)
    reason = change_reason(data_dict)
    new, _ = tiers.prepare(data_dict, None)
    context[TIER_CHANGE_KEY] = {"old": None, "new": new, "reason": reason}  # type: ignore[literal-required]
    return next_action(context, data_dict)


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``package_update`` with ``sharing_tier``; an update that sends no tier keeps the stored one.
    Notes the owner before the update, so a move to another organization moves the workflow too."""
    refuse_unstorable(data_dict)
    reason = change_reason(data_dict)
    ref = data_dict.get("id") or data_dict.get("name")
    existing = model.Package.get(ref) if isinstance(ref, str) and not schema.text_problem(ref) else None
    output_only.strip(data_dict, existing)
    if existing is None:
        return next_action(context, data_dict)  # CKAN raises NotFound / validation as usual
    context[OWNER_KEY] = existing.owner_org  # type: ignore[literal-required]
    new, old = tiers.prepare(data_dict, existing)
    if new != old:
        context[TIER_CHANGE_KEY] = {"old": old, "new": new, "reason": reason}  # type: ignore[literal-required]
    return next_action(context, data_dict)


def _unstorable(value: Any, depth: int = 0) -> Optional[str]:
    """Why some string inside ``value`` (keys included) cannot be stored, or None."""
    if isinstance(value, str):
        return schema.text_problem(value)
    if depth > 20:
        return None
    if isinstance(value, dict):
        items: Any = [v for pair in value.items() for v in pair]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return None
    for item in items:
        problem = _unstorable(item, depth + 1)
        if problem:
            return problem
    return None


def refuse_unstorable(data_dict: DataDict) -> None:
    """A NUL or an unpaired surrogate anywhere in a dataset dict (extras, resources, tags …) is a
    ValidationError naming the top-level field, never a 500 from psycopg2 or JSONB (issue 10)."""
    for key, value in data_dict.items():
        problem = _unstorable(key) or _unstorable(value)
        if problem:
            field = str(key).encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
            # CKAN's ValidationError expects tag errors as [{"name": [...]}] (a plain message is a 500)
            raise tk.ValidationError({field: [{"name": [problem]}] if field == "tags" else [problem]})


def change_reason(data_dict: DataDict) -> Optional[str]:
    """Pop and validate ``sharing_change_reason``: a string of at most 2000 characters PostgreSQL can
    store (issue 10, hole 7: the ledger hashes it, so it must come back from JSONB unchanged)."""
    reason = data_dict.pop("sharing_change_reason", None)
    if reason is None or reason == "":
        return None
    if not isinstance(reason, str):
        raise tk.ValidationError({"sharing_change_reason": [tk._("Must be a string")]})
    problem = schema.text_problem(reason)
    if problem:
        raise tk.ValidationError({"sharing_change_reason": [problem]})
    if len(reason) > MAX_REASON:
        raise tk.ValidationError({"sharing_change_reason": [tk._("Must be at most %d characters") % MAX_REASON]})
    return reason.strip() or None


def after_dataset_saved(context: Mapping[str, Any], data: Mapping[str, Any]) -> None:
    """``after_dataset_create``/``after_dataset_update``: record the tier change the chained action noted.

    These hooks run inside core's transaction, before its commit, so the ledger row and the follow-up
    (cancelled requests, revoked grants) commit or roll back with the change itself (issue 9).
    """
    change = context.pop(TIER_CHANGE_KEY, None)  # type: ignore[attr-defined]
    old_owner = context.pop(OWNER_KEY, None)  # type: ignore[attr-defined]
    if not change and not old_owner:
        return
    pkg = context.get("package") or model.Package.get(data.get("id") or data.get("name") or "")
    if pkg is None:
        return
    if old_owner:
        transitions.owner_changed(context, pkg.id, old_owner, pkg.owner_org)
    if change:
        transitions.tier_changed(context, pkg.id, pkg.owner_org, change["old"], change["new"], change["reason"])


# --- followee lists: core dictizes datasets without package_show ------------------------------


def _masked_followees(context: Context, items: list[Any], key: Optional[str]) -> list[Any]:
    """Mask every dataset dict of a followee list for the caller, as ``package_show`` does, and drop
    the datasets hidden from the caller (hole 2; SPEC §3: hidden is not found)."""
    def dataset(item: Any) -> Optional[dict[str, Any]]:
        pkg = item.get(key) if key and isinstance(item, dict) and item.get("type") == "dataset" else (
            None if key else item)
        return pkg if isinstance(pkg, dict) and pkg.get("id") else None

    pkgs = [p for p in map(dataset, items) if p is not None]
    if not pkgs:
        return items
    subjects = facts.subjects(facts.user_from_context(context), [(p["id"], p.get("owner_org")) for p in pkgs])
    hidden = {p["id"] for p in pkgs
              if policy.decide(facts.tier_of_dict(p), subjects[p["id"]]).access is policy.Access.HIDDEN}
    masking.apply_all([(p, subjects[p["id"]]) for p in pkgs if p["id"] not in hidden])
    return [item for item in items if (pkg := dataset(item)) is None or pkg["id"] not in hidden]


@tk.side_effect_free
@tk.chained_action
def dataset_followee_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``dataset_followee_list`` with each dataset masked for the caller (SPEC §3)."""
    return _masked_followees(context, next_action(context, data_dict), None)


@tk.side_effect_free
@tk.chained_action
def followee_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``followee_list`` with each followed dataset's dict masked for the caller (SPEC §3)."""
    return _masked_followees(context, next_action(context, data_dict), "dict")


# --- resource views: no view that renders data for metadata-only users -----------------------


@tk.side_effect_free
@tk.chained_action
def resource_view_list(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``resource_view_list``: no view that renders data for a metadata-only user (SPEC §3)."""
    views = next_action(context, data_dict)
    res = model.Resource.get(data_dict.get("id") or "")
    if res is None or res.package is None:
        return views
    if not facts.decide_for_package(context, res.package, res.id).full:
        return []
    return views


# --- resource_search: a plain SQL search over resource fields, url included -------------------


def _text_param(field: str, value: Any) -> str:
    """A string parameter PostgreSQL can take (no NUL, no lone surrogate), else a ValidationError."""
    if not isinstance(value, str):
        raise tk.ValidationError({field: [tk._("Must be a string")]})
    problem = schema.text_problem(value)
    if problem:
        raise tk.ValidationError({field: [problem]})
    return value


def _int_param(field: str, value: Any) -> Any:
    """``offset``/``limit``: a whole number 0 … 2**31-1 (PostgreSQL answers 500 beyond bigint)."""
    if value is None:
        return None
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        number = int(str(value))
    except (TypeError, ValueError):
        raise tk.ValidationError({field: [tk._("Must be a whole number")]})
    if number < 0 or number > _MAX_INT:
        raise tk.ValidationError({field: [tk._("Must be between 0 and %d") % _MAX_INT]})
    return number


_MAX_INT = 2**31 - 1


def _tier_column() -> Any:
    """The tier of ``model.Package`` as SQL, as :func:`facts.tier_of_package` reads it."""
    stored = model.Package.extras["sharing_tier"].astext
    derived = sa.case((model.Package.private.is_(True), policy.NOT_SHARED), else_=policy.OPEN)
    return sa.case((stored.in_(policy.TIERS), stored), else_=derived)


def _full_rows(user: Optional[model.User]) -> Any:
    """A SQL condition on (Resource, Package) rows: the caller may get this resource's data.

    The decisions are the policy's: the tiers a stranger gets in full, plus the datasets (and, for
    scoped grants, resources) the caller is related to, decided with one batch of facts.
    """
    stranger = policy.Subject(user_id=user.id if user else None)
    clauses = [_tier_column().in_([t for t in policy.TIERS if policy.decide(t, stranger).full])]
    if user is None:
        return sa.or_(*clauses)
    orgs = list(facts.user_capacities(user.id))
    grantee = SharingGrant.user_id == user.id
    if orgs:
        grantee = sa.or_(grantee, SharingGrant.organization_id.in_(orgs))
    related = [model.Package.id.in_(sa.select(SharingGrant.package_id).where(
        SharingGrant.state == GRANT_ACTIVE, grantee))]
    if orgs:
        related.append(model.Package.owner_org.in_(orgs))
    related.append(model.Package.id.in_(sa.select(model.PackageMember.package_id).where(
        model.PackageMember.user_id == user.id)))
    pkgs = model.Session.query(model.Package).filter(model.Package.state == "active", sa.or_(*related)).all()
    subjects = facts.subjects(user, [(p.id, p.owner_org) for p in pkgs])
    full_pkgs, partial = [], {}
    for pkg in pkgs:
        if policy.decide(facts.tier_of_package(pkg), subjects[pkg.id]).full:
            full_pkgs.append(pkg.id)
        elif subjects[pkg.id].grants:
            partial[pkg.id] = pkg
    full_res = [
        rid for rid, pid in model.Session.query(model.Resource.id, model.Resource.package_id)
        .filter(model.Resource.package_id.in_(list(partial)))
        if policy.decide(facts.tier_of_package(partial[pid]), subjects[pid], rid).full
    ] if partial else []
    if full_pkgs:
        clauses.append(model.Package.id.in_(full_pkgs))
    if full_res:
        clauses.append(model.Resource.id.in_(full_res))
    return sa.or_(*clauses)


@tk.side_effect_free
@tk.chained_action
def resource_search(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's ``resource_search`` with the tiers applied in SQL, before count, offset, limit and order
    (issue 10, hole 1).

    Matching or ordering on a field outside :data:`masking.METADATA_FIELDS` (``url``, ``cache_url``,
    any extra) only ever sees rows whose data the caller may get, so neither ``count`` nor the order
    discloses a hidden value; other queries also return metadata-only rows, masked. Re-implements
    core's query (same parameters, errors and result shape) because core offers no hook into it.
    """
    tk.check_access("resource_search", context, data_dict)
    query = data_dict.get("query")
    order_by = data_dict.get("order_by")
    offset = _int_param("offset", data_dict.get("offset"))
    limit = _int_param("limit", data_dict.get("limit"))
    if query is None:
        raise tk.ValidationError({"query": [tk._("Missing value")]})
    terms = [query] if isinstance(query, str) else query
    if not isinstance(terms, list):
        raise tk.ValidationError({"query": [tk._("Must be <field>:<value> pair(s)")]})
    try:
        fields = dict(_text_param("query", pair).split(":", 1) for pair in terms)
    except ValueError:
        raise tk.ValidationError({"query": [tk._("Must be <field>:<value> pair(s)")]})
    if order_by is not None:
        _text_param("order_by", order_by)

    q = (model.Session.query(model.Resource).join(model.Package)
         .filter(model.Package.state == "active", model.Package.private.is_(False),
                 model.Resource.state == "active"))
    columns = model.Resource.get_columns()
    for field, term in fields.items():
        if field not in columns:
            msg = tk._('Field "{field}" not recognised in resource_search.').format(field=field)
            if context.get("search_query", False):
                raise search.SearchError(msg)
            raise tk.ValidationError({"query": [msg]})
        term = misc.escape_sql_like_special_characters(term)
        if field == "hash":
            q = q.filter(model.Resource.hash.ilike(term + "%"))
        elif field in model.Resource.get_extra_columns():
            blob = model.Resource.extras
            q = q.filter(sa.or_(blob.ilike(f'%"{field}": "%{term}%",%'), blob.ilike(f'%"{field}": "%{term}%"}}')))
        else:
            attr = getattr(model.Resource, field)
            if isinstance(attr.property.columns[0].type, sa.UnicodeText):
                q = q.filter(attr.ilike(f"%{term}%"))
            else:
                q = q.filter(attr == term)
    ordered = order_by is not None and hasattr(model.Resource, order_by)
    user = facts.user_from_context(context)
    hidden = {f for f in fields if f not in masking.METADATA_FIELDS}
    if ordered and order_by not in masking.METADATA_FIELDS:
        hidden.add(order_by)
    if hidden and not (user is not None and user.sysadmin):
        q = q.filter(_full_rows(user))
    if ordered:
        q = q.order_by(getattr(model.Resource, order_by))
    count = q.count()
    rows = q.offset(offset).limit(limit).all()
    return {"count": count, "results": _masked_results(context, rows)}


def _masked_results(context: Context, rows: list[model.Resource]) -> list[Any]:
    """The page as core returns it (objects for the internal search API, dicts otherwise), each
    metadata-only resource masked (objects are never masked in place: that would write to the DB)."""
    objects = bool(context.get("search_query", False))
    pkgs = {r.package_id: r.package for r in rows}
    subjects = facts.subjects(facts.user_from_context(context), [(p.id, p.owner_org) for p in pkgs.values()])
    out: list[Any] = []
    for row in rows:
        pkg = pkgs[row.package_id]
        decision = policy.decide(facts.tier_of_package(pkg), subjects[pkg.id], row.id)
        if decision.full:
            out.append(row if objects else model_dictize.resource_dictize(row, context))
        elif decision.access is policy.Access.METADATA and not objects:
            res = model_dictize.resource_dictize(row, context)
            masking.mask_resource(res, masking.request_url(pkg.id))
            out.append(res)
    return out


@tk.side_effect_free
@tk.chained_action
def status_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """CKAN's site status plus ``sharing_version``, the running release of this extension (SPEC §3b), so a
    harvester or an operator can tell which masking rules answer. Hidden like ``ckan_version`` when
    ``ckan.hide_version`` is set, except for sysadmins."""
    import ckanext.sharing

    result = next_action(context, data_dict)
    if "ckan_version" in result:
        result["sharing_version"] = ckanext.sharing.__version__
    return result
