"""Validators of the sharing tier, registered by name (SPEC §1): any scheming schema can say
``validators: sharing_tier_value`` or ``sharing_required_for_tier(conditional)`` without importing us."""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan.lib.navl.dictization_functions import Invalid, StopOnError, missing
from ckan.types import Context, FlattenDataDict, FlattenErrorDict, FlattenKey

from ckanext.sharing import values
from ckanext.sharing.access import policy, tiers

Validator = Callable[..., Any]

__all__ = ["sharing_tier_value", "sharing_required_for_tier"]


def _empty(value: Any) -> bool:
    return value is missing or values.is_empty(value)


def parsed_or_invalid(value: Any, parse: Callable[[Any], Any], message: str) -> Any:
    """``parse(value)``, or ``Invalid(message)`` where the parser gives None: the shape of every validator
    that maps free input onto a closed set (tiers, yes/no)."""
    result = parse(value)
    if result is None:
        raise Invalid(message)
    return result


def sharing_tier_value(value: Any, context: Context) -> Any:
    """A tier or one of its Chinese synonyms → open / conditional / not_shared."""
    if _empty(value):
        return value
    return parsed_or_invalid(value, tiers.parse_tier, tk._("Unknown sharing type: use open, conditional or not_shared"))


def sharing_required_for_tier(tier: str) -> Validator:
    """Factory: the field is required when ``sharing_tier`` is ``tier`` (share_condition, share_basis)."""

    def validator(key: FlattenKey, data: FlattenDataDict, errors: FlattenErrorDict, context: Context) -> None:
        if tiers.parse_tier(data.get(("sharing_tier",))) == tier and _empty(data.get(key)):
            if tier == policy.CONDITIONAL:
                errors[key].append(tk._("Required when the sharing type is %s (共享条件)") % tiers.label(tier))
            else:
                errors[key].append(tk._("Required when the sharing type is %s (不予共享依据)") % tiers.label(tier))
            raise StopOnError

    return validator
