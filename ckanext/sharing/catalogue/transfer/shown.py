"""One dictization per imported row (SPEC §10, §12): a chained ``package_show`` that, while an import batch
is being written, keeps the dataset dict CKAN dictized for a row so the row's other readers reuse it.

Each row written by ``package_create`` / ``package_update`` is shown twice after its write: by the activity
plugin (the whole dict saved in the activity) and by the search index (``package_show`` with
``validate=False``, then the default and the custom show schema). Without this both dictize the dataset from
the database; here the first one dictizes it (raw, as ``validate=False`` returns it), keeps it, and each
caller gets a copy validated as core ``package_show`` would validate it (same schema, same
``after_dataset_show`` hooks), so what the activity and the index store is unchanged.

Only calls made with ``ignore_auth`` (the activity's and the index's) are served from the batch's store, a
kept dict is used only while the dataset's ``metadata_modified`` is the one it was shown with (a dataset
changed later in the batch is dictized again), and nothing is kept outside :func:`batch`.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
from typing import Any, Iterator, Optional

import ckan.plugins.toolkit as tk
from ckan import model

# id → (metadata_modified it was shown with, the raw dictized dict); None outside an import batch
_STORE: contextvars.ContextVar[Optional[dict[str, tuple[str, dict[str, Any]]]]] = contextvars.ContextVar(
    "sharing_import_shown", default=None)


@contextlib.contextmanager
def batch() -> Iterator[dict[str, tuple[str, dict[str, Any]]]]:
    """Keep the rows' dictized datasets while one batch is written and indexed (then they are dropped)."""
    store: dict[str, tuple[str, dict[str, Any]]] = {}
    token = _STORE.set(store)
    try:
        yield store
    finally:
        _STORE.reset(token)
        store.clear()


def _plain_show(context: dict[str, Any], data_dict: dict[str, Any]) -> bool:
    """A call whose answer is the dataset as stored (no view hooks, no other schema, no plugin data)."""
    return bool(context.get("ignore_auth")) and not (
        context.get("schema") or context.get("for_view") or context.get("for_update")
        or tk.asbool(data_dict.get("use_default_schema", False))
        or tk.asbool(data_dict.get("include_plugin_data", False)))


def mark_changed(context: dict[str, Any], pkg_dict: dict[str, Any]) -> None:
    """``after_dataset_update`` inside an import batch: mark the dataset changed as CKAN's ``package_update``
    does without ``defer_commit``. With ``defer_commit`` + ``return_id_only`` (the importer's batches) it
    returns before marking it, so the activity plugin wrote no activity for an imported update; the hook
    runs only when CKAN did change the dataset, so an unchanged row still gets none."""
    if _STORE.get() is None or not (context.get("defer_commit") and context.get("return_id_only")):
        return
    pkg_id = pkg_dict.get("id") or getattr(context.get("package"), "id", None)
    if pkg_id:
        context.setdefault("changed_entities", {}).setdefault("packages", set()).add(pkg_id)


@tk.chained_action
@tk.side_effect_free
def package_show(up: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Core ``package_show``; inside an import batch the raw dict of a row is dictized once and reused."""
    store = _STORE.get()
    if store is None or not _plain_show(context, data_dict):
        return up(context, data_dict)
    key = data_dict.get("id") or data_dict.get("name_or_id")
    pkg = model.Package.get(key) if key else None
    if pkg is None:
        return up(context, data_dict)
    modified = pkg.metadata_modified.isoformat() if pkg.metadata_modified else ""
    kept = store.get(pkg.id)
    if kept is None or kept[0] != modified:
        raw = up(dict(context, validate=False, use_cache=False), data_dict)  # checks auth as core does
        kept = store[pkg.id] = (modified, copy.deepcopy(raw))
    else:
        tk.check_access("package_show", context, data_dict)  # ignore_auth: CKAN's auth audit only
    package_dict = copy.deepcopy(kept[1])
    from ckan import logic
    from ckan.lib import plugins as lib_plugins

    context["package"] = pkg
    plugin = lib_plugins.lookup_package_plugin(package_dict["type"])
    schema = plugin.show_package_schema()
    if not schema or not context.get("validate", True):
        return package_dict  # as core: the caller applies the schema and after_dataset_show
    package_dict, _errors = lib_plugins.plugin_validate(plugin, context, package_dict, schema, "package_show")
    logic.apply_after_dataset_show_plugins(context, package_dict)
    return package_dict
