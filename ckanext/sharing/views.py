"""Blueprints of ckanext-sharing: the pages of the request → decision → grant workflow."""
from __future__ import annotations

from flask import Blueprint

import ckan.plugins.toolkit as tk

__all__ = ["sharing"]

sharing = Blueprint("sharing", __name__)


def request_access(id: str):
    """The access-request page of a conditional dataset (every masked resource URL points here)."""
    try:
        pkg = tk.get_action("package_show")({}, {"id": id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, tk._("Dataset not found"))
    return tk.render("sharing/request_access.html", {"pkg_dict": pkg})


sharing.add_url_rule("/dataset/<id>/request-access", view_func=request_access, methods=["GET", "POST"])
