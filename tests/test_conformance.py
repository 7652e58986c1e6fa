"""The tier × role × surface conformance suite (SPEC §3), over HTTP on the real stack.

One world is built per module: for each tier a dataset with an uploaded file, a link and a
DataStore table, each carrying a unique secret marker. Every cell asks one surface as one role and
asserts the exact outcome for the access level the role should have (full / metadata / hidden),
and that no secret appears anywhere in the body where it must not. The test id names the cell:
``test_cell[<role>-<tier>-<surface>]``.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any, Callable

import pytest
import requests

import ckan.plugins as plugins
from ckan import model
from ckan.common import config
from ckan.tests import factories
from ckan.tests.helpers import CKANTestApp, _get_test_app, call_action

from ckanext.sharing.model import SharingGrant

PLUGINS = "activity datastore datatables_view sharing"
TIERS = ("open", "conditional", "not_shared")
ROLES = (
    "anonymous", "registered", "other_org", "grantee", "member", "editor", "admin", "collaborator", "sysadmin",
)
FULL, META, HIDDEN = "full", "metadata", "hidden"
EXPECT = {
    "anonymous": (FULL, META, HIDDEN),
    "registered": (FULL, META, HIDDEN),
    "other_org": (FULL, META, HIDDEN),
    "grantee": (FULL, FULL, HIDDEN),
    "member": (FULL, FULL, FULL),
    "editor": (FULL, FULL, FULL),
    "admin": (FULL, FULL, FULL),
    "collaborator": (FULL, FULL, FULL),
    "sysadmin": (FULL, FULL, FULL),
}
RUN = uuid.uuid4().hex[:8]


def _secrets(tier: str) -> dict[str, str]:
    return {
        "link": f"https://files.example.gov.cn/{tier}/secret-link-{RUN}.csv",
        "upload_name": f"secret-{tier}-{RUN}.csv",
        "upload_body": f"SECRET-UPLOAD-{tier}-{RUN}",
        "ds_value": f"SECRET-DS-{tier}-{RUN}",
    }


class World:
    """Everything the cells need: the app, datasets per tier, tokens per role."""

    def __init__(self, app: CKANTestApp):
        self.app = app
        self.tokens: dict[str, str | None] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.pkgs: dict[str, dict[str, Any]] = {}
        self.res: dict[str, dict[str, dict[str, Any]]] = {}
        self.views: dict[str, str] = {}
        self.activities: dict[str, str] = {}
        self.old_activities: dict[str, str] = {}
        self.org: dict[str, Any] = {}
        self.group: dict[str, Any] = {}

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens.get(role)
        return {"Authorization": token} if token else {}

    def api(self, role: str, action: str, status: int | None = None, **params: Any):
        resp = self.app.post(f"/api/3/action/{action}", json=params, headers=self.headers(role))
        if status is not None:
            assert resp.status_code == status, (action, resp.status_code, resp.body[:300])
        return resp

    def get(self, role: str, url: str, **kw: Any):
        return self.app.get(url, headers=self.headers(role), **kw)

    def secrets(self, tier: str) -> dict[str, str]:
        return _secrets(tier)


def _build(app: CKANTestApp) -> World:
    w = World(app)
    sysadmin = factories.Sysadmin()
    owner_admin = factories.User()
    people = {role: factories.User() for role in ROLES if role not in ("anonymous", "sysadmin", "admin")}
    people["admin"] = owner_admin
    people["sysadmin"] = sysadmin
    w.users = people
    w.tokens = {role: factories.APIToken(user=u["name"])["token"] for role, u in people.items()}
    w.tokens["anonymous"] = None

    org = factories.Organization(
        users=[
            {"name": owner_admin["name"], "capacity": "admin"},
            {"name": people["editor"]["name"], "capacity": "editor"},
            {"name": people["member"]["name"], "capacity": "member"},
        ]
    )
    other = factories.Organization(users=[{"name": people["other_org"]["name"], "capacity": "admin"}])
    grantee_org = factories.Organization(users=[{"name": people["grantee"]["name"], "capacity": "member"}])
    group = factories.Group(users=[{"name": sysadmin["name"], "capacity": "admin"}])
    w.org, w.group = org, group
    assert other and grantee_org

    admin_token = w.tokens["admin"]
    for tier in TIERS:
        s = _secrets(tier)
        extra = {"conditional": {"share_condition": "For approved government use"},
                 "not_shared": {"share_basis": "Law X article 1"}}.get(tier, {})
        pkg = app.post(
            "/api/3/action/package_create",
            json={"name": f"conf-{tier}-{RUN}", "title": f"Conformance {tier} {RUN}", "owner_org": org["id"],
                  "sharing_tier": tier, "notes": "conformance dataset", **extra,
                  "groups": [{"id": group["id"]}]},
            headers={"Authorization": w.tokens["sysadmin"]},
        ).json["result"]
        w.pkgs[tier] = pkg
        link = app.post("/api/3/action/resource_create",
                        json={"package_id": pkg["id"], "name": "link", "url": s["link"], "format": "CSV"},
                        headers={"Authorization": admin_token}).json["result"]
        upload = app.post(
            "/api/3/action/resource_create",
            data={"package_id": pkg["id"], "name": "upload",
                  "upload": (io.BytesIO(s["upload_body"].encode()), s["upload_name"])},
            headers={"Authorization": admin_token}, content_type="multipart/form-data",
        ).json["result"]
        ds = call_action(
            "datastore_create",
            {"user": sysadmin["name"]},
            resource={"package_id": pkg["id"], "name": "table"},
            fields=[{"id": "v", "type": "text"}],
            records=[{"v": s["ds_value"]}],
            force=True,
        )
        w.res[tier] = {"link": link, "upload": upload, "datastore": model.Resource.get(ds["resource_id"]).as_dict()}
        view = call_action("resource_view_create", {"user": sysadmin["name"]},
                           resource_id=link["id"], title="Table", view_type="datatables_view")
        w.views[tier] = view["id"]
        call_action("package_collaborator_create", {"user": sysadmin["name"]},
                    id=pkg["id"], user_id=people["collaborator"]["id"], capacity="member")
        # one more update so there is an activity whose snapshot holds every resource
        app.post("/api/3/action/package_patch", json={"id": pkg["id"], "notes": "conformance dataset, updated"},
                 headers={"Authorization": admin_token})
    model.Session.add(SharingGrant(
        package_id=w.pkgs["conditional"]["id"], owner_org=org["id"], organization_id=grantee_org["id"],
        expires=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30), created_by=sysadmin["id"],
    ))
    model.Session.commit()
    for tier in TIERS:
        acts = call_action("package_activity_list", {"user": sysadmin["name"], "ignore_auth": True},
                           id=w.pkgs[tier]["id"])
        w.activities[tier] = acts[0]["id"]
        w.old_activities[tier] = next(a["id"] for a in acts[1:] if "package" in a["activity_type"])
    return w


@pytest.fixture(scope="module")
def world(reset_db, reset_index):
    old = config.get("ckan.plugins")
    config["ckan.plugins"] = PLUGINS
    plugins.load_all()
    try:
        reset_db()
        reset_index()
        yield _build(_get_test_app())
    finally:
        plugins.unload_all()
        config["ckan.plugins"] = old


# --- assertions -------------------------------------------------------------------------------


def _leak_markers(w: World, tier: str) -> list[str]:
    s = w.secrets(tier)
    return [s["link"], s["upload_name"], s["upload_body"], s["ds_value"]]


def assert_no_leak(w: World, tier: str, body: str, where: str) -> None:
    for marker in _leak_markers(w, tier):
        assert marker not in body, f"{where}: leaked {marker!r}"


def assert_masked_pkg(w: World, tier: str, pkg: dict[str, Any]) -> None:
    assert pkg["sharing_tier"] == tier
    for res in pkg["resources"]:
        assert res["sharing_restricted"] is True, res
        assert res["url"].endswith(f"/dataset/{pkg['id']}/request-access"), res["url"]


def assert_full_pkg(w: World, tier: str, pkg: dict[str, Any]) -> None:
    urls = {r["name"]: r["url"] for r in pkg["resources"]}
    assert urls["link"] == w.secrets(tier)["link"], urls
    assert urls["upload"].endswith("/download/" + w.secrets(tier)["upload_name"]), urls
    assert all(r["sharing_restricted"] is False for r in pkg["resources"])


def _denied(status: int) -> bool:
    return status in (403, 404)


# --- surfaces: each checks one cell -------------------------------------------------------------

Check = Callable[[World, str, str, str], None]
SURFACES: dict[str, Check] = {}


def surface(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        SURFACES[name] = fn
        return fn
    return register


@surface("package_show")
def _package_show(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.api(role, "package_show", id=w.pkgs[tier]["id"])
    if exp == HIDDEN:
        assert _denied(resp.status_code)
        assert_no_leak(w, tier, resp.body, "package_show")
        return
    assert resp.status_code == 200
    pkg = resp.json["result"]
    if exp == FULL:
        assert_full_pkg(w, tier, pkg)
    else:
        assert_masked_pkg(w, tier, pkg)
        assert_no_leak(w, tier, resp.body, "package_show")


@surface("dataset_page")
def _dataset_page(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.get(role, f"/dataset/{w.pkgs[tier]['name']}")
    if exp == HIDDEN:
        assert _denied(resp.status_code)
        return
    assert resp.status_code == 200
    if exp == META:
        assert_no_leak(w, tier, resp.body, "dataset page")
        assert f"/dataset/{w.pkgs[tier]['id']}/request-access" in resp.body


@surface("resource_page")
def _resource_page(w: World, role: str, tier: str, exp: str) -> None:
    for kind in ("link", "upload"):
        rid = w.res[tier][kind]["id"]
        resp = w.get(role, f"/dataset/{w.pkgs[tier]['id']}/resource/{rid}")
        if exp == HIDDEN:
            assert _denied(resp.status_code)
            continue
        assert resp.status_code == 200
        if exp == META:
            assert_no_leak(w, tier, resp.body, f"resource page {kind}")


SEARCH_VARIANTS: list[dict[str, Any]] = [
    {},
    {"fl": "id,name,res_url"},
    {"fl": "id,validated_data_dict,data_dict"},
    {"facet.field": json.dumps(["res_url"]), "facet": "true"},
    {"q": "res_url:*"},
    {"q": "urls:*secret*"},
]


@surface("package_search")
def _package_search(w: World, role: str, tier: str, exp: str) -> None:
    pid = w.pkgs[tier]["id"]
    for variant in SEARCH_VARIANTS + [{"q": f'"{w.secrets(tier)["link"]}"'}]:
        params = {"fq": f"id:{pid}", "include_private": "true", **variant}
        resp = w.get(role, "/api/3/action/package_search", query_string=params)
        assert resp.status_code == 200, (variant, resp.body[:300])
        result = resp.json["result"]
        if exp != FULL:
            assert_no_leak(w, tier, resp.body, f"package_search {variant}")
        if exp == HIDDEN:
            assert result["count"] == 0, variant
        if not variant:
            if exp == HIDDEN:
                continue
            assert result["count"] == 1
            if exp == FULL:
                assert_full_pkg(w, tier, result["results"][0])
            else:
                assert_masked_pkg(w, tier, result["results"][0])


@surface("search_index")
def _search_index(w: World, role: str, tier: str, exp: str) -> None:
    if role != "sysadmin":
        pytest.skip("the index is the same for every role: checked once per tier")
    solr = config["solr_url"].rstrip("/")
    doc = requests.get(f"{solr}/select", params={"q": f"id:{w.pkgs[tier]['id']}", "fl": "*", "wt": "json"},
                       timeout=10).json()["response"]["docs"][0]
    body = json.dumps(doc, ensure_ascii=False)
    if tier == "conditional":
        assert_no_leak(w, tier, body, "Solr document")
    else:
        assert w.secrets(tier)["link"] in body  # open/not_shared keep CKAN's own behaviour


@surface("package_list")
def _package_list(w: World, role: str, tier: str, exp: str) -> None:
    names = w.api(role, "package_list", 200).json["result"]
    assert (w.pkgs[tier]["name"] in names) == (tier != "not_shared")


@surface("current_package_list_with_resources")
def _current_list(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.api(role, "current_package_list_with_resources", 200, limit=100)
    found = [p for p in resp.json["result"] if p["id"] == w.pkgs[tier]["id"]]
    if exp != FULL:
        assert_no_leak(w, tier, resp.body, "current_package_list_with_resources")
    if tier == "not_shared":
        assert not found or exp == FULL
        return
    assert found
    (assert_full_pkg if exp == FULL else assert_masked_pkg)(w, tier, found[0])


@surface("package_autocomplete")
def _autocomplete(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.get(role, "/api/3/action/package_autocomplete", query_string={"q": f"conf-{tier}-{RUN}"})
    names = [p["name"] for p in resp.json["result"]]
    if exp == HIDDEN:
        assert w.pkgs[tier]["name"] not in names
    elif tier != "not_shared":
        assert w.pkgs[tier]["name"] in names


@surface("resource_search")
def _resource_search(w: World, role: str, tier: str, exp: str) -> None:
    for query in ([f"url:secret-link-{RUN}"], [f"name:link", f"description:"]):
        resp = w.get(role, "/api/3/action/resource_search", query_string={"query": query})
        assert resp.status_code == 200, resp.body[:300]
        ids = [r["id"] for r in resp.json["result"]["results"]]
        if exp != FULL:
            assert_no_leak(w, tier, resp.body, f"resource_search {query}")
            assert w.res[tier]["link"]["id"] not in ids or not query[0].startswith("url:")
        if exp == HIDDEN:
            assert w.res[tier]["link"]["id"] not in ids


@surface("organization_show")
def _org_show(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.api(role, "organization_show", 200, id=w.org["id"], include_datasets=True)
    pkgs = {p["id"]: p for p in resp.json["result"]["packages"]}
    _listing(w, tier, exp, pkgs, resp.body, "organization_show")


@surface("group_show")
def _group_show(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.api(role, "group_show", 200, id=w.group["id"], include_datasets=True)
    pkgs = {p["id"]: p for p in resp.json["result"]["packages"]}
    _listing(w, tier, exp, pkgs, resp.body, "group_show")


@surface("group_package_show")
def _group_package_show(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.api(role, "group_package_show", 200, id=w.group["id"], limit=50)
    pkgs = {p["id"]: p for p in resp.json["result"]}
    _listing(w, tier, exp, pkgs, resp.body, "group_package_show")


@surface("user_show")
def _user_show(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.api(role, "user_show", 200, id=w.users["sysadmin"]["id"], include_datasets=True)
    pkgs = {p["id"]: p for p in resp.json["result"].get("datasets", [])}
    if exp == HIDDEN:
        assert w.pkgs[tier]["id"] not in pkgs
    if exp != FULL:
        assert_no_leak(w, tier, resp.body, "user_show")


def _listing(w: World, tier: str, exp: str, pkgs: dict[str, Any], body: str, where: str) -> None:
    pid = w.pkgs[tier]["id"]
    if exp != FULL:
        assert_no_leak(w, tier, body, where)
    if exp == HIDDEN:
        assert pid not in pkgs
    elif pid in pkgs and pkgs[pid].get("resources"):
        (assert_full_pkg if exp == FULL else assert_masked_pkg)(w, tier, pkgs[pid])


@surface("resource_show")
def _resource_show(w: World, role: str, tier: str, exp: str) -> None:
    for kind in ("link", "upload"):
        resp = w.api(role, "resource_show", id=w.res[tier][kind]["id"])
        if exp == HIDDEN:
            assert _denied(resp.status_code)
            continue
        assert resp.status_code == 200
        res = resp.json["result"]
        if exp == FULL:
            assert res["sharing_restricted"] is False
            if kind == "link":
                assert res["url"] == w.secrets(tier)["link"]
        else:
            assert res["sharing_restricted"] is True
            assert_no_leak(w, tier, resp.body, "resource_show")


@surface("resource_views")
def _resource_views(w: World, role: str, tier: str, exp: str) -> None:
    rid = w.res[tier]["link"]["id"]
    listing = w.api(role, "resource_view_list", id=rid)
    show = w.api(role, "resource_view_show", id=w.views[tier])
    page = w.get(role, f"/dataset/{w.pkgs[tier]['id']}/resource/{rid}/view/{w.views[tier]}")
    if exp == FULL:
        assert listing.status_code == 200 and [v["id"] for v in listing.json["result"]] == [w.views[tier]]
        assert show.status_code == 200
        assert page.status_code == 200
        return
    if exp == META:
        assert listing.status_code == 200 and listing.json["result"] == []
    else:
        assert _denied(listing.status_code)
    assert _denied(show.status_code)
    assert _denied(page.status_code)
    for resp in (listing, show, page):
        assert_no_leak(w, tier, resp.body, "resource views")


@surface("download")
def _download(w: World, role: str, tier: str, exp: str) -> None:
    s = w.secrets(tier)
    up = w.res[tier]["upload"]["id"]
    link = w.res[tier]["link"]["id"]
    pid = w.pkgs[tier]["id"]
    r_up = w.get(role, f"/dataset/{pid}/resource/{up}/download/{s['upload_name']}")
    r_up2 = w.get(role, f"/dataset/{pid}/resource/{up}/download")
    r_link = w.get(role, f"/dataset/{pid}/resource/{link}/download", follow_redirects=False)
    if exp == FULL:
        assert r_up.status_code == 200 and r_up.body == s["upload_body"]
        assert r_link.status_code in (301, 302) and r_link.headers["Location"] == s["link"]
        return
    for resp in (r_up, r_up2, r_link):
        assert _denied(resp.status_code), resp.status_code
        # the 403 page may echo the URL the requester typed (upload file name): only content and
        # the link target are secret here
        body = resp.body + resp.headers.get("Location", "")
        for marker in (s["link"], s["upload_body"]):
            assert marker not in body, f"download: leaked {marker!r}"
    if exp == META:
        assert r_up.status_code == 403
        assert f"/dataset/{pid}/request-access" in r_up.body


@surface("datastore")
def _datastore(w: World, role: str, tier: str, exp: str) -> None:
    rid = w.res[tier]["datastore"]["id"]
    s = w.secrets(tier)
    search = w.api(role, "datastore_search", resource_id=rid)
    info = w.api(role, "datastore_info", id=rid)
    dump = w.get(role, f"/datastore/dump/{rid}")
    sql = w.get(role, "/api/3/action/datastore_search_sql", query_string={"sql": f'SELECT * FROM "{rid}"'})
    if exp == FULL:
        assert search.status_code == 200 and s["ds_value"] in search.body
        assert info.status_code == 200
        assert dump.status_code == 200 and s["ds_value"] in dump.body
        assert sql.status_code == 200 and s["ds_value"] in sql.body
        return
    for resp in (search, info, dump, sql):
        assert _denied(resp.status_code), (resp.request.path, resp.status_code)
        assert s["ds_value"] not in resp.body


@surface("activity_api")
def _activity_api(w: World, role: str, tier: str, exp: str) -> None:
    pid = w.pkgs[tier]["id"]
    listing = w.api(role, "package_activity_list", id=pid)
    show = w.api(role, "activity_show", id=w.activities[tier])
    data = w.api(role, "activity_data_show", id=w.activities[tier])
    diff = w.api(role, "activity_diff", id=w.activities[tier], object_type="package")
    recent = w.api(role, "recently_changed_packages_activity_list", 200)
    org = w.api(role, "organization_activity_list", 200, id=w.org["id"])
    if exp == FULL:
        assert listing.status_code == 200 and show.status_code == 200 and data.status_code == 200, (show.body[:3000], data.body[:300])
        return
    for resp in (listing, show, data, diff, recent, org):
        assert_no_leak(w, tier, resp.body, f"activity {resp.request.path}")
    if exp == HIDDEN:
        assert _denied(listing.status_code) and _denied(show.status_code) and _denied(data.status_code)
    else:
        assert listing.status_code == 200 and listing.json["result"]
        assert show.status_code == 200
        assert _denied(data.status_code) and _denied(diff.status_code)


@surface("activity_pages")
def _activity_pages(w: World, role: str, tier: str, exp: str) -> None:
    pid, act = w.pkgs[tier]["id"], w.activities[tier]
    rid = w.res[tier]["link"]["id"]
    pages = {
        "stream": w.get(role, f"/dataset/activity/{pid}"),
        "changes": w.get(role, f"/dataset/changes/{act}"),
        "changes_multiple": w.get(role, "/dataset/changes_multiple",
                                  query_string={"new_id": act, "old_id": w.old_activities[tier]}),
        "history": w.get(role, f"/dataset/{pid}/history/{act}"),
        "resource_history": w.get(role, f"/dataset/{pid}/resources/{rid}/history/{act}"),
    }
    if exp == FULL:
        assert pages["stream"].status_code == 200
        assert pages["resource_history"].status_code == 200
        return
    for name, resp in pages.items():
        assert_no_leak(w, tier, resp.body, f"activity page {name}")
    if exp == HIDDEN:
        assert all(_denied(r.status_code) for r in pages.values())
    else:
        assert pages["stream"].status_code == 200
        assert _denied(pages["resource_history"].status_code)


@surface("feeds")
def _feeds(w: World, role: str, tier: str, exp: str) -> None:
    for url in ("/feeds/dataset.atom", f"/feeds/organization/{w.org['name']}.atom", "/feeds/custom.atom"):
        resp = w.get(role, url, query_string={"q": f"name:conf-{tier}-{RUN}"} if "custom" in url else None)
        assert resp.status_code == 200, url
        if exp != FULL:
            assert_no_leak(w, tier, resp.body, f"feed {url}")
        if exp == HIDDEN:
            assert f"/dataset/{w.pkgs[tier]['name']}" not in resp.body
            assert w.pkgs[tier]["id"] not in resp.body


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("role", ROLES)
def test_cells(world: World, role: str, tier: str) -> None:
    """Every surface for one role and tier; the failure message names each failing cell."""
    expected = EXPECT[role][TIERS.index(tier)]
    failures = []
    for name in sorted(SURFACES):
        try:
            SURFACES[name](world, role, tier, expected)
        except pytest.skip.Exception:
            continue
        except AssertionError as err:
            failures.append(f"[{role} × {tier} × {name}] expected {expected}: {str(err)[:400]}")
    assert not failures, "\n".join(failures)


def test_matrix_is_complete() -> None:
    """The matrix covers every role of SPEC §2 (plus grantee/editor/admin splits) and §3's surfaces."""
    assert len(ROLES) == 9 and len(TIERS) == 3
    assert {"package_show", "package_search", "search_index", "download", "datastore", "activity_api",
            "activity_pages", "feeds", "resource_views", "resource_search"} <= set(SURFACES)
