"""End-to-end smoke test of the stack: real PostgreSQL, Solr and file storage, over HTTP."""
from __future__ import annotations

import io

import pytest

from ckan.tests import factories


def _api(app, action: str, token: str | None = None, status: int = 200, **kwargs):
    headers = {"Authorization": token} if token else {}
    resp = app.post(f"/api/3/action/{action}", json=kwargs, headers=headers, status=status)
    return resp.json


@pytest.mark.ckan_config("ckan.plugins", "activity datastore sharing")
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_create_search_and_download_over_http(app):
    """Create search and download over HTTP."""
    user = factories.User()
    token = factories.APIToken(user=user["name"])["token"]
    org = _api(app, "organization_create", token, name="smoke-dept", title="Smoke Department")["result"]
    ds = _api(app, "package_create", token, name="smoke-ds", title="Smoke dataset", owner_org=org["id"])["result"]

    found = app.get("/api/3/action/package_search", query_string={"q": "name:smoke-ds"}).json["result"]
    assert found["count"] == 1
    assert found["results"][0]["id"] == ds["id"]

    resp = app.post(
        "/api/3/action/resource_create",
        data={"package_id": ds["id"], "name": "rows", "upload": (io.BytesIO(b"a,b\n1,2\n"), "rows.csv")},
        headers={"Authorization": token},
        content_type="multipart/form-data",
    )
    res = resp.json["result"]
    assert res["url_type"] == "upload"
    download = app.get(f"/dataset/{ds['id']}/resource/{res['id']}/download/rows.csv")
    assert download.status_code == 200
    assert download.data == b"a,b\n1,2\n"
