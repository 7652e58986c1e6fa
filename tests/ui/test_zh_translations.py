"""Our catalogue overrides core's zh_Hans_CN where core's is missing or wrong (issue 11)."""
from __future__ import annotations

import pytest

from tests.workflow.support import PLUGINS

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins"),
]


def test_login_page_uses_our_translations_over_cores(app):
    """The Chinese login page says 用户名或电子邮箱 and 登录 (core: English and 登陆)."""
    html = app.get("/zh_Hans_CN/user/login").body
    assert "用户名或电子邮箱" in html
    assert "Username or Email" not in html
    assert "登录" in html
    assert "登陆" not in html


def test_english_pages_keep_core_english(app):
    """The override is for zh_Hans_CN only: English pages keep core's English."""
    html = app.get("/en/user/login").body
    assert "Username or Email" in html and "用户名或电子邮箱" not in html


@pytest.mark.ckan_config("ckan.auth.create_user_via_web", "false")
def test_login_page_says_how_to_get_an_account_when_registration_is_closed(app):
    """Registration closed: the Chinese login page explains how to get an account (default text)."""
    html = app.get("/zh_Hans_CN/user/login").body
    assert 'id="sharing-account-help"' in html
    assert "请向本部门的数据管理员申请账户" in html


@pytest.mark.ckan_config("ckan.auth.create_user_via_web", "false")
@pytest.mark.ckan_config("ckanext.sharing.account_help", "请致电 0591-12345678 申请账户。")
def test_account_help_text_is_configurable(app):
    """ckanext.sharing.account_help replaces the default text on the login page."""
    html = app.get("/zh_Hans_CN/user/login").body
    assert "请致电 0591-12345678 申请账户。" in html


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_not_shared_dataset_404_is_in_chinese(app):
    """A not_shared dataset's 404 page speaks Chinese (heading and message)."""
    from ckan.tests import factories

    org = factories.Organization()
    pkg = factories.Dataset(owner_org=org["id"], sharing_tier="not_shared", share_basis="法律规定")
    resp = app.get(f"/zh_Hans_CN/dataset/{pkg['name']}", status=404)
    assert "404 页面不存在" in resp.body
    assert "数据集不存在，或您无权查看" in resp.body
    assert "Not Found" not in resp.body and "Dataset not found" not in resp.body


def test_about_page_describes_the_portal_in_chinese(app):
    """Without ckan.site_about the Chinese About page describes this portal (its name, the tiers, a link to
    the sharing guide), not core's English text about CKAN."""
    html = app.get("/zh_Hans_CN/about").body
    assert "是本市各政务部门发布政务数据资源目录" in html
    assert "有条件共享" in html and "/sharing/guide" in html
    assert "CKAN is the world" not in html


@pytest.mark.ckan_config("ckan.site_about", "本平台由**示范市数据管理局**运营。")
def test_about_page_text_is_configurable(app):
    """ckan.site_about (Markdown) replaces our default text, as in core."""
    html = app.get("/zh_Hans_CN/about").body
    assert "本平台由<strong>示范市数据管理局</strong>运营。" in html
    assert "是本市各政务部门发布政务数据资源目录" not in html


def test_unknown_page_404_is_in_chinese(app):
    """An unknown URL's 404 page gives our Chinese message, not werkzeug's English description."""
    resp = app.get("/zh_Hans_CN/no-such-page", status=404)
    assert "404 页面不存在" in resp.body
    assert "您访问的页面不存在" in resp.body
    assert "The requested URL was not found" not in resp.body


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_dataset_page_of_a_department_without_description_is_chinese(app):
    """A department with no description: its sidebar on the Chinese dataset page says so in Chinese (core has
    no zh_Hans_CN text for it), and the English page keeps core's sentence."""
    from ckan.tests import factories

    org = factories.Organization(description="")
    pkg = factories.Dataset(owner_org=org["id"], sharing_tier="open")
    html = app.get(f"/zh_Hans_CN/dataset/{pkg['name']}").body
    assert "There is no description for this organization." not in html
    assert "该机构暂无描述。" in html
    assert "There is no description for this organization." in app.get(f"/en/dataset/{pkg['name']}").body


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_resource_page_names_core_keys_in_chinese(app):
    """The resource page's further rows (媒体类型, 大小, 哈希 …) are named in Chinese, not by key ("Mimetype")."""
    import re

    from ckan.tests import factories

    org = factories.Organization()
    pkg = factories.Dataset(owner_org=org["id"], sharing_tier="open")
    res = factories.Resource(package_id=pkg["id"], url="http://data.example.org/a.csv", format="CSV",
                             mimetype="text/csv", size=2048, hash="sha256:ab12", resource_type="file")
    html = app.get(f"/zh_Hans_CN/dataset/{pkg['name']}/resource/{res['id']}").body
    names = re.findall(r'<tr class="toggle-more"><th scope="row">([^<]*)</th>', html)
    assert {"媒体类型", "大小", "哈希", "资源类型"} <= set(names), names
    assert not [n for n in names if n.isascii() and n not in ("URL",)], names
    english = app.get(f"/en/dataset/{pkg['name']}/resource/{res['id']}").body
    assert "Media type" in re.findall(r'<tr class="toggle-more"><th scope="row">([^<]*)</th>', english)
