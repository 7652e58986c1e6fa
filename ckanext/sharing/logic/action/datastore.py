"""DataStore actions chained so that every read of a conditional table by a grantee is one ledger row
(SPEC §5). Registered only when the ``datastore`` plugin is loaded (``datastore_search_sql`` only when
SQL search is enabled)."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.sharing.api import audit
from ckanext.sharing.ledger import data_access

Action = Callable[[Context, DataDict], Any]


def _audit_exempt(action: Action) -> Action:
    """Keep the DataStore's auth-audit exemption on our link of the chain (issue 18).

    CKAN marks every action a plugin defines (the DataStore's included) ``auth_audit_exempt``, but a chained
    action only keeps the attributes of its *own* function: without this, ``datastore_search`` of a public
    table (``_table_metadata``, which the DataStore answers without an auth check) would fail CKAN's audit
    with "did not call its auth function". Our link adds no auth decision of its own: the chained auth
    functions (``logic/auth/datastore.py``) do that."""
    action.auth_audit_exempt = True  # type: ignore[attr-defined]
    return action


# The actions this module registers.
__all__ = [
    "datastore_search",
    "datastore_info",
    "datastore_search_sql",
]


def available() -> bool:
    """Chains onto DataStore actions exist only where the datastore plugin provides them."""
    return p.plugin_loaded("datastore")


def sql_available() -> bool:
    """``datastore_search_sql`` exists only when SQL search is enabled."""
    return available() and tk.asbool(tk.config.get("ckan.datastore.sqlsearch.enabled"))


@_audit_exempt
@tk.side_effect_free
@tk.chained_action
def datastore_search(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    reads = audit.search_reads_data(data_dict)  # before core's validation pops the parameters
    result = next_action(context, data_dict)
    # one client read of rows is one row: not the dump's pages, not a limit=0 schema look-up (issue 12)
    if reads:
        data_access.record_resources(context, [data_dict.get("resource_id") or ""], "datastore_search")
    return result


@_audit_exempt
@tk.side_effect_free
@tk.chained_action
def datastore_info(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    result = next_action(context, data_dict)
    # the table's fields and size: audited when a client asks for them; a resource view page asks while
    # rendering, and that page is itself the audited access (one use, one row)
    if audit.direct_api_call("datastore_info"):
        data_access.record_resources(context, [data_dict.get("id") or data_dict.get("resource_id") or ""], "datastore_info")
    return result


@_audit_exempt
@tk.side_effect_free
@tk.chained_action
def datastore_search_sql(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    result = next_action(context, data_dict)
    data_access.record_resources(context, list(context.get("table_names") or []), "datastore_search_sql")
    return result
AVAILABLE_IF = {"datastore_search_sql": sql_available}
