"""What the portal answers while a service it needs is down (SPEC §8, issue 14): 503, never a 500.

PostgreSQL unreachable (stopped, restarted, the connection dropped): SQLAlchemy's ``handle_error``
event marks the request (:func:`_note_database_error`); whatever answer CKAN then builds — its Action
API catches every exception and answers 500, its pages raise — becomes a 503 with ``Retry-After``:
JSON in CKAN's error shape for the API, a short page of its own (it needs no database) for browsers.
The traceback stays in the portal's log. The transaction is rolled back by PostgreSQL (nothing
half-written) and the pool reconnects by itself (``sqlalchemy.pool_pre_ping``, on by default).

Solr unreachable: CKAN answers a search with "Search Connection Error" (500), a failed index update
with "Search Index Error" (500, the database rolled back, see the fault tests) and its search page
with a bare 500; each becomes a 503 saying that search is unavailable and that nothing was changed
(for any other 500 the portal asks Solr whether it answers before deciding).
"""
from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from flask import Response, g, has_request_context, request

import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)

RETRY_AFTER = "30"
_FLAG = "_sharing_outage"
# CKAN's Action API error types (ckan/views/api.py) that mean "the search server is down".
_SEARCH_DOWN = {"Search Connection Error", "Search Index Error"}
# Database errors that mean "the database is not there" rather than "this statement is wrong".
_DB_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError, sa.exc.PendingRollbackError)


def _note_database_error(context: Any) -> None:
    """SQLAlchemy ``handle_error``: remember that this request met an unreachable database."""
    if has_request_context() and (context.is_disconnect or isinstance(context.sqlalchemy_exception, _DB_DOWN)):
        setattr(g, _FLAG, "database")


if not sa.event.contains(sa.engine.Engine, "handle_error", _note_database_error):
    sa.event.listen(sa.engine.Engine, "handle_error", _note_database_error)


def _messages(service: str) -> tuple[str, str]:
    """(title, explanation) for the service that is down."""
    if service == "search":
        return (tk._("Search is temporarily unavailable"),
                tk._("The search server does not answer. Nothing was changed; please try again in a few minutes."))
    return (tk._("The portal is temporarily unavailable"),
            tk._("The database does not answer. Nothing was saved; please try again in a few minutes."))


def unavailable(service: str) -> Response:
    """The 503 answer: CKAN's API error JSON under ``/api/``, else a page that needs neither database
    nor search."""
    title, text = _messages(service)
    if request.path.startswith("/api/"):
        body = json.dumps({"success": False, "error": {"__type": "Service Unavailable", "service": service,
                                                         "message": f"{title}. {text}"}})
        resp = Response(body, status=503, content_type="application/json;charset=utf-8")
    else:
        try:
            html = tk.render("sharing/unavailable.html", {"title": title, "text": text})
        except Exception:  # noqa: BLE001 - the page must not depend on anything that may be down too
            log.exception("sharing: could not render the 503 page")
            html = f"<!DOCTYPE html><title>503</title><h1>503 {title}</h1><p>{text}</p>"
        resp = Response(html, status=503, content_type="text/html;charset=utf-8")
    resp.headers["Retry-After"] = RETRY_AFTER
    return resp


def _api_error_type(response: Response) -> str:
    """The ``__type`` of a CKAN Action API error response ('' for anything else)."""
    if not response.is_json:
        return ""
    try:
        return str(((response.get_json(silent=True) or {}).get("error") or {}).get("__type") or "")
    except (AttributeError, ValueError):
        return ""


def _search_answers() -> bool:
    """Whether Solr answers a query now (asked only after a 500: CKAN's search page answers 500 when it
    cannot reach Solr)."""
    from ckan.lib.search import common

    return common.is_available()


def after_request(response: Response) -> Response:
    """Turn the 500 of a request that met a service outage into a 503."""
    if response.status_code != 500:
        return response
    if getattr(g, _FLAG, None) == "database":
        log.error("sharing: the database is unreachable, answered 503 for %s %s", request.method, request.path)
        return unavailable("database")
    if _api_error_type(response) in _SEARCH_DOWN or not _search_answers():
        log.error("sharing: the search server is unreachable, answered 503 for %s %s", request.method, request.path)
        return unavailable("search")
    return response


def database_error(exc: Exception) -> Response:
    """Flask error handler for database errors that reach Flask (pages): 503, traceback in the log."""
    log.error("sharing: database error on %s %s", request.method, request.path, exc_info=exc)
    try:
        from ckan import model

        model.Session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it
        log.debug("rollback after a database error failed", exc_info=True)
    return unavailable("database")


def install(app: Any) -> Any:
    """Register the 503 answers on CKAN's Flask app (IMiddleware)."""
    if hasattr(app, "after_request"):
        app.after_request(after_request)
        for error in _DB_DOWN:
            app.register_error_handler(error, database_error)
    return app
