"""Template helpers of the statistics (issue 17): download counts on dataset and resource pages."""
from __future__ import annotations

from typing import Any, Optional

from ckanext.sharing.stats import queries


def sharing_download_counts(pkg: dict[str, Any], res: Optional[dict[str, Any]] = None) -> dict[str, int]:
    """``{"downloads", "accesses", "tracked"}`` of a dataset (or of one of its resources): the ledger's
    data accesses, plus CKAN's tracked downloads of the resource URLs the visitor may see (a masked
    resource's URL is the request page, so it is not counted)."""
    resources = [res] if res else (pkg.get("resources") or [])
    urls = tuple(r["url"] for r in resources if r.get("url") and not r.get("sharing_restricted"))
    return queries.download_counts(pkg["id"], res["id"] if res else None, urls)
