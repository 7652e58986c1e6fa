"""Every blueprint of the ``sharing`` plugin, for ``tk.blanket.blueprints``."""
from __future__ import annotations

from flask import Blueprint

from ckanext.sharing import obligation_views, views
from ckanext.sharing.api import blueprint as api_blueprint
from ckanext.sharing.catalogue.transfer import views as catalogue_import
from ckanext.sharing.ledger import page as ledger_page
from ckanext.sharing.stats import views as stats_views
from ckanext.sharing.ui import guide, i18n, landing, uploads, vendor_images

downloads = Blueprint("sharing_downloads", __name__)
downloads.after_app_request(uploads.declare_charset)


def blueprints() -> list[Blueprint]:
    """The workflow pages and the Chinese-UI fixes."""
    return [views.sharing, i18n.i18n, downloads, landing.blueprint, catalogue_import.blueprint, stats_views.stats,
            obligation_views.obligations, api_blueprint.blueprint, guide.blueprint,
            ledger_page.blueprint, vendor_images.blueprint]
