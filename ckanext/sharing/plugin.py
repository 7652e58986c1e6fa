"""Plugin wiring only: every interface method delegates to the module that owns the concern."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from ckanext.sharing import catalogue, guard, masking, search
from ckanext.sharing.logic import action, auth

# Chains onto actions/auth functions of other plugins exist only where their target does
# (chaining onto a missing function stops CKAN from starting).
_ACTIVITY = {
    "package_activity_list", "user_activity_list", "group_activity_list", "organization_activity_list",
    "recently_changed_packages_activity_list", "dashboard_activity_list", "activity_show",
    "activity_data_show", "activity_diff",
}
_DATASTORE = {"datastore_search", "datastore_info"}
_DATASTORE_SQL = {"datastore_search_sql"}


def _available(name: str) -> bool:
    if name in _ACTIVITY:
        return p.plugin_loaded("activity")
    if name in _DATASTORE:
        return p.plugin_loaded("datastore")
    if name in _DATASTORE_SQL:
        return p.plugin_loaded("datastore") and tk.config.get("ckan.datastore.sqlsearch.enabled")
    return True


def _public_functions(module: Any) -> dict[str, Any]:
    return {
        name: obj for name, obj in vars(module).items()
        if callable(obj) and getattr(obj, "__module__", None) == module.__name__ and not name.startswith("_")
        and not isinstance(obj, type)
    }


@tk.blanket.config_declarations
@tk.blanket.helpers
@tk.blanket.blueprints
@tk.blanket.validators
@tk.blanket.cli
class SharingPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.ITranslation)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.IFacets, inherit=True)

    # IActions / IAuthFunctions
    def get_actions(self) -> dict[str, Any]:
        return {n: f for n, f in _public_functions(action).items() if _available(n)}

    def get_auth_functions(self) -> dict[str, Any]:
        return {n: f for n, f in _public_functions(auth).items() if _available(n)}

    # IConfigurer
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "ckanext-sharing")

    # IConfigurable
    def configure(self, config: tk.CKANConfig) -> None:
        from ckanext.sharing import template_order

        template_order.prefer_own_templates(config)

    # IPackageController
    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        masking.after_dataset_show(context, pkg_dict)

    def after_dataset_search(self, search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
        search_results = masking.after_dataset_search(search_results, search_params)
        search_results = search.after_dataset_search(search_results, search_params)
        return catalogue.label_facets(search_results)

    def before_dataset_search(self, search_params: dict[str, Any]) -> dict[str, Any]:
        return search.before_dataset_search(search_params)

    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        pkg_dict = masking.before_dataset_index(pkg_dict)
        return search.before_dataset_index(pkg_dict)

    # IMiddleware
    def make_middleware(self, app: Any, config: Any) -> Any:
        return guard.install(app)

    # IFacets
    def dataset_facets(self, facets_dict: dict[str, Any], package_type: str) -> dict[str, Any]:
        return catalogue.dataset_facets(search.dataset_facets(facets_dict, package_type), package_type)

    def organization_facets(self, facets_dict: dict[str, Any], organization_type: str, package_type: str | None):
        return catalogue.dataset_facets(search.dataset_facets(facets_dict, package_type or "dataset"), package_type or "dataset")

    def group_facets(self, facets_dict: dict[str, Any], group_type: str, package_type: str | None):
        return catalogue.dataset_facets(search.dataset_facets(facets_dict, package_type or "dataset"), package_type or "dataset")
