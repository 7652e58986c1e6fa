"""The audit ledger page ``/audit-ledger`` (SPEC §5, §13; issue 11) and its CSV export.

For whoever :mod:`ckanext.sharing.access.roles` lets read the ledger (sysadmins and auditors: all rows;
organization admins: their organizations' rows). The rows come from ``sharing_audit_list`` called as the
visitor, so the page shows exactly what the API would: paged, filtered by event, dataset, organization and
date range, each row's detail, and a CSV export of the same filter. The verification status is checked on
every view in O(log n): the current tree head must extend the newest signed checkpoint (an RFC 6962
consistency proof); the full recomputation stays `ckan sharing audit verify --checkpoint`. Sysadmins and
auditors also see the outbox's failed deliveries (SPEC §8).
"""
from __future__ import annotations

import base64
import csv
import io
import json
import math
from typing import Any, Iterator, Optional

from flask import Blueprint, Response, request, stream_with_context

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.access import roles
from ckanext.sharing.ledger import checkpoint as cpt
from ckanext.sharing.ledger import events, export, merkle, tree

blueprint = Blueprint("sharing_ledger", __name__)

PAGE_SIZE = 50
FILTERS = ("action", "package_id", "organization_id", "since", "until")
EVENTS = tuple(sorted(v for k, v in vars(events).items() if k.isupper() and isinstance(v, str)))


def _reader() -> model.User:
    """The logged-in ledger reader, else abort 403 (SPEC §5: nobody else reads the ledger)."""
    user = tk.current_user if tk.current_user.is_authenticated else None
    if user is None or not roles.may_read_ledger(user):
        tk.abort(403, tk._("Not authorized to see the audit ledger"))
    return user


def _filters() -> dict[str, str]:
    """The filters of the query string (empty ones dropped)."""
    return {k: request.args[k].strip() for k in FILTERS if request.args.get(k, "").strip()}


def _list(user: model.User, filters: dict[str, str], limit: int, offset: int) -> dict[str, Any]:
    """``sharing_audit_list`` as the visitor."""
    return tk.get_action("sharing_audit_list")({"user": user.name, "auth_user_obj": user},
                                               {**filters, "limit": limit, "offset": offset})


def verification_status() -> dict[str, Any]:
    """The tree head and whether it extends the newest stored checkpoint (consistency proof, O(log n))."""
    head = tree.read_head(model.Session)
    last = tree.latest_checkpoint(model.Session)
    status: dict[str, Any] = {"size": head.size, "root": base64.b64encode(head.root).decode(), "checkpoint": None}
    if last is None:
        return status
    old = cpt.Checkpoint.parse(cpt.split_note(last["note"])[0])
    try:
        proof = tree.consistency_proof(model.Session, old.size, head.size) if old.size <= head.size else None
    except LookupError:
        proof = None
    status["checkpoint"] = {"size": old.size, "created": last["created"], "root": base64.b64encode(old.root).decode(),
                            "consistent": proof is not None and merkle.verify_consistency(
                                old.size, head.size, old.root, head.root, proof)}
    return status


def _organizations(user: model.User) -> list[model.Group]:
    """The organizations the visitor may filter by."""
    scope = roles.ledger_scope(user)
    query = model.Session.query(model.Group).filter_by(is_organization=True, state="active")
    if scope is not None:
        query = query.filter(model.Group.id.in_(scope or [""]))
    return query.order_by(model.Group.title).all()


def _outbox(user: model.User) -> Optional[dict[str, Any]]:
    """The outbox's counts and failed rows, for those who read everything."""
    if not roles.reads_everything(user):
        return None
    from ckanext.sharing.workflow import outbox

    return {"counts": outbox.counts(), "failed": list(outbox.rows(failed=True, limit=20))}


@blueprint.route("/audit-ledger")
def ledger() -> str:
    """The paged, filtered ledger page."""
    user = _reader()
    filters = _filters()
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    errors: dict[str, Any] = {}
    try:
        result = _list(user, filters, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    except tk.ValidationError as exc:
        errors, result = exc.error_dict, {"count": 0, "results": []}
    except tk.ObjectNotFound:
        errors, result = {"package_id": [tk._("Dataset not found")]}, {"count": 0, "results": []}
    except tk.NotAuthorized:
        tk.abort(403, tk._("Not authorized to see the audit ledger of this organization"))
    for row in result["results"]:
        row["detail_json"] = json.dumps(row["detail"], ensure_ascii=False, indent=1, sort_keys=True)
        pkg = model.Package.get(row["package_id"]) if row["package_id"] else None
        row["package_name"] = pkg.name if pkg is not None else None
    return tk.render("sharing/ledger.html", {
        "rows": result["results"], "count": result["count"], "page": page,
        "pages": max(math.ceil(result["count"] / PAGE_SIZE), 1), "filters": filters, "errors": errors,
        "events": EVENTS, "event_label": events.label, "organizations": _organizations(user),
        "status": verification_status(), "outbox": _outbox(user),
    })


def _csv(user: model.User, filters: dict[str, str]) -> Iterator[str]:
    """The filtered rows as CSV (with a BOM for spreadsheet programs), oldest page last as the list gives."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(export.CSV_COLUMNS)
    yield "\ufeff" + out.getvalue()
    offset = 0
    while True:
        rows = _list(user, filters, 1000, offset)["results"]
        if not rows:
            return
        out.seek(0)
        out.truncate()
        for r in rows:
            writer.writerow([r["id"], r["created"], *(r[k] or "" for k in export.CSV_COLUMNS[2:10]),
                             json.dumps(r["detail"] or {}, ensure_ascii=False, sort_keys=True), r["prev_hash"], r["hash"]])
        yield out.getvalue()
        offset += len(rows)


@blueprint.route("/audit-ledger/export.csv")
def ledger_csv() -> Response:
    """The CSV export of the page's filter."""
    user = _reader()
    filters = _filters()
    try:
        _list(user, filters, 1, 0)  # bad filters answer here, before the download starts
    except (tk.ValidationError, tk.ObjectNotFound) as exc:
        tk.abort(400, str(getattr(exc, "error_summary", None) or exc))
    except tk.NotAuthorized:
        tk.abort(403, tk._("Not authorized to see the audit ledger of this organization"))
    return Response(stream_with_context(_csv(user, filters)), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=audit-ledger.csv"})
