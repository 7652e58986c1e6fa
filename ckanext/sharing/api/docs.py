"""What ``help_show`` says about the ``sharing_*`` actions (issue 12: "help_show documents …").

The docstring of each action is the one description of its parameters; this module reads it (``:param``,
``:type``, ``:returns:``) together with the action's input schema (:mod:`ckanext.sharing.logic.schema`, found
through CKAN's ``validate`` decorator), for the OpenAPI description and the test that every parameter is
documented. :func:`complete` adds, once for all actions, what each one shares: the errors the Action API
answers with and the SPEC section of the action, so no docstring repeats them.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

PREFIX = "sharing_"
# SPEC sections by action-name prefix (the longest matching prefix wins).
SPEC_SECTIONS = {
    "sharing_request_": "§4 Access requests and grants (§4b for return, resubmit, extension, escalation)",
    "sharing_grant_": "§4 Access requests and grants (§4b for delivery)",
    "sharing_access_check": "§4 Access requests and grants",
    "sharing_extension_": "§4b Extension (Art. 21)",
    "sharing_suspension_": "§4b Suspension (Art. 27)",
    "sharing_use_report_": "§4b Use records (Art. 29)",
    "sharing_correction_": "§4b Correction (Art. 26)",
    "sharing_audit_": "§5 Audit ledger",
    "sharing_stats_": "§13 Statistics",
    "sharing_catalogue_": "§12 Catalogue import and export",
}
DEFAULT_SECTION = "§3b Machine clients"
ERRORS_MARK = ":raises:"
_ERRORS = """
    :raises: ``ValidationError`` (HTTP 409, ``error`` maps each bad parameter to its messages) for bad or
        missing input; ``NotAuthorized`` (HTTP 403) when the caller may not do this; ``NotFound`` (HTTP 404)
        for an unknown id. A data refusal of a ``datastore_*`` call also carries ``reason`` and
        ``request_url`` in ``error``.

    SPEC: {section}. All ``sharing_*`` actions: ``/api/3/sharing/openapi.json``.
"""
_PAGING = """
    :param limit: page size, 1 … 1000 (default {default})
    :type limit: int
    :param offset: rows to skip (default 0)
    :type offset: int
    :returns: ``{{"count": total, "results": [{item}, …]}}``
    :rtype: dictionary
"""
_PARAM = re.compile(r"^\s*:param\s+(?:(?P<type1>[\w\[\], ]+)\s+)?(?P<name>\w+):\s*(?P<text>.*)$")
# ``:param a, b, c: text`` documents several parameters with one text
_PARAMS = re.compile(r"^\s*:param\s+(?P<names>\w+(?:\s*,\s*\w+)+):\s*(?P<text>.*)$")
_TYPE = re.compile(r"^\s*:type\s+(?P<name>\w+):\s*(?P<text>.*)$")
_RETURNS = re.compile(r"^\s*:returns?:\s*(?P<text>.*)$")
_RTYPE = re.compile(r"^\s*:rtype:\s*(?P<text>.*)$")
_FIELD = re.compile(r"^\s*:\w+")
# schema keys that are not parameters
_NOT_PARAMS = {"__extras", "__junk", "__before", "__after"}


@dataclass
class Param:
    """One documented parameter: its text, its ``:type``, and whether the schema requires it."""

    name: str
    text: str = ""
    type: str = ""
    required: bool = False
    validators: list[Callable[..., Any]] = field(default_factory=list)


@dataclass
class ActionDoc:
    """What the docstring and the schema of one action say."""

    name: str
    summary: str
    description: str
    params: dict[str, Param]
    returns: str
    rtype: str
    schema_keys: list[str]
    side_effect_free: bool


def spec_section(name: str) -> str:
    """The SPEC section of an action, by the longest matching name prefix."""
    matches = [p for p in SPEC_SECTIONS if name.startswith(p)]
    return SPEC_SECTIONS[max(matches, key=len)] if matches else DEFAULT_SECTION


F = TypeVar("F", bound=Callable[..., Any])


def paged(item: str, default: int = 50) -> Callable[[F], F]:
    """Decorator of a list action: end its docstring with ``limit``/``offset`` and the page it returns
    (``{"count", "results": [item, …]}``), written once here instead of in every list action."""
    def add(fn: F) -> F:
        paging = inspect.cleandoc(_PAGING.format(item=item, default=default))
        doc = inspect.cleandoc(fn.__doc__ or "")
        fields = any(_FIELD.match(line) for line in doc.splitlines())
        fn.__doc__ = doc + ("\n" if fields else "\n\n") + paging + "\n"
        return fn
    return add


def complete(actions: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Append the common errors and the SPEC section to every ``sharing_*`` action's docstring (once)."""
    for name, fn in actions.items():
        doc = inspect.cleandoc(fn.__doc__ or "") if name.startswith(PREFIX) else ""
        if doc and ERRORS_MARK not in doc:
            fn.__doc__ = doc + "\n" + inspect.cleandoc(_ERRORS.format(section=spec_section(name))) + "\n"
    return actions


def schema_of(fn: Callable[..., Any]) -> Optional[dict[str, Any]]:
    """The input schema of an action decorated with CKAN's ``validate`` (its ``schema_func``), else None."""
    seen = 0
    while fn is not None and seen < 10:
        closure = inspect.getclosurevars(fn).nonlocals if inspect.isfunction(fn) else {}
        schema_func = closure.get("schema_func")
        if callable(schema_func):
            return schema_func()
        fn = getattr(fn, "__wrapped__", None) or getattr(fn, "func", None)
        seen += 1
    return None


def _clean(text: str) -> str:
    return " ".join(text.split())


def parse(name: str, fn: Callable[..., Any]) -> ActionDoc:
    """Read one action's docstring and schema."""
    doc = inspect.cleandoc(fn.__doc__ or "")
    lines = doc.splitlines()
    head = []
    for line in lines:
        if _FIELD.match(line):
            break
        head.append(line)
    paragraphs = "\n".join(head).strip().split("\n\n")
    params: dict[str, Param] = {}
    returns = rtype = ""
    current: Optional[list[str]] = None
    fields: list[tuple[str, str, list[str]]] = []
    for line in lines[len(head):]:
        if _FIELD.match(line):
            current = [line]
            fields.append(("", "", current))
        elif current is not None:
            current.append(line)
    for _, _, chunk in fields:
        text = " ".join(s.strip() for s in chunk)
        if m := _PARAMS.match(text):
            for one in m["names"].split(","):
                params.setdefault(one.strip(), Param(one.strip())).text = _clean(m["text"])
        elif m := _PARAM.match(text):
            p = params.setdefault(m["name"], Param(m["name"]))
            p.text = _clean(m["text"])
            p.type = p.type or _clean(m["type1"] or "")
        elif m := _TYPE.match(text):
            params.setdefault(m["name"], Param(m["name"])).type = _clean(m["text"])
        elif m := _RETURNS.match(text):
            returns = _clean(m["text"])
        elif m := _RTYPE.match(text):
            rtype = _clean(m["text"])
    schema = schema_of(fn) or {}
    keys = [k for k in schema if k not in _NOT_PARAMS]
    for key in keys:
        p = params.setdefault(key, Param(key))
        p.validators = [v for v in schema[key] if callable(v)]
        p.required = any(getattr(v, "__name__", "") in ("not_empty", "not_missing") for v in p.validators)
    return ActionDoc(
        name=name, summary=_clean(paragraphs[0]) if paragraphs else "",
        description="\n\n".join(_clean(p) for p in paragraphs if p.strip()),
        params=params, returns=returns, rtype=rtype, schema_keys=keys,
        side_effect_free=bool(getattr(fn, "side_effect_free", False)),
    )


def sharing_actions() -> dict[str, Callable[..., Any]]:
    """Every registered ``sharing_*`` action (CKAN's registry, after all plugins loaded)."""
    from ckan import logic

    logic.get_action("status_show")  # builds the registry on first use
    return {n: f for n, f in sorted(logic._actions.items()) if n.startswith(PREFIX)}


def undocumented(doc: ActionDoc) -> list[str]:
    """What a ``sharing_*`` docstring lacks: a summary, a documented parameter of its schema, returns, errors."""
    missing = [] if doc.summary else ["summary"]
    missing += [f":param {k}:" for k in doc.schema_keys if not doc.params.get(k) or not doc.params[k].text]
    if not (doc.returns or doc.rtype):
        missing.append(":returns: or :rtype:")
    return missing
