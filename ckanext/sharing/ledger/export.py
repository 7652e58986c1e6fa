"""The ledger's rows by filter (``sharing_audit_list``) and their CSV export (``ckan sharing audit export``,
SPEC §5)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from typing import Any, Iterator, Optional

from ckan import model

from ckanext.sharing import values
from ckanext.sharing.access import facts
from ckanext.sharing.model import SharingAudit

CSV_COLUMNS = ("id", "created", "actor_id", "actor_name", "action", "package_id", "resource_id",
               "organization_id", "request_id", "grant_id", "detail", "prev_hash", "hash")


def query(
    organization: Optional[str] = None, package: Optional[str] = None, action: Optional[str] = None,
    since: Optional[dt.datetime] = None, until: Optional[dt.datetime] = None, actor: Optional[str] = None,
) -> Any:
    """The ledger rows that match the filters of ``sharing_audit_list`` and of the CSV export:
    organization, dataset and actor (id or name), event, from/until moments (inclusive)."""
    q = facts.narrowed(model.Session.query(SharingAudit), SharingAudit.package_id, package,
                       SharingAudit.organization_id, organization)
    if actor:
        q = q.filter(SharingAudit.actor_id == facts.user_id_of(actor))
    if action:
        q = q.filter(SharingAudit.action == action)
    if since:
        q = q.filter(SharingAudit.created >= since)
    if until:
        q = q.filter(SharingAudit.created <= until)
    return q


def rows(
    organization: Optional[str] = None, package: Optional[str] = None, action: Optional[str] = None,
    since: Optional[str] = None, until: Optional[str] = None, batch: int = 1000,
) -> Iterator[SharingAudit]:
    """Ledger rows, oldest first, filtered; read in batches. Raises ValueError for a bad date."""
    q = query(organization, package, action,
              values.parse_moment(since, end_of_day=False) if since else None,
              values.parse_moment(until, end_of_day=True) if until else None)
    last = 0
    while True:
        page = q.filter(SharingAudit.id > last).order_by(SharingAudit.id).limit(batch).all()
        if not page:
            return
        yield from page
        last = page[-1].id


def write_csv(out: str, **filters: Optional[str]) -> int:
    """Write the (filtered) ledger as CSV to a path or '-' (stdout); returns the row count."""
    handle = sys.stdout if out == "-" else io.open(out, "w", encoding="utf-8", newline="")
    count = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows(**filters):
            writer.writerow([
                row.id, row.created.isoformat(), row.actor_id or "", row.actor_name or "", row.action,
                row.package_id or "", row.resource_id or "", row.organization_id or "", row.request_id or "",
                row.grant_id or "", json.dumps(row.detail or {}, ensure_ascii=False, sort_keys=True),
                row.prev_hash, row.hash,
            ])
            count += 1
    finally:
        if handle is not sys.stdout:
            handle.close()
    return count
