"""``sharing_catalogue``: the government resource catalogue (政务信息资源目录, SPEC §6) on ckanext-scheming.

Wiring only: validators, facets, the personal-information guard's chained actions and templates live
in this package's modules. Needs ``sharing`` and ``scheming_datasets``; ``sharing`` works without it.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from ckanext.sharing.catalogue import actions, facets, template_order, validators
from ckanext.sharing.catalogue.transfer import shown
from ckanext.sharing.facets import FacetsOnEveryPage
from ckanext.sharing.translation import SharingTranslation

class SharingCataloguePlugin(p.SingletonPlugin, FacetsOnEveryPage, SharingTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.IConfigurable)
    p.implements(p.IValidators)
    p.implements(p.IActions)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.ITranslation)

    # IConfigurer / IConfigurable
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")

    def configure(self, config: tk.CKANConfig) -> None:
        template_order.prefer_own_templates(config)

    # IValidators
    def get_validators(self) -> dict[str, Any]:
        return {name: getattr(validators, name) for name in validators.__all__}

    # IActions
    def get_actions(self) -> dict[str, Any]:
        return {
            "package_create": actions.package_create, "package_update": actions.package_update,
            "resource_create": actions.resource_create, "resource_update": actions.resource_update,
            "scheming_dataset_schema_show": actions.scheming_dataset_schema_show,
            "package_show": shown.package_show,  # an import batch dictizes each row once (transfer/shown.py)
        }

    # IPackageController
    def after_dataset_create(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        actions.after_dataset_saved(context, pkg_dict)

    def after_dataset_update(self, context: Any, pkg_dict: dict[str, Any]) -> None:
        actions.after_dataset_saved(context, pkg_dict)
        shown.mark_changed(context, pkg_dict)  # an imported update gets its activity

    def after_dataset_search(self, search_results: dict[str, Any], search_params: dict[str, Any]) -> dict[str, Any]:
        return facets.label_facets(search_results)

    # IFacets
    def dataset_facets(self, facets_dict: dict[str, Any], package_type: str) -> dict[str, Any]:
        return facets.dataset_facets(facets_dict, package_type)
