"""The set-up of the real-client tests (no tests here, SPEC §3b): a live portal as `make run` serves it for machine
clients (DataStore, DCAT with our profile), one department with a dataset per tier — each with a link, an upload
and a DataStore table — a second department to load copies into, and a grantee of the conditional dataset."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ckan.lib import search

from tests.live import LivePortal, LivePortals, LiveUser, make_user
from tests.workflow.support import ART20_FIELDS

# The portal's plugins: CKAN's own dataset schema (the tier as an extra, so copies need no unique res_code),
# the DataStore and DCAT with the profiles of `make run`.
PLUGINS = "activity datastore datatables_view text_view sharing dcat"
CONFIG = {"ckanext.dcat.rdf.profiles": "euro_dcat_ap_3 sharing_dcat_ap"}
TIERS = ("open", "conditional", "not_shared")
JUSTIFICATION = {"conditional": {"share_condition": "仅限政务服务使用"},
                 "not_shared": {"share_basis": "《档案法》第二十八条"}}
CSV = "city,population\nFuzhou,8420000\nXiamen,5310000\n"
ROWS = [{"city": "Fuzhou", "population": 8420000}, {"city": "Xiamen", "population": 5310000}]


@dataclass
class ClientWorld:
    """What the tests read: the portal, its users, departments, datasets and resources by tier."""

    portal: LivePortal
    run: str
    admin: LiveUser
    grantee: LiveUser
    orgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pkgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    res: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # tier -> link|upload|table

    def url(self, path: str) -> str:
        """An absolute URL of the portal."""
        return self.portal.url + path

    def request_page(self, tier: str) -> str:
        """The request page a masked resource of the dataset of ``tier`` points at (the portal's site_url)."""
        return self.url(f"/dataset/{self.pkgs[tier]['id']}/request-access")

    def link(self, tier: str) -> str:
        """The real URL of the link resource of ``tier`` (never shown to a metadata-only caller)."""
        return self.res[tier]["link"]["url"]

    def secrets(self) -> list[str]:
        """What no anonymous client may receive: every real URL of the conditional dataset, and anything
        naming the not_shared one."""
        cond = self.res["conditional"]
        hidden = self.pkgs["not_shared"]
        return [self.link("conditional"), cond["upload"]["url"], f"/datastore/dump/{cond['table']['id']}",
                self.link("not_shared"), hidden["id"], hidden["name"], hidden["title"]]


def build(live_portals: LivePortals, reset: Callable[[], None]) -> ClientWorld:
    """An empty test database and index (the counts are then this world's), the portal, and the world."""
    portal = live_portals.get(plugins=PLUGINS, config=CONFIG)
    reset()
    search.clear_all()
    run = uuid.uuid4().hex[:6]
    w = ClientWorld(portal=portal, run=run, admin=make_user(sysadmin=True, name=f"client-admin-{run}"),
                    grantee=make_user(name=f"client-grantee-{run}"))
    tok = w.admin.token
    for key in ("owner", "copy"):
        w.orgs[key] = portal.action("organization_create", tok, name=f"client-{key}-{run}", title=f"Client {key}")
    for tier in TIERS:
        slug = tier.replace("_", "-")
        pkg = portal.action("package_create", tok, name=f"client-{slug}-{run}", title=f"Client {tier} {run}",
                            owner_org=w.orgs["owner"]["id"], sharing_tier=tier, license_id="cc-by",
                            share_method="文件下载", notes=f"The {tier} dataset of the client tests",
                            resources=[{"name": "link", "format": "CSV",
                                        "url": f"http://files.example.org/{slug}-canary-{run}.csv"}],
                            **JUSTIFICATION.get(tier, {}))
        upload = portal.action("resource_create", tok, files={"upload": ("population.csv", CSV.encode())},
                               package_id=pkg["id"], name="upload", format="CSV")
        table = portal.action("datastore_create", tok, force=True, records=ROWS,
                              resource={"package_id": pkg["id"], "name": "table", "format": "CSV"},
                              fields=[{"id": "city", "type": "text"}, {"id": "population", "type": "int"}])
        w.pkgs[tier] = portal.action("package_show", tok, id=pkg["id"])
        w.res[tier] = {r["name"]: r for r in w.pkgs[tier]["resources"]}
        assert w.res[tier]["table"]["id"] == table["resource_id"]
    request = portal.action("sharing_request_create", w.grantee.token, package_id=w.pkgs["conditional"]["id"],
                            purpose="人口统计分析", use_scenario="季度报告", requested_days=30, **ART20_FIELDS)
    portal.action("sharing_request_approve", tok, id=request["id"])
    return w
