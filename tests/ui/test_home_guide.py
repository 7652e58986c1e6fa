"""The home page (portal name and logo, figures, featured departments, search) and the public explanation
page of the tiers, the request process and its time limits (issue 11; SPEC §13)."""
from __future__ import annotations

import re

import pytest

from ckan.tests.helpers import call_action

from tests.workflow.support import PLUGINS, build_world, ctx, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckan.site_title", "示范市公共数据共享开放平台"),
    pytest.mark.ckan_config("ckan.site_logo", "/sharing/portal-logo.svg"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _figure(html: str, name: str) -> int | None:
    """The number shown in the home page's figure ``name`` (None when the figure is not shown)."""
    match = re.search(rf'data-figure="{name}".*?sharing-figure-value">(\d+)<', html, re.S)
    return int(match.group(1)) if match else None


def test_home_page_counts_only_what_the_visitor_may_see(app):
    """Anonymous: name, logo, search box, one open and one conditional dataset, no not_shared figure and no
    not_shared title anywhere; a member of the owner sees the not_shared dataset counted."""
    w = build_world(app)
    html = app.get("/zh_Hans_CN/").get_data(as_text=True)
    assert "示范市公共数据共享开放平台" in html and "/sharing/portal-logo.svg" in html
    assert 'id="sharing-home-q"' in html and 'name="q"' in html
    assert "420 x 220" not in html and "欢迎" not in html
    assert (_figure(html, "tier-open"), _figure(html, "tier-conditional")) == (1, 1)
    assert _figure(html, "tier-not_shared") is None
    assert w.pkgs["not_shared"]["title"] not in html and w.pkgs["not_shared"]["name"] not in html
    assert "有条件共享" in html and "无条件共享" in html
    assert _figure(html, "departments") == 3
    login(app, w, "member_b")
    html = app.get("/zh_Hans_CN/").get_data(as_text=True)
    assert _figure(html, "tier-not_shared") == 1
    assert w.pkgs["not_shared"]["title"] in html


def test_home_page_counts_answered_requests_and_on_time_ones(app):
    """Requests answered counts approvals and rejections (not pending ones), and how many were on time."""
    w = build_world(app)
    first = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    second = call_action("sharing_request_create", ctx(w, "colleague"), **request_body(w))
    call_action("sharing_request_create", ctx(w, "plain"), **request_body(w))
    call_action("sharing_request_approve", ctx(w, "admin_b"), id=first["id"])
    call_action("sharing_request_reject", ctx(w, "admin_b"), id=second["id"], reason="用途不明确")
    html = app.get("/").get_data(as_text=True)
    assert _figure(html, "answered") == 2
    assert "2 of them on time" in html


@pytest.mark.ckan_config("ckanext.sharing.featured_departments", "no-such-department")
def test_featured_departments_follow_the_configuration(app, ckan_config, monkeypatch):
    """Featured departments: the configured ones in order (unknown names skipped), else the largest."""
    w = build_world(app)
    html = app.get("/").get_data(as_text=True)
    assert "data-department=" not in html
    monkeypatch.setitem(ckan_config, "ckanext.sharing.featured_departments",
                        f'{w.orgs["c"]["name"]} {w.orgs["b"]["name"]}')
    html = app.get("/").get_data(as_text=True)
    featured = re.findall(r'data-department="([^"]+)"', html)
    assert featured == [w.orgs["c"]["name"], w.orgs["b"]["name"]]
    monkeypatch.setitem(ckan_config, "ckanext.sharing.featured_departments", "")
    featured = re.findall(r'data-department="([^"]+)"', app.get("/").get_data(as_text=True))
    assert featured[0] == w.orgs["b"]["name"], "the department with the most datasets first"


@pytest.mark.ckan_config("ckanext.sharing.reply_working_days", "5")
@pytest.mark.ckan_config("ckanext.sharing.max_grant_days", "180")
def test_guide_states_the_configured_limits_and_tier_names(app):
    """Regulation Art. 14, 21: the guide names the three tiers as configured and the configured reply limit."""
    html = app.get("/zh_Hans_CN/sharing/guide").get_data(as_text=True)
    for text in ("无条件共享", "有条件共享", "不予共享", "5 个工作日", "180", "第二十一条", "共享范围"):
        assert text in html, text
    en = app.get("/en/sharing/guide").get_data(as_text=True)
    assert "5 working days" in en and "Conditional sharing" in en


def test_guide_is_linked_from_header_footer_and_the_request_button(app):
    """The guide is linked from the header and footer of every page and next to the request button."""
    w = build_world(app)
    home = app.get("/").get_data(as_text=True)
    assert home.count('href="/sharing/guide"') >= 2
    page = app.get(f"/dataset/{w.pkgs['conditional']['name']}").get_data(as_text=True)
    cta = page[page.index("sharing-request-cta"):]
    assert 'sharing-guide-link" href="/sharing/guide"' in cta[:2000]
