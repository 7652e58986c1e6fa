"""Packaging for ckanext-sharing (metadata lives in setup.cfg; this file exists for Babel and pip -e)."""
from setuptools import setup

setup(
    message_extractors={
        "ckanext": [
            ("**.py", "python", None),
            ("**.js", "javascript", None),
            ("**/templates/**.html", "ckan", None),
        ],
    },
)
