"""The deciders' header badge (issue 17 item 2): one COUNT per page, the same number as the pending queue."""
from __future__ import annotations

import re

import flask_login
import pytest
import sqlalchemy as sa

from ckan import model
from ckan.tests.helpers import call_action

from ckanext.sharing.ui import landing

from tests.workflow.support import PLUGINS, build_world, ctx, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _pending_rows(n: int, org_id: str, requester_id: str, package_id: str, tag: str) -> None:
    """``n`` pending requests inserted in SQL (the badge must not depend on how they were made); with
    ``n`` > 1 each from its own requester (one pending request per requester and dataset)."""
    model.Session.execute(sa.text(
        "INSERT INTO sharing_request (id, package_id, owner_org, requester_id, resource_ids, purpose, use_scenario, "
        "requested_days, state, created, modified, due_date) SELECT :tag || g, :p, :o, "
        "CASE WHEN :n = 1 THEN :u ELSE :u || '-' || :tag || g END, '[]', 'x', 'y', 5, "
        "'pending', now(), now(), current_date + 10 FROM generate_series(1, :n) g"),
        {"tag": tag, "p": package_id, "o": org_id, "u": requester_id, "n": n})
    model.Session.commit()


def _statements_of(app, user_name: str) -> tuple[dict[str, int], list[str]]:
    """``pending_by_org()`` as ``user_name`` and the SQL statements it sent."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001 - SQLAlchemy's event signature
        seen.append(statement)

    engine = model.meta.engine
    with app.flask_app.test_request_context():
        flask_login.login_user(model.User.get(user_name))
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            result = landing.pending_by_org()
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    return result, seen


def test_badge_counts_the_pending_queue_in_one_grouped_count(app):
    """The badge equals the pending queue's count less the decider's own requests, leaves out other
    departments', and costs the same few statements (one COUNT … GROUP BY) with 3 or 33 pending requests."""
    w = build_world(app)
    org_b, org_c = w.orgs["b"], w.orgs["c"]
    for role in ("requester", "colleague", "plain"):
        call_action("sharing_request_create", ctx(w, role), **request_body(w))
    pkg = w.pkgs["conditional"]["id"]
    _pending_rows(1, org_b["id"], w.users["admin_b"]["id"], pkg, "own-")  # the decider's own: not in the badge
    _pending_rows(4, org_c["id"], w.users["plain"]["id"], pkg, "other-")  # a department admin_b does not decide

    queue = call_action("sharing_request_list", ctx(w, "admin_b"), organization_id=org_b["id"], state="pending",
                        limit=1000)
    expected = sum(1 for r in queue["results"] if r["requester_id"] != w.users["admin_b"]["id"])
    assert queue["count"] == 4 and expected == 3

    counts, statements = _statements_of(app, w.users["admin_b"]["name"])
    assert counts == {org_b["id"]: expected}
    grouped = [s for s in statements if "count(" in s.lower() and "group by" in s.lower()]
    assert len(grouped) == 1 and "sharing_request" in grouped[0]
    assert len(statements) <= 2, statements  # the membership lookup + the count

    _pending_rows(30, org_b["id"], w.users["plain"]["id"], pkg, "many-")
    more, more_statements = _statements_of(app, w.users["admin_b"]["name"])
    assert more == {org_b["id"]: expected + 30}
    assert len(more_statements) == len(statements), "the cost does not grow with the queue"

    sysadmin, _ = _statements_of(app, w.users["sysadmin"]["name"])
    assert sysadmin == {org_b["id"]: expected + 30 + 1, org_c["id"]: 4}  # sysadmins decide every department

    login(app, w, "admin_b")
    page = app.get("/dataset/").body
    badge = re.search(r'sharing-pending-badge.*?<span class="badge">(\d+)</span>', page, re.S)
    assert badge and int(badge.group(1)) == expected + 30
