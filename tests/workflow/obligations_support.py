"""Shared helpers of the obligation tests (delivery, suspension, use reports, corrections): no tests here."""
from __future__ import annotations

from typing import Any

from ckan import model

from ckanext.sharing.model import SharingAudit


def ledger_rows(action: str, **filters: Any) -> list[SharingAudit]:
    """The ledger rows of one event (optionally for one grant …), read afresh."""
    model.Session.expire_all()
    return model.Session.query(SharingAudit).filter_by(action=action, **filters).all()
