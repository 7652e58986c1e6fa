"""The ``sharing_api`` blueprint: honest answers to machine clients on every request (SPEC §3b) and the
OpenAPI description of the ``sharing_*`` actions at ``/api/3/sharing/openapi.json``."""
from __future__ import annotations

from flask import Blueprint

from ckanext.sharing.api import errors, openapi

__all__ = ["blueprint"]

blueprint = Blueprint("sharing_api", __name__)
blueprint.before_app_request(errors.before_request)
blueprint.after_app_request(errors.enrich_action_refusal)
blueprint.add_url_rule("/api/3/sharing/openapi.json", view_func=openapi.view, endpoint="openapi")
