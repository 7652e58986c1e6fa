"""Collects what the ``logic.action`` and ``logic.auth`` modules register.

Each module says with ``available()`` whether its target plugin is loaded (chaining onto a missing
function stops CKAN from starting), lists what it registers in ``__all__``, and may narrow single
functions with ``AVAILABLE_IF`` (name → predicate).
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Iterable


def collect(modules: Iterable[ModuleType]) -> dict[str, Callable[..., Any]]:
    """Every function registered by the modules whose target is loaded."""
    out: dict[str, Callable[..., Any]] = {}
    for module in modules:
        if not module.available():
            continue
        narrow: dict[str, Callable[[], bool]] = getattr(module, "AVAILABLE_IF", {})
        out.update({n: getattr(module, n) for n in module.__all__ if n not in narrow or narrow[n]()})
    return out
