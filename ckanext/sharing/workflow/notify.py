"""Notification e-mails of the workflow (SPEC §4), each a background job on CKAN's queue sent
through CKAN's mailer: new request → deciders; decision, cancellation, revocation, expiry reminder and
overdue notices. Queued with :func:`ckanext.sharing.workflow.outbox.after_commit`.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.lib import mailer

from ckanext.sharing.access import facts, roles, tiers
from ckanext.sharing.model import SharingGrant, SharingRequest
from ckanext.sharing.workflow import clock, queries
from ckanext.sharing.workflow.states import (
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
    """Send one e-mail to a CKAN user through CKAN's mailer; False when the user has no address."""
    if user is None or not user.email:
        log.warning("sharing: no e-mail address for %s, not sent: %s", user.name if user else None, subject)
        return False
    _, title = _site()
    mailer.mail_user(user, f"[{title}] {subject}", body)
    return True


def _dataset_line(package_id: str) -> tuple[str, str]:
    """The dataset's title and page address."""
    site, _ = _site()
    pkg = model.Package.get(package_id)
    title = (pkg.title or pkg.name) if pkg else package_id
    return title, f"{site}/dataset/{pkg.name if pkg else package_id}"


def new_request(request_id: str) -> int:
    """E-mail the deciders of the owning organization about a new request; returns how many were sent."""
    req = model.Session.get(SharingRequest, request_id)
    if req is None:
        return 0
    site, _ = _site()
    title, url = _dataset_line(req.package_id)
    requester = model.User.get(req.requester_id)
    org = model.Group.get(req.owner_org) if req.owner_org else None
    subject = tk._("New access request for %s") % title
    body = "\n".join([
        tk._("%(user)s asks for the data of “%(title)s” (%(url)s).") % {
            "user": requester.display_name if requester else req.requester_id, "title": title, "url": url},
        "",
        tk._("Purpose: %s") % req.purpose,
        tk._("Use scenario: %s") % req.use_scenario,
        tk._("Requested period: %d days") % req.requested_days,
        tk._("Reply due by: %s") % (req.due_date.isoformat() if req.due_date else "-"),
        "",
        tk._("Decide here: %s") % f"{site}/access-request/{req.id}",
    ])
    sent = 0
    for user in roles.deciders_of(org.id if org else None):
        sent += _send(user, subject, body)
    return sent


def decision(request_id: str) -> int:
    """E-mail the requester the outcome: approved (with period), rejected, or cancelled (with reason)."""
    req = model.Session.get(SharingRequest, request_id)
    if req is None:
        return 0
    site, _ = _site()
    title, url = _dataset_line(req.package_id)
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
    req = model.Session.get(SharingRequest, request_id)
    if req is None or req.state != REQUEST_PENDING:
        return 0
    site, _ = _site()
    title, url = _dataset_line(req.package_id)
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


def revocation(grant_id: str) -> int:
    """E-mail the grantee that a grant was revoked, with the reason."""
    grant = model.Session.get(SharingGrant, grant_id)
    if grant is None or grant.state != GRANT_REVOKED:
        return 0
    title, url = _dataset_line(grant.package_id)
    subject = tk._("Access revoked: %s") % title
    body = "\n".join([
        tk._("Your access to the data of “%(title)s” (%(url)s) was revoked.") % {"title": title, "url": url},
        tk._("Reason: %s") % (grant.revoke_reason or "-"),
    ])
    return sum(_send(u, subject, body) for u in _grant_recipients(grant))


def expiry_reminders() -> int:
    """E-mail grantees whose grants end within 7 days (once per grant; ``reminded_at`` marks it)."""
    sent = 0
    for grant_id in queries.grants_to_remind():
        grant = (
            model.Session.query(SharingGrant).filter_by(id=grant_id, reminded_at=None)
            .with_for_update(skip_locked=True).one_or_none()
        )
        if grant is None:  # another worker has it
            model.Session.rollback()
            continue
        title, url = _dataset_line(grant.package_id)
        subject = tk._("Access ends soon: %s") % title
        body = "\n".join([
            tk._("Your access to the data of “%(title)s” (%(url)s) ends on %(date)s.") % {
                "title": title, "url": url, "date": grant.expires.strftime("%Y-%m-%d %H:%M UTC")},
            tk._("To keep using the data, send a new request before then."),
        ])
        for user in _grant_recipients(grant):
            sent += _send(user, subject, body)
        grant.reminded_at = clock.now()
        model.Session.commit()
    return sent
