"""Notification e-mails of the workflow (SPEC §4), each a background job on CKAN's queue sent
through CKAN's mailer: new request → deciders; decision, cancellation, revocation, expiry reminder and
overdue notices. Queued with :func:`ckanext.sharing.workflow.outbox.after_commit`.
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.lib import mailer

from ckanext.sharing.access import facts, roles, tiers
from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import outbox
from ckanext.sharing.workflow.states import (
    GRANT_ACTIVE,
    GRANT_REVOKED,
    REQUEST_APPROVED,
    REQUEST_CANCELLED,
    REQUEST_PENDING,
    REQUEST_REJECTED,
)

log = logging.getLogger(__name__)

# --- mail ---------------------------------------------------------------------------------------


def _site() -> tuple[str, str]:
    """The portal's address and title, for the e-mails."""
    return (tk.config.get("ckan.site_url") or "").rstrip("/"), tk.config.get("ckan.site_title") or "CKAN"


def _send(user: Optional[model.User], subject: str, body: str) -> bool:
    """Send one e-mail to a CKAN user through CKAN's mailer, at most once per outbox row and user (a retry
    skips what an earlier attempt sent; the Message-ID is the outbox's, SPEC §8); False when the user has no
    address or the message went out before."""
    if user is None or not user.email:
        log.warning("sharing: no e-mail address for %s, not sent: %s", user.name if user else None, subject)
        return False
    _, title = _site()

    def deliver(message_id: Optional[str]) -> None:
        mailer.mail_user(user, f"[{title}] {subject}", body,
                         headers={"Message-ID": message_id} if message_id else None)

    return outbox.send_once(f"user:{user.id}", deliver)


def _dataset_line(package_id: str) -> tuple[str, str]:
    """The dataset's title and page address."""
    site, _ = _site()
    pkg = model.Package.get(package_id)
    title = (pkg.title or pkg.name) if pkg else package_id
    return title, f"{site}/dataset/{pkg.name if pkg else package_id}"


def _mail_request(request_id: str) -> Optional[tuple[SharingRequest, str, str, str]]:
    """The request an e-mail is about, with the portal's address, the dataset's title and page; None
    when the request is gone."""
    req = model.Session.get(SharingRequest, request_id)
    if req is None:
        return None
    site, _ = _site()
    title, url = _dataset_line(req.package_id)
    return req, site, title, url


def _request_fields(req: SharingRequest) -> list[str]:
    """What the request states (Art. 20), as lines of an e-mail."""
    return [
        tk._("Purpose: %s") % req.purpose,
        tk._("Use scenario: %s") % req.use_scenario,
        tk._("Use basis: %s") % (req.use_basis or "-"),
        tk._("Use scope: %s") % (req.use_scope or "-"),
        tk._("Sharing method: %s") % (req.share_method or "-"),
        tk._("Requested period: %d days") % req.requested_days,
        tk._("Reply due by: %s") % (req.due_date.isoformat() if req.due_date else "-"),
    ]


def new_request(request_id: str) -> int:
    """E-mail the deciders of the owning organization about a new request; returns how many were sent."""
    found = _mail_request(request_id)
    if found is None:
        return 0
    req, site, title, url = found
    requester = model.User.get(req.requester_id)
    org = model.Group.get(req.owner_org) if req.owner_org else None
    subject = tk._("New access request for %s") % title
    body = "\n".join([
        tk._("%(user)s asks for the data of “%(title)s” (%(url)s).") % {
            "user": requester.display_name if requester else req.requester_id, "title": title, "url": url},
        "",
        *_request_fields(req),
        "",
        tk._("Decide here: %s") % f"{site}/access-request/{req.id}",
    ])
    sent = 0
    for user in roles.deciders_of(org.id if org else None):
        sent += _send(user, subject, body)
    return sent


def decision(request_id: str) -> int:
    """E-mail the requester the outcome: approved (with period), rejected, or cancelled (with reason)."""
    found = _mail_request(request_id)
    if found is None:
        return 0
    req, site, title, url = found
    lines: list[str]
    if req.state == REQUEST_APPROVED:
        grant = model.Session.query(SharingGrant).filter_by(request_id=req.id).one_or_none()
        subject = tk._("Access request approved: %s") % title
        lines = [tk._("Your request for the data of “%(title)s” (%(url)s) was approved.") % {"title": title, "url": url}]
        if grant is not None:
            lines.append(tk._("Access until: %s") % grant.expires.strftime("%Y-%m-%d %H:%M UTC"))
            if grant.resource_ids:
                lines.append(tk._("Resources: %s") % ", ".join(grant.resource_ids))
    elif req.state == REQUEST_REJECTED:
        subject = tk._("Access request rejected: %s") % title
        lines = [tk._("Your request for the data of “%(title)s” (%(url)s) was rejected.") % {"title": title, "url": url},
                 tk._("Reason: %s") % (req.decision_reason or "-")]
    elif req.state == REQUEST_CANCELLED:
        subject = tk._("Access request cancelled: %s") % title
        lines = [tk._("Your request for the data of “%(title)s” (%(url)s) was cancelled.") % {"title": title, "url": url},
                 tk._("Reason: %s") % (req.decision_reason or "-")]
        pkg = model.Session.get(model.Package, req.package_id)
        if pkg is not None:  # the tier's name as configured (ckanext.sharing.tier_labels)
            lines.append(tk._("Sharing type now: %s") % tiers.label(facts.tier_of_package(pkg)))
    else:
        return 0
    lines += ["", tk._("Your requests and grants: %s") % f"{site}/dashboard/access-requests"]
    return int(_send(model.User.get(req.requester_id), subject, "\n".join(lines)))


def overdue(request_id: str) -> int:
    """E-mail the deciders that a request passed its reply deadline (SPEC §4: overdue is flagged)."""
    found = _mail_request(request_id)
    if found is None or found[0].state != REQUEST_PENDING:
        return 0
    req, site, title, url = found
    subject = tk._("Overdue access request for %s") % title
    body = "\n".join([
        tk._("The reply to this access request was due on %(date)s.") % {
            "date": req.due_date.isoformat() if req.due_date else "-"},
        tk._("Decide here: %s") % f"{site}/access-request/{req.id}",
    ])
    return sum(_send(u, subject, body) for u in roles.deciders_of(req.owner_org))


def _grant_recipients(grant: Any) -> list[model.User]:
    """Who hears about a grant: the requester, else the grantee user, else the grantee organization's admins."""
    if grant.request_id:
        req = model.Session.get(SharingRequest, grant.request_id)
        if req is not None:
            user = model.User.get(req.requester_id)
            return [user] if user else []
    if grant.user_id:
        user = model.User.get(grant.user_id)
        return [user] if user else []
    return roles.deciders_of(grant.organization_id) if grant.organization_id else []


def _mail_grant(grant_id: str, state: str, subject: str,
                lines: Callable[[SharingGrant, str, str], list[str]]) -> int:
    """E-mail who hears about a grant (:func:`_grant_recipients`) while it is in ``state``: ``subject % title``
    and ``lines(grant, title, url)``; nothing when the grant is gone or in another state."""
    grant = model.Session.get(SharingGrant, grant_id)
    if grant is None or grant.state != state:
        return 0
    title, url = _dataset_line(grant.package_id)
    body = "\n".join(lines(grant, title, url))
    return sum(_send(u, subject % title, body) for u in _grant_recipients(grant))


def revocation(grant_id: str) -> int:
    """E-mail the grantee that a grant was revoked, with the reason."""
    return _mail_grant(grant_id, GRANT_REVOKED, tk._("Access revoked: %s"), lambda grant, title, url: [
        tk._("Your access to the data of “%(title)s” (%(url)s) was revoked.") % {"title": title, "url": url},
        tk._("Reason: %s") % (grant.revoke_reason or "-"),
    ])


def expiry_reminder(grant_id: str) -> int:
    """The outbox job of the 7-day reminder (SPEC §4): e-mail the grantee that an active grant ends soon.
    Queued by :func:`ckanext.sharing.workflow.schedule.queue_expiry_reminders`; nothing when the grant has
    ended or was revoked meanwhile."""
    return _mail_grant(grant_id, GRANT_ACTIVE, tk._("Access ends soon: %s"), lambda grant, title, url: [
        tk._("Your access to the data of “%(title)s” (%(url)s) ends on %(date)s.") % {
            "title": title, "url": url, "date": grant.expires.strftime("%Y-%m-%d %H:%M UTC")},
        tk._("To keep using the data, send a new request before then."),
    ])


# --- the request's lifecycle under the 2025 Regulation (SPEC §4b) -------------------------------


def _about_request(mail: Callable[[SharingRequest, str, str, str], int]) -> Callable[[str], int]:
    """Make a job of ``mail(req, site, title, url)`` that takes the request id (what the outbox queues) and sends
    nothing when the request is gone."""
    @functools.wraps(mail)
    def job(request_id: str) -> int:
        found = _mail_request(request_id)
        return 0 if found is None else mail(*found)

    return job


def _page_line(site: str, req: SharingRequest) -> str:
    """The request's page, where the next step is taken."""
    return tk._("The request: %s") % f"{site}/access-request/{req.id}"


def _mail_all(users: list[model.User], subject: str, lines: list[str]) -> int:
    """Send one e-mail to each user (each address once); how many were sent."""
    seen: set[str] = set()
    sent = 0
    for user in users:
        if user is not None and user.id not in seen:
            seen.add(user.id)
            sent += _send(user, subject, "\n".join(lines))
    return sent


def _requester(req: SharingRequest) -> list[model.User]:
    user = model.User.get(req.requester_id)
    return [user] if user else []


@_about_request
def returned(req: SharingRequest, site: str, title: str, url: str) -> int:
    """E-mail the requester everything missing, in one notice (Art. 21 一次性告知)."""
    lines = [tk._("Your request for the data of “%(title)s” (%(url)s) was returned for completion.") % {
        "title": title, "url": url}, "", tk._("What is missing:")]
    lines += [f"- {item}" for item in (req.missing or [])]
    lines += ["", tk._("The reply clock stops until you resubmit; it starts again from your resubmission."),
              _page_line(site, req)]
    return _mail_all(_requester(req), tk._("Access request returned for completion: %s") % title, lines)


@_about_request
def resubmitted(req: SharingRequest, site: str, title: str, url: str) -> int:
    """E-mail the deciders that a returned request was completed and is theirs to decide again."""
    lines = [tk._("The requester completed the returned request for “%s”.") % title, "", *_request_fields(req), "",
             tk._("Decide here: %s") % f"{site}/access-request/{req.id}"]
    return _mail_all(roles.deciders_of(req.owner_org), tk._("Access request resubmitted: %s") % title, lines)


@_about_request
def extension_asked(req: SharingRequest, site: str, title: str, url: str) -> int:
    """E-mail the authority that a decider asks for more time on a request (Art. 21)."""
    lines = [tk._("The provider asks for %(days)d more working days to answer the request for “%(title)s”.") % {
        "days": req.extension_days or 0, "title": title},
        tk._("Reason: %s") % (req.extension_reason or "-"),
        tk._("Reply due by: %s") % (req.due_date.isoformat() if req.due_date else "-"), "",
        tk._("Decide here: %s") % f"{site}/sharing/authority"]
    return _mail_all(roles.authority_users(), tk._("Extension asked: %s") % title, lines)


@_about_request
def extension_decided(req: SharingRequest, site: str, title: str, url: str) -> int:
    """E-mail the requester and the asking decider the authority's decision on an extension (Art. 21)."""
    approved = req.extension_state == "approved"
    lines = [(tk._("The authority approved %(days)d more working days to answer the request for “%(title)s”.")
              if approved else tk._("The authority refused more time to answer the request for “%(title)s”.")) % {
        "days": req.extension_days or 0, "title": title},
        tk._("Reply due by: %s") % (req.due_date.isoformat() if req.due_date else "-")]
    if req.extension_note:
        lines.append(tk._("Note: %s") % req.extension_note)
    lines += ["", _page_line(site, req)]
    asker = model.User.get(req.extension_requested_by) if req.extension_requested_by else None
    subject = (tk._("Reply deadline extended: %s") if approved else tk._("Extension refused: %s")) % title
    return _mail_all(_requester(req) + ([asker] if asker else []), subject, lines)


@_about_request
def escalated(req: SharingRequest, site: str, title: str, url: str) -> int:
    """E-mail the authority (who must act) and the provider's deciders that a request was escalated (Art. 28)."""
    lines = [tk._("The requester asks the authority to coordinate the request for “%s”.") % title,
             tk._("Reason: %s") % (req.escalation_reason or "-"), "", *_request_fields(req), "",
             _page_line(site, req)]
    return _mail_all(roles.authority_users() + roles.deciders_of(req.owner_org),
                     tk._("Access request escalated: %s") % title, lines)


@_about_request
def resolved(req: SharingRequest, site: str, title: str, url: str) -> int:
    """E-mail the requester and the provider's deciders the authority's resolution (Art. 28)."""
    lines = [(tk._("The authority approved the request for “%s”.") if req.resolution == "approve"
              else tk._("The authority rejected the request for “%s”; this is final.")) % title]
    grant = model.Session.query(SharingGrant).filter_by(request_id=req.id).one_or_none()
    if grant is not None:
        lines.append(tk._("Access until: %s") % grant.expires.strftime("%Y-%m-%d %H:%M UTC"))
    if req.resolution_note:
        lines.append(tk._("Note: %s") % req.resolution_note)
    lines += ["", _page_line(site, req)]
    return _mail_all(_requester(req) + roles.deciders_of(req.owner_org),
                     tk._("Access request resolved: %s") % title, lines)
