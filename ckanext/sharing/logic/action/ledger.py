"""The ledger's actions (SPEC §5): ``sharing_audit_list``, ``sharing_audit_proof`` and
``sharing_audit_checkpoint_list`` for those :mod:`roles` lets read them."""
from __future__ import annotations

import base64
from typing import Any

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.logic import validate
from ckan.types import Context, DataDict

from ckanext.sharing.access import facts, roles
from ckanext.sharing.api import docs
from ckanext.sharing.ledger import checkpoint as cpt
from ckanext.sharing.ledger import export, proofs, signing, tree
from ckanext.sharing.logic import schema
from ckanext.sharing.model import SharingAudit


# The actions this module registers.
__all__ = [
    "sharing_audit_checkpoint_list",
    "sharing_audit_list",
    "sharing_audit_proof",
]


def available() -> bool:
    """The ledger's actions are always there."""
    return True


@docs.paged("row", default=100)
@tk.side_effect_free
@validate(schema.sharing_audit_list_schema)
def sharing_audit_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Rows of the audit ledger, newest first: sysadmins and auditors see all, organization admins
    their organization's.

    :param package_id: only rows about this dataset (optional)
    :type package_id: string
    :param organization_id: only rows of this organization (optional; required scope for non-sysadmins)
    :type organization_id: string
    :param actor_id: only rows by this user (id or name, optional)
    :type actor_id: string
    :param action: only this event, e.g. ``request_create``, ``data_access``, ``tier_change`` (optional)
    :type action: string
    :param since: rows at or after this ISO date/date-time (optional)
    :type since: string
    :param until: rows at or before this ISO date/date-time (optional)
    :type until: string
    """
    data = data_dict
    tk.check_access("sharing_audit_list", context, data)
    scope = roles.ledger_scope(facts.user_from_context(context))
    query = export.query(data.get("organization_id"), data.get("package_id"), data.get("action"),
                         data.get("since"), data.get("until"), actor=data.get("actor_id"))
    if scope is not None:
        query = query.filter(SharingAudit.organization_id.in_(scope))
    count = query.count()
    rows = query.order_by(SharingAudit.id.desc()).offset(data.get("offset", 0)).limit(data.get("limit", 100)).all()
    return {
        "count": count,
        "results": [
            {
                "id": r.id, "created": r.created.isoformat(), "actor_id": r.actor_id, "actor_name": r.actor_name,
                "action": r.action, "package_id": r.package_id, "resource_id": r.resource_id,
                "organization_id": r.organization_id, "request_id": r.request_id, "grant_id": r.grant_id,
                "detail": r.detail, "prev_hash": r.prev_hash, "hash": r.hash, "leaf_index": r.leaf_index,
            }
            for r in rows
        ],
    }


@tk.side_effect_free
@validate(schema.sharing_audit_proof_schema)
def sharing_audit_proof(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The inclusion proof of one ledger row (SPEC §5), to check offline with
    ``ckan sharing audit verify-proof FILE``: the row's canonical leaf bytes, its position, the RFC
    6962 audit path and the signed checkpoint it is proven against (the newest stored checkpoint
    that includes the row, else the current tree head, signed now when the portal has a key).

    :param id: the ledger row's id (as in ``sharing_audit_list``)
    :type id: int
    :returns: ``{"id", "leaf_index", "tree_size", "root_hash", "leaf", "leaf_hash", "inclusion_proof",
        "checkpoint", "verifier_key", "format"}``
    :rtype: dictionary
    """
    tk.check_access("sharing_audit_proof", context, data_dict)
    row = tree.row_by_id(model.Session, data_dict["id"])
    if row is None:
        raise tk.ObjectNotFound(tk._("Audit row not found"))
    try:
        signer = signing.signer()
    except cpt.CheckpointError:
        signer = None
    return proofs.proof_document(model.Session, row, signer)


@docs.paged('{"id", "created", "tree_size", "root_hash", "checkpoint"}', default=100)
@tk.side_effect_free
@validate(schema.sharing_audit_checkpoint_list_schema)
def sharing_audit_checkpoint_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The ledger's signed checkpoints kept by the portal, newest first (copies: keep your own)."""
    tk.check_access("sharing_audit_checkpoint_list", context, data_dict)
    total, rows = tree.checkpoints(model.Session, data_dict.get("limit", 100), data_dict.get("offset", 0))
    return {
        "count": total,
        "results": [
            {"id": r["id"], "created": r["created"].isoformat(), "tree_size": r["size"],
             "root_hash": base64.b64encode(bytes(r["root"])).decode("ascii"), "checkpoint": r["note"]}
            for r in rows
        ],
    }
