"""Regression tests of the holes found by attacking the running portal (issue 10), over HTTP."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.sharing.access import roles
from ckanext.sharing.ledger import chain, events
from ckanext.sharing.model import SharingAudit, SharingGrant, SharingRequest

from tests.workflow.support import PLUGINS, api, api_get, build_world, csrf_token, ctx, login, request_body

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", f"{PLUGINS} datatables_view image_view"),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


@pytest.fixture
def world(app):
    return build_world(app)


def _secret(w) -> str:
    return w.res["link"]["url"]


def _granted(app, w, role: str = "requester", **approve) -> dict:
    req = api(app, "sharing_request_create", w.tokens[role], **request_body(w))["result"]
    api(app, "sharing_request_approve", w.tokens["admin_b"], id=req["id"], **approve)
    return req


# --- hole 1: resource_search as an oracle --------------------------------------------------------


def test_resource_search_counts_no_hidden_url_match(app, world):
    """A url: match on a conditional resource is neither counted nor paged for anonymous users."""
    term = "url:" + _secret(world).rsplit("/", 1)[-1][:-4]
    for extra in ({"limit": 0}, {"offset": 100}, {}):
        result = api_get(app, "resource_search", query=term, **extra)["result"]
        assert result["count"] == 0 and result["results"] == []


def test_resource_search_does_not_order_masked_rows_by_url(app, world):
    """Ordering by url only orders rows whose data the caller may get (no conditional row for anonymous)."""
    result = api_get(app, "resource_search", query="format:CSV", order_by="url")["result"]
    assert all(r["package_id"] != world.pkgs["conditional"]["id"] for r in result["results"])
    assert result["count"] == len(result["results"])


def test_resource_search_on_metadata_fields_returns_masked_rows(app, world):
    """A match on an allow-listed field returns the conditional resource, masked, and counts it."""
    result = api_get(app, "resource_search", query="name:link")["result"]
    ids = [r["id"] for r in result["results"]]
    assert world.res["link"]["id"] in ids and result["count"] == len(ids)
    row = result["results"][ids.index(world.res["link"]["id"])]
    assert row["sharing_restricted"] is True and row["url"].endswith("/request-access")


def test_resource_search_grantee_and_member_match_on_url(app, world):
    """The grantee and the owning department still find the resource by its url."""
    _granted(app, world)
    term = "url:" + _secret(world).rsplit("/", 1)[-1]
    for role in ("requester", "editor_b", "sysadmin"):
        result = api_get(app, "resource_search", world.tokens[role], query=term)["result"]
        assert result["count"] == 1 and result["results"][0]["url"] == _secret(world), role
    assert api_get(app, "resource_search", world.tokens["plain"], query=term)["result"]["count"] == 0


def test_resource_search_bad_paging_is_a_validation_error(app, world):
    """A huge offset or a NUL in the query is a 409 naming the field, not a 500."""
    err = api_get(app, "resource_search", status=409, query="name:x", offset=str(2**70))["error"]
    assert "offset" in err
    err = api_get(app, "resource_search", status=409, query="name:a\x00b")["error"]
    assert "query" in err


# --- hole 2: followee lists ---------------------------------------------------------------------


def test_followee_lists_mask_conditional_resources(app, world):
    """A follower of a conditional dataset gets its resources masked in both followee lists."""
    pkg = world.pkgs["conditional"]
    api(app, "follow_dataset", world.tokens["requester"], id=pkg["id"])
    me = world.users["requester"]["name"]
    for action in ("dataset_followee_list", "followee_list"):
        body = app.get(f"/api/3/action/{action}", query_string={"id": me},
                       headers={"Authorization": world.tokens["requester"]}).body
        assert pkg["id"] in body, action
        assert _secret(world) not in body and "rows.csv" not in body, action
        assert "request-access" in body, action


# --- hole 3: CSRF ----------------------------------------------------------------------------


def test_token_request_does_not_switch_off_csrf_on_our_forms(app, world):
    """After a token request to the decide view, a cookie POST without a CSRF token is refused."""
    req = api(app, "sharing_request_create", world.tokens["requester"], **request_body(world))["result"]
    url = f"/access-request/{req['id']}"
    app.post(url, data={"decision": "nothing"}, headers={"Authorization": world.tokens["admin_c"]}, status=403)
    login(app, world, "admin_b")
    resp = app.post(url, data={"decision": "approve"}, follow_redirects=False)
    assert resp.status_code == 400
    assert model.Session.get(SharingRequest, req["id"]).state == "pending"
    # with the page's token the same form works
    token = csrf_token(app.get(url, headers={"Accept": "text/html"}).body)
    resp = app.post(url, data={"decision": "approve", "_csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 302
    model.Session.expire_all()
    assert model.Session.get(SharingRequest, req["id"]).state == "approved"


def test_token_request_does_not_switch_off_csrf_on_core_forms(app, world):
    """After a token request to core's dataset edit view, a cookie POST without a token is refused."""
    pkg = world.pkgs["open"]
    url = f"/dataset/edit/{pkg['name']}"
    app.post(url, data={"title": "token edit"}, headers={"Authorization": world.tokens["plain"]}, status=403)
    login(app, world, "admin_b")
    resp = app.post(url, data={"title": "forged", "name": pkg["name"]}, follow_redirects=False)
    assert resp.status_code == 400
    assert model.Package.get(pkg["id"]).title != "forged"


# --- hole 4: the allow-list --------------------------------------------------------------------


def test_cache_url_and_url_extras_are_not_shown_to_metadata_users(app, world):
    """cache_url and any extra of a conditional resource reach neither package_show nor the index."""
    run = uuid.uuid4().hex[:8]
    pkg = world.pkgs["conditional"]
    res = api(app, "resource_create", world.tokens["admin_b"], package_id=pkg["id"], name="mirrored",
              url=f"http://data.example.org/m-{run}.csv", cache_url=f"http://cache.example.org/c-{run}",
              mirror=f"/var/lib/ckan/storage/x-{run}", download_link=f"ftp://files.example.org/d-{run}")["result"]
    for role in (None, "plain", "requester"):
        token = world.tokens[role] if role else None
        headers = {"Authorization": token} if token else {}
        for url, params in (("/api/3/action/package_show", {"id": pkg["id"]}),
                            ("/api/3/action/resource_show", {"id": res["id"]}),
                            ("/api/3/action/package_search", {"q": f"name:{pkg['name']}"}),
                            ("/api/3/action/package_search", {"q": run})):
            body = app.get(url, query_string=params, headers=headers).body
            assert run not in body, (role, url, params)
    shown = api_get(app, "resource_show", world.tokens["editor_b"], id=res["id"])["result"]
    assert shown["cache_url"].endswith(run) and shown["mirror"].endswith(run)
    found = api_get(app, "package_search", world.tokens["editor_b"], q=f"name:{pkg['name']}")["result"]
    again = [r for r in found["results"][0]["resources"] if r["id"] == res["id"]][0]
    assert again["cache_url"].endswith(run) and again["url"].endswith(f"m-{run}.csv")


# --- hole 5: grants come back --------------------------------------------------------------------


def test_not_shared_revokes_grants_whatever_the_path(app, world):
    """conditional → open → not_shared → conditional: the grant was revoked on entering not_shared."""
    _granted(app, world)
    pkg = world.pkgs["conditional"]
    api(app, "package_patch", world.tokens["admin_b"], id=pkg["id"], sharing_tier="open")
    grant = model.Session.query(SharingGrant).filter_by(package_id=pkg["id"]).one()
    assert grant.state == "active"  # conditional → open keeps grants until they expire (documented)
    api(app, "package_patch", world.tokens["admin_b"], id=pkg["id"], sharing_tier="not_shared",
        share_basis="Law Y art. 2")
    api(app, "package_patch", world.tokens["admin_b"], id=pkg["id"], sharing_tier="conditional",
        share_condition="again", share_scope="city departments")
    model.Session.expire_all()
    assert model.Session.query(SharingGrant).filter_by(package_id=pkg["id"]).one().state == "revoked"
    check = api_get(app, "sharing_access_check", world.tokens["requester"], package_id=pkg["id"])["result"]
    assert check["allowed"] is False


# --- hole 6: a dataset moves to another organization ----------------------------------------------


def test_moving_a_dataset_moves_its_requests_and_grants(app, world):
    """After a move from B to C, C's deciders see the requests and grants, B's no longer do."""
    pkg = world.pkgs["conditional"]
    granted = _granted(app, world, "colleague")
    pending = api(app, "sharing_request_create", world.tokens["requester"], **request_body(world))["result"]
    api(app, "package_patch", world.tokens["sysadmin"], id=pkg["id"], owner_org=world.orgs["c"]["id"])
    model.Session.expire_all()
    assert {r.owner_org for r in model.Session.query(SharingRequest).filter_by(package_id=pkg["id"])} == \
        {world.orgs["c"]["id"]}
    assert {g.owner_org for g in model.Session.query(SharingGrant).filter_by(package_id=pkg["id"])} == \
        {world.orgs["c"]["id"]}
    deciders = {u.name for u in roles.deciders_of(model.Session.get(SharingRequest, pending["id"]).owner_org)}
    assert world.users["admin_c"]["name"] in deciders and world.users["admin_b"]["name"] not in deciders
    queue = api_get(app, "sharing_request_list", world.tokens["admin_c"], organization_id=world.orgs["c"]["id"])
    assert {r["id"] for r in queue["result"]["results"]} == {granted["id"], pending["id"]}
    api_get(app, "sharing_request_show", world.tokens["admin_b"], status=403, id=pending["id"])
    old = api_get(app, "sharing_request_list", world.tokens["admin_b"])["result"]
    assert pending["id"] not in {r["id"] for r in old["results"]}
    api(app, "sharing_request_reject", world.tokens["admin_c"], id=pending["id"], reason="moved")
    rows = model.Session.query(SharingAudit).filter_by(package_id=pkg["id"], action=events.OWNER_CHANGE).all()
    assert len(rows) == 1 and rows[0].detail["new"] == world.orgs["c"]["id"]
    assert chain.verify()[0]


# --- hole 9: smaller ones ------------------------------------------------------------------------


def test_resource_view_activities_of_not_shared_datasets_are_hidden(app, world):
    """Resource-view activities of a not_shared dataset reach neither user_activity_list nor the page."""
    pkg = world.pkgs["not_shared"]
    res = api(app, "resource_create", world.tokens["admin_b"], package_id=pkg["id"], name="hidden-res",
              url="http://data.example.org/hidden.png", format="PNG")["result"]
    title = f"hidden-view-{uuid.uuid4().hex[:6]}"
    api(app, "resource_view_create", world.tokens["admin_b"], resource_id=res["id"], view_type="image_view",
        title=title, image_url="http://data.example.org/hidden.png")
    name = world.users["admin_b"]["name"]
    for token in (None, world.tokens["plain"]):
        acts = api_get(app, "user_activity_list", token, id=name)["result"]
        assert all(a["object_id"] != pkg["id"] for a in acts)
        assert title not in app.get(f"/user/activity/{name}",
                                    headers={"Authorization": token} if token else {}).body
    acts = api_get(app, "user_activity_list", world.tokens["editor_b"], id=name)["result"]
    assert any(a["activity_type"] == "new resource view" for a in acts)


def test_date_time_expiry_may_not_pass_the_requested_period(app, world):
    """An expires date-time later than the requested period is refused; a bare date gets its day."""
    req = api(app, "sharing_request_create", world.tokens["requester"], **request_body(world))["result"]
    late = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30, hours=12)).isoformat()
    err = api(app, "sharing_request_approve", world.tokens["admin_b"], status=409, id=req["id"], expires=late)
    assert "expires" in err["error"]
    day = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    grant = api(app, "sharing_request_approve", world.tokens["admin_b"], id=req["id"], expires=day)["result"]
    assert grant["expires"].startswith(day)


def test_guard_answers_404_for_not_shared_data(app, world):
    """A download of a not_shared resource is a 404 that neither names the dataset nor says "on request"."""
    pkg = world.pkgs["not_shared"]
    res = api(app, "resource_create", world.tokens["admin_b"], package_id=pkg["id"], name="hidden",
              url="http://data.example.org/hidden.csv")["result"]
    for token in (None, world.tokens["plain"]):
        resp = app.get(f"/dataset/{pkg['id']}/resource/{res['id']}/download",
                       headers={"Authorization": token} if token else {}, status=404)
        assert "request-access" not in resp.body and "on request" not in resp.body


def test_datatables_routes_refuse_metadata_users(app, world):
    """DataTables' ajax and filtered-download routes answer 403 (not 500) to metadata-only users."""
    view = call_action("resource_view_create", ctx(world, "sysadmin"), resource_id=world.res["table"]["id"],
                       view_type="datatables_view", title="table")
    form = {"draw": "1", "start": "0", "length": "10", "search[value]": "", "order[0][column]": "0",
            "order[0][dir]": "asc", "columns[0][data]": "v", "columns[0][name]": "v",
            "columns[0][searchable]": "true", "columns[0][search][value]": ""}
    for route in ("ajax", "filtered-download"):
        data = dict(form, params="{}", format="csv") if route != "ajax" else form
        for role in ("requester", None):
            headers = {"Authorization": world.tokens[role]} if role else {}
            resp = app.post(f"/datatables/{route}/{view['id']}", data=data, headers=headers)
            assert resp.status_code == 403, (route, role, resp.status_code)
            assert "row-" not in resp.body
    resp = app.post(f"/datatables/ajax/{view['id']}", data=form, headers={"Authorization": world.tokens["editor_b"]})
    assert resp.status_code == 200 and "row-" in resp.body


# --- found by the crawler: the home page's featured organization ------------------------------------


def test_home_page_features_no_hidden_dataset(app):
    """The home page's featured organization (core reads it with ignore_auth) lists neither a not_shared
    dataset nor counts it for anonymous visitors; its members still see it there."""
    admin = factories.User()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"}], image_url="")
    hidden = call_action("package_create", {"user": admin["name"]}, name="home-hidden", title="HOME-HIDDEN-TITLE",
                         owner_org=org["id"], sharing_tier="not_shared", share_basis="依据")
    call_action("package_create", {"user": admin["name"]}, name="home-open", title="HOME-OPEN-TITLE",
                owner_org=org["id"])
    page = app.get("/").get_data(as_text=True)
    assert "HOME-OPEN-TITLE" in page
    assert "HOME-HIDDEN-TITLE" not in page and hidden["id"] not in page
    token = factories.APIToken(user=admin["name"])["token"]
    assert "HOME-HIDDEN-TITLE" in app.get("/", headers={"Authorization": token}).get_data(as_text=True)
