"""User pictures never come from a third party unless configured (issue 11): the local placeholder instead of
an off-site image URL or Gravatar, the portal's own pictures kept."""
from __future__ import annotations

import pytest

from ckan.tests import factories

from tests.workflow.support import PLUGINS

OFFSITE = "https://dummyimage.com/270x270/avatar.png"

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db"),
]


def _picture(app, user: dict) -> str:
    """The ``<img class="user-image">`` of the user's profile page."""
    html = app.get(f"/user/{user['name']}").body
    start = html.index('<div class="image">')
    return html[start:html.index("</div>", start)]


@pytest.mark.ckan_config("ckan.gravatar_default", "identicon")
def test_offsite_picture_and_gravatar_become_the_local_placeholder(app):
    """An off-site image_url and a user without one (Gravatar configured) both show placeholder-user.png."""
    for image_url in (OFFSITE, "//dummyimage.com/avatar.png", ""):
        picture = _picture(app, factories.User(image_url=image_url))
        assert "/base/images/placeholder-user.png" in picture, (image_url, picture)
        assert "dummyimage.com" not in picture and "gravatar.com" not in picture


def test_the_portals_own_pictures_are_kept(app):
    """An uploaded picture (stored as a file name) and one under ckan.site_url are shown as they are."""
    upload = _picture(app, factories.User(image_url="2026-12-02-me.png"))
    assert "/uploads/user/2026-12-02-me.png" in upload, upload
    own = _picture(app, factories.User(image_url="http://test.ckan.net/base/images/ckan-logo.png"))
    assert "http://test.ckan.net/base/images/ckan-logo.png" in own, own


@pytest.mark.ckan_config("ckanext.sharing.external_user_images", "true")
def test_external_pictures_when_configured(app):
    """ckanext.sharing.external_user_images = true gives core's behaviour: the off-site picture."""
    assert OFFSITE in _picture(app, factories.User(image_url=OFFSITE))
