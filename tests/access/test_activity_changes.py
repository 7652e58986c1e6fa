"""The dataset activity stream's "Changes" links (``/dataset/changes/<id>``, ``changes_multiple``) over HTTP, on
datasets whose stream also holds resource-view activities (issue 11): every link the stream shows opens, for the
editor and for anonymous users never a 500 (SPEC §3, activity row)."""
from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.workflow.support import PLUGINS, World, api, api_get, build_world, login

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", f"{PLUGINS} image_view"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

CHANGES = re.compile(r'href="(/dataset/changes/[0-9a-f-]{36})"')


def _edit_several_times(app, w: World, tier: str) -> dict[str, Any]:
    """The editor changes the dataset's description, adds an image resource (with its default view), creates a
    second resource view, then changes the title: the last update's previous activity is a view activity."""
    pkg, token = w.pkgs[tier], w.tokens["editor_b"]
    api(app, "package_patch", token, id=pkg["id"], notes="第一次修改")
    res = api(app, "resource_create", token, package_id=pkg["id"], name="图片",
              url=f"http://data.example.org/{uuid.uuid4().hex[:6]}.png", format="PNG")["result"]
    api(app, "resource_view_create", token, resource_id=res["id"], view_type="image_view", title="第二个视图",
        image_url="http://data.example.org/picture.png")
    api(app, "package_patch", token, id=pkg["id"], title="第二次修改的标题")
    return pkg


def _stream(app, w: World, pkg: dict[str, Any]) -> list[dict[str, Any]]:
    return api_get(app, "package_activity_list", w.tokens["editor_b"], id=pkg["id"])["result"]


@pytest.mark.parametrize("tier", ["open", "conditional"])
def test_every_changes_link_of_the_stream_opens_for_the_editor(app, tier):
    """As the dataset's editor, each Changes link of the activity page answers 200 with the change it names,
    also the title change that comes right after a resource-view activity."""
    w = build_world(app)
    pkg = _edit_several_times(app, w, tier)
    assert "new resource view" in [a["activity_type"] for a in _stream(app, w, pkg)]
    login(app, w, "editor_b")
    links = CHANGES.findall(app.get(f"/dataset/activity/{pkg['name']}").body)
    assert len(links) >= 3, links
    bodies = [app.get(link, status=200).body for link in links]
    assert "第二次修改的标题" in bodies[0]  # the newest first: the title change after the view activities
    assert "sharing_restricted" not in bodies[0] and "Uploaded a new file" not in bodies[0], "only the title"
    chinese = app.get("/zh_Hans_CN" + links[0], status=200).body
    assert "将标题改为" in chinese and "显示元数据差异" in chinese and "Changed title" not in chinese
    title = re.search(r"<title>(.*?)</title>", chinese, re.S).group(1)
    assert "变更" in title and "Changes" not in title, title
    # the moments of the heading and of the range choices in the portal's one format, in its time zone
    moments = re.findall(r"<option value=\"[0-9a-f-]{36}\"[^>]*>([^<]*)</option>", chinese)
    assert moments and all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", m) for m in moments), moments
    assert "年" not in chinese[chinese.index("<h1"):chinese.index("</article>")]


def test_changes_multiple_spans_resource_view_activities(app):
    """changes_multiple from the creation to the last title change, across the view activities, answers 200."""
    w = build_world(app)
    pkg = _edit_several_times(app, w, "open")
    stream = _stream(app, w, pkg)
    login(app, w, "editor_b")
    body = app.get("/dataset/changes_multiple", status=200,
                   query_string={"new_id": stream[0]["id"], "old_id": stream[-1]["id"]}).body
    assert "第二次修改的标题" in body and "第一次修改" in body


@pytest.mark.parametrize("tier,status", [("open", 200), ("conditional", 403)])
def test_changes_links_as_anonymous(app, tier, status):
    """Anonymous users (activity detail is public, test.ini) open each Changes link of an open dataset's stream
    and changes_multiple across its view activities; on a conditional one they get 403 (shared on request)."""
    w = build_world(app)
    pkg = _edit_several_times(app, w, tier)
    stream = _stream(app, w, pkg)
    app.client = app.test_client()
    links = CHANGES.findall(app.get(f"/dataset/activity/{pkg['name']}").body)
    assert len(links) >= 3, links
    for link in links:
        app.get(link, status=status)
    app.get("/dataset/changes_multiple", status=status,
            query_string={"new_id": stream[0]["id"], "old_id": stream[-1]["id"]})


def test_changes_of_a_not_shared_dataset_are_not_found_for_anonymous(app):
    """A not_shared dataset's activity page and every activity of its stream, views included, are a 404 for
    anonymous users (hidden, never named), not a 403 or a 500."""
    w = build_world(app)
    pkg = _edit_several_times(app, w, "not_shared")
    stream = _stream(app, w, pkg)
    app.client = app.test_client()
    app.get(f"/dataset/activity/{pkg['name']}", status=404)
    for act in stream:
        app.get(f"/dataset/changes/{act['id']}", status=404)
    app.get("/dataset/changes_multiple", status=404,
            query_string={"new_id": stream[0]["id"], "old_id": stream[-1]["id"]})


def test_changes_of_a_view_activity_is_not_found(app):
    """A resource-view activity has no dataset version: its Changes URL is a 404 (editor and anonymous), and
    the Changes page offers only dataset versions in its range choices."""
    w = build_world(app)
    pkg = _edit_several_times(app, w, "open")
    stream = _stream(app, w, pkg)
    views = {a["id"] for a in stream if a["activity_type"] == "new resource view"}
    assert views
    app.client = app.test_client()
    for view in views:
        app.get(f"/dataset/changes/{view}", status=404)
    login(app, w, "editor_b")
    for view in views:
        app.get(f"/dataset/changes/{view}", status=404)
    page = app.get(f"/dataset/changes/{stream[0]['id']}", status=200).body
    options = set(re.findall(r'<option value="([0-9a-f-]{36})"', page))
    assert options and not options & views


def test_old_version_of_a_conditional_dataset_for_its_editor(app):
    """查看此版本 as the dataset's editor shows the old version's resources with their URLs (no 申请共享 on its
    own data); anonymous users still get them masked through activity_show."""
    w = build_world(app)
    pkg = _edit_several_times(app, w, "conditional")
    newest = _stream(app, w, pkg)[0]["id"]
    secret = w.res["link"]["url"]
    resources = api_get(app, "activity_show", w.tokens["editor_b"], id=newest,
                        include_data=True)["result"]["data"]["package"]["resources"]
    assert secret in [r["url"] for r in resources] and not any(r["sharing_restricted"] for r in resources)
    anonymous = api_get(app, "activity_show", id=newest, include_data=True)["result"]["data"]["package"]["resources"]
    assert secret not in str(anonymous) and all(r["sharing_restricted"] for r in anonymous)
    login(app, w, "editor_b")
    page = app.get(f"/dataset/{pkg['name']}/history/{newest}", status=200).body
    assert secret in page and "request-access" not in page


def test_snapshots_of_a_conditional_dataset_keep_its_urls(app):
    """Activity snapshots are taken with the data (package_show's index cache holds masked resources): the
    stored versions of a conditional dataset hold the link's own URL; reads are filtered per user."""
    from ckan import model
    from ckanext.activity.model import Activity

    w = build_world(app)
    pkg = _edit_several_times(app, w, "conditional")
    model.Session.remove()
    rows = model.Session.query(Activity).filter(Activity.object_id == pkg["id"],
                                                Activity.activity_type == "changed package").all()
    assert rows
    for row in rows:
        urls = [r.get("url") for r in row.data["package"]["resources"]]
        assert w.res["link"]["url"] in urls and not any("request-access" in (u or "") for u in urls), urls


def test_resource_key_changes_are_named_in_chinese(app):
    """A resource's table loaded into the DataStore (core records datastore_active as a resource extra): the
    Chinese Changes entry names the field 已存入数据仓库, not datastore_active; the English page names it too."""
    w = build_world(app)
    pkg, token = w.pkgs["open"], w.tokens["editor_b"]
    res = api(app, "resource_create", token, package_id=pkg["id"], name="表",
              url=f"http://data.example.org/{uuid.uuid4().hex[:6]}.csv", format="CSV")["result"]
    api(app, "datastore_create", token, resource_id=res["id"], force=True, fields=[{"id": "站点", "type": "text"}],
        records=[{"站点": "福州站"}])
    login(app, w, "editor_b")
    link = CHANGES.findall(app.get(f"/dataset/activity/{pkg['name']}").body)[0]
    chinese = app.get("/zh_Hans_CN" + link, status=200).body
    entry = chinese[chinese.index("<h1"):chinese.index("<table")]
    assert "已存入数据仓库" in entry and "datastore_active" not in entry, entry
    english = app.get("/en" + link, status=200).body
    assert "In the DataStore" in english[:english.index("<table")]
