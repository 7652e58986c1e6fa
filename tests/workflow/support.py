"""Shared set-up of the workflow and audit tests (no tests here): departments, people, datasets over HTTP."""
from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ckan import model
from ckan.tests import factories
from ckan.tests.helpers import call_action

PLUGINS = "activity datastore sharing"
PASSWORD = "Correct-Horse-Battery-9"


def api(app, action: str, token: str | None = None, status: int | None = 200, **kwargs: Any) -> dict[str, Any]:
    """POST an action over HTTP (JSON) and return the decoded body; asserts the status when given."""
    headers = {"Authorization": token} if token else {}
    resp = app.post(f"/api/3/action/{action}", json=kwargs, headers=headers, status=status)
    return resp.json


def api_get(app, action: str, token: str | None = None, status: int | None = 200, **params: Any) -> dict[str, Any]:
    headers = {"Authorization": token} if token else {}
    return app.get(f"/api/3/action/{action}", query_string=params, headers=headers, status=status).json


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page (what a browser would post back)."""
    match = re.search(r'name="_csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="_csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclass
class World:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pkgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    res: dict[str, dict[str, Any]] = field(default_factory=dict)


ROLES = ("sysadmin", "requester", "colleague", "admin_b", "editor_b", "member_b", "admin_c", "plain")


def build_world(app) -> World:
    """Department A (requester, colleague), department B (admin, editor, member) owning one dataset per
    tier, department C (admin); a plain user; the conditional dataset has a link, an upload and a
    DataStore table."""
    w = World()
    run = uuid.uuid4().hex[:6]
    for role in ROLES:
        extra = {"sysadmin": True} if role == "sysadmin" else {}
        w.users[role] = factories.User(name=f"{role.replace('_', '-')}-{run}", email=f"{role}-{run}@example.org",
                                       password=PASSWORD, **extra)
        w.tokens[role] = factories.APIToken(user=w.users[role]["name"])["token"]
    w.orgs["a"] = factories.Organization(name=f"dept-a-{run}", users=[
        {"name": w.users["requester"]["name"], "capacity": "member"},
        {"name": w.users["colleague"]["name"], "capacity": "member"},
    ])
    w.orgs["b"] = factories.Organization(name=f"dept-b-{run}", users=[
        {"name": w.users["admin_b"]["name"], "capacity": "admin"},
        {"name": w.users["editor_b"]["name"], "capacity": "editor"},
        {"name": w.users["member_b"]["name"], "capacity": "member"},
    ])
    w.orgs["c"] = factories.Organization(name=f"dept-c-{run}", users=[
        {"name": w.users["admin_c"]["name"], "capacity": "admin"},
    ])
    for tier in ("open", "conditional", "not_shared"):
        extra = {"conditional": {"share_condition": "政务用途 / government use", "share_scope": "本市政务部门"},
                 "not_shared": {"share_basis": "Law X art. 1"}}.get(tier, {})
        w.pkgs[tier] = api(app, "package_create", w.tokens["admin_b"], name=f"wf-{tier.replace('_', '-')}-{run}",
                           title=f"Workflow {tier}", owner_org=w.orgs["b"]["id"], sharing_tier=tier,
                           notes="workflow test dataset", **extra)["result"]
    pkg = w.pkgs["conditional"]
    w.res["link"] = api(app, "resource_create", w.tokens["admin_b"], package_id=pkg["id"], name="link",
                        url=f"http://data.example.org/secret-{run}.csv", format="CSV")["result"]
    w.res["upload"] = app.post(
        "/api/3/action/resource_create",
        data={"package_id": pkg["id"], "name": "upload", "upload": (io.BytesIO(b"a,b\n1,2\n"), "rows.csv")},
        headers={"Authorization": w.tokens["admin_b"]}, content_type="multipart/form-data",
    ).json["result"]
    ds = call_action(
        "datastore_create", {"user": w.users["sysadmin"]["name"]},
        resource={"package_id": pkg["id"], "name": "table"},
        fields=[{"id": "v", "type": "text"}], records=[{"v": f"row-{run}"}], force=True,
    )
    w.res["table"] = model.Resource.get(ds["resource_id"]).as_dict()
    return w


# The request fields the 2025 Regulation adds (Art. 20): 使用依据, 使用范围, 共享方式.
ART20_FIELDS = {"use_basis": "《政务数据共享条例》第二十条 / Art. 20", "use_scope": "本部门统计科 / our statistics unit",
                "share_method": "文件下载"}


def request_body(w: World, **overrides: Any) -> dict[str, Any]:
    body = {"package_id": w.pkgs["conditional"]["id"], "purpose": "人口统计分析 / statistics",
            "use_scenario": "季度报告 / quarterly report", "requested_days": 30, **ART20_FIELDS}
    body.update(overrides)
    return body


def ctx(w: World, role: str) -> dict[str, Any]:
    """An action context of a real user (auth is checked, unlike ckan.tests.helpers.call_action's default)."""
    return {"user": w.users[role]["name"], "ignore_auth": False}


def login(app, w: World, role: str) -> None:
    """Log in through CKAN's login form, as a browser does (a fresh cookie jar per user).

    (``app.set_session_user`` writes its cookie for ``localhost`` while requests go to ``ckan.site_url``.)
    """
    app.client = app.test_client()
    page = app.get("/user/login")
    resp = app.post("/user/login", data={"login": w.users[role]["name"], "password": PASSWORD,
                                         "_csrf_token": csrf_token(page.body)}, follow_redirects=False)
    assert resp.status_code == 302, "login failed"
