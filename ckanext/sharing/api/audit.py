"""What one data access is (SPEC §3b, §5: one access, one ledger row; issue 12 "audit over-counts").

- A route (download, dump, view) is one access when it is a GET: a ``HEAD`` reads no data, and a dump with
  ``limit=0`` returns only the header line.
- A DataStore action is one access when it is the API call the client made, not a call a page or a route
  makes while it serves (the dump pages ``datastore_search``, a view page asks ``datastore_info``: the route
  itself is the audited access), and when it returns rows: ``datastore_search`` with ``limit=0`` is how
  ckanapi and the DataTables view read a table's schema.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import has_request_context, request


def direct_api_call(action_name: str) -> bool:
    """Is this action the API call the client made (not one a page or route makes while serving)?"""
    return has_request_context() and request.endpoint == "api.action" and \
        (request.view_args or {}).get("logic_function") == action_name


def _zero(value: Any) -> bool:
    try:
        return int(str(value).strip()) == 0
    except (TypeError, ValueError):
        return False


def route_reads_data(endpoint: str) -> bool:
    """Does this request of a guarded route read data (so that it is an audited access)?"""
    if not has_request_context() or request.method not in ("GET", "POST"):
        return False
    if endpoint == "datastore.dump" and _zero(request.args.get("limit")):
        return False
    return True


def search_reads_data(data_dict: Mapping[str, Any]) -> bool:
    """Is this ``datastore_search`` a client's read of rows (audited), not a schema look-up or an inner call?"""
    return direct_api_call("datastore_search") and not _zero(data_dict.get("limit", 100))
