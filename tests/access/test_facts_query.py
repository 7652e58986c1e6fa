"""The policy's facts in one round trip (issue 16): the same answers as the separate queries, one statement."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from ckan import model
from ckan.tests import factories

from ckanext.sharing.access import facts
from ckanext.sharing.model import SharingGrant

PLUGINS = "activity datastore sharing"


def _grant(package_id: str, user_id: str | None = None, org_id: str | None = None, state: str = "active",
           resource_ids: list[str] | None = None) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    gid = str(uuid.uuid4())
    model.Session.add(SharingGrant(id=gid, package_id=package_id, user_id=user_id, organization_id=org_id,
                                   resource_ids=resource_ids or [], state=state, starts=now,
                                   expires=now + dt.timedelta(days=30), created_by="test"))
    model.Session.commit()
    return gid


@pytest.fixture
def world():
    """A user who is an editor of one department and a member of another, with grants of every kind."""
    user = factories.User()
    own, other, gone = (factories.Organization(users=[{"name": user["name"], "capacity": role}])
                        for role in ("editor", "member", "admin"))
    third = factories.Organization()
    model.Session.query(model.Group).filter_by(id=gone["id"]).update({"state": "deleted"})
    model.Session.commit()
    pkgs = {name: factories.Dataset(owner_org=org["id"]) for name, org in
            (("own", own), ("by_user", third), ("by_org", third), ("revoked", third), ("none", third),
             ("collab", third))}
    grants = {
        "user": _grant(pkgs["by_user"]["id"], user_id=user["id"], resource_ids=["r1"]),
        "org": _grant(pkgs["by_org"]["id"], org_id=other["id"]),
        "revoked": _grant(pkgs["revoked"]["id"], user_id=user["id"], state="revoked"),
        "on_own": _grant(pkgs["own"]["id"], user_id=user["id"]),
        "other_user": _grant(pkgs["none"]["id"], user_id=factories.User()["id"]),
    }
    model.Session.add(model.PackageMember(package_id=pkgs["collab"]["id"], user_id=user["id"], capacity="editor"))
    model.Session.commit()
    return {"user": model.User.get(user["id"]), "pkgs": pkgs, "grants": grants,
            "orgs": {"own": own["id"], "other": other["id"]}}


def _separately(user: model.User, pkgs: list[tuple[str, str]], collaborators: bool):
    """The answers of the three separate queries (as before issue 16)."""
    capacities = facts.user_capacities(user.id)
    ids = [pid for pid, owner in pkgs if owner not in capacities]
    collab = facts.collaborations(user.id, ids) if collaborators else set()
    return capacities, collab, facts.grants_for(user.id, capacities.keys(), ids)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "with_request_context")
@pytest.mark.parametrize("collaborators", [False, True])
def test_member_facts_match_the_separate_queries(world, ckan_config, monkeypatch, collaborators):
    """Capacities, collaborations and active grants come out as the three queries gave them."""
    monkeypatch.setitem(ckan_config, "ckan.auth.allow_dataset_collaborators", collaborators)
    pkgs = [(p["id"], p["owner_org"]) for p in world["pkgs"].values()]
    got = facts.member_facts(world["user"].id, pkgs)
    assert got[:3] == _separately(world["user"], pkgs, collaborators)
    assert got[3] == facts.suspended_providers(world["user"].id, got[0].keys()) == set()
    capacities, collab, grants, _held = got
    assert capacities == {world["orgs"]["own"]: "editor", world["orgs"]["other"]: "member"}
    assert set(grants) == {world["pkgs"]["by_user"]["id"], world["pkgs"]["by_org"]["id"]}
    assert grants[world["pkgs"]["by_user"]["id"]][0].resource_ids == frozenset({"r1"})
    assert collab == ({world["pkgs"]["collab"]["id"]} if collaborators else set())


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "with_request_context")
def test_subjects_cost_one_statement(world):
    """A page of datasets costs one facts statement for a logged-in user, none for anonymous users."""
    pkgs = [(p["id"], p["owner_org"]) for p in world["pkgs"].values()]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(model.meta.engine, "before_cursor_execute", count)
    try:
        user = world["user"]
        user.sysadmin  # noqa: B018 - loaded before counting
        subjects = facts.subjects(user, pkgs)
        assert len(statements) == 1, statements
        statements.clear()
        facts.subjects(None, pkgs)
        assert statements == []
    finally:
        sa.event.remove(model.meta.engine, "before_cursor_execute", count)
    assert subjects[world["pkgs"]["own"]["id"]].capacity == "editor"
    assert subjects[world["pkgs"]["own"]["id"]].grants == ()
    assert [g.id for g in subjects[world["pkgs"]["by_org"]["id"]].grants] == [world["grants"]["org"]]
    assert subjects[world["pkgs"]["none"]["id"]].grants == ()
