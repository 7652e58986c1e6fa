"""The tier × role × surface conformance matrix (SPEC §3), shared by the test-suite and by
``ckan sharing check-access --url URL`` (which runs it against a live portal).

A world holds, for each tier, a dataset with an uploaded file, a link and a DataStore table, each
carrying a unique secret marker, plus one user per role. Each surface check asks one surface as
one role and raises :class:`CellFailure` unless the outcome is exactly the one the role's access
level demands (full / metadata / hidden) and no secret appears where it must not.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets as _secrets_mod
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Protocol

import requests

import ckan.plugins.toolkit as tk
from ckan import model

from ckanext.sharing.model import SharingGrant

TIERS = ("open", "conditional", "not_shared")
ROLES = (
    "anonymous", "registered", "other_org", "grantee", "member", "editor", "admin", "collaborator", "sysadmin",
)
FULL, META, HIDDEN = "full", "metadata", "hidden"
EXPECT: dict[str, tuple[str, str, str]] = {
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


#: datasets of the tiers that need access in a second organization (``chk-other``, where the other-org user is
#: admin): there the owner organization's members and the collaborator have no relation to the dataset, so the
#: leak crawler can test them too. The conformance matrix uses TIERS only.
FOREIGN = ("foreign_conditional", "foreign_not_shared")
FOREIGN_FULL = ("other_org", "sysadmin")


def tier_of(place: str) -> str:
    """The tier of a planted dataset's key (``foreign_conditional`` → ``conditional``)."""
    return place.removeprefix("foreign_")


def expected_level(role: str, place: str) -> str:
    """The access level a role must get to a planted dataset (SPEC §1-§2): EXPECT, or for FOREIGN datasets
    full for their organization's admin (other_org) and sysadmins, else metadata-only / hidden by tier."""
    tier = tier_of(place)
    if place in FOREIGN:
        if role in FOREIGN_FULL:
            return FULL
        return META if tier == "conditional" else HIDDEN
    return EXPECT[role][TIERS.index(tier)]


class CellFailure(AssertionError):
    """One cell of the matrix did not behave as the contract says."""


def expect(condition: Any, message: Any = "") -> None:
    if not condition:
        raise CellFailure(str(message))


class Response(Protocol):
    status_code: int
    body: str
    headers: Any

    @property
    def json(self) -> Any: ...


class Client(Protocol):
    """What the checks need of HTTP: the Flask test client and ``requests`` both fit behind it."""

    def get(self, url: str, headers: dict[str, str], query_string: Any = None,
            follow_redirects: bool = True) -> Response: ...

    def post_json(self, url: str, headers: dict[str, str], payload: dict[str, Any]) -> Response: ...

    def upload(self, url: str, headers: dict[str, str], fields: dict[str, str], filename: str,
               content: bytes) -> Response: ...


@dataclass
class _RequestsResponse:
    status_code: int
    body: str
    headers: Any
    json_data: Any = None

    @property
    def json(self) -> Any:
        return self.json_data


class RequestsClient:
    """HTTP against a live portal (``check-access --url``); loopback or the portal's own address."""

    def __init__(self, base_url: str, timeout: float = 30):
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout

    def _wrap(self, resp: requests.Response) -> _RequestsResponse:
        try:
            data = resp.json()
        except ValueError:
            data = None
        return _RequestsResponse(resp.status_code, resp.text, resp.headers, data)

    def get(self, url, headers, query_string=None, follow_redirects=True):
        return self._wrap(self.session.get(self.base + url, headers=headers, params=query_string,
                                           allow_redirects=follow_redirects, timeout=self.timeout))

    def post_json(self, url, headers, payload):
        return self._wrap(self.session.post(self.base + url, headers=headers, json=payload, timeout=self.timeout))

    def upload(self, url, headers, fields, filename, content):
        return self._wrap(self.session.post(self.base + url, headers=headers, data=fields,
                                            files={"upload": (filename, content)}, timeout=self.timeout))

    def post_form(self, url, headers, data):
        """A form POST (the leak crawler's POST routes)."""
        return self._wrap(self.session.post(self.base + url, headers=headers, data=data, allow_redirects=False,
                                            timeout=self.timeout))


#: the secrets of a tier that are data (SPEC §1): only users with full access may see them
DATA_SECRETS = ("link", "upload_name", "upload_body", "ds_value", "cache_url", "original_url", "download_url",
                "access_url", "url_extra")
#: the resource extras of the link resource that carry a location (SPEC §3: every URL-bearing field is masked)
URL_FIELDS = {"cache_url": "cache_url", "original_url": "original_url", "download_url": "download_url",
              "access_url": "access_url", "documentation_url": "url_extra"}


def secrets_for(run: str, tier: str) -> dict[str, str]:
    """Unique canaries of one tier: data values, and ``meta`` (metadata hidden users may not see)."""
    return {
        "link": f"https://files.example.gov.cn/{tier}/secret-link-{run}.csv",
        "upload_name": f"secret-{tier}-{run}.csv",
        "upload_body": f"SECRET-UPLOAD-{tier}-{run}",
        "ds_value": f"SECRET-DS-{tier}-{run}",
        "cache_url": f"https://cache.example.gov.cn/{tier}/secret-cache-{run}.csv",
        "original_url": f"https://origin.example.gov.cn/{tier}/secret-original-{run}.csv",
        "download_url": f"https://dl.example.gov.cn/{tier}/secret-download-{run}.csv",
        "access_url": f"https://access.example.gov.cn/{tier}/secret-access-{run}",
        "url_extra": f"https://docs.example.gov.cn/{tier}/secret-extra-{run}",
        "meta": f"smeta-{tier}-{run}",
    }


@dataclass
class World:
    """Everything the checks need: the client, datasets per tier, tokens per role."""

    client: Client
    run: str
    tokens: dict[str, Optional[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    pkgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    res: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)
    activities: dict[str, str] = field(default_factory=dict)
    old_activities: dict[str, str] = field(default_factory=dict)
    orgs: list[dict[str, Any]] = field(default_factory=list)
    org: dict[str, Any] = field(default_factory=dict)
    group: dict[str, Any] = field(default_factory=dict)
    site_user: str = ""
    other_org: dict[str, Any] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens.get(role)
        return {"Authorization": token} if token else {}

    def api(self, role: str, action: str, status: Optional[int] = None, **params: Any) -> Response:
        resp = self.client.post_json(f"/api/3/action/{action}", self.headers(role), params)
        if status is not None:
            expect(resp.status_code == status, (action, resp.status_code, resp.body[:300]))
        return resp

    def get(self, role: str, url: str, **kw: Any) -> Response:
        return self.client.get(url, self.headers(role), **kw)

    def secrets(self, tier: str) -> dict[str, str]:
        return secrets_for(self.run, tier)


def _act(action: str, /, **data: Any) -> Any:
    """Set-up actions run as the site user (the command runs with the portal's own config)."""
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    return tk.get_action(action)({"user": site_user["name"], "ignore_auth": True}, data)


def _catalogue_fields(place: str, run: str) -> dict[str, Any]:
    """Fields the catalogue schema requires; ignored by the plain CKAN schema."""
    number = int(run[:6], 16) % 1000000
    return {
        "res_code": f"301001/{number:06d}{(TIERS + FOREIGN).index(place)}",
        "res_class": "3",
        "format_category": "电子表格",
        "data_items": [{"item_name": "value", "item_type": "C"}],
        "update_cycle": "每月",
        "publish_date": "2026-01-01",
        "share_method": ["文件下载"],
    }


def build_world(client: Client, run: Optional[str] = None) -> World:
    """A populated world (see :func:`populate`)."""
    w = World(client=client, run=run or _secrets_mod.token_hex(4))
    populate(w)
    return w


def populate(w: World) -> None:
    """Create org, users of every role, and one dataset per tier with file, link and DataStore table (plus the
    FOREIGN datasets of the other organization, for the leak crawler); every user but sysadmin follows each.

    Fills ``w`` as it goes, so :func:`destroy_world` can remove a half-built world too.
    """
    client, run = w.client, w.run
    for role in ROLES:
        if role == "anonymous":
            continue
        user = _act("user_create", name=f"chk-{role.replace('_', '-')}-{run}", email=f"chk-{role}-{run}@example.invalid",
                    password=_secrets_mod.token_urlsafe(16))
        if role == "sysadmin":
            model.User.get(user["id"]).sysadmin = True
            model.Session.commit()
        w.users[role] = user
        w.tokens[role] = _act("api_token_create", user=user["name"], name="check-access")["token"]
    w.tokens["anonymous"] = None
    w.org = _act("organization_create", name=f"chk-owner-{run}", title=f"Check owner {run}", users=[
        {"name": w.users["admin"]["name"], "capacity": "admin"},
        {"name": w.users["editor"]["name"], "capacity": "editor"},
        {"name": w.users["member"]["name"], "capacity": "member"},
    ])
    w.orgs.append(w.org)
    other = _act("organization_create", name=f"chk-other-{run}",
                 users=[{"name": w.users["other_org"]["name"], "capacity": "admin"}])
    grantee_org = _act("organization_create", name=f"chk-grantee-{run}",
                       users=[{"name": w.users["grantee"]["name"], "capacity": "member"}])
    w.orgs.extend([other, grantee_org])
    w.other_org = other
    w.group = _act("group_create", name=f"chk-group-{run}")
    for tier in TIERS:
        _plant(w, tier, w.org, "admin")
        _act("package_collaborator_create", id=w.pkgs[tier]["id"], user_id=w.users["collaborator"]["id"],
             capacity="member")
    for place in FOREIGN:
        _plant(w, place, other, "other_org")
    for place, pkg in w.pkgs.items():
        client.post_json("/api/3/action/package_patch", w.headers("sysadmin" if place in FOREIGN else "admin"),
                         {"id": pkg["id"], "notes": f"conformance dataset {w.secrets(place)['meta']}, updated"})
        for role in ROLES[1:]:  # followee lists return what a user follows
            client.post_json("/api/3/action/follow_dataset", w.headers(role), {"id": pkg["id"]})
    model.Session.add(SharingGrant(
        package_id=w.pkgs["conditional"]["id"], owner_org=w.org["id"], organization_id=grantee_org["id"],
        expires=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30), created_by=w.users["sysadmin"]["id"],
    ))
    model.Session.commit()
    w.site_user = _act("get_site_user")["name"]
    for place, pkg in w.pkgs.items():
        acts = _act("package_activity_list", id=pkg["id"])
        w.activities[place] = acts[0]["id"]
        w.old_activities[place] = next(a["id"] for a in acts[1:] if "package" in a["activity_type"])


def _plant(w: World, place: str, org: dict[str, Any], publisher: str) -> None:
    """One dataset of ``place``'s tier in ``org``: a link carrying every URL field, an upload, a DataStore
    table and a DataTables view, each with the place's canaries (:func:`secrets_for`)."""
    client, run, tier = w.client, w.run, tier_of(place)
    s = w.secrets(place)
    headers = w.headers(publisher)
    extra = {"conditional": {"share_condition": "For approved government use",
                             "share_scope": "Government departments of the city"},
             "not_shared": {"share_basis": "Law X article 1"}}.get(tier, {})
    resp = client.post_json("/api/3/action/package_create", w.headers("sysadmin"), {
        "name": f"chk-{place.replace('_', '-')}-{run}", "title": f"Check {place} {run}", "owner_org": org["id"],
        "sharing_tier": tier, "notes": f"conformance dataset {s['meta']}", "tag_string": s["meta"],
        "groups": [{"id": w.group["id"]}],
        **extra, **_catalogue_fields(place, run),
    })
    expect(resp.status_code == 200, f"package_create {place}: {resp.body[:500]}")
    pkg = resp.json["result"]
    w.pkgs[place] = pkg
    link = client.post_json("/api/3/action/resource_create", headers,
                            {"package_id": pkg["id"], "name": "link", "url": s["link"], "format": "CSV",
                             "description": f"link {s['meta']}",
                             **{key: s[name] for key, name in URL_FIELDS.items()}})
    expect(link.status_code == 200, f"resource_create link: {link.body[:300]}")
    upload = client.upload("/api/3/action/resource_create", headers,
                           {"package_id": pkg["id"], "name": "upload"}, s["upload_name"], s["upload_body"].encode())
    expect(upload.status_code == 200, f"resource_create upload: {upload.body[:300]}")
    ds = _act("datastore_create", resource={"package_id": pkg["id"], "name": "table"},
              fields=[{"id": "v", "type": "text"}], records=[{"v": s["ds_value"]}], force=True)
    w.res[place] = {"link": link.json["result"], "upload": upload.json["result"],
                    "datastore": {"id": ds["resource_id"]}}
    view = _act("resource_view_create", resource_id=link.json["result"]["id"], title="Table",
                view_type="datatables_view")
    w.views[place] = view["id"]


def destroy_world(w: World) -> None:
    """Remove everything :func:`populate` made (datasets, grants, groups, orgs, users)."""
    model.Session.rollback()
    for pkg in w.pkgs.values():
        model.Session.query(SharingGrant).filter_by(package_id=pkg["id"]).delete()
        model.Session.commit()
        # dataset_purge leaves collaborator rows behind (and then fails on their foreign key)
        for collab in _act("package_collaborator_list", id=pkg["id"]):
            _act("package_collaborator_delete", id=pkg["id"], user_id=collab["user_id"])
        _act("dataset_purge", id=pkg["id"])
    if w.group:
        _act("group_purge", id=w.group["id"])
    for org in w.orgs:
        _act("organization_purge", id=org["id"])
    for user in w.users.values():
        obj = model.User.get(user["id"])
        if obj is not None:
            for token in model.Session.query(model.ApiToken).filter_by(user_id=obj.id):
                model.Session.delete(token)
            obj.purge()
    model.Session.commit()


# --- assertions -------------------------------------------------------------------------------

def _leak_markers(w: World, tier: str) -> list[str]:
    s = w.secrets(tier)
    return [s["link"], s["upload_name"], s["upload_body"], s["ds_value"]]


def assert_no_leak(w: World, tier: str, body: str, where: str) -> None:
    for marker in _leak_markers(w, tier):
        expect(marker not in body, f"{where}: leaked {marker!r}")


def assert_masked_pkg(w: World, tier: str, pkg: dict[str, Any]) -> None:
    expect(pkg["sharing_tier"] == tier, 'pkg["sharing_tier"] == tier')
    for res in pkg["resources"]:
        expect(res["sharing_restricted"] is True, res)
        expect(res["url"].endswith(f"/dataset/{pkg['id']}/request-access"), res["url"])


def assert_full_pkg(w: World, tier: str, pkg: dict[str, Any]) -> None:
    urls = {r["name"]: r["url"] for r in pkg["resources"]}
    expect(urls["link"] == w.secrets(tier)["link"], urls)
    expect(urls["upload"].endswith("/download/" + w.secrets(tier)["upload_name"]), urls)
    expect(all(r["sharing_restricted"] is False for r in pkg["resources"]), 'all(r["sharing_restricted"] is False for r in pkg["resources"])')


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
        expect(_denied(resp.status_code), '_denied(resp.status_code)')
        assert_no_leak(w, tier, resp.body, "package_show")
        return
    expect(resp.status_code == 200, 'resp.status_code == 200')
    pkg = resp.json["result"]
    if exp == FULL:
        assert_full_pkg(w, tier, pkg)
    else:
        assert_masked_pkg(w, tier, pkg)
        assert_no_leak(w, tier, resp.body, "package_show")


def _page(w: World, role: str, tier: str, exp: str, url: str, what: str) -> Any:
    """GET a page as ``role``: refused where the cell is HIDDEN (None), else shown, and without the data
    where it is META; the response."""
    resp = w.get(role, url)
    if exp == HIDDEN:
        expect(_denied(resp.status_code), '_denied(resp.status_code)')
        return None
    expect(resp.status_code == 200, 'resp.status_code == 200')
    if exp == META:
        assert_no_leak(w, tier, resp.body, what)
    return resp


@surface("dataset_page")
def _dataset_page(w: World, role: str, tier: str, exp: str) -> None:
    resp = _page(w, role, tier, exp, f"/dataset/{w.pkgs[tier]['name']}", "dataset page")
    if resp is not None and exp == META:
        expect(any(f"/dataset/{ref}/request-access" in resp.body for ref in (w.pkgs[tier]["id"], w.pkgs[tier]["name"])),
               "the dataset page links to the access-request page")


@surface("resource_page")
def _resource_page(w: World, role: str, tier: str, exp: str) -> None:
    for kind in ("link", "upload"):
        rid = w.res[tier][kind]["id"]
        _page(w, role, tier, exp, f"/dataset/{w.pkgs[tier]['id']}/resource/{rid}", f"resource page {kind}")


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
        expect(resp.status_code == 200, (variant, resp.body[:300]))
        result = resp.json["result"]
        if exp != FULL:
            assert_no_leak(w, tier, resp.body, f"package_search {variant}")
        if exp == HIDDEN:
            expect(result["count"] == 0, variant)
        if not variant:
            if exp == HIDDEN:
                continue
            expect(result["count"] == 1, 'result["count"] == 1')
            if exp == FULL:
                assert_full_pkg(w, tier, result["results"][0])
            else:
                assert_masked_pkg(w, tier, result["results"][0])


@surface("search_index")
def _search_index(w: World, role: str, tier: str, exp: str) -> None:
    if role != "sysadmin":
        return  # the index is the same for every role: checked once per tier
    solr = tk.config["solr_url"].rstrip("/")
    doc = requests.get(f"{solr}/select", params={"q": f"id:{w.pkgs[tier]['id']}", "fl": "*", "wt": "json"},
                       timeout=10).json()["response"]["docs"][0]
    body = json.dumps(doc, ensure_ascii=False)
    if tier == "conditional":
        assert_no_leak(w, tier, body, "Solr document")
    else:
        # open/not_shared keep CKAN's own behaviour
        expect(w.secrets(tier)["link"] in body, "Solr document of an open/not_shared dataset keeps its URL")


@surface("package_list")
def _package_list(w: World, role: str, tier: str, exp: str) -> None:
    names = w.api(role, "package_list", 200).json["result"]
    expect((w.pkgs[tier]["name"] in names) == (tier != "not_shared"), '(w.pkgs[tier]["name"] in names) == (tier != "not_shared")')


@surface("current_package_list_with_resources")
def _current_list(w: World, role: str, tier: str, exp: str) -> None:
    limit = 1000
    resp = w.api(role, "current_package_list_with_resources", 200, limit=limit)
    listed = resp.json["result"]
    found = [p for p in listed if p["id"] == w.pkgs[tier]["id"]]
    if exp != FULL:
        assert_no_leak(w, tier, resp.body, "current_package_list_with_resources")
    if tier == "not_shared":
        expect(not found or exp == FULL, "a not_shared dataset listed to a non-member")
        return
    if found:
        (assert_full_pkg if exp == FULL else assert_masked_pkg)(w, tier, found[0])
    else:  # on a large live portal the dataset may sit beyond the first page
        expect(len(listed) >= limit, "a public dataset missing from a complete listing")


@surface("package_autocomplete")
def _autocomplete(w: World, role: str, tier: str, exp: str) -> None:
    resp = w.get(role, "/api/3/action/package_autocomplete", query_string={"q": w.pkgs[tier]["name"]})
    names = [p["name"] for p in resp.json["result"]]
    if exp == HIDDEN:
        expect(w.pkgs[tier]["name"] not in names, 'w.pkgs[tier]["name"] not in names')
    elif tier != "not_shared":
        expect(w.pkgs[tier]["name"] in names, 'w.pkgs[tier]["name"] in names')


@surface("resource_search")
def _resource_search(w: World, role: str, tier: str, exp: str) -> None:
    for query in ([f"url:secret-link-{w.run}"], ["name:link", "description:"]):
        resp = w.get(role, "/api/3/action/resource_search", query_string={"query": query})
        expect(resp.status_code == 200, resp.body[:300])
        ids = [r["id"] for r in resp.json["result"]["results"]]
        if exp != FULL:
            assert_no_leak(w, tier, resp.body, f"resource_search {query}")
            expect(w.res[tier]["link"]["id"] not in ids or not query[0].startswith("url:"), 'w.res[tier]["link"]["id"] not in ids or not query[0].startswith("url:")')
        if exp == HIDDEN:
            expect(w.res[tier]["link"]["id"] not in ids, 'w.res[tier]["link"]["id"] not in ids')


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
        expect(w.pkgs[tier]["id"] not in pkgs, 'w.pkgs[tier]["id"] not in pkgs')
    if exp != FULL:
        assert_no_leak(w, tier, resp.body, "user_show")


def _listing(w: World, tier: str, exp: str, pkgs: dict[str, Any], body: str, where: str) -> None:
    pid = w.pkgs[tier]["id"]
    if exp != FULL:
        assert_no_leak(w, tier, body, where)
    if exp == HIDDEN:
        expect(pid not in pkgs, 'pid not in pkgs')
    elif pid in pkgs and pkgs[pid].get("resources"):
        (assert_full_pkg if exp == FULL else assert_masked_pkg)(w, tier, pkgs[pid])


@surface("org_counts")
def _org_counts(w: World, role: str, tier: str, exp: str) -> None:
    """Dataset counts of the owning organization: a hidden dataset is never counted."""
    if tier != "not_shared":
        return  # the count question is whether the not_shared dataset is counted
    want = len(TIERS) if exp == FULL else len(TIERS) - 1
    shown = w.api(role, "organization_show", 200, id=w.org["id"]).json["result"]["package_count"]
    expect(shown == want, f"organization_show package_count {shown} != {want}")
    listed = w.api(role, "organization_list", 200, all_fields=True, organizations=[w.org["name"]]).json["result"]
    counts = [o["package_count"] for o in listed if o["id"] == w.org["id"]]
    expect(counts == [want], f"organization_list package_count {counts} != [{want}]")
    page = w.get(role, f"/organization/{w.org['name']}")
    expect(page.status_code == 200 and (exp == FULL or w.pkgs[tier]["name"] not in page.body),
           "organization page lists a hidden dataset")


@surface("resource_show")
def _resource_show(w: World, role: str, tier: str, exp: str) -> None:
    for kind in ("link", "upload"):
        resp = w.api(role, "resource_show", id=w.res[tier][kind]["id"])
        if exp == HIDDEN:
            expect(_denied(resp.status_code), '_denied(resp.status_code)')
            continue
        expect(resp.status_code == 200, 'resp.status_code == 200')
        res = resp.json["result"]
        if exp == FULL:
            expect(res["sharing_restricted"] is False, 'res["sharing_restricted"] is False')
            if kind == "link":
                expect(res["url"] == w.secrets(tier)["link"], 'res["url"] == w.secrets(tier)["link"]')
        else:
            expect(res["sharing_restricted"] is True, 'res["sharing_restricted"] is True')
            assert_no_leak(w, tier, resp.body, "resource_show")


@surface("resource_views")
def _resource_views(w: World, role: str, tier: str, exp: str) -> None:
    rid = w.res[tier]["link"]["id"]
    listing = w.api(role, "resource_view_list", id=rid)
    show = w.api(role, "resource_view_show", id=w.views[tier])
    page = w.get(role, f"/dataset/{w.pkgs[tier]['id']}/resource/{rid}/view/{w.views[tier]}")
    if exp == FULL:
        expect(listing.status_code == 200 and [v["id"] for v in listing.json["result"]] == [w.views[tier]], 'listing.status_code == 200 and [v["id"] for v in listing.json["result"]] == [w.views[tier]]')
        expect(show.status_code == 200, 'show.status_code == 200')
        expect(page.status_code == 200, 'page.status_code == 200')
        return
    if exp == META:
        expect(listing.status_code == 200 and listing.json["result"] == [], 'listing.status_code == 200 and listing.json["result"] == []')
    else:
        expect(_denied(listing.status_code), '_denied(listing.status_code)')
    expect(_denied(show.status_code), '_denied(show.status_code)')
    expect(_denied(page.status_code), '_denied(page.status_code)')
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
        expect(r_up.status_code == 200 and r_up.body == s["upload_body"], 'r_up.status_code == 200 and r_up.body == s["upload_body"]')
        expect(r_link.status_code in (301, 302) and r_link.headers["Location"] == s["link"], 'r_link.status_code in (301, 302) and r_link.headers["Location"] == s["link"]')
        return
    for resp in (r_up, r_up2, r_link):
        expect(_denied(resp.status_code), resp.status_code)
        # the 403 page may echo the URL the requester typed (upload file name): only content and
        # the link target are secret here
        body = resp.body + resp.headers.get("Location", "")
        for marker in (s["link"], s["upload_body"]):
            expect(marker not in body, f"download: leaked {marker!r}")
    if exp == META:
        expect(r_up.status_code == 403, 'r_up.status_code == 403')
        expect(f"/dataset/{pid}/request-access" in r_up.body, 'f"/dataset/{pid}/request-access" in r_up.body')


@surface("datastore")
def _datastore(w: World, role: str, tier: str, exp: str) -> None:
    rid = w.res[tier]["datastore"]["id"]
    s = w.secrets(tier)
    search = w.api(role, "datastore_search", resource_id=rid)
    info = w.api(role, "datastore_info", id=rid)
    dump = w.get(role, f"/datastore/dump/{rid}")
    sql = w.get(role, "/api/3/action/datastore_search_sql", query_string={"sql": f'SELECT * FROM "{rid}"'})
    if sql.status_code == 400 and "datastore_search_sql" in sql.body:
        sql = None  # the portal has SQL search switched off (ckan.datastore.sqlsearch.enabled = false)
    if exp == FULL:
        expect(search.status_code == 200 and s["ds_value"] in search.body, 'search.status_code == 200 and s["ds_value"] in search.body')
        expect(info.status_code == 200, 'info.status_code == 200')
        expect(dump.status_code == 200 and s["ds_value"] in dump.body, 'dump.status_code == 200 and s["ds_value"] in dump.body')
        expect(sql is None or (sql.status_code == 200 and s["ds_value"] in sql.body), "datastore_search_sql")
        return
    for label, resp in (("datastore_search", search), ("datastore_info", info), ("dump", dump), ("sql", sql)):
        if resp is None:
            continue
        expect(_denied(resp.status_code), (label, resp.status_code))
        expect(s["ds_value"] not in resp.body, 's["ds_value"] not in resp.body')


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
        expect(listing.status_code == 200 and show.status_code == 200 and data.status_code == 200, (show.body[:3000], data.body[:300]))
        return
    for label, resp in (("package_activity_list", listing), ("activity_show", show), ("activity_data_show", data),
                        ("activity_diff", diff), ("recently_changed", recent), ("organization_activity_list", org)):
        assert_no_leak(w, tier, resp.body, f"activity {label}")
    if exp == HIDDEN:
        expect(_denied(listing.status_code) and _denied(show.status_code) and _denied(data.status_code), '_denied(listing.status_code) and _denied(show.status_code) and _denied(data.status_code)')
    else:
        expect(listing.status_code == 200 and listing.json["result"], 'listing.status_code == 200 and listing.json["result"]')
        expect(show.status_code == 200, 'show.status_code == 200')
        expect(_denied(data.status_code) and _denied(diff.status_code), '_denied(data.status_code) and _denied(diff.status_code)')


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
        expect(pages["stream"].status_code == 200, 'pages["stream"].status_code == 200')
        expect(pages["resource_history"].status_code == 200, 'pages["resource_history"].status_code == 200')
        return
    for name, resp in pages.items():
        assert_no_leak(w, tier, resp.body, f"activity page {name}")
    if exp == HIDDEN:
        expect(all(_denied(r.status_code) for r in pages.values()), 'all(_denied(r.status_code) for r in pages.values())')
    else:
        expect(pages["stream"].status_code == 200, 'pages["stream"].status_code == 200')
        expect(_denied(pages["resource_history"].status_code), '_denied(pages["resource_history"].status_code)')


@surface("feeds")
def _feeds(w: World, role: str, tier: str, exp: str) -> None:
    for url in ("/feeds/dataset.atom", f"/feeds/organization/{w.org['name']}.atom", "/feeds/custom.atom"):
        resp = w.get(role, url, query_string={"q": f"name:{w.pkgs[tier]['name']}"} if "custom" in url else None)
        expect(resp.status_code == 200, url)
        if exp != FULL:
            assert_no_leak(w, tier, resp.body, f"feed {url}")
        if exp == HIDDEN:
            expect(f"/dataset/{w.pkgs[tier]['name']}" not in resp.body, 'f"/dataset/{w.pkgs[tier][\'name\']}" not in resp.body')
            expect(w.pkgs[tier]["id"] not in resp.body, 'w.pkgs[tier]["id"] not in resp.body')




@dataclass(frozen=True)
class CellResult:
    role: str
    tier: str
    surface: str
    expected: str
    ok: bool
    message: str = ""


def run_cells(w: World, roles: Iterable[str] = ROLES, tiers: Iterable[str] = TIERS,
              surfaces: Optional[Iterable[str]] = None) -> list[CellResult]:
    """Every chosen surface × role × tier; never stops at the first failure."""
    results = []
    for role in roles:
        for tier in tiers:
            expected = EXPECT[role][TIERS.index(tier)]
            for name in sorted(surfaces or SURFACES):
                try:
                    SURFACES[name](w, role, tier, expected)
                except CellFailure as err:
                    results.append(CellResult(role, tier, name, expected, False, str(err)[:400]))
                else:
                    results.append(CellResult(role, tier, name, expected, True))
    return results


def render_table(results: list[CellResult]) -> str:
    """A role × tier table: the expected access level and how many surfaces held, failures listed."""
    lines = [f"{'role':<13}" + "".join(f"{t:<24}" for t in TIERS)]
    for role in ROLES:
        cells = []
        for tier in TIERS:
            mine = [r for r in results if r.role == role and r.tier == tier]
            if not mine:
                cells.append(f"{'-':<24}")
                continue
            passed = sum(r.ok for r in mine)
            mark = "ok" if passed == len(mine) else "FAIL"
            cells.append(f"{mine[0].expected + ' ' + str(passed) + '/' + str(len(mine)) + ' ' + mark:<24}")
        lines.append(f"{role:<13}" + "".join(cells))
    for r in results:
        if not r.ok:
            lines.append(f"FAIL [{r.role} × {r.tier} × {r.surface}] expected {r.expected}: {r.message}")
    return "\n".join(lines)
