"""One message catalogue (domain ``ckanext-sharing``) for every plugin of this distribution."""
from __future__ import annotations

import os

from ckan.lib.plugins import DefaultTranslation


class SharingTranslation(DefaultTranslation):
    """``ITranslation`` for the plugins of ckanext-sharing: all read ``ckanext/sharing/i18n``."""

    def i18n_directory(self) -> str:
        return os.path.join(os.path.dirname(os.path.abspath(__file__)), "i18n")

    def i18n_domain(self) -> str:
        return "ckanext-sharing"
