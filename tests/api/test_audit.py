"""One data access is one ledger row (SPEC §3b, §5; issue 12 "audit over-counts"): a DataStore dump is one row
however many pages it streams, a schema read (limit=0) or a HEAD is none."""
from __future__ import annotations

import pytest

from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import events

from tests.workflow.support import api, build_world, ctx, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "activity datastore datatables_view sharing"),
    # a page of 2 rows, so a dump of 5 rows streams 3 pages of datastore_search
    pytest.mark.ckan_config("ckan.datastore.search.rows_max", "2"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _accesses(w) -> list[dict]:
    return call_action("sharing_audit_list", ctx(w, "sysadmin"), action=events.DATA_ACCESS, limit=100)["results"]


def test_one_row_per_dump_none_for_schema_reads(app):
    """A grantee's paged /datastore/dump writes exactly one row; limit=0 dumps, HEAD and datastore_search with
    limit=0 write none; a datastore_search that returns rows writes one."""
    w = build_world(app)
    table = w.res["table"]
    call_action("datastore_upsert", {"user": w.users["sysadmin"]["name"]}, resource_id=table["id"], method="insert",
                records=[{"v": f"more-{i}"} for i in range(4)], force=True)
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])
    auth = {"Authorization": w.tokens["requester"]}

    dump = app.get(f"/datastore/dump/{table['id']}", headers=auth, status=200)
    assert len(dump.get_data(as_text=True).strip().splitlines()) == 6  # header + 5 rows: paged
    rows = _accesses(w)
    assert [(r["resource_id"], r["detail"]["channel"]) for r in rows] == [(table["id"], "datastore.dump")]

    app.get(f"/datastore/dump/{table['id']}", query_string={"limit": 0}, headers=auth, status=200)
    assert app.test_client().head(f"/datastore/dump/{table['id']}", headers=auth).status_code == 200
    app.get("/api/3/action/datastore_search", query_string={"resource_id": table["id"], "limit": 0},
            headers=auth, status=200)
    assert len(_accesses(w)) == 1

    app.get("/api/3/action/datastore_search", query_string={"resource_id": table["id"]}, headers=auth, status=200)
    assert [r["detail"]["channel"] for r in _accesses(w)] == ["datastore_search", "datastore.dump"]
