"""The JavaScript catalogue under the locale name CKAN's own client asks for.

``<html lang="zh-Hans-CN">`` makes ``client.js`` (``getLocaleData``) request ``/api/i18n/zh_Hans-CN``
(it replaces only the first hyphen); core's view knows ``zh_Hans_CN`` only and answers 400, and module
initialisation waits on that request, so no ``data-module`` runs on Chinese pages (CKAN-NOTES, issue 11).
This rule answers the hyphenated form with core's own view and the underscored name.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

from ckan.views import api

__all__ = ["i18n"]

i18n = Blueprint("sharing_i18n", __name__)


def locale_name(lang: str, region: str) -> str:
    """``zh_Hans`` + ``CN`` → ``zh_Hans_CN``: the name of the locale in ``ckan.locales_offered``."""
    return f"{lang}_{region}".replace("-", "_")


def js_translations(lang: str, region: str) -> Any:
    """Core's JSON catalogue of the locale whose name the client wrote with a hyphen."""
    return api.i18n_js_translations(locale_name(lang, region))


i18n.add_url_rule("/api/i18n/<lang>-<region>", view_func=js_translations, endpoint="js_translations")
