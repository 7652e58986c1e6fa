"""The images that core's DataTables preview CSS names next to its bundle (issue 11).

``ckanext/datatablesview/assets/datatables_view.css`` draws the search box's clear button with
``url('vendor/FontAwesome/images/times-circle-solid.svg')``. Webassets serves that CSS as a bundle under
``/webassets/ckanext-datatablesview/``, where only the bundles exist, so every table preview logged a 404 in
the browser's console. This rule serves the vendor folder of core's own package at that address (read from
the installed CKAN, nothing copied).

``/favicon.ico``: browsers ask for it where a page names no icon or before they read the page's ``<link>``;
CKAN has no such route, so it was a 404 in the console (seen on an organization's members page). It redirects
to the configured ``ckan.favicon``.
"""
from __future__ import annotations

import os
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, redirect, send_from_directory

import ckanext.datatablesview

__all__ = ["blueprint"]

VENDOR = os.path.join(os.path.dirname(ckanext.datatablesview.__file__), "assets", "vendor")
# only pictures: the scripts and styles of that folder are served in their bundles
IMAGE_EXTENSIONS = (".svg", ".png", ".gif")

blueprint = Blueprint("sharing_vendor_images", __name__)


def datatables_image(path: str) -> Any:
    """An image of core's DataTables vendor folder (404 for anything else, or outside it)."""
    if not path.lower().endswith(IMAGE_EXTENSIONS):
        return ("", 404)
    return send_from_directory(VENDOR, path)


blueprint.add_url_rule("/webassets/ckanext-datatablesview/vendor/<path:path>", view_func=datatables_image,
                       endpoint="datatables_image")


def favicon() -> Any:
    """The portal's icon (``ckan.favicon``) at the address browsers ask for by themselves."""
    icon = str(tk.config.get("ckan.favicon"))
    return redirect(icon if "://" in icon else tk.h.url_for_static(icon), code=301)


blueprint.add_url_rule("/favicon.ico", view_func=favicon, endpoint="favicon")
