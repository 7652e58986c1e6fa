"""DataStore auth functions chained to the sharing decision (SPEC §3): reads of a table need the data.
Registered only when the ``datastore`` plugin is loaded (``datastore_search_sql`` only with SQL search)."""
from __future__ import annotations

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ckanext.sharing.logic.auth.core import AuthFunction, data_allowed, deny, then_data_check

__all__ = ["datastore_search", "datastore_info", "datastore_search_sql"]


def available() -> bool:
    """Chains onto DataStore auth functions exist only where the datastore plugin provides them."""
    return p.plugin_loaded("datastore")


def sql_available() -> bool:
    """``datastore_search_sql`` exists only when SQL search is enabled."""
    return available() and tk.asbool(tk.config.get("ckan.datastore.sqlsearch.enabled"))


AVAILABLE_IF = {"datastore_search_sql": sql_available}

datastore_search = then_data_check("datastore_search", lambda d: d.get("resource_id") or d.get("id"))
datastore_info = then_data_check("datastore_info", lambda d: d.get("id") or d.get("resource_id"))


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def datastore_search_sql(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    # The DataStore passes the table names as a generator: read it once, for both checks.
    names = list(context.get("table_names") or [])
    context["table_names"] = names  # type: ignore[typeddict-unknown-key]
    result = next_auth(context, data_dict)
    if not result.get("success"):
        return result
    for name in names:
        ok, reason = data_allowed(context, name)
        if not ok:
            return deny(reason)
    return result


