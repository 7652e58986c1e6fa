"""Catalogue import and export (目录导入导出, SPEC §12, issue 15).

``headers`` (column names and synonyms) → ``readers`` (XLSX, CSV, JSON into rows) → ``normalise`` (values
into catalogue fields) → ``importer`` (every row through ``package_create`` / ``package_update``: the same
validators as the form and the API) → ``report`` (one line per row). ``exporter`` writes the catalogue back
in the column order of the 2017 目录编制指南; ``jobs`` and ``views`` are the upload page's background job and
pages; ``cli`` the ``ckan sharing catalogue`` commands.
"""
