"""The request → approval → grant workflow's reactions to events elsewhere (SPEC §4)."""
from __future__ import annotations

from typing import Any, Mapping, Optional


def on_tier_change(context: Mapping[str, Any], pkg_dict: Mapping[str, Any], old: Optional[str], new: str) -> None:
    """Follow-up of a tier change (cancel pending requests, revoke grants, notify).

    Called inside the transaction that records the change; the caller commits.
    """
    return None
