"""Downloads and previews a grantee and an editor get (issue 11): Chinese file names, charsets, DataStore dumps."""
from __future__ import annotations

import io
import json
import urllib.parse

import pytest

from ckan.tests import factories
from ckan.tests.helpers import call_action

from tests.ui.forms import browser_post
from tests.workflow.support import PASSWORD, api, build_world, csrf_token, ctx, login, request_body

PLUGINS = "activity datastore datatables_view text_view sharing"

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


@pytest.fixture
def editor(app):
    user = factories.User(password=PASSWORD)
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    page = app.get("/user/login")
    app.post("/user/login", data={"login": user["name"], "password": PASSWORD,
                                  "_csrf_token": csrf_token(page.body)}, follow_redirects=False, status=302)
    return {"user": user, "org": org}


def test_chinese_upload_keeps_a_readable_name_and_declares_its_charset(app, editor):
    """An upload named 公交站点.csv is stored as gong-jiao-zhan-dian.csv, named 公交站点, and downloads as
    text/csv; charset=utf-8, saved as 公交站点.csv (filename*, RFC 6266) with the ASCII name as fallback."""
    pkg = factories.Dataset(owner_org=editor["org"]["id"], sharing_tier="open")
    page = app.get(f"/zh_Hans_CN/dataset/{pkg['name']}/resource/new")
    fields = browser_post(page.body, "resource-edit", {"save": "go-metadata"}).to_dict()
    fields["upload"] = (io.BytesIO("站点,线路\n五一广场,1路\n".encode("utf-8")), "公交站点.csv")
    resp = app.post(f"/zh_Hans_CN/dataset/{pkg['name']}/resource/new", data=fields,
                    content_type="multipart/form-data", follow_redirects=False)
    assert resp.status_code == 302, resp.body[:2000]
    res = call_action("package_show", id=pkg["id"])["resources"][0]
    assert res["name"] == "公交站点"
    assert res["url"].endswith("/download/gong-jiao-zhan-dian.csv"), res["url"]
    download = app.get(urllib.parse.urlsplit(res["url"]).path)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = download.headers.get("Content-Disposition", "")
    assert 'filename="gong-jiao-zhan-dian.csv"' in disposition, disposition
    assert "filename*=UTF-8''" + urllib.parse.quote("公交站点.csv") in disposition, disposition
    assert download.body.startswith("站点,线路")
    again = app.get(urllib.parse.urlsplit(res["url"]).path, headers={"If-None-Match": download.headers["ETag"]})
    assert again.status_code == 304 and again.headers.get("Content-Disposition") == disposition, \
        "a browser's revalidation keeps the Chinese name (its 304 headers replace the cached ones)"
    call_action("resource_patch", {"user": editor["user"]["name"]}, id=res["id"], name="站点表")
    renamed = app.get(urllib.parse.urlsplit(res["url"]).path).headers.get("Content-Disposition", "")
    assert "filename*" not in renamed, "a renamed resource is not its file's Chinese name"


def test_grantee_reaches_the_datastore_table_and_the_previews(app):
    """A grantee gets the DataStore-only table's dump URL (not _datastore_only_resource), a DataTables view,
    and the upload's text preview; the views exist by default."""
    w = build_world(app)
    req = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    call_action("sharing_request_approve", ctx(w, "admin_b"), id=req["id"])
    shown = api(app, "package_show", w.tokens["requester"], id=w.pkgs["conditional"]["id"])["result"]
    table = next(r for r in shown["resources"] if r["id"] == w.res["table"]["id"])
    assert table["url"] == f"http://test.ckan.net/datastore/dump/{table['id']}"
    assert "_datastore_only_resource" not in json.dumps(shown)
    views = {r["id"]: [v["view_type"] for v in api(app, "resource_view_list", w.tokens["requester"],
                                                   id=r["id"])["result"]] for r in shown["resources"]}
    assert "datatables_view" in views[w.res["table"]["id"]]
    assert "text_view" in views[w.res["upload"]["id"]]
    login(app, w, "requester")
    page = app.get(f"/zh_Hans_CN/dataset/{w.pkgs['conditional']['name']}/resource/{table['id']}")
    assert f"/datastore/dump/{table['id']}" in page.body
    assert "_datastore_only_resource" not in page.body
    assert "Datastore active" not in page.body and "datastore_active" not in page.body
    assert f"/datastore/dump/{table['id']}?bom=True" in page.body, "the CSV export is linked"
    assert app.get(f"/zh_Hans_CN/datastore/api_info/{table['id']}").status_code == 200, "the 数据 API button works"
    dump = app.get(f"/datastore/dump/{table['id']}")
    assert dump.status_code == 200 and "row-" in dump.body


def test_datatables_preview_icon_named_by_cores_css_is_served(app):
    """The clear-button icon core's bundled DataTables CSS names (vendor/... next to the bundle) answers 200
    instead of a 404 in every table preview's console; only images of that folder are served."""
    base = "/webassets/ckanext-datatablesview/vendor/"
    icon = app.get(base + "FontAwesome/images/times-circle-solid.svg")
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")
    assert app.get(base + "DataTables/datatables.js").status_code == 404
    assert app.get(base + "../../../datatablesview/plugin.py").status_code == 404
