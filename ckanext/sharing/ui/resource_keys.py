"""Names of a resource's core keys in the page's language (issue 11).

Core shows a resource's remaining keys by name with ``| capitalize`` ("Mimetype", "Size", "Hash") on the
resource page's "more" rows and in the Changes page's resource entries; no catalogue can translate a key. This
module gives each core key a translatable name; a key it does not know is shown as core shows it.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk

__all__ = ["label", "SHOWN_BY_CORE"]

# Keys scheming's resource page filters out of its "more" rows by their core form (it shows them itself):
# they must reach the template untranslated.
SHOWN_BY_CORE = frozenset({"created", "metadata modified", "last modified", "format"})


def _labels() -> dict[str, str]:
    """Core's resource keys (``model.Resource`` columns, as ``format_resource_items`` spells them)."""
    _ = tk._
    return {
        "id": _("Resource ID"), "size": _("Size"), "mimetype": _("Media type"),
        "mimetype inner": _("Media type inside the archive"), "hash": _("Hash"), "resource type": _("Resource type"),
        "cache url": _("Cached copy"), "cache last updated": _("Cached copy updated"), "url": _("URL"),
        "name": _("Name"), "description": _("Description"), "format": _("Format"), "created": _("Created"),
        "last modified": _("Data last updated"), "metadata modified": _("Metadata last updated"),
        "has views": _("Has views"), "datastore active": _("In the DataStore"),
    }


def label(key: str) -> str:
    """The name of a resource key (``mimetype`` or ``last modified`` alike) in the page's language."""
    return _labels().get(key.replace("_", " "), key)
