"""The public page explaining the tiers, the request process and its time limits (SPEC §13, issue 11).

``/sharing/guide`` (endpoint ``sharing_guide.guide``), linked from the header, the footer and next to every
request button. The figures are the configured ones (``config.py``), so the page says what the portal
enforces; the Regulation's articles are named next to each (《政务数据共享条例》 Art. 14, 15, 20–22, 26–29).
Options that another part of the portal declares (extension cap, delivery, use reports, retention) are
shown when their reader exists.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from flask import Blueprint

import ckan.plugins.toolkit as tk

from ckanext.sharing import config
from ckanext.sharing.access import policy, tiers

__all__ = ["guide", "figures"]

blueprint = Blueprint("sharing_guide", __name__)


def _optional(name: str) -> Optional[int]:
    """The value of the typed reader ``config.<name>`` when this build has it, else None."""
    reader: Optional[Callable[[], Any]] = getattr(config, name, None)
    return int(reader()) if reader is not None else None


def figures() -> dict[str, Any]:
    """The tier names and the time limits the page states, from the configuration."""
    return {
        "tiers": {tier: tiers.label(tier) for tier in (policy.OPEN, policy.CONDITIONAL, policy.NOT_SHARED)},
        "reply_working_days": config.reply_working_days(),
        "max_grant_days": config.max_grant_days(),
        "default_grant_days": config.default_grant_days(),
        "max_extension_working_days": _optional("max_extension_working_days"),
        "delivery_working_days": _optional("delivery_working_days"),
        "report_working_days": _optional("report_working_days"),
        "retention_years": _optional("retention_years"),
        "holidays": sorted(config.holidays()),
    }


def guide() -> str:
    """The explanation page (anyone, anonymous included)."""
    return tk.render("sharing/guide.html", extra_vars={"figures": figures()})


blueprint.add_url_rule("/sharing/guide", view_func=guide, endpoint="guide")
