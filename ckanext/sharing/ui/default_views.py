"""Default views of DataStore tables (issue 11).

Core creates the default views when a resource is created or changes format, but a DataStore table
becomes ``datastore_active`` only afterwards (``datastore_create`` patches the flag), so
``datatables_view`` — which needs that flag — was never created. When the flag appears, the
default views are created again (``resource_create_default_resource_views`` skips existing ones).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan import model


def ensure_datastore_views(context: Any, resource: dict[str, Any]) -> None:
    """``after_resource_update``: the default views of a resource that just got its DataStore table."""
    if not tk.asbool(resource.get("datastore_active")):
        return
    existing = model.Session.query(model.ResourceView.view_type).filter(
        model.ResourceView.resource_id == resource["id"]).all()
    if any(row[0] == "datatables_view" for row in existing):
        return
    pkg = tk.get_action("package_show")({"ignore_auth": True}, {"id": resource["package_id"]})
    tk.get_action("resource_create_default_resource_views")(
        {"ignore_auth": True, "user": context.get("user", "")},
        {"resource": resource, "package": pkg, "create_datastore_views": True},
    )
