"""Actions of ckanext-sharing, one module per what they chain or provide: ``core`` (tiers, views,
resource search), ``activity``, ``datastore``, ``workflow`` (``sharing_request_*``, ``sharing_grant_*``,
``sharing_access_check``) and ``ledger`` (``sharing_audit_list``); see :mod:`..registry`."""
from __future__ import annotations

from typing import Any, Callable

from ckanext.sharing.api import docs
from ckanext.sharing.logic.action import activity, core, datastore, ledger, members, obligations, stats, workflow
from ckanext.sharing.logic.registry import collect


def get_actions() -> dict[str, Callable[..., Any]]:
    """The actions the ``sharing`` plugin registers."""
    return docs.complete(collect((core, members, activity, datastore, workflow, ledger, obligations, stats)))
