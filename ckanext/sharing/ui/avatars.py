"""User pictures without a third-party service (issue 11).

Core's ``user_image`` shows a user's ``image_url`` wherever it points, and Gravatar for users without one
(unless ``ckan.gravatar_default = disabled``). On a government intranet portal both make every visitor's
browser ask a third party for a picture: it leaks who looks at which page, and offline the picture is broken.
Unless ``ckanext.sharing.external_user_images`` allows it, a user's picture is either one stored by the portal
(an upload, a path on the site) or CKAN's local placeholder — never Gravatar, never an off-site URL.
"""
from __future__ import annotations

from typing import Any, Callable

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing import config

PLACEHOLDER = "user/snippets/placeholder.html"  # core's local default picture (public/base/images)


def is_local_picture(image_url: str, site_url: str) -> bool:
    """Whether ``image_url`` (a user's stored ``image_url``) is served by the portal itself: an uploaded file
    name, a path on the site, or a URL under ``site_url``."""
    url = image_url.strip()
    if url.startswith("//"):
        return False
    if "://" not in url:
        return True
    site = site_url.rstrip("/")
    return bool(site) and (url == site or url.startswith(site + "/"))


def user_image(next_helper: Callable[..., Any], user_id: str, size: int = 100) -> Any:
    """``h.user_image`` (chained): core's picture when it is the portal's own, else the local placeholder."""
    if config.external_user_images():
        return next_helper(user_id, size)
    user = model.User.get(user_id) if user_id else None
    if user is None:
        return next_helper(user_id, size)
    if user.image_url and is_local_picture(user.image_url, tk.config.get("ckan.site_url") or ""):
        return next_helper(user_id, size)
    return tk.render_snippet(PLACEHOLDER, {"size": size, "user_name": user.display_name})
