"""Every blueprint of the ``sharing`` plugin, for ``tk.blanket.blueprints``."""
from __future__ import annotations

from flask import Blueprint

from ckanext.sharing import views
from ckanext.sharing.ledger import page as ledger_page
from ckanext.sharing.ui import i18n, landing, uploads

downloads = Blueprint("sharing_downloads", __name__)
downloads.after_app_request(uploads.declare_charset)


def blueprints() -> list[Blueprint]:
    """The workflow pages and the Chinese-UI fixes."""
    return [views.sharing, i18n.i18n, downloads, landing.blueprint, ledger_page.blueprint]
