"""The Chinese user interface over HTTP (issue 11): what a browser gets on zh_Hans_CN pages."""
from __future__ import annotations

import json
import re

import pytest

from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from tests.ui.forms import browser_post
from tests.workflow.support import PASSWORD, csrf_token

PLAIN = "activity datastore datatables_view text_view sharing"
PLUGINS = ("activity datastore datatables_view text_view scheming_datasets scheming_organizations "
           "sharing sharing_catalogue")
USCC = "91350100M000100Y43"

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _errors(html: str) -> list[str]:
    return re.findall(r'class="[^"]*(?:error-explanation|error-block|invalid-feedback)[^"]*"[^>]*>(.{0,300})', html, re.S)


def test_js_catalogue_served_under_the_hyphenated_locale(app):
    """/api/i18n/zh_Hans-CN (what client.js asks on Chinese pages) answers core's zh_Hans_CN JSON."""
    core = app.get("/api/i18n/zh_Hans_CN")
    ours = app.get("/api/i18n/zh_Hans-CN")
    assert ours.status_code == 200
    assert json.loads(ours.body) == json.loads(core.body)
    app.get("/api/i18n/xx-YY", status=400)


@pytest.fixture
def editor(app):
    user = factories.User(password=PASSWORD)
    org = factories.Organization(uscc=USCC, title="福州市数据管理局",
                                 users=[{"name": user["name"], "capacity": "editor"}])
    app.client = app.test_client()
    page = app.get("/user/login")
    app.post("/user/login", data={"login": user["name"], "password": PASSWORD,
                                  "_csrf_token": csrf_token(page.body)}, follow_redirects=False, status=302)
    return {"user": user, "org": org}


FILLED = {
    "title": "企业登记信息", "res_code": "301002003/000001", "res_class": "3",
    "notes": "市场主体登记的基本信息。", "format_category": "电子文件", "theme": "市场监管",
    "sharing_tier": "conditional", "share_condition": "用于政务服务", "share_scope": "本市政务部门",
    "share_method": ["接口"],
    "update_cycle": "每日", "publish_date": "2024-03-01",
    "contact_name": "李四", "contact_phone": "0591-87654321", "contact_email": "data@fz.gov.cn",
}


@pytest.mark.parametrize("items", [
    {},
    {"data_items-0-item_name": "企业名称"},
])
def test_catalogue_form_posted_as_the_browser_does_saves(app, editor, items):
    """The form as rendered (hidden template row, pre-selected selects, no visibility control) saves, with or
    without data items, on create and on edit."""
    page = app.get("/zh_Hans_CN/dataset/new")
    assert 'name="private"' not in page.body, "the tier decides visibility: no separate control"
    assert "REPEATING-INDEX0" in page.body
    fields = browser_post(page.body, "dataset-edit", dict(FILLED, owner_org=editor["org"]["id"], save="continue",
                                                          **items))
    resp = app.post("/zh_Hans_CN/dataset/new", data=fields, follow_redirects=False)
    assert resp.status_code == 302, _errors(resp.body)
    pkg = model.Session.query(model.Package).filter(model.Package.title == "企业登记信息").one()
    shown = call_action("package_show", id=pkg.id)
    assert [i["item_name"] for i in shown.get("data_items") or []] == ([items["data_items-0-item_name"]]
                                                                         if items else [])
    assert shown["private"] is False and shown["sharing_tier"] == "conditional"

    edit = app.get(f"/zh_Hans_CN/dataset/edit/{pkg.name}")
    assert 'name="private"' not in edit.body
    fields = browser_post(edit.body, "dataset-edit", {"notes": "更新后的摘要。", "save": ""})
    resp = app.post(f"/zh_Hans_CN/dataset/edit/{pkg.name}", data=fields, follow_redirects=False)
    assert resp.status_code == 302, _errors(resp.body)
    assert call_action("package_show", id=pkg.id)["notes"] == "更新后的摘要。"
