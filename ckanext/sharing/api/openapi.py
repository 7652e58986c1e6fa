"""The OpenAPI 3.1 description of the ``sharing_*`` actions, served at ``/api/3/sharing/openapi.json``
(issue 12). Generated on request from CKAN's action registry: the summary, parameters and returns from
each action's docstring (:mod:`.docs`), the types and constraints from its input schema
(:mod:`ckanext.sharing.logic.schema`), so the description is never written twice."""
from __future__ import annotations

import inspect
from typing import Any, Callable

import ckan.plugins.toolkit as tk

import ckanext.sharing
from ckanext.sharing.api import docs

OPENAPI_VERSION = "3.1.0"
_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _closure(fn: Callable[..., Any]) -> dict[str, Any]:
    return inspect.getclosurevars(fn).nonlocals if inspect.isfunction(fn) else {}


def _from_validator(fn: Callable[..., Any]) -> dict[str, Any]:
    """The JSON Schema a validator of :mod:`ckanext.sharing.logic.schema` (or CKAN) stands for, or {}."""
    name = getattr(fn, "__name__", "")
    from ckanext.sharing.logic import schema as s

    if name == "check" and isinstance(_closure(fn).get("values"), tuple):
        return {"type": "string", "enum": list(_closure(fn)["values"])}
    known: dict[str, dict[str, Any]] = {
        "_text": {"type": "string", "minLength": 1, "maxLength": s._MAX_TEXT},
        "_id": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^\S+$"},
        "_id_list": {"type": "array", "items": {"type": "string"}, "maxItems": 500},
        "_days": {"type": "integer", "minimum": 1},
        "_moment": {"type": "string", "description": "ISO date or date-time (a date: the end of that day)"},
        "_expires": {"type": "string", "description": "ISO date or date-time (a date: the end of that day)"},
        "_moment_start": {"type": "string", "description": "ISO date or date-time (a date: its start)"},
        "_bool": {"type": "boolean"},
        "_page_limit": {"type": "integer", "minimum": 1, "maximum": s._MAX_PAGE},
        "_offset": {"type": "integer", "minimum": 0, "maximum": s._MAX_OFFSET},
        "_row_id": {"type": "integer", "minimum": 1},
        "boolean_validator": {"type": "boolean"},
        "int_validator": {"type": "integer"},
        "natural_number_validator": {"type": "integer", "minimum": 0},
        "is_positive_integer": {"type": "integer", "minimum": 1},
        "unicode_safe": {"type": "string"},
        "isodate": {"type": "string"},
    }
    return dict(known.get(name, {}))


_TYPES = {"string": "string", "int": "integer", "integer": "integer", "bool": "boolean", "boolean": "boolean",
          "dictionary": "object", "dict": "object", "list": "array", "float": "number", "number": "number"}


def _from_type(text: str) -> dict[str, Any]:
    """A JSON Schema from a docstring ``:type:`` such as ``string``, ``int``, ``list of strings``."""
    words = text.lower().replace(",", " ").split()
    if not words:
        return {}
    if words[0] == "list":
        item = _TYPES.get(words[-1].rstrip("s"), "") if len(words) > 2 else ""
        return {"type": "array", "items": {"type": item}} if item else {"type": "array"}
    kind = _TYPES.get(words[0])
    return {"type": kind} if kind else {}


def param_schema(param: docs.Param) -> dict[str, Any]:
    """One parameter's JSON Schema: the schema's validators first, the docstring's type where they say
    nothing, and the docstring's text as the description."""
    out: dict[str, Any] = {}
    for validator in param.validators:
        for key, value in _from_validator(validator).items():
            out.setdefault(key, value)
    if "type" not in out:
        out.update({k: v for k, v in _from_type(param.type).items() if k not in out})
    if param.text:
        out["description"] = param.text
    return out


def _result_schema(doc: docs.ActionDoc) -> dict[str, Any]:
    out = _from_type(doc.rtype)
    if doc.returns:
        out["description"] = doc.returns
    return out


def _operation(doc: docs.ActionDoc, method: str) -> dict[str, Any]:
    props = {name: param_schema(p) for name, p in doc.params.items()}
    required = [name for name, p in doc.params.items() if p.required]
    op: dict[str, Any] = {
        "operationId": doc.name if method == "post" else f"{doc.name}_get",
        "summary": doc.summary or doc.name,
        "description": doc.description + f"\n\nSPEC: {docs.spec_section(doc.name)}.",
        "tags": [docs.spec_section(doc.name).split(" ", 1)[0]],
        "responses": {
            "200": {"description": "success", "content": {"application/json": {"schema": {
                "type": "object", "required": ["success", "result"],
                "properties": {"help": {"type": "string"}, "success": {"const": True},
                               "result": _result_schema(doc)}}}}},
            "403": {"description": "not authorized", "content": {"application/json": {"schema": _ERROR_REF}}},
            "404": {"description": "not found", "content": {"application/json": {"schema": _ERROR_REF}}},
            "409": {"description": "validation error: `error` maps each bad parameter to its messages",
                    "content": {"application/json": {"schema": _ERROR_REF}}},
        },
    }
    if method == "post":
        body: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            body["required"] = required
        op["requestBody"] = {"required": bool(required), "content": {"application/json": {"schema": body}}}
    else:
        op["parameters"] = [
            {"name": name, "in": "query", "required": name in required,
             "schema": {k: v for k, v in schema.items() if k != "description"} or {"type": "string"},
             **({"description": schema["description"]} if "description" in schema else {}),
             **({"style": "form", "explode": True} if schema.get("type") == "array" else {})}
            for name, schema in props.items()
        ]
    return op


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered ``sharing_*`` action."""
    paths: dict[str, Any] = {}
    for name, fn in docs.sharing_actions().items():
        doc = docs.parse(name, fn)
        item: dict[str, Any] = {"post": _operation(doc, "post")}
        if doc.side_effect_free:
            item["get"] = _operation(doc, "get")
        paths[f"/api/3/action/{name}"] = item
    site = tk.config.get("ckan.site_url") or "/"
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "ckanext-sharing Action API",
            "version": ckanext.sharing.__version__,
            "summary": "The sharing_* actions of a CKAN portal with ckanext-sharing (sharing tiers, access requests, "
                       "grants, the audit ledger).",
            "description": "Generated from the registered actions: their docstrings (as help_show returns them) "
                           "and their input schemas. Every action answers CKAN's envelope "
                           "{help, success, result | error}.",
        },
        "servers": [{"url": site.rstrip("/") or "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"apiToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                                             "description": "a CKAN API token"}},
            "schemas": {"Error": {
                "type": "object", "required": ["success", "error"],
                "properties": {
                    "help": {"type": "string"}, "success": {"const": False},
                    "error": {"type": "object", "properties": {
                        "__type": {"type": "string"}, "message": {"type": "string"},
                        "error": {"type": "string", "description": "access_restricted for a data refusal"},
                        "reason": {"type": "string"}, "request_url": {"type": "string", "format": "uri"},
                    }, "additionalProperties": True},
                }}},
        },
        "security": [{}, {"apiToken": []}],
    }


def view() -> Any:
    """``GET /api/3/sharing/openapi.json``."""
    from flask import jsonify

    return jsonify(document())
