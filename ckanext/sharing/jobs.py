"""Background jobs of the workflow: notification e-mails, grant expiry and expiry reminders (SPEC §4).

Every e-mail is sent by a job on CKAN's queue (``toolkit.enqueue_job``, Redis), never inside the web
request. A transition queues its job with :func:`sharing_after_commit`: the job is enqueued only
once the transaction that made the change has committed (and dropped if it rolled back), so a
worker always finds the committed row.

Schedule (document for operators): grant expiry, the 7-day reminders and the overdue notices are one job,
:func:`sharing_expire_and_remind`. Run it hourly from cron, either directly::

    0 * * * *  ckan -c /etc/ckan/ckan.ini sharing grants expire

or by putting it on the queue for a worker (``ckan jobs worker``) to run::

    0 * * * *  ckan -c /etc/ckan/ckan.ini sharing grants expire --enqueue

Access never depends on it: expiry is checked against the clock at every access.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

import sqlalchemy as sa

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.lib import mailer

log = logging.getLogger(__name__)

_INFO_KEY = "sharing_jobs"


# --- enqueue after commit ---------------------------------------------------------------------


def sharing_after_commit(job_name: str, *args: Any) -> None:
    """Queue ``jobs.<job_name>(*args)`` for when the current transaction commits."""
    model.Session.info.setdefault(_INFO_KEY, []).append((job_name, args))


def _on_commit(session: Any) -> None:
    for job_name, args in session.info.pop(_INFO_KEY, []):
        sharing_enqueue(job_name, *args)


def _on_end(session: Any, transaction: Any) -> None:
    """The outermost transaction ended without a commit (rollback, close): its jobs are dropped, so they
    can never leak into a later, unrelated commit. (After a commit, ``_on_commit`` has taken them.)"""
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)


if not sa.event.contains(model.Session, "after_commit", _on_commit):
    sa.event.listen(model.Session, "after_commit", _on_commit)
    sa.event.listen(model.Session, "after_transaction_end", _on_end)


def sharing_enqueue(job_name: str, *args: Any) -> Optional[str]:
    """Put one of this module's jobs on CKAN's default queue; a Redis failure is logged, not raised
    (the change it reports is already committed and recorded in the audit ledger)."""
    fn = globals()[job_name]
    try:
        job = tk.enqueue_job(fn, list(args), title=f"sharing: {job_name}")
    except Exception:  # noqa: BLE001 - the queue being down must not undo a committed decision
        log.exception("could not enqueue %s%r", job_name, args)
        return None
    return job.id


# --- mail ---------------------------------------------------------------------------------------


def _site() -> tuple[str, str]:
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
    site, _ = _site()
    pkg = model.Package.get(package_id)
    title = (pkg.title or pkg.name) if pkg else package_id
    return title, f"{site}/dataset/{pkg.name if pkg else package_id}"


def _deciders(owner_org: Optional[str]) -> list[model.User]:
    """Users who decide requests of ``owner_org``; sysadmins when the organization has none."""
    from ckanext.sharing.workflow import sharing_decider_capacities

    users: list[model.User] = []
    if owner_org:
        users = (
            model.Session.query(model.User)
            .join(model.Member, model.Member.table_id == model.User.id)
            .filter(model.Member.group_id == owner_org, model.Member.table_name == "user")
            .filter(model.Member.state == "active", model.Member.capacity.in_(sharing_decider_capacities()))
            .filter(model.User.state == "active")
            .all()
        )
    if not users:
        users = model.Session.query(model.User).filter_by(sysadmin=True, state="active").all()
    return users


def sharing_notify_new_request(request_id: str) -> int:
    """E-mail the deciders of the owning organization about a new request; returns how many were sent."""
    from ckanext.sharing.model import SharingRequest

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
    for user in _deciders(org.id if org else None):
        sent += _send(user, subject, body)
    return sent


def sharing_notify_decision(request_id: str) -> int:
    """E-mail the requester the outcome: approved (with period), rejected, or cancelled (with reason)."""
    from ckanext.sharing.model import SharingGrant, SharingRequest

    req = model.Session.get(SharingRequest, request_id)
    if req is None:
        return 0
    site, _ = _site()
    title, url = _dataset_line(req.package_id)
    lines: list[str]
    if req.state == "approved":
        grant = model.Session.query(SharingGrant).filter_by(request_id=req.id).one_or_none()
        subject = tk._("Access request approved: %s") % title
        lines = [tk._("Your request for the data of “%(title)s” (%(url)s) was approved.") % {"title": title, "url": url}]
        if grant is not None:
            lines.append(tk._("Access until: %s") % grant.expires.strftime("%Y-%m-%d %H:%M UTC"))
            if grant.resource_ids:
                lines.append(tk._("Resources: %s") % ", ".join(grant.resource_ids))
    elif req.state == "rejected":
        subject = tk._("Access request rejected: %s") % title
        lines = [tk._("Your request for the data of “%(title)s” (%(url)s) was rejected.") % {"title": title, "url": url},
                 tk._("Reason: %s") % (req.decision_reason or "-")]
    elif req.state == "cancelled":
        subject = tk._("Access request cancelled: %s") % title
        lines = [tk._("Your request for the data of “%(title)s” (%(url)s) was cancelled.") % {"title": title, "url": url},
                 tk._("Reason: %s") % (req.decision_reason or "-")]
    else:
        return 0
    lines += ["", tk._("Your requests and grants: %s") % f"{site}/dashboard/access-requests"]
    return int(_send(model.User.get(req.requester_id), subject, "\n".join(lines)))


def sharing_notify_overdue(request_id: str) -> int:
    """E-mail the deciders that a request passed its reply deadline (SPEC §4: overdue is flagged)."""
    from ckanext.sharing.model import SharingRequest

    req = model.Session.get(SharingRequest, request_id)
    if req is None or req.state != "pending":
        return 0
    site, _ = _site()
    title, url = _dataset_line(req.package_id)
    subject = tk._("Overdue access request for %s") % title
    body = "\n".join([
        tk._("The reply to this access request was due on %(date)s.") % {
            "date": req.due_date.isoformat() if req.due_date else "-"},
        tk._("Decide here: %s") % f"{site}/access-request/{req.id}",
    ])
    return sum(_send(u, subject, body) for u in _deciders(req.owner_org))


def _grant_recipients(grant: Any) -> list[model.User]:
    """Who hears about a grant: the requester, else the grantee user, else the grantee organization's admins."""
    from ckanext.sharing.model import SharingRequest

    if grant.request_id:
        req = model.Session.get(SharingRequest, grant.request_id)
        if req is not None:
            user = model.User.get(req.requester_id)
            return [user] if user else []
    if grant.user_id:
        user = model.User.get(grant.user_id)
        return [user] if user else []
    return _deciders(grant.organization_id) if grant.organization_id else []


def sharing_notify_revocation(grant_id: str) -> int:
    """E-mail the grantee that a grant was revoked, with the reason."""
    from ckanext.sharing.model import SharingGrant

    grant = model.Session.get(SharingGrant, grant_id)
    if grant is None or grant.state != "revoked":
        return 0
    title, url = _dataset_line(grant.package_id)
    subject = tk._("Access revoked: %s") % title
    body = "\n".join([
        tk._("Your access to the data of “%(title)s” (%(url)s) was revoked.") % {"title": title, "url": url},
        tk._("Reason: %s") % (grant.revoke_reason or "-"),
    ])
    return sum(_send(u, subject, body) for u in _grant_recipients(grant))


def sharing_send_expiry_reminders() -> int:
    """E-mail grantees whose grants end within 7 days (once per grant; ``reminded_at`` marks it)."""
    from ckanext.sharing import workflow
    from ckanext.sharing.model import SharingGrant

    sent = 0
    for grant_id in workflow.sharing_grants_to_remind():
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
        grant.reminded_at = workflow._now()
        model.Session.commit()
    return sent


def sharing_expire_and_remind() -> dict[str, Any]:
    """The scheduled job: mark ended grants expired (audited), send the 7-day reminders, and flag
    requests past their reply deadline to the deciders (once each)."""
    from ckanext.sharing import workflow

    expired = workflow.sharing_expire_grants()
    reminded = sharing_send_expiry_reminders()
    overdue = workflow.sharing_flag_overdue()
    log.info("sharing: %d grants expired, %d reminders sent, %d requests overdue", len(expired), reminded,
             len(overdue))
    return {"expired": expired, "reminders_sent": reminded, "overdue": overdue}
