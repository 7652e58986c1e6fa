"""The one place that decides access to a dataset's data (SPEC §1–2).

A pure function over plain data: no database, no request, no CKAN imports. Everything else
(auth functions, views, download and DataStore guards, index and search hooks, activity filters)
gathers the facts with :mod:`ckanext.sharing.access.facts` and asks :func:`decide`. The tier
predicates below answer the other tier questions (which tiers can be requested, are masked in the
index, are audited, are scanned for personal information), so no module compares tiers itself.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Optional

OPEN = "open"
CONDITIONAL = "conditional"
NOT_SHARED = "not_shared"
TIERS = (OPEN, CONDITIONAL, NOT_SHARED)


class Access(str, enum.Enum):
    """What a user gets of one dataset (or resource)."""

    FULL = "full"  # metadata and data
    METADATA = "metadata"  # metadata only; data masked and refused
    HIDDEN = "hidden"  # nothing (CKAN's private handling)


@dataclass(frozen=True)
class Grant:
    """An active grant as the policy needs it: which resources (empty = all) and until when."""

    id: str
    expires: dt.datetime
    resource_ids: frozenset[str] = frozenset()

    def covers(self, resource_id: Optional[str]) -> bool:
        """A whole-dataset grant covers everything; a scoped one only its resources."""
        if not self.resource_ids:
            return True
        return resource_id is not None and resource_id in self.resource_ids


@dataclass(frozen=True)
class Subject:
    """The user's relation to one dataset.

    ``capacity`` is the user's capacity in the dataset's owner organization (``admin``,
    ``editor``, ``member``) or None; ``grants`` are the grants that name this dataset and the
    user or one of the user's organizations (expiry is checked here, at decision time);
    ``suspended``: a suspension of the user or of one of the user's organizations holds towards the
    dataset's provider, so those grants give no access (Regulation Art. 27).
    """

    user_id: Optional[str] = None
    sysadmin: bool = False
    capacity: Optional[str] = None
    collaborator: bool = False
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    suspended: bool = False

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


@dataclass(frozen=True)
class Decision:
    """The answer: the access level and why (``open``, ``sysadmin``, ``member``, ``collaborator``,
    ``grant:<id>``, or a refusal reason: ``conditional``, ``not_shared``, ``grant_expired``,
    ``grant_scope``, ``suspended``)."""

    access: Access
    reason: str

    @property
    def full(self) -> bool:
        return self.access is Access.FULL


def normalise_tier(value: Optional[str], private: Optional[bool] = None) -> str:
    """The tier of a dataset dict: its ``sharing_tier``, else plain CKAN's ``private`` flag."""
    if value in TIERS:
        return value  # type: ignore[return-value]
    return NOT_SHARED if private else OPEN


def decide(
    tier: str,
    subject: Subject,
    resource_id: Optional[str] = None,
    now: Optional[dt.datetime] = None,
) -> Decision:
    """May ``subject`` get the data of a dataset of ``tier`` (or of one of its resources)?

    Order matters and mirrors the rules: sysadmins and the owning department always; then
    collaborators; then the tier; for ``conditional`` an unexpired grant covering the resource.
    With ``resource_id=None`` the question is "all the data of the dataset": a grant scoped to some
    resources answers METADATA (``grant_scope``) there and FULL for each of its resources.
    """
    if subject.sysadmin:
        return Decision(Access.FULL, "sysadmin")
    if subject.capacity:
        return Decision(Access.FULL, "member")
    if subject.collaborator:
        return Decision(Access.FULL, "collaborator")
    if tier == OPEN:
        return Decision(Access.FULL, "open")
    if tier == CONDITIONAL:
        now = now or dt.datetime.now(dt.timezone.utc)
        live = [g for g in subject.grants if g.expires > now]
        if live and subject.suspended:  # Art. 27: grants stay active but give nothing while suspended
            return Decision(Access.METADATA, "suspended")
        for grant in sorted(live, key=lambda g: (bool(g.resource_ids), g.id)):
            if grant.covers(resource_id):
                return Decision(Access.FULL, f"grant:{grant.id}")
        if live:
            return Decision(Access.METADATA, "grant_scope")
        if subject.grants:
            return Decision(Access.METADATA, "grant_expired")
        return Decision(Access.METADATA, "conditional")
    return Decision(Access.HIDDEN, "not_shared")


def private_for(tier: str) -> bool:
    """CKAN's ``private`` flag follows the tier: only ``not_shared`` datasets are private (SPEC §1)."""
    return tier == NOT_SHARED


def requestable(tier: str) -> bool:
    """Only ``conditional`` data is shared on request (SPEC §4)."""
    return tier == CONDITIONAL


def masked_in_index(tier: str) -> bool:
    """The search index never holds a real resource URL of these tiers (SPEC §3, search index row);
    ``not_shared`` documents are private to Solr through CKAN's permission labels."""
    return tier == CONDITIONAL


def audited(tier: str) -> bool:
    """Data access to these tiers is a ledger row (SPEC §5)."""
    return tier == CONDITIONAL


def scanned_for_personal_info(tier: str) -> bool:
    """Uploads to (and changes into) these tiers are scanned for personal information (SPEC §6)."""
    return tier == OPEN


def revokes_grants(tier: str) -> bool:
    """Entering these tiers revokes every active grant, whatever the previous tier (SPEC §4).

    ``conditional → open`` keeps active grants until they expire (SPEC §4 names only the cancelled
    requests): open data needs no grant, and a return to conditional within their period honours the
    department's decision; any path into ``not_shared`` ends them (issue 10, hole 5).
    """
    return tier == NOT_SHARED
