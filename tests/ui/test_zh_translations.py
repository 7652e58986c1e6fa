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
