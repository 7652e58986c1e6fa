"""Honest refusals for machine clients over HTTP (SPEC §3b, issue 12): JSON 403 for scripts, the human page for
browsers, 404 for what the caller may not know exists, the reason and request page in every data 403."""
from __future__ import annotations

import pytest

from ckanext.sharing.access import masking

from tests.workflow.support import build_world

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "activity datastore datatables_view sharing"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
# What the scripts send: requests/ckanapi/curl/wget "*/*", pandas (urllib) nothing at all.
SCRIPTS = [{"Accept": "*/*"}, {}, {"Accept": "application/json"}, {"Accept": "text/csv"}]


@pytest.fixture
def world(app):
    return build_world(app)


def _restricted(resp, pkg_id: str) -> None:
    assert resp.status_code == 403, resp.status_code
    assert resp.content_type.startswith("application/json"), resp.content_type
    body = resp.json
    assert body["error"] == "access_restricted"
    assert body["reason"] == "conditional"
    assert body["request_url"] == masking.request_url(pkg_id)


def test_masked_url_is_403_json_for_scripts_and_the_page_for_browsers(app, world):
    """The masked resource URL (the request page) answers scripts 403 JSON with reason and request_url,
    browsers and full-access callers the page; a not_shared dataset's is 404 JSON naming nothing."""
    pkg = world.pkgs["conditional"]
    shown = app.get(f"/api/3/action/package_show?id={pkg['id']}").json["result"]
    masked = [r["url"] for r in shown["resources"]]
    assert masked and all(u == masking.request_url(pkg["id"]) for u in masked)
    path = "/" + masked[0].split("://", 1)[1].split("/", 1)[1]
    for headers in SCRIPTS:
        _restricted(app.get(path, headers=headers, status=403), pkg["id"])
    page = app.get(path, headers={"Accept": BROWSER}, status=200)
    assert page.content_type.startswith("text/html")
    app.get(path, headers={"Accept": "*/*", "Authorization": world.tokens["member_b"]}, status=200)
    hidden = world.pkgs["not_shared"]
    resp = app.get(f"/dataset/{hidden['name']}/request-access", headers={"Accept": "*/*"}, status=404)
    assert resp.json["error"] == "not_found"
    assert hidden["id"] not in resp.body and hidden["name"] not in resp.body


def test_refused_data_routes_are_json_for_scripts_html_for_browsers(app, world):
    """A refused download (link, upload) or DataStore dump answers a script 403 JSON and a browser the HTML
    page with the request link, never data."""
    pkg = world.pkgs["conditional"]
    for kind in ("link", "upload"):
        url = f"/dataset/{pkg['id']}/resource/{world.res[kind]['id']}/download"
        _restricted(app.get(url, headers={"Accept": "*/*", "Authorization": world.tokens["plain"]}, status=403),
                    pkg["id"])
        page = app.get(url, headers={"Accept": BROWSER}, status=403)
        assert page.content_type.startswith("text/html")
        assert masking.request_url(pkg["id"]) in page.body
    dump = f"/datastore/dump/{world.res['table']['id']}"
    _restricted(app.get(dump, headers={"Accept": "*/*"}, status=403), pkg["id"])
    assert app.get(dump, headers={"Accept": BROWSER}, status=403).content_type.startswith("text/html")


def test_datastore_action_403_names_reason_and_request_page(app, world):
    """A refused datastore_search / datastore_info / datastore_search_sql carries error, reason and
    request_url in CKAN's error object."""
    pkg, table = world.pkgs["conditional"], world.res["table"]
    calls = [("datastore_search", {"resource_id": table["id"]}), ("datastore_info", {"id": table["id"]}),
             ("datastore_search_sql", {"sql": f'SELECT * FROM "{table["id"]}"'})]
    for action, params in calls:
        resp = app.get(f"/api/3/action/{action}", query_string=params,
                       headers={"Authorization": world.tokens["plain"]}, status=403)
        error = resp.json["error"]
        assert resp.json["success"] is False and error["__type"] == "Authorization Error", action
        assert error["error"] == "access_restricted" and error["reason"] == "conditional", action
        assert error["request_url"] == masking.request_url(pkg["id"]), action


def test_hidden_download_is_404_json(app, world):
    """A download of a not_shared dataset's resource by a stranger is 404 JSON that names nothing."""
    pkg = world.pkgs["not_shared"]
    res = app.post("/api/3/action/resource_create", json={"package_id": pkg["id"], "name": "x",
                   "url": "http://data.example.org/hidden.csv"},
                   headers={"Authorization": world.tokens["admin_b"]}).json["result"]
    resp = app.get(f"/dataset/{pkg['id']}/resource/{res['id']}/download", headers={"Accept": "*/*"}, status=404)
    assert resp.json["error"] == "not_found" and pkg["name"] not in resp.body
