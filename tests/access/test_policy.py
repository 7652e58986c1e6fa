"""The policy as a table: every tier × role, plus grant scope and expiry (SPEC §1–2, §4).

The policy is a pure function, so this needs no services; the HTTP conformance suite checks that
every surface asks it.
"""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sharing.access import policy
from ckanext.sharing.access.policy import Access, Grant, Subject

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)
LATER = NOW + dt.timedelta(days=30)
EARLIER = NOW - dt.timedelta(seconds=1)

ROLES = {
    "anonymous": Subject(),
    "registered": Subject(user_id="u"),
    "scoped_grantee": Subject(user_id="u", grants=(Grant("g2", LATER, frozenset({"r1"})),)),
    "grantee": Subject(user_id="u", grants=(Grant("g1", LATER),)),
    "expired_grantee": Subject(user_id="u", grants=(Grant("g0", EARLIER),)),
    "suspended_grantee": Subject(user_id="u", grants=(Grant("g1", LATER),), suspended=True),
    "suspended_admin": Subject(user_id="u", capacity="admin", grants=(Grant("g1", LATER),), suspended=True),
    "member": Subject(user_id="u", capacity="member"),
    "editor": Subject(user_id="u", capacity="editor"),
    "admin": Subject(user_id="u", capacity="admin"),
    "collaborator": Subject(user_id="u", collaborator=True),
    "sysadmin": Subject(user_id="u", sysadmin=True),
}

F, M, H = Access.FULL, Access.METADATA, Access.HIDDEN
EXPECTED = {
    #                  open                  conditional                      not_shared
    "anonymous": ((F, "open"), (M, "conditional"), (H, "not_shared")),
    "registered": ((F, "open"), (M, "conditional"), (H, "not_shared")),
    "scoped_grantee": ((F, "open"), (M, "grant_scope"), (H, "not_shared")),
    "grantee": ((F, "open"), (F, "grant:g1"), (H, "not_shared")),
    "expired_grantee": ((F, "open"), (M, "grant_expired"), (H, "not_shared")),
    # Regulation Art. 27: a suspension takes the grants' access away, never a member's own
    "suspended_grantee": ((F, "open"), (M, "suspended"), (H, "not_shared")),
    "suspended_admin": ((F, "member"), (F, "member"), (F, "member")),
    "member": ((F, "member"), (F, "member"), (F, "member")),
    "editor": ((F, "member"), (F, "member"), (F, "member")),
    "admin": ((F, "member"), (F, "member"), (F, "member")),
    "collaborator": ((F, "collaborator"), (F, "collaborator"), (F, "collaborator")),
    "sysadmin": ((F, "sysadmin"), (F, "sysadmin"), (F, "sysadmin")),
}


@pytest.mark.parametrize("tier_index,tier", list(enumerate(policy.TIERS)))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_tier_role_table(role: str, tier_index: int, tier: str) -> None:
    """Each role gets the access level and reason of its row for each tier (the whole dataset's data)."""
    decision = policy.decide(tier, ROLES[role], now=NOW)
    assert (decision.access, decision.reason) == EXPECTED[role][tier_index], (role, tier)


def test_every_row_is_a_different_case() -> None:
    """No two subjects of the table are the same facts (a duplicated row tests nothing new).

    Membership of another organization is no fact of the policy (it only matters through grants to that
    organization, which the fact gatherer turns into grants): the HTTP conformance suite covers that role.
    """
    subjects = list(ROLES.values())
    assert len(set(subjects)) == len(subjects)


def test_grant_scoped_to_resources() -> None:
    """A grant for some resources opens those, not the others nor "all the data"."""
    subject = Subject(user_id="u", grants=(Grant("g2", LATER, frozenset({"r1"})),))
    assert policy.decide(policy.CONDITIONAL, subject, "r1", NOW) == policy.Decision(F, "grant:g2")
    assert policy.decide(policy.CONDITIONAL, subject, "r2", NOW) == policy.Decision(M, "grant_scope")
    # "all the data of the dataset" is not covered by a grant for one resource
    assert policy.decide(policy.CONDITIONAL, subject, None, NOW) == policy.Decision(M, "grant_scope")


def test_whole_dataset_grant_wins_over_scoped() -> None:
    """With a whole-dataset and a scoped grant, the whole-dataset grant decides."""
    subject = Subject(user_id="u", grants=(Grant("b", LATER, frozenset({"r1"})), Grant("a", LATER)))
    assert policy.decide(policy.CONDITIONAL, subject, "r9", NOW).reason == "grant:a"


def test_expiry_is_checked_at_decision_time() -> None:
    """A grant gives access until its end and not at that moment (no scheduler needed)."""
    subject = Subject(user_id="u", grants=(Grant("g", NOW),))
    assert policy.decide(policy.CONDITIONAL, subject, None, NOW - dt.timedelta(seconds=1)).full
    assert not policy.decide(policy.CONDITIONAL, subject, None, NOW).full


def test_grants_never_open_a_not_shared_dataset() -> None:
    """Even an active grant never opens a not_shared dataset."""
    subject = Subject(user_id="u", grants=(Grant("g", LATER),))
    assert policy.decide(policy.NOT_SHARED, subject, None, NOW).access is H


@pytest.mark.parametrize(
    "value,private,expected",
    [("open", None, "open"), ("conditional", True, "conditional"), (None, True, "not_shared"),
     (None, False, "open"), ("bogus", None, "open"), (None, None, "open")],
)
def test_normalise_tier(value, private, expected) -> None:
    """A dataset's tier comes from its field, else from CKAN's private flag."""
    assert policy.normalise_tier(value, private) == expected


@pytest.mark.parametrize(("predicate", "tiers"), [
    (policy.private_for, {policy.NOT_SHARED}),
    (policy.requestable, {policy.CONDITIONAL}),
    (policy.masked_in_index, {policy.CONDITIONAL}),
    (policy.audited, {policy.CONDITIONAL}),
    (policy.scanned_for_personal_info, {policy.OPEN}),
    (policy.revokes_grants, {policy.NOT_SHARED}),
])
def test_tier_predicates(predicate, tiers) -> None:
    """Each tier question has exactly the tiers SPEC §1, §4, §5 and §6 give it."""
    assert {t for t in policy.TIERS if predicate(t)} == tiers
