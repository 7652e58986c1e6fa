"""Actions the ``sharing_catalogue`` plugin chains: the personal-information guard on every path that
makes data open (SPEC §6), and the ledger row of a de-identification attestation written with the change."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.types import Context, DataDict

from ckanext.sharing import values
from ckanext.sharing.access import facts, policy, tiers
from ckanext.sharing.catalogue import pi_guard
from ckanext.sharing.ledger import chain, events

Action = Callable[[Context, DataDict], Any]

# Context key: was the dataset attested de-identified before this create/update (read by the hook).
ATTEST_KEY = "sharing_attested_before"


def _becomes_scanned(data: DataDict, existing: model.Package | None) -> bool:
    """Does this create/update take the dataset into a tier whose data is scanned (open)?"""
    new, old = tiers.prepare(dict(data), existing)
    return policy.scanned_for_personal_info(new) and not (old and policy.scanned_for_personal_info(old))


@tk.chained_action
def package_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """Scan the files the new dataset's resources carry (an open dataset) and take the attestation
    flag off the input."""
    pi_guard.check_dataset_open(context, data_dict, None)
    pi_guard.check_package_uploads(context, data_dict, tiers.prepare(dict(data_dict), None)[0], None)
    context[ATTEST_KEY] = False  # type: ignore[literal-required]
    return next_action(context, data_dict)


@tk.chained_action
def package_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """A change to open scans the dataset's stored uploads first, and every file an update carries
    (``package_revise``'s ``update__resources__-1__upload``, resource_create's inner update) is scanned
    when the dataset is open (a hit is a ValidationError)."""
    ref = data_dict.get("id") or data_dict.get("name")
    existing = model.Package.get(ref) if isinstance(ref, str) else None
    if existing is not None and _becomes_scanned(data_dict, existing):
        pi_guard.check_dataset_open(context, data_dict, existing)
    pi_guard.check_package_uploads(context, data_dict, tiers.prepare(dict(data_dict), existing)[0], existing)
    context[ATTEST_KEY] = existing is not None and values.truthy(existing.extras.get("deidentified"))  # type: ignore
    return next_action(context, data_dict)


@tk.chained_action
def resource_create(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """An upload to an open dataset is scanned before CKAN stores it."""
    pi_guard.check_resource_upload(context, data_dict)
    return next_action(context, data_dict)


@tk.chained_action
def resource_update(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """A new upload replacing a resource of an open dataset is scanned before CKAN stores it."""
    pi_guard.check_resource_upload(context, data_dict)
    return next_action(context, data_dict)


def after_dataset_saved(context: Mapping[str, Any], data: Mapping[str, Any]) -> None:
    """A newly attested de-identification (no → yes, allowed by the ``sharing_deidentified`` validator)
    is a ledger row written here, inside core's transaction, so it exists only if the change does."""
    before = context.pop(ATTEST_KEY, None)  # type: ignore[attr-defined]
    if before is None or before or not values.truthy(data.get("deidentified")):
        return
    pkg = context.get("package") or model.Package.get(data.get("id") or data.get("name") or "")
    user = facts.user_from_context(context)
    chain.append(
        events.PI_ATTEST,
        actor_id=user.id if user else None,
        actor_name=user.name if user else None,
        package_id=pkg.id if pkg is not None else None,
        organization_id=pkg.owner_org if pkg is not None else None,
        detail={"trigger": "metadata", "name": data.get("name"), "title": data.get("title")},
    )


# scheming's choices_helper of the tier preset (resolved per request: the names follow the configuration).
TIER_CHOICES_HELPER = "sharing_tier_choices"


@tk.side_effect_free
@tk.chained_action
def scheming_dataset_schema_show(next_action: Action, context: Context, data_dict: DataDict) -> Any:
    """The schema API lists the tier's choices with the configured names (``ckanext.sharing.tier_labels``,
    Regulation Art. 14) where scheming would only name their helper; scheming's cached schema is not changed."""
    schema = next_action(context, data_dict)
    fields = schema.get("dataset_fields") or []
    if not any(f.get("choices_helper") == TIER_CHOICES_HELPER for f in fields):
        return schema
    schema = dict(schema, dataset_fields=[
        dict(f, choices=tiers.label_choices()) if f.get("choices_helper") == TIER_CHOICES_HELPER else f
        for f in fields
    ])
    return schema
