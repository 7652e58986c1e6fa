"""The leak crawler: every registered action and every Flask route, as every role (SPEC §3, last paragraphs).

The conformance matrix (:mod:`ckanext.sharing.dev.conformance`) checks a hand-written list of surfaces; this
crawler is exhaustive by construction instead. Over the same :class:`~conformance.World` (which plants unique
canaries per tier: link URL, upload name and contents, DataStore row, ``cache_url``, ``original_url``,
``download_url``, ``access_url``, a URL-valued resource extra, and a metadata marker in notes, tag and resource
description) it

1. lists every action of CKAN's action registry after all plugins loaded (``ckan.logic._actions``) and every
   rule of the Flask URL map,
2. fills each one's parameters from the planted objects (dataset ids, resource ids, view ids, activity ids,
   organization, group and user names; the parameter names an action reads are taken from its own source),
3. calls it as every role of SPEC §2 that may not have some canary (GET and POST; actions with side effects last,
   so they cannot spoil the read phase),
4. reports every canary found in a body or header where the role may not have it, naming the action or route,
   the role and the tier the canary belongs to.

What it cannot call meaningfully is listed in :data:`SKIPPED` (one place, with the reason).
"""
from __future__ import annotations

import fnmatch
import inspect
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Optional
from urllib.parse import quote

from ckanext.sharing.dev import conformance as cf

# --- what the crawler does not call, in one place -------------------------------------------------------------

#: action or route endpoint → why it is not called. Routes are named by their Flask endpoint.
SKIPPED: dict[str, str] = {
    "api.action": "the action API itself: every action is called through it by the action crawl",
    "api.action_get": "the GET form of the action API: covered by the action crawl",
    "static": "static files: carry no dataset data",
    "webassets.index": "bundled CSS/JS: carry no dataset data",
    "user.login": "would replace the role's session; login pages carry no dataset data",
    "user.logout": "would end the role's session",
    "user.logged_out_page": "logout landing page",
}
#: prefixes of endpoints skipped for the same reason as their entry in SKIPPED
SKIPPED_PREFIXES: dict[str, str] = {
    "_debug_toolbar.": "the debug toolbar (development only)",
}
#: with ``sample_routes`` (the test-suite's bounded crawl) pages are not rendered as these roles: they lack
#: exactly the datasets ``member`` lacks (the other organization's), so member's pages stand for theirs;
#: every action is still called as them
SAMPLED_OUT_OF_ROUTES = {role: "sampled: lacks the same datasets as member, whose pages are crawled"
                         for role in ("editor", "admin", "collaborator")}
FULL_ROLES_REASON = ("full access to every planted tier: there is no canary this role may not have, so no call "
                     "can fail for it (mutating actions as it would also destroy the world)")

# --- canaries --------------------------------------------------------------------------------------------------

DATA, META, IDENT = "data", "metadata", "id"


@dataclass(frozen=True)
class Canary:
    """A planted value: ``kind`` says who may see it (data: full access; metadata/id: anyone but hidden)."""

    value: str
    tier: str
    kind: str
    name: str


@dataclass(frozen=True)
class Finding:
    """A canary where the role may not have it."""

    surface: str
    role: str
    tier: str
    canary: str
    method: str
    target: str
    status: int

    def key(self) -> tuple[str, str, str]:
        return (self.surface, self.role, self.tier)

    def __str__(self) -> str:
        return (f"[{self.surface} × {self.role} × {self.tier}] {self.canary} in {self.method} {self.target} "
                f"→ {self.status}")


@dataclass
class Report:
    """What one crawl did: its size, its findings, its skips, the 5xx answers it met (reported, not failed)."""

    actions: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    calls: int = 0
    answered: int = 0
    seconds: float = 0.0
    complete: bool = True
    findings: list[Finding] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    server_errors: list[tuple[str, str, str]] = field(default_factory=list)
    phases: dict[str, tuple[int, float]] = field(default_factory=dict)

    def keys(self) -> set[tuple[str, str, str]]:
        return {f.key() for f in self.findings}

    def render(self) -> str:
        """A short summary: size, time, skips, 5xx, then every finding (one per surface × role × tier)."""
        lines = [
            f"leak crawl: {len(self.actions)} actions × {len(self.routes)} routes × {len(self.roles)} roles × "
            f"{len(self.tiers)} tiers: {self.calls} calls ({self.answered} answered 2xx) in {self.seconds:.0f} s"
            + ("" if self.complete else " — BUDGET EXHAUSTED, crawl incomplete"),
            "  " + "; ".join(f"{label}: {n} calls in {t:.0f} s" for label, (n, t) in self.phases.items()),
        ]
        for name, reason in sorted(self.skipped.items()):
            lines.append(f"  not called: {name}: {reason}")
        errors = sorted(set(self.server_errors))
        if errors:
            lines.append(f"  {len(errors)} surface × role answered 5xx: "
                         + ", ".join(f"{s} as {r} ({c})" for s, r, c in errors[:40]))
        seen: set[tuple[str, str, str]] = set()
        for finding in self.findings:
            if finding.key() not in seen:
                seen.add(finding.key())
                lines.append(f"LEAK {finding}")
        return "\n".join(lines)


def canaries(w: cf.World) -> list[Canary]:
    """Every planted value per tier, with the kind that says who may see it."""
    out = []
    for tier in places(w):
        s = w.secrets(tier)
        for name in cf.DATA_SECRETS:
            out.append(Canary(s[name], tier, DATA, name))
        out.append(Canary(s["meta"], tier, META, "meta"))
        out.append(Canary(w.pkgs[tier]["id"], tier, IDENT, "dataset id"))
        out.append(Canary(w.pkgs[tier]["name"], tier, IDENT, "dataset name"))
    return out


def places(w: cf.World) -> list[str]:
    """The planted datasets' keys: the tiers, then the FOREIGN datasets when the world has them."""
    return [p for p in cf.TIERS + cf.FOREIGN if p in w.pkgs]


def forbidden(role: str, all_canaries: Iterable[Canary]) -> list[Canary]:
    """The canaries this role may not have: data unless full, metadata and identity when hidden."""
    out = []
    for c in all_canaries:
        level = cf.expected_level(role, c.tier)
        if (c.kind == DATA and level != cf.FULL) or (c.kind != DATA and level == cf.HIDDEN):
            out.append(c)
    return out


def scan(text: str, request_text: str, watch: Iterable[Canary]) -> list[Canary]:
    """The watched canaries in ``text`` (also percent-encoded). A canary the request carried itself (a dataset
    id or name, a tag) does not count: a page may echo what the caller typed."""
    hits = []
    for c in watch:
        if c.value in request_text:
            continue
        if c.value in text or quote(c.value, safe="") in text:
            hits.append(c)
    return hits


# --- the registries ----------------------------------------------------------------------------------------------

def registered_actions() -> dict[str, Callable[..., Any]]:
    """CKAN's action registry after every plugin registered its actions and chains."""
    import ckan.plugins.toolkit as tk
    from ckan import logic

    tk.get_action("package_show")  # the registry fills on first use
    return dict(sorted(logic._actions.items()))


def is_read_only(fn: Callable[..., Any]) -> bool:
    """An action is read-only when CKAN marks it side-effect free (anything in logic/action/get.py is)."""
    return any(getattr(layer, "side_effect_free", False) for layer in _layers(fn))


def _layers(fn: Any) -> Iterator[Any]:
    """The wrapped action, its chain (functools.partial of chained functions) down to the original."""
    seen = set()
    todo = [fn]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        todo.append(getattr(cur, "__wrapped__", None))
        if hasattr(cur, "func"):  # functools.partial(chained, previous)
            todo.append(cur.func)
            todo.extend(a for a in getattr(cur, "args", ()) if callable(a))


_READS = re.compile(
    r"""data_dict(?:\.get\(|\.pop\(|\[)\s*['"]([a-z_]{1,40})['"]"""  # data_dict.get('x'), data_dict['x']
    r"""|_get_or_bust\(\s*data_dict,\s*['"]([a-z_]{1,40})['"]"""  # _get_or_bust(data_dict, 'x')
    r"""|:param ([a-z_]{1,40}):""")  # the docstring's :param x:
_QUOTED = re.compile(r"""['"]([a-z_]{1,40})['"]""")


def keys_read(fn: Callable[..., Any]) -> set[str]:
    """The parameter names an action reads: its documented ``:param x:`` and what its layers read from
    ``data_dict`` by name; when that finds nothing, every quoted identifier of its source."""
    keys: set[str] = set()
    loose: set[str] = set()
    for layer in _layers(fn):
        try:
            source = inspect.getsource(layer)
        except (OSError, TypeError):
            continue
        keys |= {next(g for g in groups if g) for groups in _READS.findall(source)}
        loose |= set(_QUOTED.findall(source))
    return keys or loose


def url_rules(url_map: Any = None) -> list[Any]:
    """Every rule of the given Flask URL map (default: the current app's; the CLI runs inside one)."""
    if url_map is None:
        import flask

        url_map = flask.current_app.url_map
    return sorted(url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


def skip_reason(name: str) -> Optional[str]:
    """Why an action or route endpoint is not called (None: it is called)."""
    if name in SKIPPED:
        return SKIPPED[name]
    for prefix, reason in SKIPPED_PREFIXES.items():
        if name.startswith(prefix):
            return reason
    if name.endswith(".static"):
        return SKIPPED["static"]
    return None


# --- parameters from the planted objects ------------------------------------------------------------------------

def _objects(w: cf.World, tier: str) -> dict[str, list[str]]:
    """Candidate values per object kind for one tier (the org, group and users are shared by the tiers)."""
    users = [w.users["sysadmin"]["name"], w.users["other_org" if tier in cf.FOREIGN else "admin"]["name"]]
    if w.site_user:
        users.append(w.site_user)
    return {
        "package": [w.pkgs[tier]["id"]],
        "package_name": [w.pkgs[tier]["name"]],
        "resource": [w.res[tier][k]["id"] for k in ("link", "upload")],
        "datastore": [w.res[tier]["datastore"]["id"]],
        "view": [w.views[tier]],
        "activity": [w.activities[tier]],
        "old_activity": [w.old_activities[tier]],
        "organization": [(w.other_org if tier in cf.FOREIGN else w.org)["name"]],
        "group": [w.group["name"]],
        "user": users,
        "tag": [w.secrets(tier)["meta"]],
    }


# Which kind of object an ``id`` names, from the words of the action or endpoint name (first match wins).
_ID_KINDS: list[tuple[tuple[str, ...], str]] = [
    (("followee",), "user"),
    (("resource_view", "view"), "view"),
    (("changes", "activity_show", "activity_data", "activity_diff", "history"), "activity"),
    (("datastore", "datatables"), "datastore"),
    (("resource",), "resource"),
    (("package", "dataset", "request", "sharing"), "package"),
    (("organization",), "organization"),
    (("group", "member"), "group"),
    (("user", "dashboard", "followee", "api_token"), "user"),
    (("tag",), "tag"),
]
_ALL_KINDS = ("package", "resource", "view", "activity", "organization", "group", "user")


def id_kinds(name: str) -> tuple[str, ...]:
    """The object kinds an ``id`` parameter of this action or route likely names."""
    for words, kind in _ID_KINDS:
        if any(word in name for word in words):
            return (kind,)
    return _ALL_KINDS


def _id_values(kinds: tuple[str, ...], o: dict[str, list[str]], first: bool = False) -> list[str]:
    """Values for ``id``: every object of a known kind; the dataset when the name says nothing (files, jobs,
    vocabularies ... are not planted: the dataset's id is the one value that could make them answer about it)."""
    if kinds == _ALL_KINDS:
        return o["package"]
    return [v for kind in kinds for v in (o[kind][:1] if first else o[kind])]


def _fixed(w: cf.World, tier: str, o: dict[str, list[str]]) -> dict[str, Any]:
    """Values of the well-known parameter names (not ``id``); those an action reads are sent."""
    return {
        "package_id": o["package"][0], "dataset_id": o["package"][0], "object": o["package"][0],
        "resource_id": o["datastore"][0], "view_id": o["view"][0], "resource_view_id": o["view"][0],
        "activity_id": o["activity"][0], "new_id": o["activity"][0], "old_id": o["old_activity"][0],
        "user_id": o["user"][0], "username": o["user"][0], "user": o["user"][0],
        "organization_id": o["organization"][0], "owner_org": o["organization"][0], "org_id": o["organization"][0],
        "group_id": w.group["id"],
        "query": ["name:link"], "incomplete": w.run,
        "sql": f'SELECT * FROM "{o["datastore"][0]}"',
        "object_type": "package", "type": "dataset",
        "limit": 1000, "rows": 1000,
        "include_datasets": True, "include_private": True, "include_drafts": True, "include_deleted": True,
        "all_fields": True, "include_extras": True, "include_users": True, "include_dataset_count": True,
        "include_tags": True, "include_groups": True, "include_plugin_extras": True, "include_total": True,
        "include_hidden_activity": True, "include_followers": True, "include_data": True,
    }


def action_params(w: cf.World, name: str, keys: set[str], where: Iterable[str],
                  first: bool = False) -> list[dict[str, Any]]:
    """Parameter sets for one action over the given planted datasets: the keys it reads, ``id`` varied over its
    object kinds (``first``: one object per kind, for calls with side effects, which must be refused anyway)."""
    out, seen = [], set()
    for tier in where:
        o = _objects(w, tier)
        fixed = {k: v for k, v in _fixed(w, tier, o).items() if k in keys}
        if "autocomplete" in name:  # the only actions that need a query; elsewhere a query only narrows
            fixed["q"] = w.run
        if name.startswith("datastore") and "id" in keys:
            fixed.setdefault("resource_id", o["datastore"][0])
        ids: list[Optional[str]] = [None]
        if "id" in keys:
            ids = list(_id_values(id_kinds(name), o, first))
        for value in ids:
            params = dict(fixed)
            if value is not None:
                params["id"] = value
            if name.startswith("resource_") and "resource_id" in params and value in o["resource"]:
                params["resource_id"] = value
            sig = json.dumps(params, sort_keys=True)
            if sig not in seen:
                seen.add(sig)
                out.append(params)
    return out


_ARG_KIND = {
    "resource_id": "resource", "view_id": "view", "resource_view_id": "view", "activity_id": "activity",
    "user_id": "user", "group_id": "group", "organization_id": "organization", "package_id": "package_name",
}
_ARG_FIXED = {
    "filename": "file.csv", "package_type": "dataset", "ver": 3, "lang": "en", "path": "index.html",
    "format": "atom", "logic_function": "status_show", "language": "en",
}


def route_urls(w: cf.World, rule: Any, where: Iterable[str], first: bool = False) -> tuple[list[str], Optional[str]]:
    """The URLs of one rule filled from the given planted datasets' objects (``first``: one object per kind),
    or why it cannot be filled."""
    urls: list[str] = []
    for tier in where:
        o = _objects(w, tier)
        choices: dict[str, list[Any]] = {}
        for arg in rule.arguments:
            if rule.defaults and arg in rule.defaults:
                choices[arg] = [rule.defaults[arg]]
            elif arg == "id" and "activity_id" in rule.arguments:  # /dataset/<id>/history/<activity_id>
                choices[arg] = o["package_name"]
            elif arg == "id":
                kinds = id_kinds(rule.endpoint)
                if kinds == _ALL_KINDS or kinds == ("package",):
                    kinds = ("package_name",)
                if kinds == ("resource",) or kinds == ("datastore",) and "resource_id" in rule.arguments:
                    kinds = ("package_name",)
                choices[arg] = _id_values(kinds, o, first)
            elif arg == "resource_id" and id_kinds(rule.endpoint) == ("datastore",):
                choices[arg] = o["datastore"]
            elif arg in _ARG_KIND:
                choices[arg] = o[_ARG_KIND[arg]][:1] if first else o[_ARG_KIND[arg]]
            elif arg == "group_type":
                choices[arg] = ["organization" if "organization" in rule.endpoint else "group"]
            elif arg in _ARG_FIXED:
                choices[arg] = [_ARG_FIXED[arg]]
            else:
                return [], f"cannot fill the URL argument <{arg}>"
        for values in _product(choices):
            try:
                url = _build(rule, values)
            except Exception as err:  # a converter refuses the value: say so, do not guess
                return [], f"cannot build the URL: {err}"
            if url not in urls:
                urls.append(url)
    return urls, None


def _product(choices: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    keys = list(choices)
    if not keys:
        yield {}
        return
    first, rest = keys[0], {k: choices[k] for k in keys[1:]}
    for value in choices[first]:
        for tail in _product(rest):
            yield {first: value, **tail}


def _build(rule: Any, values: dict[str, Any]) -> str:
    """The path of a rule with the given arguments (Werkzeug's own builder)."""
    built = rule.build(values, append_unknown=False)
    if built is None:
        raise ValueError(f"{rule.rule} refused {values}")
    return built[1]


# --- the crawl ---------------------------------------------------------------------------------------------------

class Crawler:
    """One crawl over a world; :meth:`run` returns a :class:`Report`."""

    def __init__(self, w: cf.World, roles: Iterable[str] = cf.ROLES, budget: float = 300.0,
                 actions: Optional[Iterable[str]] = None, routes: Optional[Iterable[str]] = None,
                 url_map: Any = None, dry_run: bool = False, sample_routes: bool = False):
        self.w = w
        self.dry_run = dry_run
        self.url_map = url_map
        self.budget = budget
        self.only_actions = set(actions) if actions is not None else None
        self.only_routes = set(routes) if routes is not None else None
        self.report = Report()
        everything = canaries(w)
        self.watch = {role: forbidden(role, everything) for role in roles}
        for role in list(self.watch):
            if not self.watch[role]:
                del self.watch[role]
                self.report.skipped[f"role {role}"] = FULL_ROLES_REASON
        self.report.roles = list(self.watch)
        self.report.tiers = places(w)
        # a role is called with the objects of the datasets it may not fully read: the answers about a dataset
        # it may read carry nothing it may not have (organization, group and users are among the objects)
        self.where = {role: tuple(p for p in places(w) if any(c.tier == p for c in self.watch[role]))
                      for role in self.watch}
        # pages render slowly: with sample_routes a role gets one dataset per access level it lacks (the owner
        # organization's when it has one), not every dataset; actions always get every dataset
        self.where_routes = {role: _one_per_level(role, where) if sample_routes else where
                             for role, where in self.where.items()}
        self.route_roles = [r for r in self.watch if not (sample_routes and r in SAMPLED_OUT_OF_ROUTES)]
        if sample_routes:
            for role in SAMPLED_OUT_OF_ROUTES:
                self.report.skipped[f"routes as {role}"] = SAMPLED_OUT_OF_ROUTES[role]
        self.started = 0.0

    def run(self) -> Report:
        """Read actions, GET routes, then actions with side effects and POST routes (they come last)."""
        self.started = time.monotonic()
        actions = self._actions()
        rules = self._rules()
        reads = [(n, fn) for n, fn in actions if is_read_only(fn)]
        writes = [(n, fn) for n, fn in actions if not is_read_only(fn)]
        phases = {"read actions": lambda: self._call_actions(reads), 
                  "GET routes": lambda: self._call_routes(rules, "GET"),
                  "actions with side effects": lambda: self._call_actions(writes, first=True),
                  "POST routes": lambda: self._call_routes(rules, "POST")}
        for label, phase in phases.items():
            if not self._in_budget():
                break
            begun, calls = time.monotonic(), self.report.calls
            phase()
            self.report.phases[label] = (self.report.calls - calls, time.monotonic() - begun)
        self.report.seconds = time.monotonic() - self.started
        return self.report

    def _in_budget(self) -> bool:
        if time.monotonic() - self.started > self.budget:
            self.report.complete = False
            return False
        return True

    def _actions(self) -> list[tuple[str, Callable[..., Any]]]:
        out = []
        for name, fn in registered_actions().items():
            if self.only_actions is not None and name not in self.only_actions:
                continue
            reason = skip_reason(name)
            if reason:
                self.report.skipped[name] = reason
                continue
            out.append((name, fn))
        self.report.actions = [n for n, _ in out]
        return out

    def _rules(self) -> list[Any]:
        out, seen = [], set()
        for rule in url_rules(self.url_map):
            if self.only_routes is not None and rule.endpoint not in self.only_routes:
                continue
            if (rule.rule, tuple(sorted(rule.methods))) in seen:  # a blueprint registered twice (dataset types)
                continue
            seen.add((rule.rule, tuple(sorted(rule.methods))))
            reason = skip_reason(rule.endpoint)
            if not reason:
                reason = route_urls(self.w, rule, places(self.w))[1]
            if reason:
                self.report.skipped[f"{rule.endpoint} {rule.rule}"] = reason
                continue
            out.append(rule)
        self.report.routes = sorted({r.endpoint for r in out})
        return out

    def _call_actions(self, actions: list[tuple[str, Callable[..., Any]]], first: bool = False) -> None:
        for name, fn in actions:
            keys = keys_read(fn)
            for role in self.watch:
                for params in action_params(self.w, name, keys, self.where[role], first):
                    if not self._in_budget():
                        return
                    body = json.dumps(params)
                    resp = self._send(name, role, self.w.client.post_json, f"/api/3/action/{name}",
                                      self.w.headers(role), params)
                    self._check(name, role, "POST", f"/api/3/action/{name} {body}", body, resp)

    def _call_routes(self, rules: list[Any], method: str) -> None:
        query = {"q": self.w.run, "new_id": self.w.activities["not_shared"],
                 "old_id": self.w.old_activities["not_shared"]}
        for rule in rules:
            if method not in rule.methods:
                continue
            for role in self.route_roles:
                for url in route_urls(self.w, rule, self.where_routes[role], True)[0]:
                    if not self._in_budget():
                        return
                    if method == "GET":
                        resp = self._send(rule.endpoint, role, self.w.client.get, url, self.w.headers(role),
                                          query_string=query, follow_redirects=False)
                    else:
                        resp = self._send(rule.endpoint, role, _post_form, self.w.client, url,
                                          self.w.headers(role), query)
                    self._check(rule.endpoint, role, method, url, url + json.dumps(query), resp)

    def _send(self, surface: str, role: str, call: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """One request; an exception the test app propagates (a 500 of a live portal) is recorded, not raised."""
        if self.dry_run:  # counting the calls only
            return _Failed("dry run", 0)
        try:
            return call(*args, **kw)
        except Exception as err:  # the app's own failure: a finding for the 5xx list, never the crawl's end
            from ckan import model

            model.Session.rollback()
            return _Failed(f"{type(err).__name__}: {str(err)[:80]}")

    def _check(self, surface: str, role: str, method: str, target: str, request_text: str, resp: Any) -> None:
        self.report.calls += 1
        status = resp.status_code
        if 200 <= status < 300:
            self.report.answered += 1
        elif status >= 500:
            self.report.server_errors.append((surface, role, getattr(resp, "error", str(status))))
        headers = " ".join(f"{k}: {v}" for k, v in _header_items(resp.headers))
        for c in scan(_text(resp) + "\n" + headers, request_text, self.watch[role]):
            self.report.findings.append(Finding(surface, role, c.tier, c.name, method, target[:200], status))


@dataclass
class _Failed:
    """What the crawler keeps of a request the app raised on (the Flask test app propagates exceptions)."""

    error: str
    status_code: int = 500
    body: str = ""
    headers: Any = None


def _text(resp: Any) -> str:
    """The body as text whatever it holds (a binary download is decoded leniently)."""
    try:
        return resp.body
    except UnicodeDecodeError:
        return resp.get_data().decode("utf-8", "replace")


def _header_items(headers: Any) -> Iterable[tuple[str, str]]:
    return list(headers.items()) if headers is not None else []


def _one_per_level(role: str, where: Iterable[str]) -> tuple[str, ...]:
    """The first planted dataset of each access level (metadata-only, hidden) the role has."""
    chosen: dict[str, str] = {}
    for place in where:
        chosen.setdefault(cf.expected_level(role, place), place)
    return tuple(chosen.values())


def _post_form(client: Any, url: str, headers: dict[str, str], data: dict[str, Any]) -> Any:
    """A form POST when the client can send one, else the same fields as JSON."""
    post_form = getattr(client, "post_form", None)
    if post_form is not None:
        return post_form(url, headers, data)
    return client.post_json(url, headers, data)


def crawl(w: cf.World, **kw: Any) -> Report:
    """Run one crawl (see :class:`Crawler` for the options)."""
    return Crawler(w, **kw).run()


def unexpected(report: Report, known: Iterable[tuple[str, str, str, str]]) -> list[Finding]:
    """Findings not in the tolerated list of (surface, role, tier, canary) shell patterns (``*`` as in fnmatch)."""
    patterns = list(known)

    def tolerated(f: Finding) -> bool:
        values = (f.surface, f.role, f.tier, f.canary)
        return any(all(fnmatch.fnmatchcase(v, p) for p, v in zip(pattern, values)) for pattern in patterns)

    return [f for f in report.findings if not tolerated(f)]
