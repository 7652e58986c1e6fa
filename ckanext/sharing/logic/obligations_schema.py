"""Input schemas of the obligation actions (delivery, suspension, use reports, corrections; SPEC §4b).

Built from the validators of :mod:`ckanext.sharing.logic.schema`, so bad input is a ValidationError
naming the field, as for every other ``sharing_*`` action.
"""
from __future__ import annotations

from ckan.types import Schema

from ckanext.sharing.logic.schema import _bool, _id, _one_of, _optional, _paging, _text, _v, visible_list_schema
from ckanext.sharing.model.obligations import (
    CORRECTION_ANSWERED,
    CORRECTION_OPEN,
    SUSPENSION_ACTIVE,
    SUSPENSION_LIFTED,
)
from ckanext.sharing.workflow.delivery import METHODS

_optional_id = _optional(_id)
_optional_text = _optional(_text)


def sharing_grant_deliver_schema() -> Schema:
    """``sharing_grant_deliver``: the grant, how it was delivered (Art. 22), a note."""
    return {"id": [_v("not_empty"), _id], "method": [_v("not_missing"), _one_of(METHODS)], "note": _optional_text}


def sharing_suspension_create_schema() -> Schema:
    """``sharing_suspension_create``: the suspended side (user and/or organization), the provider, why."""
    return {"user_id": _optional_id, "organization_id": _optional_id, "provider_org_id": _optional_id,
            "reason": [_v("not_missing"), _text]}


def sharing_suspension_lift_schema() -> Schema:
    """``sharing_suspension_lift``: the suspension and why it ends."""
    return {"id": [_v("not_empty"), _id], "reason": [_v("not_missing"), _text]}


def sharing_suspension_list_schema() -> Schema:
    """``sharing_suspension_list``: state filter and paging."""
    return {"state": _optional(_one_of((SUSPENSION_ACTIVE, SUSPENSION_LIFTED))),
            **_paging()}


def sharing_use_report_create_schema() -> Schema:
    """``sharing_use_report_create``: the grant and the five records of Art. 29 (destruction optional
    while the data is still in use)."""
    return {"grant_id": [_v("not_empty"), _id], "scenario": [_v("not_missing"), _text],
            "process": [_v("not_missing"), _text], "outcome": [_v("not_missing"), _text],
            "storage": [_v("not_missing"), _text], "destruction": _optional_text}


def sharing_use_report_list_schema() -> Schema:
    """``sharing_use_report_list``: one grant's reports (optional) and paging."""
    return {"grant_id": _optional_id, **_paging()}


def sharing_correction_create_schema() -> Schema:
    """``sharing_correction_create``: the dataset, optionally one resource, what is wrong."""
    return {"package_id": [_v("not_empty"), _id], "resource_id": _optional_id,
            "description": [_v("not_missing"), _text]}


def sharing_correction_answer_schema() -> Schema:
    """``sharing_correction_answer``: the request, the answer, whether the data was corrected."""
    return {"id": [_v("not_empty"), _id], "answer": [_v("not_missing"), _text],
            "corrected": [_v("not_missing"), _bool]}


def sharing_correction_list_schema() -> Schema:
    """``sharing_correction_list``: filters and paging."""
    return visible_list_schema((CORRECTION_OPEN, CORRECTION_ANSWERED))
