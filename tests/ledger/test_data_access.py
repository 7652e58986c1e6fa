"""A grantee looking at a data-rendering resource view is a data access: on the ledger, like a download."""
from __future__ import annotations

import pytest

from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import chain as audit, events

from tests.workflow.support import api, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "activity datastore datatables_view sharing"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def test_grantee_view_of_a_resource_is_audited(app):
    """Grantee view of a resource is audited."""
    w = build_world(app)
    pkg, table = w.pkgs["conditional"], w.res["table"]
    view = call_action("resource_view_create", {"user": w.users["sysadmin"]["name"]},
                       resource_id=table["id"], title="Table", view_type="datatables_view")
    url = f"/dataset/{pkg['id']}/resource/{table['id']}/view/{view['id']}"
    app.get(url, headers={"Authorization": w.tokens["requester"]}, status=403)

    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"],
                resource_ids=[table["id"]])["result"]
    app.get(url, headers={"Authorization": w.tokens["requester"]}, status=200)
    rows = call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.DATA_ACCESS)["results"]
    assert [(r["resource_id"], r["grant_id"], r["actor_id"]) for r in rows] == [
        (table["id"], grant["id"], w.users["requester"]["id"])]
    assert "view" in rows[0]["detail"]["channel"]
    # a member of the owning department is not a grantee: no row (ckanext.sharing.audit_member_access = false)
    app.get(url, headers={"Authorization": w.tokens["member_b"]}, status=200)
    assert call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.DATA_ACCESS)["count"] == 1
    # the DataStore API directly: one row per call, datastore_info included
    app.get("/api/3/action/datastore_info", query_string={"id": table["id"]},
            headers={"Authorization": w.tokens["requester"]}, status=200)
    app.get("/api/3/action/datastore_search", query_string={"resource_id": table["id"]},
            headers={"Authorization": w.tokens["requester"]}, status=200)
    channels = [r["detail"]["channel"] for r in
                call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.DATA_ACCESS)["results"]]
    assert channels[:2] == ["datastore_search", "datastore_info"] and len(channels) == 3
