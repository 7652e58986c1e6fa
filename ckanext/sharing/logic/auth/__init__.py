"""Auth functions of ckanext-sharing, one module per what they chain or guard, as in :mod:`..action`."""
from __future__ import annotations

from typing import Any, Callable

from ckanext.sharing.logic.registry import collect
from ckanext.sharing.logic.auth import core, datastore, ledger, obligations, stats, workflow


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    """The auth functions the ``sharing`` plugin registers."""
    return collect((core, datastore, workflow, ledger, obligations, stats))
