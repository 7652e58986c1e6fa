"""The catalogue importer (SPEC §12): every row of a file through ``package_create`` / ``package_update`` —
the same chained actions, scheming schema, tier rules and personal-information guard as the form and the
API (one code path; nothing here decides whether a value is valid).

Speed (SPEC §10): the rows are prepared in one pass (organizations, existing datasets, in-file duplicates and
URL names found with a few queries), then written in batches: one transaction per batch, a savepoint per row
(:func:`one_transaction`: a refused row never undoes another), ``defer_commit`` + ``return_id_only`` (no
``package_show`` per row, no index write per row), the batch's ledger rows appended at its commit, by several
forked worker processes when the file is large, indexed per batch with one Solr commit at the end.
``dry_run`` runs the same actions and rolls every row back; what it inserts under a unique name (a new
organization, a new dataset) gets a throwaway name, the real one checked by the schema's own name validators, so
that concurrent imports never wait on a dry run's rows that are never committed (:func:`_throwaway_name`).

Idempotent: a row is the dataset with its ``res_code``, else the dataset with its title in its organization;
a row equal to what is stored is ``unchanged``; a changed one is refused unless ``update``.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

import sqlalchemy as sa
import yaml

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.catalogue import naming, pi_guard
from ckanext.sharing.catalogue import validators as catalogue_validators
from ckanext.sharing.catalogue.transfer import headers as hdr
from ckanext.sharing.catalogue.transfer import normalise as norm
from ckanext.sharing.catalogue.transfer import readers, shown
from ckanext.sharing.catalogue.transfer.report import Report, RowResult, field_label, in_language, portal_language
from ckanext.sharing.ledger import chain

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
RowsDone = Callable[[list["RowResult"]], None]  # each finished batch's report lines, as they come
CHUNK_ROWS = 50          # rows a worker writes before reporting progress and indexing them
AUTO_WORKERS_FROM = 400  # rows from which several worker processes are used by default
MAX_AUTO_WORKERS = 4
# pg_advisory_xact_lock key of the organization-creation step: concurrent real imports create organizations one
# after another, each reading the organizations the others committed (no IntegrityError on a name)
ORG_CREATE_LOCK = "sharing_catalogue_import:organization_create"
# the context flag of a dry run's actions (validators that only order writers, e.g. the res_code lock, skip it)
DRY_RUN_KEY = "sharing_dry_run"
# Dataset fields compared to decide "unchanged" (the schema's fields an import can carry).
COMPARED = ("title", "notes", "res_code", "res_class", "format_category", "sharing_tier", "share_condition",
            "share_basis", "share_method", "update_cycle", "publish_date", "related_res_codes", "data_grade",
            "share_scope", "contains_personal_info", "deidentified", "theme", "contact_name", "contact_phone",
            "contact_email", "data_items", "tag_string", "owner_org", "name")
ITEM_KEYS = ("item_name", "item_type", "item_length", "item_description", "item_personal")
# Defaults of a mapping file that apply only to rows of the tier that needs them (SPEC §1).
TIER_DEFAULTS = {"share_condition": "conditional", "share_scope": "conditional", "share_basis": "not_shared"}
OPEN_DATA_MAPPING = Path(__file__).resolve().parent / "mappings" / "open_data_portals.yaml"
LIST_FIELDS = ("share_method", "related_res_codes")
BOOL_FIELDS = ("contains_personal_info", "deidentified")


class MappingError(Exception):
    """A mapping file that cannot be used (its message names the key)."""


@dataclass
class ImportMapping:
    """A mapping file: ``columns`` (header → field or ``ignore``), ``values`` (field → {value in the file →
    value}), ``defaults`` (field → value used when a row has none), ``res_code_prefix`` (rows without a code
    get ``<prefix>/<next sequence number>``), ``data_items_from_notes`` (an abstract that is a column list
    gives the data items)."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    res_code_prefix: Optional[str] = None
    data_items_from_notes: bool = False


def load_mapping(source: Any) -> ImportMapping:
    """A mapping file (path or parsed YAML) → :class:`ImportMapping`; :class:`MappingError` names a bad key."""
    if source is None:
        return ImportMapping()
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, encoding="utf-8") as handle:
                source = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise MappingError(tk._("The mapping file cannot be read: %s") % exc)
    if not isinstance(source, dict):
        raise MappingError(tk._("The mapping file must be a YAML mapping"))
    allowed = set(hdr.FIELDS) | {hdr.IGNORE}
    known_keys = {"columns", "values", "defaults", "res_code_prefix", "data_items_from_notes"}
    for key in source:
        if key not in known_keys:
            raise MappingError(tk._("Unknown key in the mapping file: %s") % key)
    columns = {str(k): str(v) for k, v in (source.get("columns") or {}).items()}
    for header, target in columns.items():
        if target not in allowed:
            raise MappingError(tk._("Column %(header)s: unknown field %(field)s") % {"header": header, "field": target})
    for section in ("values", "defaults"):
        for name in source.get(section) or {}:
            if name not in hdr.FIELDS:
                raise MappingError(tk._("%(section)s: unknown field %(field)s") % {"section": section, "field": name})
    prefix = source.get("res_code_prefix")
    return ImportMapping(
        columns=columns,
        values={k: {str(a): b for a, b in (v or {}).items()} for k, v in (source.get("values") or {}).items()},
        defaults=dict(source.get("defaults") or {}),
        res_code_prefix=str(prefix) if prefix not in (None, "") else None,
        data_items_from_notes=bool(source.get("data_items_from_notes")),
    )


@dataclass
class Options:
    """What ``ckan sharing catalogue import`` and the upload page ask for."""

    organization: Optional[str] = None
    dry_run: bool = False
    update: bool = False
    create_organizations: bool = False
    mapping: ImportMapping = field(default_factory=ImportMapping)
    user: Optional[str] = None
    workers: Optional[int] = None
    max_rows: Optional[int] = None


@dataclass
class Prepared:
    """One row ready to write: the dataset dict, the stored dataset it is (id), or why it is refused."""

    row: int
    title: str
    data: dict[str, Any] = field(default_factory=dict)
    existing_id: Optional[str] = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    new_org: Optional[dict[str, Any]] = None  # dry run: the organization the row would create


# --- schema facts ---------------------------------------------------------------------------------


def schema_fields() -> dict[str, dict[str, Any]]:
    """The catalogue schema's dataset fields by name (scheming), empty without the catalogue."""
    try:
        from ckanext.scheming.helpers import scheming_get_dataset_schema
    except ImportError:
        return {}
    schema = scheming_get_dataset_schema("dataset") or {}
    return {f["field_name"]: f for f in schema.get("dataset_fields", [])}


def _choice(value: Any, spec: Mapping[str, Any]) -> Any:
    """A value of a choices field from its value or any of its labels (一般 ↔ 一般数据 ↔ General)."""
    raw = norm.text(value)
    if not raw or not spec.get("choices"):
        return raw
    for choice in spec["choices"]:
        names = {str(choice.get("value"))}
        label = choice.get("label")
        names.update(label.values() if isinstance(label, dict) else [str(label or "")])
        for name in list(names):
            names.update({name.split("（")[0].split("(")[0].strip(), name.removesuffix("数据")})
        if raw in names or raw.removesuffix("数据") in names:
            return choice["value"]
    return raw


# --- a record → a dataset dict -------------------------------------------------------------------


def collect(record: readers.Record, fields_of: dict[str, Optional[str]],
            ranks: Optional[dict[str, int]] = None) -> dict[str, Any]:
    """Field → the non-empty value of the column naming it most plainly (``fields_of``: header → field;
    ``ranks``: header → :func:`headers.rank`), the first such column on a tie: 发布日期 wins over 创建日期 in
    a JSON record and in a sheet alike, whatever their order."""
    raw: dict[str, Any] = {}
    best: dict[str, int] = {}
    for header, value in record:
        target = fields_of.get(header)
        if not target or target == hdr.IGNORE or norm.is_empty(value):
            continue
        rank = ranks.get(header, 0) if ranks else 0
        if target not in raw or rank < best[target]:
            raw[target], best[target] = value, rank
    return raw


def to_dataset(raw: dict[str, Any], mapping: ImportMapping, schema: dict[str, dict[str, Any]]
               ) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    """Normalised values → (the ``package_create`` fields, the provider ``{"title", "uscc"}``, problems)."""
    for name, table in mapping.values.items():
        value = norm.text(raw.get(name))
        if value is not None and value in table:
            raw[name] = table[value]
    for name, value in mapping.defaults.items():
        if name not in TIER_DEFAULTS and norm.is_empty(raw.get(name)):
            raw[name] = value
    problems: list[tuple[str, str]] = []
    data: dict[str, Any] = {}
    for name in ("title", "notes", "share_condition", "share_basis", "share_scope", "theme", "contact_name",
                 "contact_phone", "contact_email", "name"):
        value = norm.text(raw.get(name))
        if value is not None:
            data[name] = value
    code = norm.text(raw.get("res_code"))
    if code:
        data["res_code"] = norm._nfkc(code)
    res_class = norm.res_class(raw.get("res_category"), data.get("res_code"))
    if res_class:
        data["res_class"] = res_class
    file_formats = norm.formats(raw.get("formats"))
    category = norm.format_category(raw.get("format_category"), file_formats)
    if category:
        data["format_category"] = category
    tier = norm.tier(raw.get("sharing_tier")) or norm.tier(raw.get("open_attribute"))
    if tier:
        data["sharing_tier"] = tier
    else:
        problems.append(("sharing_tier", tk._("No sharing type in the row (共享类型 or 开放属性): give one, or a "
                                              "default in the mapping file")))
    for name, needed_by in TIER_DEFAULTS.items():  # a justification default only for the tier that needs it
        if tier == needed_by and norm.is_empty(raw.get(name)) and name in mapping.defaults:
            data[name] = norm.text(mapping.defaults[name])
    methods = norm.share_methods(raw.get("share_method"))
    if methods:
        data["share_method"] = methods
    for name, parse in (("update_cycle", norm.update_cycle), ("publish_date", norm.date)):
        value = parse(raw.get(name))
        if value:
            data[name] = value
    related = norm.as_list(raw.get("related_res_codes"), words=True)
    if related:
        data["related_res_codes"] = related
    for name in BOOL_FIELDS:
        flag = norm.boolean(raw.get(name))
        if flag is not None:
            data[name] = flag
    tags = norm.as_list(raw.get("tags"), words=True)
    if tags:
        data["tag_string"] = ",".join(dict.fromkeys(tags))
    items = norm.data_items(raw.get("data_items"))
    if not items and mapping.data_items_from_notes:
        items = norm.column_list(data.get("notes"))
    if items:
        data["data_items"] = items
        for item in items:
            found = pi_guard.find_in_text(" ".join(str(item.get(k) or "") for k in ITEM_KEYS[:4]))
            if found.get(pi_guard.RESIDENT_ID):
                problems.append(("data_items", tk._(
                    "The data item %s holds a resident ID number: catalogue entries describe data, they do not "
                    "carry it (the number is not shown here)") % _safe_item_name(item)))
    grade = raw.get("data_grade")
    if grade is not None and "data_grade" in schema:
        data["data_grade"] = _choice(grade, schema["data_grade"])
    # fields the schema does not (yet) have are left out: data_grade / share_scope before they are merged
    data = {k: v for k, v in data.items() if not schema or k in schema or k in ("tag_string",)}
    provider = {"title": norm.text(raw.get("organization")), "uscc": norm.text(raw.get("organization_code"))}
    if isinstance(raw.get("organization"), dict):  # ckanapi dump: the organization object
        provider["title"] = raw["organization"].get("name") or raw["organization"].get("title")
    return data, provider, problems


def _safe_item_name(item: Mapping[str, Any]) -> str:
    """A data item's name for a message, with any personal number in it blanked."""
    name = str(item.get("item_name") or "")
    return pi_guard._ID_RE.sub("…", name)[:40]


# --- comparing with what is stored ---------------------------------------------------------------


def _canon(name: str, value: Any) -> Any:
    """A field value as compared: text stripped, lists as lists, booleans as booleans, items as tuples."""
    if name == "data_items":
        items = norm.data_items(value) if not isinstance(value, list) else value
        return [tuple(("是" if norm.boolean(i.get(k)) else "否") if k == "item_personal" else (norm.text(i.get(k)) or "")
                      for k in ITEM_KEYS) for i in items or []]
    if name in LIST_FIELDS:
        return sorted(norm.as_list(value))
    if name in BOOL_FIELDS:
        return bool(norm.boolean(value))
    if name == "tag_string":
        return sorted(set(norm.as_list(value, words=True)))
    return norm.text(value) or ""


def changed_fields(data: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    """The fields whose imported value differs from the stored one (fields the row does not carry keep theirs)."""
    stored = dict(stored)
    stored.setdefault("tag_string", ",".join(t["name"] for t in stored.get("tags") or []))
    changed = []
    for name in COMPARED:
        if name in data and _canon(name, data[name]) != _canon(name, stored.get(name)):
            changed.append(name)
    return changed


# --- organizations and existing datasets ----------------------------------------------------------


class Organizations:
    """Providers by title, name or USCC → organization id; created with ``create`` (not in a dry run)."""

    def __init__(self, context: dict[str, Any], create: bool, dry_run: bool) -> None:
        self.context, self.create, self.dry_run = context, create, dry_run
        self.by_key: dict[str, str] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.pending_names: set[str] = set()
        self.load()

    def load(self) -> None:
        """Read the active organizations (again: after :data:`ORG_CREATE_LOCK`, those another import created)."""
        for group in model.Session.query(model.Group).filter(model.Group.is_organization.is_(True),
                                                              model.Group.state == "active"):
            for key in (group.name, group.title, group.id, (group.extras or {}).get("uscc")):
                if key:
                    self.by_key.setdefault(str(key).strip(), group.id)

    def resolve(self, provider: Mapping[str, Any]) -> tuple[Optional[str], Optional[dict[str, Any]], Optional[str]]:
        """(organization id, organization to create in a dry run, problem message)."""
        title, uscc = provider.get("title"), provider.get("uscc")
        for key in (uscc, title):
            if key and key in self.by_key:
                return self.by_key[key], None, None
        if not title:
            return None, None, tk._("No provider in the row (信息资源提供方): give one, or import with --organization")
        if not self.create:
            return None, None, tk._("Unknown organization %s: create it first, or import with "
                                    "--create-organizations") % title
        if self.dry_run and title in self.pending:
            return None, self.pending[title], None
        spec = {"name": naming.slug(title)[:90] or "org", "title": title}
        if uscc:
            spec["uscc"] = uscc
        taken = {n for (n,) in model.Session.query(model.Group.name).filter(model.Group.name.like(spec["name"] + "%"))}
        spec["name"] = naming.first_free(spec["name"], taken | self.pending_names)
        if self.dry_run:  # the name a real import would give it (the organizations it creates before included)
            self.pending[title] = spec
            self.pending_names.add(spec["name"])
            return None, spec, None
        try:  # (not return_id_only: the activity plugin's subscriber needs the organization's dict)
            org_id = tk.get_action("organization_create")(dict(self.context), dict(spec))["id"]
        except tk.ValidationError as exc:
            model.Session.rollback()
            return None, None, tk._("Organization %(title)s cannot be created: %(error)s") % {
                "title": title, "error": _summary(exc)}
        for key in (title, uscc, spec["name"]):
            if key:
                self.by_key[key] = org_id
        return org_id, None, None


def _existing_by_code(codes: Iterable[str]) -> dict[str, str]:
    """res_code → id of the live dataset that has it (one query per 1,000 codes)."""
    codes = list({c for c in codes if c})
    found: dict[str, str] = {}
    code = model.Package.extras["res_code"].astext
    for start in range(0, len(codes), 1000):
        q = model.Session.query(code, model.Package.id).filter(
            code.in_(codes[start:start + 1000]), model.Package.state != model.State.DELETED)
        found.update({value: pkg_id for value, pkg_id in q})
    return found


def _existing_by_title(org_ids: Iterable[str]) -> dict[tuple[str, str], str]:
    """(organization id, title) → dataset id for the organizations of the file (one query)."""
    ids = list({o for o in org_ids if o})
    if not ids:
        return {}
    q = (model.Session.query(model.Package.owner_org, model.Package.title, model.Package.id)
         .filter(model.Package.owner_org.in_(ids), model.Package.state != model.State.DELETED,
                 model.Package.type == "dataset"))
    return {(org, (title or "").strip()): pkg_id for org, title, pkg_id in q}


def _next_codes(prefix: str) -> Callable[[], str]:
    """Generator of ``<prefix>/<n>`` codes after the highest one in use."""
    highest = 0
    code = model.Package.extras["res_code"].astext
    for (value,) in model.Session.query(code).filter(code.like(prefix + "/%")):
        tail = value.rsplit("/", 1)[-1]
        if tail.isdigit():
            highest = max(highest, int(tail))
    counter = [highest]

    def next_code() -> str:
        counter[0] += 1
        return f"{prefix}/{counter[0]:06d}"

    return next_code


# --- preparing every row ---------------------------------------------------------------------------


def site_user() -> str:
    """The site user's name: the CLI imports as a sysadmin."""
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]


def prepare(table: readers.Table, options: Options) -> list[Prepared]:
    """Every record → a :class:`Prepared` row: normalised, its organization resolved (created unless a dry
    run), matched with the stored dataset and with earlier rows of the same file."""
    schema = schema_fields()
    mapping = options.mapping
    fields_of = {h: hdr.field_for(h, mapping.columns) for h in table.headers}
    ranks = {h: hdr.rank(h, mapping.columns) for h in table.headers}
    context = {"user": options.user or site_user()}
    orgs = Organizations(context, options.create_organizations, options.dry_run)
    fixed_org: Optional[str] = None
    rows: list[Prepared] = []
    if options.organization:
        fixed_org = orgs.by_key.get(options.organization)
        if fixed_org is None:
            raise readers.FileRefused(tk._("Unknown organization: %s") % options.organization)
    providers: list[dict[str, Any]] = []
    for number, record in table.rows:
        data, provider, problems = to_dataset(collect(record, fields_of, ranks), mapping, schema)
        rows.append(Prepared(row=number, title=data.get("title") or "", data=data, problems=problems))
        providers.append(provider)
    # the new organizations in one transaction (a savepoint each): ~2,000 of them in the real records; a real
    # import that may create some holds ORG_CREATE_LOCK for it and reads the organizations again once it has it
    # (another import's, committed meanwhile, are then found, not created twice)
    lock = ORG_CREATE_LOCK if options.create_organizations and not options.dry_run and not fixed_org else None
    with one_transaction(commit=not options.dry_run, lock=lock), acting_as(context["user"]):
        if lock:
            orgs.load()
        for prepared, provider in zip(rows, providers):
            if fixed_org:
                prepared.data["owner_org"] = fixed_org
                continue
            org_id, new_org, problem = orgs.resolve(provider)
            if problem:
                prepared.problems.append(("owner_org", problem))
            elif org_id:
                prepared.data["owner_org"] = org_id
            prepared.new_org = new_org
    by_code = _existing_by_code(p.data.get("res_code") for p in rows)
    by_title = _existing_by_title(p.data.get("owner_org") for p in rows)
    seen: dict[Any, int] = {}
    next_code = _next_codes(mapping.res_code_prefix) if mapping.res_code_prefix else None
    for prepared in rows:
        code, org_id = prepared.data.get("res_code"), prepared.data.get("owner_org")
        key = ("code", code) if code else ("title", org_id or prepared.new_org and prepared.new_org["title"],
                                          prepared.title)
        if prepared.title or code:
            if key in seen:
                prepared.problems.append(("res_code" if code else "title",
                                          tk._("Duplicate of row %d of this file: imported once") % seen[key]))
            seen.setdefault(key, prepared.row)
        prepared.existing_id = by_code.get(code) if code else None
        if prepared.existing_id is None and org_id and prepared.title:
            prepared.existing_id = by_title.get((org_id, prepared.title))
        if prepared.existing_id is None and not code and next_code and not prepared.problems:
            prepared.data["res_code"] = next_code()
            prepared.data.setdefault("res_class", prepared.data["res_code"][:1])
    _name_new_rows(rows)
    return rows


def _name_new_rows(rows: list[Prepared]) -> None:
    """URL names for the rows that will create a dataset: the names the schema's ``sharing_dataset_name``
    would give (pinyin of the title, ``-2``, ``-3`` … on a collision), chosen here against every stored name
    and the file's earlier rows with one query, so that several writer processes never pick the same name
    (nor each look names up row by row). A name the file gives is kept."""
    new = [p for p in rows if p.existing_id is None and not p.problems and norm.is_empty(p.data.get("name"))]
    if not new:
        return
    taken = {name for (name,) in model.Session.query(model.Package.name)}
    for prepared in new:
        prepared.data["name"] = naming.first_free(naming.slug(prepared.data.get("title"),
                                                               prepared.data.get("res_code")), taken)
        taken.add(prepared.data["name"])


# --- writing ---------------------------------------------------------------------------------------


def _summary(exc: tk.ValidationError) -> str:
    return "; ".join(f"{field_label(k)}: {m}" for k, m in flatten_errors(exc.error_dict))


def flatten_errors(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A ValidationError's error_dict → ``[(field, message)]`` (repeating subfields as ``data_items``)."""
    found: list[tuple[str, str]] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            found.extend(flatten_errors(value, prefix or str(key)))
    elif isinstance(errors, (list, tuple)):
        for value in errors:
            if isinstance(value, (dict, list, tuple)):
                found.extend(flatten_errors(value, prefix))
            elif value:
                found.append((prefix, str(value)))
    elif errors:
        found.append((prefix, str(errors)))
    return found


def _write_org(context: dict[str, Any], spec: Mapping[str, Any]) -> str:
    """Dry run: the organization a row would create, made inside the row's transaction (rolled back) under a
    throwaway name; its real name is checked by the schema's name validators (:func:`_name_errors`)."""
    errors = _name_errors("organization", spec["name"], context)
    if errors:
        raise tk.ValidationError({"name": errors})
    data = dict(spec, name=_throwaway_name(spec["name"]))
    return tk.get_action("organization_create")(dict(context, defer_commit=True), data)["id"]


def _throwaway_name(name: str) -> str:
    """A dry run's stand-in for a new organization's or dataset's URL name: unique (a random suffix), so that
    no other import inserting the real name waits on this never-committed row (PostgreSQL makes an insert of a
    taken unique key wait for the transaction that holds it), valid whenever the real name is."""
    return f"{name[:86]}-{secrets.token_hex(6)}"


def _name_errors(kind: str, name: Any, context: Mapping[str, Any]) -> list[str]:
    """The messages the schema's own validators of the ``name`` field (scheming's, else CKAN's) give ``name``
    for a new ``kind`` ("dataset" or "organization"): a dry run checks the real name with them."""
    from ckan.lib.navl.dictization_functions import validate

    validators = None
    try:
        from ckanext.scheming import helpers as scheming, validation

        schema = (scheming.scheming_get_dataset_schema("dataset") if kind == "dataset"
                  else scheming.scheming_get_organization_schema("organization"))
        fields = (schema or {}).get("dataset_fields" if kind == "dataset" else "fields") or []
        spec = next((f for f in fields if f.get("field_name") == "name"), None)
        if spec is not None and (spec.get("create_validators") or spec.get("validators")):
            validators = validation.validators_from_string(
                spec.get("create_validators") or spec["validators"], spec, schema)
    except ImportError:
        pass
    if validators is None:
        from ckan.logic import schema as core

        validators = (core.default_create_package_schema() if kind == "dataset" else core.default_group_schema())["name"]
    checked = dict(context, model=model, session=model.Session)
    checked.pop("schema", None)
    _data, errors = validate({"name": name}, {"name": validators}, checked)
    return list(errors.get("name") or [])


def apply(prepared: Prepared, options: Options, user: str) -> RowResult:
    """Write one row (or, in a dry run, run the same actions and roll back) → its report line.

    Inside :func:`one_transaction` ``Session.commit()`` / ``rollback()`` end the row's savepoint, so a
    refused row (CKAN itself rolls back on a ValidationError) undoes only its own writes and ledger rows."""
    result = RowResult(row=prepared.row, title=prepared.title)
    if prepared.problems:
        result.refuse(prepared.problems)
        return result
    context: dict[str, Any] = {"user": user, "defer_commit": True, "return_id_only": True}
    context.update(_auth_user(user))
    if options.dry_run:
        context[DRY_RUN_KEY] = True
    data = dict(prepared.data)
    ledger = model.Session.info.get(chain.DEFERRED_KEY)
    mark = len(ledger) if ledger is not None else 0
    try:
        if prepared.existing_id is None:
            if prepared.new_org is not None:
                data["owner_org"] = _write_org({"user": user}, prepared.new_org)
            if options.dry_run and data.get("name"):
                result.dataset_id = _create_dry(context, data)
            else:
                result.dataset_id = tk.get_action("package_create")(context, data)
            result.outcome = "created"
        else:
            stored = tk.get_action("package_show")(dict(_auth_user(user), user=user), {"id": prepared.existing_id})
            result.dataset_id, result.name = stored["id"], stored["name"]
            changed = changed_fields(data, stored)
            if not changed:
                result.outcome = "unchanged"
                return result
            if not options.update:
                result.refuse([("", tk._("Already in the catalogue as %(name)s with other values (%(fields)s): "
                                         "import with --update to change it") % {
                    "name": stored["name"], "fields": ", ".join(field_label(f) for f in changed)})])
                return result
            merged = dict(stored)
            merged.update(data)
            merged.pop("tags", None) if "tag_string" in data else None
            # as a form edit: CKAN keeps a metadata_modified it is given, so an updated dataset would look
            # unchanged to package_show's index cache (and to transfer/shown.py) and to harvesters
            merged.pop("metadata_modified", None)
            tk.get_action("package_update")(context, merged)  # its activity: shown.mark_changed
            result.outcome, result.changed = "updated", changed
        if options.dry_run:
            _undo(ledger, mark)
        else:
            model.Session.commit()
            # its code (and the dataset's former one) is this transaction's now: checked anew if met again
            catalogue_validators.release_res_code(data.get("res_code"), result.dataset_id)
        return result
    except tk.ValidationError as exc:
        result.refuse(flatten_errors(exc.error_dict) or [("", str(exc))])
    except (tk.NotAuthorized, tk.ObjectNotFound) as exc:
        result.refuse([("", tk._("Not allowed: %s") % (exc.message or type(exc).__name__))])
    except Exception as exc:  # a bug or a service down must not stop the other rows, nor lose this one
        log.exception("catalogue import: row %s failed", prepared.row)
        result.refuse(_internal_error(exc))
    _undo(ledger, mark)
    return result


def _create_dry(context: dict[str, Any], data: dict[str, Any]) -> str:
    """Dry run: ``package_create`` of the row under a throwaway URL name (:func:`_throwaway_name`), the real
    name's messages from the schema's name validators put in its place (the row's other messages are CKAN's)."""
    errors = _name_errors("dataset", data["name"], context)
    try:
        created = tk.get_action("package_create")(context, dict(data, name=_throwaway_name(str(data["name"]))))
    except tk.ValidationError as exc:
        if errors:  # in the place CKAN gives a name error, else first (name is the schema's second field)
            exc.error_dict = ({k: (errors if k == "name" else v) for k, v in exc.error_dict.items()}
                              if "name" in exc.error_dict else {"name": errors, **exc.error_dict})
        raise
    if errors:
        raise tk.ValidationError({"name": errors})  # rolled back by apply
    return created


def _auth_user(user: str) -> dict[str, Any]:
    """``auth_user_obj`` for an action's context: the importing user :func:`acting_as` made current (CKAN's
    ``check_access`` otherwise reads the users table for every check of a context that names a user)."""
    import flask
    import flask_login

    if not flask.has_request_context():
        return {}
    current = flask_login.current_user
    if getattr(current, "name", None) != user:
        return {}
    return {"auth_user_obj": current._get_current_object()}


def _internal_error(exc: Exception) -> list[tuple[str, str]]:
    """The report line of a row that failed for another reason than its values (logged with its traceback)."""
    return [("", tk._("Internal error (%s): the row was not imported; see the portal's log") % type(exc).__name__)]


def _undo(ledger: Optional[list[Any]], mark: int) -> None:
    """Roll the row back (its savepoint) with the ledger rows it deferred."""
    model.Session.rollback()
    if ledger is not None:
        del ledger[mark:]


@contextlib.contextmanager
def one_transaction(commit: bool, lock: Optional[str] = None,
                    res_codes: Optional[Iterable[Any]] = None) -> Iterator[None]:
    """Run a batch of rows in ONE database transaction (SPEC §10), each row in a savepoint of it.

    ``model.Session`` is bound for the batch to a connection whose transaction we own, with SQLAlchemy's
    ``join_transaction_mode="create_savepoint"``: the ``Session.commit()`` / ``rollback()`` of a row (and
    CKAN's own rollback on a ValidationError) end only that row's savepoint. The ledger rows of the batch
    are collected and appended just before the one commit, so the ledger's append lock is held only that
    long and several writer processes do not wait for each other. ``commit=False`` (a dry run) rolls the
    whole batch back. ``lock``: a ``pg_advisory_xact_lock`` key taken on the outer transaction first (not in
    a savepoint, whose rollback would release it), held until the batch's commit or rollback. ``res_codes``:
    the batch's resource codes, locked on the outer transaction and read in two statements
    (:func:`catalogue.validators.hold_res_codes`), so the schema's uniqueness check does not lock and query
    per row."""
    model.Session.remove()
    engine = model.meta.engine
    connection = engine.connect()
    outer = connection.begin()
    if lock:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": lock})
    model.Session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        chain.deferred_rows(model.Session)
        if res_codes is not None:
            catalogue_validators.hold_res_codes(res_codes, lock=commit, bind=connection)
        yield
        if commit:
            chain.append_deferred(model.Session)
            model.Session.commit()
            outer.commit()
    finally:
        model.Session.info.pop(chain.DEFERRED_KEY, None)
        catalogue_validators.drop_held_res_codes()
        model.Session.remove()
        model.Session.configure(bind=engine, join_transaction_mode="conditional_savepoint")
        if outer.is_active:
            outer.rollback()
        connection.close()


@contextlib.contextmanager
def acting_as(user_name: str) -> Iterator[None]:
    """The importing user is the request's ``current_user`` (flask-login keeps it in ``g._login_user``)
    while a batch is written, so CKAN's auth functions find it without a users-table query per check
    (about five per row); the previous one is restored after. The CLI and the job worker have no Flask
    context at all (CKAN's CLI keeps its app in the click context, :func:`_cli_flask_app`): a test request
    context of that app, or of the current application context, is pushed for the batch (CKAN's own CLI
    commands that need one do the same); without an app there is nothing to do."""
    import flask

    if not flask.has_request_context():
        app = flask.current_app._get_current_object() if flask.has_app_context() else _cli_flask_app()
        if app is None:
            yield
            return
        with app.test_request_context(), acting_as(user_name):
            yield
        return
    user = model.User.get(user_name)
    if user is None:
        yield
        return
    missing = object()
    previous = flask.g.get("_login_user", missing)
    flask.g._login_user = user
    try:
        yield
    finally:
        if previous is missing:
            flask.g.pop("_login_user", None)
        else:
            flask.g._login_user = previous


def _cli_flask_app() -> Any:
    """The Flask app of the running ``ckan`` command (``ckan sharing catalogue import``, ``ckan jobs worker``):
    CKAN's CLI keeps it in the click context's ``meta`` and pushes no Flask context of its own."""
    import click

    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("flask_app") if ctx is not None else None


class _SolrAdds:
    """Stands in for CKAN's Solr connection while a batch is indexed: keeps the documents ``index_package``
    builds (after every ``before_dataset_index`` hook) instead of sending each in a request of its own."""

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []
        self.url = "(collected for one request)"

    def add(self, docs: list[dict[str, Any]], commit: bool = False, **_kwargs: Any) -> None:
        self.docs.extend(docs)


@contextlib.contextmanager
def _collecting_solr_adds() -> Iterator[_SolrAdds]:
    """CKAN's search index writes through ``ckan.lib.search.index.make_connection`` (a new client and
    connection per dataset); while a batch is indexed it hands out one collector instead."""
    from ckan.lib.search import index as search_index

    collector = _SolrAdds()
    real = search_index.make_connection
    search_index.make_connection = lambda *a, **k: collector  # type: ignore[assignment]
    try:
        yield collector
    finally:
        search_index.make_connection = real


def index(ids: Iterable[str]) -> None:
    """Write datasets to the search index in ONE Solr request without a commit (SPEC §10: index in
    batches). The documents are CKAN's own (``index_update_package``: the same dicts, hooks and labels as
    any write); should the one request fail, each is sent alone so one bad document costs only itself."""
    from ckan import logic
    from ckan.lib.search.common import make_connection

    ids = list(ids)
    # the batch's datasets in one query, kept referenced while they are indexed: the ``Package.get`` of
    # transfer/shown.py and of CKAN's ``index_package`` (its permission labels) then find them in the session's
    # identity map instead of reading each again (two queries per dataset)
    loaded = model.Session.query(model.Package).filter(model.Package.id.in_(ids)).all() if ids else []
    with _collecting_solr_adds() as collected:
        for pkg_id in ids:
            try:
                logic.index_update_package({"ignore_auth": True}, pkg_id, defer_commit=True)
            except Exception:  # noqa: BLE001 — the dataset is stored; `ckan search-index rebuild` repairs it
                log.exception("catalogue import: indexing %s failed", pkg_id)
    del loaded
    if not collected.docs:
        return
    conn = make_connection()
    try:
        conn.add(docs=collected.docs, commit=False)
        return
    except Exception:  # noqa: BLE001 — find the document Solr refuses
        log.exception("catalogue import: indexing %d datasets in one request failed; one by one", len(collected.docs))
    for doc in collected.docs:
        try:
            conn.add(docs=[doc], commit=False)
        except Exception:  # noqa: BLE001
            log.exception("catalogue import: indexing %s failed", doc.get("id"))


def _write_chunk(chunk: list[Prepared], options: Options, user: str) -> list[RowResult]:
    """One batch: its rows in one transaction (:func:`one_transaction`), then their names read and the
    written datasets indexed (no Solr commit). Should the batch's commit fail, its rows are written again
    one transaction each, so a failure costs at most its own row."""
    with shown.batch() as kept:
        try:
            codes = [p.data.get("res_code") for p in chunk if not p.problems]
            with one_transaction(commit=not options.dry_run, res_codes=codes), acting_as(user):
                results = [apply(p, options, user) for p in chunk]
        except Exception:  # noqa: BLE001 — e.g. the commit failed: nothing of the batch is stored
            log.exception("catalogue import: a batch of %d rows failed; writing them one by one", len(chunk))
            kept.clear()
            results = [_write_alone(p, options, user) for p in chunk]
        written = [r for r in results if r.outcome in ("created", "updated") and r.dataset_id]
        if not options.dry_run and written:
            names = dict(model.Session.query(model.Package.id, model.Package.name)
                         .filter(model.Package.id.in_([r.dataset_id for r in written])))
            for result in written:
                result.name = result.name or names.get(result.dataset_id)
            with acting_as(user):
                index(r.dataset_id for r in written)
    model.Session.remove()
    return results


def _write_alone(prepared: Prepared, options: Options, user: str) -> RowResult:
    """One row in a transaction of its own (after its batch failed); a failure refuses only this row."""
    try:
        with one_transaction(commit=not options.dry_run), acting_as(user):
            return apply(prepared, options, user)
    except Exception as exc:  # noqa: BLE001 — reported on the row, never a crash of the import
        log.exception("catalogue import: row %s failed", prepared.row)
        result = RowResult(row=prepared.row, title=prepared.title)
        result.refuse(_internal_error(exc))
        return result


_FORK_STATE: dict[str, Any] = {}


def _fork_chunk(index_: int) -> list[RowResult]:
    """Worker process: one chunk of the rows the parent prepared before forking."""
    chunks, options, user = _FORK_STATE["chunks"], _FORK_STATE["options"], _FORK_STATE["user"]
    return _write_chunk(chunks[index_], options, user)


def _worker_count(options: Options, rows: int) -> int:
    if options.workers:
        return max(1, options.workers)
    if rows < AUTO_WORKERS_FROM:
        return 1
    return max(1, min(MAX_AUTO_WORKERS, os.cpu_count() or 1))


def write(rows: list[Prepared], options: Options, progress: Optional[Progress] = None,
          rows_done: Optional[RowsDone] = None) -> list[RowResult]:
    """Write the prepared rows in chunks, in forked worker processes when there are several; indexed per
    chunk, one Solr commit at the end. Rows of one dataset key are in one chunk (no race on a code)."""
    user = options.user or site_user()
    chunks = [rows[i:i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)]
    results: list[RowResult] = []
    done = 0
    workers = _worker_count(options, len(rows))
    if workers > 1 and len(chunks) > 1:
        model.Session.remove()
        model.meta.engine.dispose()
        _FORK_STATE.update(chunks=chunks, options=options, user=user)
        with multiprocessing.get_context("fork").Pool(workers, initializer=_child_init) as pool:
            for part in pool.imap_unordered(_fork_chunk, range(len(chunks))):
                results.extend(part)
                done += len(part)
                if rows_done:
                    rows_done(part)
                if progress:
                    progress(done, len(rows))
        _FORK_STATE.clear()
    else:
        for chunk in chunks:
            part = _write_chunk(chunk, options, user)
            results.extend(part)
            done += len(part)
            if rows_done:
                rows_done(part)
            if progress:
                progress(done, len(rows))
    if not options.dry_run:
        from ckan.lib import search

        search.commit()
    results.sort(key=lambda r: r.row)
    return results


def _child_init() -> None:
    """A forked worker opens its own database connections (the parent's were disposed before the fork)."""
    model.meta.engine.dispose(close=False)


def run(data: bytes, filename: str, options: Options, progress: Optional[Progress] = None,
        rows_done: Optional[RowsDone] = None) -> Report:
    """Import one file: read → prepare → write → the report. A refused file gives a report with
    ``refused_file`` set and nothing written."""
    started = time.monotonic()
    report = Report(filename=filename, dry_run=options.dry_run, lang=portal_language())
    with in_language(report.lang):
        try:
            table = readers.read(data, filename, options.mapping.columns, max_rows=options.max_rows)
            report.unknown_columns = table.unknown
            report.kind = table.kind
            rows = prepare(table, options)
        except readers.FileRefused as exc:
            report.refused_file = str(exc)
            report.seconds = time.monotonic() - started
            return report
        if progress:
            progress(0, len(rows))
        report.rows = write(rows, options, progress, rows_done)
    report.seconds = time.monotonic() - started
    return report
