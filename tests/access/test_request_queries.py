"""What the access layer asks PostgreSQL per request (issue 16): behaviour, counted in statements, never timed."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import pytest
import sqlalchemy as sa

from ckan import model

from tests.workflow.support import PLUGINS, api, build_world

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]

# the facts query (facts.member_facts: the function of migration 0009) is the only statement of ours that reads
# grants
_FACTS = re.compile(r"\bsharing_grant\b|\bsharing_member_facts\b")
# restore_urls reads the resource rows of the datasets a user may see in full
_RESOURCE_ROWS = re.compile(r"\bFROM resource\b(?!_)")


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001 - SQLAlchemy's event signature
        seen.append(statement)

    sa.event.listen(model.meta.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(model.meta.engine, "before_cursor_execute", count)


@pytest.fixture
def world(app):
    w = build_world(app)
    for n in range(3):  # more conditional datasets of department B with a link each: a page of them
        pkg = api(app, "package_create", w.tokens["admin_b"], name=f"{w.pkgs['conditional']['name']}-{n}",
                  owner_org=w.orgs["b"]["id"], sharing_tier="conditional", share_condition="政务用途",
                  resources=[{"name": "link", "url": f"http://data.example.org/more-{n}.csv"}])["result"]
        w.pkgs[f"conditional_{n}"] = pkg
    return w


def test_anonymous_search_page_reads_nothing_of_ours(app, world):
    """An anonymous package_search page sends no statement about grants, memberships or resources."""
    with _statements() as seen:
        body = app.get("/api/3/action/package_search", query_string={"q": "*:*", "rows": 20}).json
    assert body["result"]["count"] >= 4
    assert not [s for s in seen if "sharing_" in s or _RESOURCE_ROWS.search(s)], seen


def test_member_search_page_is_one_facts_query_and_one_resource_read(app, world):
    """A member's search page: one facts statement and one read of the URLs to give back, for all datasets."""
    with _statements() as seen:
        body = app.get("/api/3/action/package_search", query_string={"q": "*:*", "rows": 20},
                       headers={"Authorization": world.tokens["member_b"]}).json
    own = [p for p in body["result"]["results"] if p["sharing_tier"] == "conditional"]
    assert len(own) >= 4 and all(not r["sharing_restricted"] for p in own for r in p["resources"])
    assert len([s for s in seen if _FACTS.search(s)]) == 1, seen
    assert len([s for s in seen if _RESOURCE_ROWS.search(s)]) == 1, seen


def test_member_download_is_one_facts_query(app, world):
    """The guard and both package_show calls of core's download view share one facts statement."""
    res = world.res["link"]
    with _statements() as seen:
        resp = app.get(f"/dataset/{world.pkgs['conditional']['id']}/resource/{res['id']}/download",
                       headers={"Authorization": world.tokens["member_b"]}, follow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"] == res["url"]
    assert len([s for s in seen if _FACTS.search(s)]) == 1, seen


def test_new_membership_is_seen_by_the_next_request(app, world):
    """The memo is per request: a membership added after one download decides the next one."""
    res = world.res["link"]
    url = f"/dataset/{world.pkgs['conditional']['id']}/resource/{res['id']}/download"
    headers = {"Authorization": world.tokens["admin_c"]}
    assert app.get(url, headers=headers, follow_redirects=False).status_code == 403
    api(app, "organization_member_create", world.tokens["admin_b"], id=world.orgs["b"]["id"],
        username=world.users["admin_c"]["name"], role="member")
    assert app.get(url, headers=headers, follow_redirects=False).status_code == 302
