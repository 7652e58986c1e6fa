"""ckanext-sharing: government data-sharing tiers, requests, grants, audit and catalogue for CKAN."""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("ckanext-sharing")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
