"""``sharing``: sharing tiers enforced on every surface, the request workflow and the audit ledger.

Wiring only: every interface method delegates to the module that owns the concern (see the README's
"Code map"). The catalogue schema and Chinese search are the separate plugins ``sharing_catalogue``
and ``sharing_zh_search`` of this distribution; ``sharing`` works without them.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.sharing import facets, helpers, outage
from ckanext.sharing.access import guard, masking
from ckanext.sharing.logic import action, auth
from ckanext.sharing.logic.action import core
from ckanext.sharing.translation import SharingTranslation
from ckanext.sharing.ui import activity_types, blueprints, default_views, uploads


@tk.blanket.config_declarations
@tk.blanket.helpers(helpers.registered)
@tk.blanket.blueprints(blueprints.blueprints)
@tk.blanket.validators
@tk.blanket.cli
class SharingPlugin(p.SingletonPlugin, facets.FacetsOnEveryPage, SharingTranslation):
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.ITranslation)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IResourceController, inherit=True)

    # IActions / IAuthFunctions
    def get_actions(self) -> dict[str, Any]:
        return action.get_actions()

    def get_auth_functions(self) -> dict[str, Any]:
        return auth.get_auth_functions()

    # IConfigurer
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "ckanext-sharing")
        tk.add_public_directory(config, "public")

    # IConfigurable
    def configure(self, config: tk.CKANConfig) -> None:
        activity_types.put_templates_first(config)

    # IPackageController
    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        masking.after_dataset_show(context, pkg_dict)

    def after_dataset_search(self, search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
        return facets.label_tier_facet(masking.after_dataset_search(search_results, search_params))

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return masking.before_dataset_index(pkg_dict)

    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        core.after_dataset_saved(context, pkg_dict)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        core.after_dataset_saved(context, pkg_dict)

    # IMiddleware
    def make_middleware(self, app: Any, config: Any) -> Any:
        return outage.install(guard.install(app))

    # IFacets
    def dataset_facets(self, facets_dict: dict[str, Any], package_type: str) -> dict[str, Any]:
        return facets.dataset_facets(facets_dict, package_type)

    # IResourceController: Chinese upload names, DataStore default views (issue 11)
    def before_resource_create(self, context: Any, resource: dict[str, Any]) -> None:
        uploads.name_upload(resource)

    def before_resource_update(self, context: Any, current: dict[str, Any], resource: dict[str, Any]) -> None:
        uploads.name_upload(resource)

    def after_resource_update(self, context: Any, resource: dict[str, Any]) -> None:
        default_views.ensure_datastore_views(context, resource)
