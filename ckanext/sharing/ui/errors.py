"""Error pages' messages in the page's language (issue 11).

For an ``abort(404)`` without a message (an unknown URL), core's error page shows werkzeug's English
description ("The requested URL was not found on the server. ..."), which no catalogue translates. When an
error page's message is that default, this module gives our translated one; messages CKAN or we wrote
(``abort(404, _("Dataset not found"))``) are kept.
"""
from __future__ import annotations

from typing import Any, Callable

from werkzeug import exceptions

import ckan.plugins.toolkit as tk

__all__ = ["message"]

# core's own fallback message of a 500 (``error_handler`` of ckan/config/middleware/flask_app.py)
CORE_SERVER_ERROR = "Internal server error"


def _messages(_: Callable[[str], str]) -> dict[int, str]:
    """Our message for each HTTP status whose default description an error page may show."""
    return {
        400: _("The server could not understand the request."),
        403: _("You are not allowed to open this page."),
        404: _("The page you asked for does not exist. Check the address, or start again from the home page."),
        405: _("This page cannot be used this way."),
        409: _("The request conflicts with the current state of the data; reload the page and try again."),
        500: _("The server could not complete the request; please try again later."),
    }


def message(code: Any, content: Any) -> Any:
    """``content`` of the error page with status ``code``, translated when it is werkzeug's default."""
    try:
        status = int(code[0] if isinstance(code, (list, tuple)) else code)
    except (TypeError, ValueError, IndexError):
        return content
    default = exceptions.default_exceptions.get(status)
    is_default = content == CORE_SERVER_ERROR or (default is not None and content == default.description)
    ours = _messages(tk._).get(status)
    return ours if is_default and ours else content
