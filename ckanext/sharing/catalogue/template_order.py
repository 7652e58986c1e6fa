"""Let ckanext-sharing's templates override ckanext-scheming's, whatever the plugin order.

CKAN gives template priority by the order of ``ckan.plugins``; portals list ``sharing`` after
``scheming_datasets`` (it builds on scheming), which would hide our catalogue card and grouped form
behind scheming's templates of the same name. Run from ``IConfigurable.configure``, after CKAN has
computed the search path and before the Jinja environment is built.
"""
from __future__ import annotations

import os
from typing import Any, MutableMapping

OWN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def prefer_own_templates(config: MutableMapping[str, Any]) -> None:
    """Move our template directory just before scheming's in ``computed_template_paths``."""
    paths = list(config.get("computed_template_paths") or [])
    own = [p for p in paths if os.path.abspath(p) == OWN]
    scheming = [i for i, p in enumerate(paths) if os.sep + os.path.join("ckanext", "scheming", "templates") in p]
    if not own or not scheming or paths.index(own[0]) < scheming[0]:
        return
    paths.remove(own[0])
    paths.insert(scheming[0], own[0])
    config["computed_template_paths"] = paths
