"""The audit ledger (SPEC §5): append-only, hash-chained, verified and exported by the CLI, listed
with filters and paging, one chain under concurrent appends."""
from __future__ import annotations

import csv
import threading

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from ckan import model
from ckan.tests.helpers import call_action

from ckanext.sharing.ledger import chain as audit, events
from ckanext.sharing.cli import sharing as sharing_cli

from tests.workflow.support import PLUGINS, api, api_get, build_world, ctx, request_body

# The ``sharing`` click group is invoked directly (in-process, plugins loaded by the fixtures); the
# worker tests run the installed ``ckan`` command as a child process.
pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


def _with_trigger_disabled(sql: str, **params) -> None:
    """Tamper as the table owner would: switch off the append-only triggers around one statement."""
    model.Session.execute(sa.text("ALTER TABLE sharing_audit DISABLE TRIGGER USER"))
    model.Session.execute(sa.text(sql), params)
    model.Session.execute(sa.text("ALTER TABLE sharing_audit ENABLE TRIGGER USER"))
    model.Session.commit()


def _events(app, w) -> None:
    req = api(app, "sharing_request_create", w.tokens["requester"], **request_body(w))["result"]
    grant = api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"])["result"]
    api_get(app, "datastore_search", w.tokens["requester"], resource_id=w.res["table"]["id"])
    api(app, "sharing_grant_revoke", w.tokens["admin_b"], id=grant["id"], reason="done")


def test_updates_are_refused_by_the_database(app):
    """Updates are refused by the database."""
    w = build_world(app)
    _events(app, w)
    with pytest.raises(sa.exc.DBAPIError) as exc:
        model.Session.execute(sa.text("UPDATE sharing_audit SET action = 'x'"))
        model.Session.flush()
    assert "append-only" in str(exc.value)
    model.Session.rollback()


def test_verify_detects_an_edited_row(app, cli):
    """Verify detects an edited row."""
    w = build_world(app)
    _events(app, w)
    ok = cli.invoke(sharing_cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    target = model.Session.execute(
        sa.text("SELECT id FROM sharing_audit WHERE action = 'request_approve'")).scalar()
    _with_trigger_disabled(
        "UPDATE sharing_audit SET detail = jsonb_set(detail, '{expires}', '\"2099-01-01\"') WHERE id = :id", id=target)
    bad = cli.invoke(sharing_cli, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"row {target}: content does not match its hash (edited)" in bad.output


def test_verify_detects_a_deleted_row(app, cli):
    """Verify detects a deleted row."""
    w = build_world(app)
    _events(app, w)
    ids = [r[0] for r in model.Session.execute(sa.text("SELECT id FROM sharing_audit ORDER BY id"))]
    victim = ids[len(ids) // 2]
    _with_trigger_disabled("DELETE FROM sharing_audit WHERE id = :id", id=victim)
    bad = cli.invoke(sharing_cli, ["audit", "verify"])
    assert bad.exit_code == 1
    following = next(i for i in ids if i > victim)
    assert f"row {following}: previous-hash link broken" in bad.output


def test_export_writes_csv(app, cli, tmp_path):
    """The audit export command writes the ledger (or a filtered part) as CSV."""
    w = build_world(app)
    _events(app, w)
    out = tmp_path / "audit.csv"
    res = cli.invoke(sharing_cli, ["audit", "export", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    total = model.Session.execute(sa.text("SELECT count(*) FROM sharing_audit")).scalar()
    assert len(rows) == total and f"{total} audit rows" in res.output
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), key=int)
    assert {"request_create", "request_approve", "data_access", "grant_revoke"} <= {r["action"] for r in rows}
    # filtered export
    out2 = tmp_path / "access.csv"
    res = cli.invoke(sharing_cli, ["audit", "export", str(out2), "--action", "data_access",
                                "--organization", w.orgs["b"]["name"]])
    assert res.exit_code == 0, res.output
    only = list(csv.DictReader(out2.open(encoding="utf-8")))
    assert len(only) == 1 and only[0]["actor_id"] == w.users["requester"]["id"]
    bad = cli.invoke(sharing_cli, ["audit", "export", "-", "--since", "soon"])
    assert bad.exit_code != 0 and "not an ISO date" in bad.output


def test_audit_list_filters_and_paging(app):
    """Audit list filters and paging."""
    w = build_world(app)
    with freeze_time("2026-01-05 10:00:00"):
        first = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    call_action("sharing_request_reject", ctx(w, "admin_b"), id=first["id"], reason="no")
    _events(app, w)
    sysadmin = ctx(w, "sysadmin")
    every = call_action("sharing_audit_list", sysadmin, limit=1000)
    assert every["count"] == len(every["results"]) >= 7
    page1 = call_action("sharing_audit_list", sysadmin, limit=2)
    page2 = call_action("sharing_audit_list", sysadmin, limit=2, offset=2)
    assert [r["id"] for r in page1["results"] + page2["results"]] == [r["id"] for r in every["results"][:4]]
    by_actor = call_action("sharing_audit_list", sysadmin, actor_id=w.users["requester"]["name"])["results"]
    assert by_actor and {r["actor_id"] for r in by_actor} == {w.users["requester"]["id"]}
    creates = call_action("sharing_audit_list", sysadmin, action="request_create")["results"]
    assert len(creates) == 2
    old = call_action("sharing_audit_list", sysadmin, until="2026-01-05")["results"]
    assert [r["request_id"] for r in old] == [first["id"]]
    recent = call_action("sharing_audit_list", sysadmin, since="2026-01-06", action="request_create")["results"]
    assert len(recent) == 1 and recent[0]["request_id"] != first["id"]
    by_pkg = call_action("sharing_audit_list", sysadmin, package_id=w.pkgs["conditional"]["name"])
    assert by_pkg["count"] >= 7
    # the chain is still intact after all of this
    assert audit.verify()[0]


def test_concurrent_appends_keep_one_chain(app):
    """Concurrent appends keep one chain."""
    build_world(app)
    errors: list[str] = []

    def append(n: int) -> None:
        with app.flask_app.test_request_context():
            try:
                for i in range(15):
                    audit.append(events.DATA_ACCESS, actor_name=f"t{n}", detail={"i": i})
                    model.Session.commit()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
            finally:
                model.Session.remove()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    ok, count, problems = audit.verify()
    assert ok, problems
    assert model.Session.execute(sa.text("SELECT count(*) FROM sharing_audit WHERE actor_name LIKE 't%'")).scalar() \
        == 90


def test_cli_lists_requests_and_grants(app, cli):
    """CLI lists requests and grants."""
    w = build_world(app)
    req = call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    other = call_action("sharing_request_create", ctx(w, "colleague"), **request_body(w))
    grant = call_action("sharing_request_approve", ctx(w, "admin_b"), id=other["id"])
    res = cli.invoke(sharing_cli, ["requests", "list", "--state", "pending"])
    assert res.exit_code == 0, res.output
    lines = [line.split("\t") for line in res.output.strip().splitlines()]
    assert lines[0][0] == "id" and [line[0] for line in lines[1:]] == [req["id"]]
    res = cli.invoke(sharing_cli, ["grants", "list"])
    assert res.exit_code == 0 and grant["id"] in res.output
    res = cli.invoke(sharing_cli, ["requests", "list", "--state", "bogus"])
    assert res.exit_code != 0
