"""The ``sharing_tier`` field on the way in: which tier a create/update asks for, ``private``
derived from it, the justification it needs, and where it is stored (SPEC §1).

Works with and without the catalogue schema: when the dataset type's schema has no
``sharing_tier`` field (plain CKAN), the tier and its justification are kept as extras.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.lib import plugins as lib_plugins

from ckanext.sharing import config, values
from ckanext.sharing.access import facts, policy

TIER_FIELDS = ("sharing_tier", "share_condition", "share_basis")

# Chinese names and synonyms accepted on input and on import (SPEC §1 table).
SYNONYMS = {
    "open": policy.OPEN, "普遍共享": policy.OPEN, "无条件共享": policy.OPEN, "无条件开放": policy.OPEN,
    "conditional": policy.CONDITIONAL, "按需共享": policy.CONDITIONAL, "有条件共享": policy.CONDITIONAL,
    "有条件开放": policy.CONDITIONAL, "依申请开放": policy.CONDITIONAL, "授权共享": policy.CONDITIONAL,
    "not_shared": policy.NOT_SHARED, "不共享": policy.NOT_SHARED, "不予共享": policy.NOT_SHARED,
    "非共享": policy.NOT_SHARED, "非开放": policy.NOT_SHARED,
}




def N_(message: str) -> str:
    """Marks a message for extraction; translated when a label is asked for (:func:`label`)."""
    return message


# The names of the tiers per ``ckanext.sharing.tier_labels`` (SPEC §1): the English msgids, translated to
# 无条件共享 / 有条件共享 / 不予共享 (Regulation Art. 14) and 普遍共享 / 按需共享 / 不共享 in zh_Hans_CN.
LABEL_SETS: dict[str, dict[str, str]] = {
    "national": {
        policy.OPEN: N_("Unconditional sharing"),
        policy.CONDITIONAL: N_("Conditional sharing"),
        policy.NOT_SHARED: N_("Not for sharing"),
    },
    "shanghai": {
        policy.OPEN: N_("Open"),
        policy.CONDITIONAL: N_("On request"),
        policy.NOT_SHARED: N_("Not shared"),
    },
}


def label(tier: Optional[str]) -> str:
    """**The one source of tier names** on pages, facets, e-mails and API labels: the configured set's
    name of ``tier``, translated (the untranslated English outside a request); an unknown value as given."""
    names = LABEL_SETS.get(config.tier_labels()) or LABEL_SETS["national"]
    message = names.get(tier or "")
    if message is None:
        return str(tier or "")
    try:
        return tk._(message)
    except RuntimeError:  # no application context (a script): the English name
        return message


def label_choices() -> list[dict[str, str]]:
    """The tiers as scheming choices (value, label) in the configured names (form, page, schema API)."""
    return [{"value": tier, "label": label(tier)} for tier in (policy.OPEN, policy.CONDITIONAL, policy.NOT_SHARED)]


def parse_tier(value: Any) -> Optional[str]:
    """A tier value or synonym → the canonical tier; None if not recognised."""
    if value is None:
        return None
    return SYNONYMS.get(str(value).strip())


def schema_has_tier(package_type: str) -> bool:
    """Does this dataset type's schema carry ``sharing_tier`` as a field of its own (scheming)?"""
    plugin = lib_plugins.lookup_package_plugin(package_type)
    if "sharing_tier" in (plugin.create_package_schema() or {}):
        return True
    # scheming adds its fields only in validate(): ask its schema (when the plugin is loaded).
    from ckan.plugins import plugin_loaded

    if plugin_loaded("scheming_datasets"):
        from ckanext.scheming.helpers import scheming_get_dataset_schema

        schema = scheming_get_dataset_schema(package_type) or {}
        return any(f.get("field_name") == "sharing_tier" for f in schema.get("dataset_fields", []))
    return False


def prepare(data: dict[str, Any], existing: Optional[model.Package]) -> tuple[str, Optional[str]]:
    """Normalise a create/update ``data_dict`` in place.

    Returns ``(new tier, old tier or None)``. Raises ``ValidationError`` naming the fields for an
    unknown tier, a ``private`` that contradicts the tier, or a missing justification.
    """
    errors: dict[str, list[str]] = {}
    raw = data.get("sharing_tier")
    if raw in (None, ""):
        raw = values.extra(data, "sharing_tier")
    explicit_tier = raw not in (None, "")
    tier = parse_tier(raw) if explicit_tier else None
    if explicit_tier and tier is None:
        errors["sharing_tier"] = [tk._("Unknown sharing tier %r: use open, conditional or not_shared") % raw]
    private = values.parse_bool(data.get("private"))
    old_tier = facts.tier_of_package(existing) if existing is not None else None
    if explicit_tier and existing is not None and private is not None and private == bool(existing.private):
        # package_patch and edit forms resend the current ``private``: only a change of it is a request
        private = None
    if explicit_tier and existing is not None and tier == old_tier and private is not None \
            and private != policy.private_for(tier):
        # show → edit ``private`` → update resends the stored tier untouched: the client asked for a
        # private change only, which decides as it does for plain CKAN clients
        explicit_tier, tier = False, None
    # the justification is asked for when the tier is chosen, not when a stored tier is resubmitted
    choosing = explicit_tier and (existing is None or tier != old_tier)

    if tier is None and not errors:
        if private is True:
            tier = policy.NOT_SHARED
        elif private is False:
            tier = old_tier if old_tier in (policy.OPEN, policy.CONDITIONAL) else policy.OPEN
        else:
            tier = old_tier or policy.OPEN
    elif tier is not None and private is not None and private != policy.private_for(tier):
        errors["private"] = [tk._("private=%s contradicts sharing_tier=%s") % (str(private).lower(), tier)]
        errors["sharing_tier"] = [tk._("sharing_tier=%s contradicts private=%s") % (tier, str(private).lower())]
    if errors:
        raise tk.ValidationError(errors)
    assert tier is not None

    for key in ("share_condition", "share_basis"):
        if data.get(key) in (None, ""):
            value = values.extra(data, key)
            if value not in (None, ""):
                data[key] = value
    if choosing:
        if tier == policy.CONDITIONAL and not (data.get("share_condition") or "").strip():
            errors["share_condition"] = [tk._("Required for the conditional tier (共享条件)")]
        if tier == policy.NOT_SHARED and not (data.get("share_basis") or "").strip():
            errors["share_basis"] = [tk._("Required for the not_shared tier (不予共享依据)")]
    if errors:
        raise tk.ValidationError(errors)

    data["sharing_tier"] = tier
    data["private"] = policy.private_for(tier)
    package_type = data.get("type") or (existing.type if existing is not None else None) or "dataset"
    if not schema_has_tier(package_type):
        _to_extras(data, keep_tier=tier != policy.normalise_tier(None, data["private"]))
    return tier, old_tier


def _to_extras(data: dict[str, Any], keep_tier: bool) -> None:
    """Plain CKAN schema: keep the tier fields as extras.

    The tier itself is stored only when ``private`` does not already say it (``conditional``): open and
    not_shared follow from ``private``, so a plain client's extras stay exactly what it sent (SPEC §1).
    ``sharing_tier`` also stays top-level, as ``package_show`` shows it: CKAN's schema ignores the key, and
    package_update's "nothing changed" check (no new revision, no activity) then compares like with like."""
    extras = [e for e in (data.get("extras") or []) if e.get("key") not in TIER_FIELDS]
    for key in TIER_FIELDS:
        value = data.get(key) if key == "sharing_tier" else data.pop(key, None)
        if value not in (None, "") and (key != "sharing_tier" or keep_tier):
            extras.append({"key": key, "value": value})
    data["extras"] = extras
