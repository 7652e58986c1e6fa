"""WSGI entry point for gunicorn: the CKAN app built from the ini file named in ``$CKAN_INI``.

Logging comes from the first file of the ``use = config:`` chain that has a ``[loggers]`` section.
"""
from __future__ import annotations

import configparser
import fcntl
import os
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app
from ckan.lib.i18n import build_js_translations, get_js_translations_dir


def _logging_ini(path: str) -> str | None:
    """Follow ``use = config:...`` until a file with logging sections is found."""
    seen = set()
    while path and path not in seen:
        seen.add(path)
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path)
        if parser.has_section("loggers"):
            return path
        use = parser.get("app:main", "use", fallback="")
        if not use.startswith("config:"):
            return None
        path = os.path.join(os.path.dirname(path), use[len("config:"):])
    return None


_ini = os.path.abspath(os.environ.get("CKAN_INI", ".run/ckan.ini"))
_log_ini = _logging_ini(_ini)
if _log_ini:
    fileConfig(_log_ini, disable_existing_loggers=False)
application = make_app(CKANConfigLoader(_ini).get_config())
# The JavaScript catalogues (/api/i18n/<lang>) are files that only `ckan run` and `ckan translation js` write:
# without them every string of CKAN's JavaScript modules ("Show more", the upload widget …) stays English
# under gunicorn (issue 11, found by tests/ui/test_zh_walk.py). Rebuilt only when a catalogue is newer.
# Every worker runs this: one at a time (a lock file), and the folder made here, because CKAN's check-then-
# makedirs lost the race ("File exists: .../i18n/js") and the losing worker failed to boot.
os.makedirs(get_js_translations_dir(), exist_ok=True)
with open(os.path.join(get_js_translations_dir(), ".build.lock"), "w") as _lock:
    fcntl.flock(_lock, fcntl.LOCK_EX)
    build_js_translations()
