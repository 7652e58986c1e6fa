"""The one list table (``templates/sharing/snippets/table.html``) on every page that shows one: its header
cells, and for an empty list one row spanning the columns with the page's own text."""
from __future__ import annotations

import re

import pytest

from tests.workflow.support import PLUGINS, build_world, login

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _table(body: str, css_class: str) -> tuple[list[str], int, str]:
    """The header labels, the empty row's colspan and its text of the table with ``css_class``."""
    found = re.search(r'<table class="[^"]*\b%s\b[^"]*"[^>]*>(.*?)</table>' % re.escape(css_class), body, re.S)
    assert found, f"no table {css_class}"
    html = found.group(1)
    headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r'<th scope="col">(.*?)</th>', html, re.S)]
    empty = re.search(r'<tbody>\s*<tr><td colspan="(\d+)">(.*?)</td></tr>\s*</tbody>', html, re.S)
    assert empty, f"{css_class}: no empty-list row"
    return headers, int(empty.group(1)), empty.group(2).strip()


def test_empty_list_tables_on_every_page(app):
    """Every page's empty list table has its column headers and one row across them saying the list is empty."""
    w = build_world(app)
    org = w.orgs["b"]["name"]
    pages = {
        "sysadmin": [
            ("/sharing/suspensions", "sharing-suspensions", ["Suspended", "Towards", "Reason", "State", "Since", ""],
             "No suspensions."),
            ("/sharing/authority", "sharing-extensions", ["Dataset", "Provider", "Working days", "Reason", "Reply due", ""],
             "No extension asks."),
            ("/sharing/authority", "sharing-requests",
             ["Dataset", "Requester", "Purpose", "Days", "State", "Submitted", "Reply due", ""], "No requests."),
        ],
        "requester": [
            ("/dashboard/use-reports", "sharing-reports-due", ["Dataset", "Access ended", "Report due by"],
             "No use report is due."),
            ("/dashboard/use-reports", "sharing-use-reports",
             ["Dataset", "Filed", "Use scenario (使用场景)", "Destruction (销毁情况)"], "No use report yet."),
            ("/dashboard/access-requests", "sharing-requests",
             ["Dataset", "Purpose", "Days", "State", "Submitted", "Reply due", ""], "No requests."),
            ("/dashboard/access-requests", "sharing-grants",
             ["Dataset", "Grantee", "Resources", "State", "Expires", "Delivery"], "No grants."),
        ],
        "admin_b": [
            (f"/organization/{org}/corrections", "sharing-corrections",
             ["Dataset", "What is wrong", "State", "Answer due by", "Answer"], "No correction requests."),
            (f"/organization/{org}/access-grants", "sharing-grants",
             ["Dataset", "Grantee", "Resources", "State", "Expires", "Delivery", ""], "No grants."),
            (f"/organization/{org}/access-requests", "sharing-requests",
             ["Dataset", "Requester", "Purpose", "Days", "State", "Submitted", "Reply due", ""], "No requests."),
        ],
    }
    for role, tables in pages.items():
        login(app, w, role)
        for url, css_class, headers, text in tables:
            shown, colspan, empty = _table(app.get(url).body, css_class)
            assert (shown, empty) == (headers, text), (url, css_class)
            assert colspan >= len(headers), (url, css_class, colspan)
