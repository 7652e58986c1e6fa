"""The catalogue over HTTP: the grouped form (CSRF on) and the catalogue card, in Chinese and English."""
from __future__ import annotations

import re

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.sharing.catalogue.schemas import sharing_sample_record

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"
USCC = "91350100M000100Y43"


PASSWORD = "Catalogue-Pass-2024"


@pytest.fixture
def editor():
    user = factories.User(password=PASSWORD)
    sysadmin = factories.Sysadmin()
    org = factories.Organization(
        user=sysadmin, uscc=USCC, title="福州市数据管理局", users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org, "headers": {}, "sysadmin": sysadmin}


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token"\s+value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _login(app, user: dict) -> None:
    """Log in through the login form (cookie session), so forms are CSRF-checked as in a browser."""
    html = app.get("/user/login").get_data(as_text=True)
    resp = app.post("/user/login", data={"login": user["name"], "password": PASSWORD, "_csrf_token": _csrf(html)})
    assert resp.status_code == 200
    assert user["name"] in app.get("/dashboard/datasets").get_data(as_text=True)


def _form(editor, **overrides):
    data = {
        "title": "企业登记信息", "name": "", "res_code": "301002003/000001", "res_class": "3",
        "owner_org": editor["org"]["id"], "notes": "市场主体登记的基本信息。", "format_category": "数据库",
        "theme": "市场监管", "tag_string": "",
        "data_items-0-item_name": "企业名称", "data_items-0-item_type": "C", "data_items-0-item_length": "200",
        "data_items-0-item_description": "", "data_items-0-item_personal": "false",
        "data_items-1-item_name": "", "data_items-1-item_type": "", "data_items-1-item_length": "",
        "data_items-1-item_description": "", "data_items-1-item_personal": "false",
        "sharing_tier": "conditional", "share_condition": "用于政务服务", "share_scope": "本市政务部门", "share_basis": "",
        "share_method": ["接口", "库表交换"], "contains_personal_info": "false", "deidentified": "false",
        "update_cycle": "每日", "publish_date": "2024-03-01", "related_res_codes": "",
        "contact_name": "李四", "contact_phone": "0591-87654321", "contact_email": "data@fz.gov.cn",
        "save": "continue",
    }
    data.update(overrides)
    return data


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("lang,labels", [
    ("zh_Hans_CN", ["信息资源代码", "资源分类", "共享类型", "更新周期", "信息项", "资源标识", "共享开放属性"]),
    ("en", ["Resource code", "Resource class", "Sharing type", "Update cycle", "Data items", "Identification"]),
])
class TestForm:
    def test_form_is_grouped_and_creates_the_record(self, app, editor, lang, labels):
        """Form is grouped and creates the record."""
        _login(app, editor["user"])
        page = app.get(f"/{lang}/dataset/new", headers=editor["headers"])
        html = page.get_data(as_text=True)
        for label in labels:
            assert label in html, label
        assert html.index('name="res_code"') < html.index('name="sharing_tier"') < html.index('name="update_cycle"')
        assert html.count("sharing-form-section") == 4
        resp = app.post(f"/{lang}/dataset/new", headers=editor["headers"],
                        data=dict(_form(editor), _csrf_token=_csrf(html)), follow_redirects=False)
        assert resp.status_code == 302, re.findall(r"error[^>]*>([^<]{0,200})", resp.get_data(as_text=True))
        ds = helpers.call_action("package_show", id="qi-ye-deng-ji-xin-xi")
        assert ds["res_code"] == "301002003/000001"
        assert ds["sharing_tier"] == "conditional" and ds["share_condition"] == "用于政务服务"
        assert [i["item_name"] for i in ds["data_items"]] == ["企业名称"]  # the blank row was dropped
        assert ds["share_method"] == ["接口", "库表交换"]

    def test_errors_are_shown_in_the_form(self, app, editor, lang, labels):
        """Errors are shown in the form."""
        _login(app, editor["user"])
        html = app.get(f"/{lang}/dataset/new", headers=editor["headers"]).get_data(as_text=True)
        resp = app.post(f"/{lang}/dataset/new", headers=editor["headers"], data=dict(
            _form(editor, res_code="201002003/000001", contact_email="x@y", **{"data_items-0-item_name": ""}),
            _csrf_token=_csrf(html)))
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert "201002003/000001" in body  # the form again, with the values kept
        summary = body[body.index("error-explanation"):body.index("sharing-form-section")]
        for field in ("res_code", "contact_email", "data_items-1-item_name"):  # scheming numbers rows from 1
            assert f'data-field-label="{field}"' in summary, field
        if lang == "zh_Hans_CN":  # labels from the schema, messages from the extension's catalogue
            assert "信息资源代码" in summary and "必须与资源分类（3）一致" in summary and "不是有效的电子邮箱地址" in summary
        else:
            assert "Resource code" in summary and "must equal the resource class (3)" in summary
        # a missing justification is reported on its own field
        resp = app.post(f"/{lang}/dataset/new", headers=editor["headers"], data=dict(
            _form(editor, share_condition=""), _csrf_token=_csrf(html)))
        assert 'data-field-label="share_condition"' in resp.get_data(as_text=True)

    def test_without_csrf_token_refused(self, app, editor, lang, labels):
        """Without CSRF token refused."""
        _login(app, editor["user"])
        resp = app.post(f"/{lang}/dataset/new", headers=editor["headers"], data=_form(editor))
        assert resp.status_code in (400, 403)
        assert helpers.call_action("package_search", q="*:*", include_drafts=True)["count"] == 0


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestCard:
    def test_card_in_both_languages(self, app, editor):
        """Card in both languages."""
        items = [{"item_name": "统计年度", "item_type": "C", "item_length": "4"},
                 {"item_name": "身份证号", "item_type": "C", "item_length": "18", "item_personal": True}]
        ds = helpers.call_action("package_create", context={"user": editor["sysadmin"]["name"]}, **sharing_sample_record(
            owner_org=editor["org"]["id"], sharing_tier="conditional", share_condition="仅限政务服务使用", share_scope="本市政务部门",
            data_items=items))
        zh = app.get(f"/zh_Hans_CN/dataset/{ds['name']}").get_data(as_text=True)
        card = zh[zh.index("sharing-catalogue-card"):]
        for text in ("信息资源代码", "101001001/000001", "1 基础信息资源", "福州市数据管理局", USCC, "统计年度",
                     "身份证号", "C 字符型", "有条件共享", "仅限政务服务使用", "每年", "2024-01-15", "涉及个人信息"):
            assert text in card, text
        assert card.index("信息资源代码") < card.index("信息项") < card.index("共享类型") < card.index("更新周期")
        other = helpers.call_action("package_create", context={"user": editor["sysadmin"]["name"]}, **sharing_sample_record(
            "101001001/000002", owner_org=editor["org"]["id"], name="related", related_res_codes=[ds["res_code"]]))
        page = app.get(f"/zh_Hans_CN/dataset/{other['name']}").get_data(as_text=True)
        link = re.search(r'sharing-related-res-codes">\s*<a href="([^"]+)">101001001/000001</a>', page)
        assert link, "related codes link to a search for them"
        found = app.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
        assert f'/dataset/{ds["name"]}"' in found
        assert '/dataset/related"' not in found  # the search finds the code's dataset only
        en = app.get(f"/en/dataset/{ds['name']}").get_data(as_text=True)
        card = en[en.index("sharing-catalogue-card"):]
        for text in ("Resource code", "1 Basic information resource", USCC, "Conditional sharing",
                     "Sharing condition", "Update cycle", "Yearly"):
            assert text in card, text


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("lang,error", [("zh_Hans_CN", "统一社会信用代码校验码错误"), ("en", "the check digit is wrong")])
def test_organization_form_checks_the_uscc(app, lang, error):
    """Organization form checks the USCC."""
    admin = factories.Sysadmin(password=PASSWORD)
    _login(app, admin)
    html = app.get(f"/{lang}/organization/new").get_data(as_text=True)
    assert 'name="uscc"' in html
    form = {"_csrf_token": _csrf(html), "title": "福州市数据管理局", "name": "fz-data", "description": "",
            "image_url": "", "save": ""}
    resp = app.post(f"/{lang}/organization/new", data=dict(form, uscc="91350100M000100Y44"))
    assert error in resp.get_data(as_text=True)
    with pytest.raises(tk.ObjectNotFound):
        helpers.call_action("organization_show", id="fz-data")
    app.post(f"/{lang}/organization/new", data=dict(form, uscc="91350100M000100Y43"))
    assert helpers.call_action("organization_show", id="fz-data")["uscc"] == USCC


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("lang,headings,item", [
    ("zh_Hans_CN", ["资源分类", "信息资源格式分类", "更新周期", "主题分类", "信息资源提供方"], "3 部门信息资源"),
    ("en", ["Resource class", "Format category", "Update cycle", "Theme", "Resource provider"], "3 Departmental information resource"),
])
def test_search_page_facets(app, editor, lang, headings, item):
    """The search page offers the catalogue facets with labels in both languages."""
    helpers.call_action("package_create", context={"user": editor["sysadmin"]["name"]}, **sharing_sample_record(
        "301002003/000001", owner_org=editor["org"]["id"], update_cycle="每周"))
    html = app.get(f"/{lang}/dataset/").get_data(as_text=True)
    for heading in headings:
        assert heading in html, heading
    assert item in html
    filtered = app.get(f"/{lang}/dataset/", query_string={"update_cycle": "每周"}).get_data(as_text=True)
    assert "ren-kou-ji-ben-xin-xi" in filtered
    nothing = app.get(f"/{lang}/dataset/", query_string={"update_cycle": "每日"}).get_data(as_text=True)
    assert "ren-kou-ji-ben-xin-xi" not in nothing
