"""Honest refusals for machine clients (SPEC §3b, issue 12).

A client that does not ask for HTML (ckanapi, requests, pandas, wget and curl send ``*/*`` or nothing) must
never get a 2xx HTML page where it expected data: a refused download, dump, view or masked resource URL
answers 403 with ``{"error": "access_restricted", "reason", "message", "request_url"}`` (404
``{"error": "not_found"}`` for a dataset hidden from the caller, never named), and a browser gets the
human page. The 403 of a ``datastore_*`` action carries the same fields inside CKAN's error object.
"""
from __future__ import annotations

import json
from typing import Any, Optional

from flask import g, has_request_context, request

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import facts, masking, policy

# The one code of a data refusal in every JSON body.
ACCESS_RESTRICTED = "access_restricted"
NOT_FOUND = "not_found"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_REFUSAL_KEY = "_sharing_refusal"


def wants_html() -> bool:
    """Does the client ask for HTML by name? Browsers list ``text/html``; scripts send ``*/*`` or no
    Accept header at all, and must get JSON (a wildcard is not a request for a page)."""
    if not has_request_context():
        return False
    return any(mime in _HTML_TYPES and quality > 0 for mime, quality in request.accept_mimetypes)


def restricted_body(pkg_id: str, reason: str) -> dict[str, Any]:
    """The JSON of a data refusal: the policy's reason and where to ask for access (SPEC §3b)."""
    return {
        "error": ACCESS_RESTRICTED,
        "reason": reason,
        "message": tk._("The data of this dataset is shared on request: ask for access at %s")
        % masking.request_url(pkg_id),
        "request_url": masking.request_url(pkg_id),
    }


def not_found_body() -> dict[str, Any]:
    """The JSON of a dataset the caller may not know exists (SPEC §3: hidden is not found, never named)."""
    return {"error": NOT_FOUND, "message": tk._("Dataset not found")}


def json_response(status: int, body: dict[str, Any]) -> Any:
    """A JSON response (UTF-8, no caching: the answer depends on who asks)."""
    from flask import Response

    resp = Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/json;charset=utf-8")
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Vary"] = "Accept, Authorization, Cookie"
    return resp


def refuse(pkg: model.Package, decision: policy.Decision) -> Any:
    """The guard's answer to a refused data route: 404 for a hidden dataset, else 403; JSON for machine
    clients, CKAN's HTML error page (with the request-page link) for browsers."""
    if decision.access is policy.Access.HIDDEN:
        if not wants_html():
            return json_response(404, not_found_body())
        return tk.abort(404, tk._("Dataset not found"))
    if not wants_html():
        return json_response(403, restricted_body(pkg.id, decision.reason))
    return tk.abort(403, tk._("The data of this dataset is shared on request: ask for access at %s")
                    % masking.request_url(pkg.id))


# ckanext-dcat's per-dataset RDF routes: pages, so a dataset hidden from the caller is 404 there (SPEC §3)
_RDF_ENDPOINTS = ("dcat.read_dataset", "dcat.read_dataset_series")


def before_request() -> Any:
    """``before_app_request``: the answers of :func:`request_page_for_scripts` and :func:`hidden_rdf`."""
    if request.method not in ("GET", "HEAD"):
        return None
    if request.endpoint == "sharing.request_access":
        return request_page_for_scripts()
    if request.endpoint in _RDF_ENDPOINTS:
        return hidden_rdf()
    return None


def request_page_for_scripts() -> Any:
    """The request-access page is every masked resource's ``url``, so a script that fetches it as data
    (``ckanapi dump --datapackages``, ``pandas.read_csv``) gets 403 JSON instead of 200 HTML; a hidden or
    unknown dataset is 404. Browsers, form posts and callers who have the data get the page."""
    if wants_html():
        return None
    pkg = model.Package.get((request.view_args or {}).get("id") or "")
    if pkg is None or pkg.state != "active":
        return json_response(404, not_found_body())
    decision = facts.decide_for_package({}, pkg)
    if decision.access is policy.Access.HIDDEN:
        return json_response(404, not_found_body())
    if decision.full:
        return None
    return json_response(403, restricted_body(pkg.id, decision.reason))


def hidden_rdf() -> Any:
    """``/dataset/<id>.<ttl|rdf|jsonld>`` of a dataset hidden from the caller: 404, as its page (ckanext-dcat
    answers 403, which tells a harvester that the dataset exists)."""
    pkg = model.Package.get((request.view_args or {}).get("_id") or "")
    if pkg is None or facts.decide_for_package({}, pkg).access is not policy.Access.HIDDEN:
        return None
    if not wants_html():
        return json_response(404, not_found_body())
    return tk.abort(404, tk._("Dataset not found"))


def note_refusal(pkg: model.Package, decision: policy.Decision) -> None:
    """Remember why a data auth check refused (the first refusal of this request), for the API's 403 body."""
    if has_request_context() and not decision.full and getattr(g, _REFUSAL_KEY, None) is None:
        setattr(g, _REFUSAL_KEY, (pkg.id, decision.reason, decision.access is policy.Access.HIDDEN))


def _refusal() -> Optional[tuple[str, str, bool]]:
    return getattr(g, _REFUSAL_KEY, None)


def enrich_action_refusal(response: Any) -> Any:
    """``after_app_request``: a 403 of a ``datastore_*`` action gets ``error``, ``reason`` and ``request_url``
    in CKAN's error object (SPEC §3b: the same fields in every 403 of a data action)."""
    if request.endpoint != "api.action" or response.status_code != 403:
        return response
    name = str((request.view_args or {}).get("logic_function") or "")
    refusal = _refusal()
    if not name.startswith("datastore_") or refusal is None or refusal[2]:
        return response
    try:
        body = json.loads(response.get_data(as_text=True))
    except ValueError:
        return response
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return response
    body["error"].update({k: v for k, v in restricted_body(refusal[0], refusal[1]).items() if k != "message"})
    body["error"]["__type"] = "Authorization Error"
    response.set_data(json.dumps(body))
    return response
