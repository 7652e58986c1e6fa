"""DCAT-AP 3 output over HTTP (SPEC §3b "DCAT", §1 dct:accessRights, §3 DCAT row).

ckanext-dcat's endpoints are fetched from CKAN's test app with catalogue datasets of all three tiers; the
graphs are parsed with rdflib and checked mapping by mapping, and validated with pyshacl against the
DCAT-AP 3.0.0 shapes of ``../shared/dcat-ap-3.0.0`` (or ``$SHARING_DCAT_AP_DIR``).
"""
from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Any, Optional

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from ckan.tests import factories, helpers

from ckanext.sharing.catalogue.schemas import sharing_sample_record

REPO = Path(__file__).resolve().parents[2]


def _make_run_option(key: str) -> str:
    """An option of config/ckan.ini, the settings ``make run`` serves the portal with."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "config" / "ckan.ini", encoding="utf-8")
    return parser.get("app:main", key)


# The plugins and RDF profiles of `make run`, so these tests check what the demo portal serves.
PLUGINS = _make_run_option("ckan.plugins")
PROFILES = _make_run_option("ckanext.dcat.rdf.profiles")
SITE = "http://test.ckan.net"
USCC = "91350100M000100Y43"
EU = "http://publications.europa.eu/resource/authority/"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
FORMATS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}

REAL_CONDITIONAL_URL = "http://files.example.org/conditional-canary-7f3a.csv"
REAL_OPEN_URL = "http://files.example.org/open-data.csv"
REAL_HIDDEN_URL = "http://files.example.org/hidden-canary-91c2.csv"
HIDDEN_TITLE = "不予共享的档案数据9c1"
CONDITION = "仅限政务服务使用"
BASIS = "《中华人民共和国档案法》第二十八条"

SHAPES_DIR = Path(os.environ.get("SHARING_DCAT_AP_DIR") or REPO.parent / "shared" / "dcat-ap-3.0.0")
needs_shapes = pytest.mark.skipif(
    not (SHAPES_DIR / "shapes.ttl").is_file(),
    reason=f"DCAT-AP 3.0.0 SHACL shapes not present ({SHAPES_DIR}: ../shared absent; set SHARING_DCAT_AP_DIR)")

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.ckan_config("ckanext.dcat.rdf.profiles", PROFILES),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


@pytest.fixture
def portal() -> dict[str, Any]:
    """One department (with its USCC), its member, a sysadmin, and a dataset of each tier."""
    sysadmin = factories.Sysadmin()
    member = factories.User()
    org = factories.Organization(user=sysadmin, uscc=USCC, title="福州市数据管理局",
                                 users=[{"name": member["name"], "capacity": "member"}])
    ctx = {"user": sysadmin["name"]}

    def create(res_code: str, url: str, **fields: Any) -> dict[str, Any]:
        record = sharing_sample_record(res_code, owner_org=org["id"], **fields)
        record["resources"] = [{"name": "数据文件", "url": url, "format": "CSV"}]
        return helpers.call_action("package_create", context=dict(ctx), **record)

    datasets = {
        "open": create("101001001/000001", REAL_OPEN_URL, name="open-population", title="人口基本信息"),
        "conditional": create("201001001/000002", REAL_CONDITIONAL_URL, name="conditional-enterprises",
                              title="企业登记信息", sharing_tier="conditional", share_condition=CONDITION, share_scope="本市政务部门",
                              update_cycle="每日"),
        "not_shared": create("301001001/000003", REAL_HIDDEN_URL, name="hidden-archives", title=HIDDEN_TITLE,
                             sharing_tier="not_shared", share_basis=BASIS, update_cycle="不定期"),
    }
    tokens = {
        "sysadmin": helpers.call_action("api_token_create", context=dict(ctx), user=sysadmin["name"],
                                        name="dcat")["token"],
        "member": helpers.call_action("api_token_create", context={"user": member["name"]},
                                      user=member["name"], name="dcat")["token"],
    }
    return {"org": org, "datasets": datasets, "tokens": tokens, "sysadmin": sysadmin}


def _get(app, url: str, token: Optional[str] = None, status: int = 200):
    headers = {"Authorization": token} if token else {}
    return app.get(url, headers=headers, status=status)


def _graph(app, url: str, fmt: str, token: Optional[str] = None) -> tuple[rdflib.Graph, str]:
    body = _get(app, url, token).get_data(as_text=True)
    graph = rdflib.Graph()
    graph.parse(data=body, format=FORMATS[fmt], publicID=SITE + "/")
    return graph, body


def _dataset_ref(graph: rdflib.Graph, dataset: dict[str, Any]) -> URIRef:
    ref = URIRef(f"{SITE}/dataset/{dataset['id']}")
    assert (ref, RDF.type, DCAT.Dataset) in graph, f"{dataset['name']} is a dcat:Dataset of the graph"
    return ref


def _distribution(graph: rdflib.Graph, dataset_ref: URIRef) -> URIRef:
    dists = list(graph.objects(dataset_ref, DCAT.distribution))
    assert len(dists) == 1
    return dists[0]


def _request_page(dataset: dict[str, Any]) -> URIRef:
    return URIRef(f"{SITE}/dataset/{dataset['id']}/request-access")


def test_make_run_loads_dcat_with_our_profile_on_top():
    """config/ckan.ini loads ckanext-dcat after sharing and runs sharing_dcat_ap after euro_dcat_ap_3."""
    plugins = PLUGINS.split()
    assert "dcat" in plugins and plugins.index("dcat") > plugins.index("sharing")
    assert PROFILES.split() == ["euro_dcat_ap_3", "sharing_dcat_ap"]


# --- SHACL ---------------------------------------------------------------------------------------

def _validate(graph: rdflib.Graph) -> tuple[int, str]:
    """pyshacl with the core shapes and the class ranges of DCAT-AP 3.0.0: the number of violations."""
    import pyshacl

    shapes = rdflib.Graph()
    for name in ("shapes.ttl", "range.ttl"):
        shapes.parse(SHAPES_DIR / name, format="turtle")
    conforms, report, text = pyshacl.validate(graph, shacl_graph=shapes, inference="none",
                                              abort_on_first=False, allow_warnings=True)
    violations = len(list(report.subjects(
        URIRef("http://www.w3.org/ns/shacl#resultSeverity"), URIRef("http://www.w3.org/ns/shacl#Violation"))))
    return violations, text


@needs_shapes
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_catalog_conforms_to_dcat_ap_3_shapes(app, portal, fmt):
    """/catalog.<fmt> of a portal with all three tiers has 0 violations of the DCAT-AP 3.0.0 shapes + ranges."""
    graph, _ = _graph(app, f"/catalog.{fmt}", fmt)
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 2  # open + conditional, never not_shared
    violations, text = _validate(graph)
    assert violations == 0, text


@needs_shapes
@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("tier,role", [("open", None), ("conditional", None), ("conditional", "member"),
                                        ("not_shared", "sysadmin")])
def test_dataset_conforms_to_dcat_ap_3_shapes(app, portal, fmt, tier, role):
    """/dataset/<id>.<fmt> of each tier, as a caller who may see it, has 0 SHACL violations."""
    dataset = portal["datasets"][tier]
    graph, _ = _graph(app, f"/dataset/{dataset['id']}.{fmt}", fmt, portal["tokens"].get(role))
    _dataset_ref(graph, dataset)
    violations, text = _validate(graph)
    assert violations == 0, text


def test_shape_check_catches_a_violation(portal):
    """The SHACL check is not vacuous: a dataset without title or description is reported."""
    if not (SHAPES_DIR / "shapes.ttl").is_file():
        pytest.skip(f"DCAT-AP 3.0.0 SHACL shapes not present ({SHAPES_DIR})")
    graph = rdflib.Graph()
    graph.add((URIRef(SITE + "/dataset/x"), RDF.type, DCAT.Dataset))
    violations, _ = _validate(graph)
    assert violations >= 2


# --- mappings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("tier,role,right", [
    ("open", None, "PUBLIC"), ("conditional", None, "RESTRICTED"), ("conditional", "member", "RESTRICTED"),
    ("not_shared", "sysadmin", "NON_PUBLIC"), ("not_shared", "member", "NON_PUBLIC"),
])
def test_access_rights_per_tier(app, portal, tier, role, right):
    """dct:accessRights is the EU access-right concept of the tier, whoever asks (SPEC §1)."""
    dataset = portal["datasets"][tier]
    graph, _ = _graph(app, f"/dataset/{dataset['id']}.ttl", "ttl", portal["tokens"].get(role))
    ref = _dataset_ref(graph, dataset)
    assert list(graph.objects(ref, DCT.accessRights)) == [URIRef(EU + "access-right/" + right)]


def test_identifier_frequency_issued_and_keywords(app, portal):
    """dct:identifier = res_code, dct:accrualPeriodicity = the EU frequency of update_cycle, dct:issued =
    publish_date, the theme a keyword (not a bogus dcat:theme IRI)."""
    graph, _ = _graph(app, "/catalog.ttl", "ttl")
    expected = {"open": ("101001001/000001", "ANNUAL"), "conditional": ("201001001/000002", "DAILY")}
    for tier, (code, freq) in expected.items():
        ref = _dataset_ref(graph, portal["datasets"][tier])
        assert list(graph.objects(ref, DCT.identifier)) == [Literal(code)]
        assert list(graph.objects(ref, DCT.accrualPeriodicity)) == [URIRef(EU + "frequency/" + freq)]
        assert [str(v) for v in graph.objects(ref, DCT.issued)] == ["2024-01-15"]
        assert Literal("人口", lang="zh") in set(graph.objects(ref, DCAT.keyword))
        assert not list(graph.objects(ref, DCAT.theme))
    hidden, _ = _graph(app, f"/dataset/{portal['datasets']['not_shared']['id']}.ttl", "ttl",
                       portal["tokens"]["sysadmin"])
    ref = _dataset_ref(hidden, portal["datasets"]["not_shared"])
    assert list(hidden.objects(ref, DCT.accrualPeriodicity)) == [URIRef(EU + "frequency/IRREG")]


def test_publisher_carries_the_uscc(app, portal):
    """The publisher is the owner organization, named, with its 统一社会信用代码 as identifier."""
    graph, _ = _graph(app, f"/dataset/{portal['datasets']['open']['id']}.ttl", "ttl")
    ref = _dataset_ref(graph, portal["datasets"]["open"])
    (publisher,) = graph.objects(ref, DCT.publisher)
    assert publisher == URIRef(f"{SITE}/organization/{portal['org']['id']}")
    assert graph.value(publisher, FOAF.name) == Literal("福州市数据管理局")
    assert list(graph.objects(publisher, DCT.identifier)) == [Literal(USCC)]
    (identifier,) = graph.objects(publisher, ADMS.identifier)
    assert graph.value(identifier, SKOS.notation) == Literal(USCC)


def test_publisher_follows_an_organization_update(app, portal):
    """A changed USCC or title shows in the next response, in a catalogue with several datasets of the
    organization exactly once (no stale process-wide cache, no duplicate identifiers)."""
    _graph(app, "/catalog.ttl", "ttl")
    new_uscc = "91350100M000200Y4T"
    helpers.call_action("organization_patch", context={"user": portal["sysadmin"]["name"]},
                        id=portal["org"]["id"], uscc=new_uscc, title="福州市大数据委员会")
    graph, _ = _graph(app, "/catalog.ttl", "ttl")
    publisher = URIRef(f"{SITE}/organization/{portal['org']['id']}")
    assert list(graph.objects(publisher, DCT.identifier)) == [Literal(new_uscc)]
    assert [graph.value(i, SKOS.notation) for i in graph.objects(publisher, ADMS.identifier)] == [Literal(new_uscc)]
    assert list(graph.objects(publisher, FOAF.name)) == [Literal("福州市大数据委员会")]


def test_rights_hold_condition_and_basis(app, portal):
    """dct:rights states share_condition and share_scope (conditional) and share_basis (not_shared), on dataset and
    distributions; an open dataset has none."""
    for tier, role, text in (("conditional", None, CONDITION + "\n共享范围：本市政务部门"), ("not_shared", "sysadmin", BASIS),
                             ("open", None, None)):
        dataset = portal["datasets"][tier]
        graph, _ = _graph(app, f"/dataset/{dataset['id']}.ttl", "ttl", portal["tokens"].get(role))
        ref = _dataset_ref(graph, dataset)
        for subject in (ref, _distribution(graph, ref)):
            labels = [str(graph.value(node, RDFS.label)) for node in graph.objects(subject, DCT.rights)]
            assert labels == ([text] if text else []), (tier, subject)


def test_licence_always_present(app, portal):
    """Every distribution has a dct:license: the configured default (cc-by) when the dataset names none."""
    graph, _ = _graph(app, "/catalog.ttl", "ttl")
    dists = list(graph.subjects(RDF.type, DCAT.Distribution))
    assert len(dists) == 2
    for dist in dists:
        assert list(graph.objects(dist, DCT.license)) == [URIRef("http://www.opendefinition.org/licenses/cc-by")]


@pytest.mark.ckan_config("ckanext.sharing.default_license_id", "other-closed")
def test_default_licence_is_configurable(app, portal):
    """With ckanext.sharing.default_license_id = other-closed (no URL in the register) the licence is a
    dct:LicenseDocument node named after it."""
    graph, _ = _graph(app, f"/dataset/{portal['datasets']['conditional']['id']}.ttl", "ttl")
    dist = _distribution(graph, _dataset_ref(graph, portal["datasets"]["conditional"]))
    (licence,) = graph.objects(dist, DCT.license)
    assert (licence, RDF.type, DCT.LicenseDocument) in graph
    assert graph.value(licence, RDFS.label) == Literal("Other (Not Open)")


def test_dataset_licence_wins_over_the_default(app, portal):
    """A dataset's own licence_id is the one published."""
    dataset = portal["datasets"]["open"]
    patched = helpers.call_action("package_patch", context={"user": portal["sysadmin"]["name"]},
                                  id=dataset["id"], license_id="odc-odbl")
    assert patched["license_id"] == "odc-odbl"
    graph, _ = _graph(app, f"/dataset/{dataset['id']}.ttl", "ttl")
    dist = _distribution(graph, _dataset_ref(graph, dataset))
    assert list(graph.objects(dist, DCT.license)) == [URIRef("http://www.opendefinition.org/licenses/odc-odbl")]


def test_catalog_has_publisher_and_language(app, portal):
    """The catalogue names its publisher and its language as the EU language concept (ZHO)."""
    graph, _ = _graph(app, "/catalog.ttl", "ttl")
    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    assert list(graph.objects(catalog, DCT.language)) == [URIRef(EU + "language/ZHO")]
    (publisher,) = graph.objects(catalog, DCT.publisher)
    assert graph.value(publisher, FOAF.name)


# --- what anonymous harvesters must never get ----------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_real_conditional_url_and_no_not_shared_dataset(app, portal, fmt):
    """Anonymous /catalog.<fmt> (whatever ?profiles= asks) carries no real URL of a conditional resource and
    nothing of the not_shared dataset; the conditional dataset's own endpoint neither."""
    conditional, hidden = portal["datasets"]["conditional"], portal["datasets"]["not_shared"]
    queries = ["", "?profiles=euro_dcat_ap_3", "?profiles=euro_dcat_ap_2", "?profiles=schemaorg",
               "?q=res_url:*"]
    urls = [f"{path}{query}" for query in queries for path in (
        f"/catalog.{fmt}", f"/dataset/{conditional['id']}.{fmt}", f"/dataset/{conditional['name']}.{fmt}")]
    urls += [f"/api/3/action/{name}?format={fmt}" for name in ("dcat_catalog_show", "dcat_catalog_search")]
    for url in urls:
        body = _get(app, url).get_data(as_text=True)
        assert REAL_CONDITIONAL_URL not in body, url
        for secret in (REAL_HIDDEN_URL, hidden["id"], hidden["name"], HIDDEN_TITLE, BASIS):
            assert secret not in body, (url, secret)
        assert conditional["id"] in body  # the conditional dataset itself is listed (metadata is public)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_conditional_distribution_points_at_the_request_page(app, portal, fmt):
    """For a metadata-only caller a conditional distribution has dcat:accessURL = the request page and no
    dcat:downloadURL, in the catalogue and the dataset endpoint of every format."""
    conditional = portal["datasets"]["conditional"]
    for url in (f"/catalog.{fmt}", f"/dataset/{conditional['id']}.{fmt}"):
        graph, _ = _graph(app, url, fmt)
        dist = _distribution(graph, _dataset_ref(graph, conditional))
        assert list(graph.objects(dist, DCAT.accessURL)) == [_request_page(conditional)], url
        assert not list(graph.objects(dist, DCAT.downloadURL)), url


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_not_shared_dataset_endpoint_hidden_from_anonymous_and_others(app, portal, fmt):
    """/dataset/<not_shared>.<fmt> answers 404 (as its page; 403 would tell that it exists) without naming the
    dataset, for anonymous and for a logged-in user outside the organization."""
    hidden = portal["datasets"]["not_shared"]
    outsider = factories.User()
    token = helpers.call_action("api_token_create", context={"user": outsider["name"]},
                                user=outsider["name"], name="dcat")["token"]
    for who in (None, token):
        for ident in (hidden["id"], hidden["name"]):
            resp = _get(app, f"/dataset/{ident}.{fmt}", who, status=None)
            assert resp.status_code == 404
            body = resp.get_data(as_text=True)
            for secret in (REAL_HIDDEN_URL, HIDDEN_TITLE, BASIS, hidden["id"], hidden["name"]):
                assert secret not in body


def test_full_access_users_get_the_real_url(app, portal):
    """A member of the owner organization gets the real URL of a conditional resource (still RESTRICTED);
    an open resource keeps its own URL for everyone."""
    conditional, opened = portal["datasets"]["conditional"], portal["datasets"]["open"]
    graph, _ = _graph(app, f"/dataset/{conditional['id']}.ttl", "ttl", portal["tokens"]["member"])
    dist = _distribution(graph, _dataset_ref(graph, conditional))
    assert list(graph.objects(dist, DCAT.accessURL)) == [URIRef(REAL_CONDITIONAL_URL)]
    graph, _ = _graph(app, f"/dataset/{opened['id']}.ttl", "ttl")
    dist = _distribution(graph, _dataset_ref(graph, opened))
    assert list(graph.objects(dist, DCAT.accessURL)) == [URIRef(REAL_OPEN_URL)]


def test_grantee_and_collaborator_get_the_real_url_until_revoked(app, portal):
    """A grantee (approved request) and a dataset collaborator get the real URL in DCAT; once the grant is
    revoked the grantee is back to the request page at once."""
    conditional = portal["datasets"]["conditional"]
    requester, collaborator = factories.User(), factories.User()
    helpers.call_action("package_collaborator_create", context={"user": portal["sysadmin"]["name"]},
                        id=conditional["id"], user_id=collaborator["name"], capacity="member")
    req = helpers.call_action("sharing_request_create", context={"user": requester["name"], "ignore_auth": False},
                              package_id=conditional["id"], purpose="统计分析", use_scenario="季度报告",
                              use_basis="条例第二十条", use_scope="本部门", share_method="文件下载",
                              requested_days=30)
    grant = helpers.call_action("sharing_request_approve", context={"user": portal["sysadmin"]["name"]},
                                id=req["id"])
    tokens = {u["name"]: helpers.call_action("api_token_create", context={"user": u["name"]}, user=u["name"],
                                             name="dcat")["token"] for u in (requester, collaborator)}

    def access_urls(token: str) -> list[URIRef]:
        graph, _ = _graph(app, f"/dataset/{conditional['id']}.ttl", "ttl", token)
        ref = _dataset_ref(graph, conditional)
        assert list(graph.objects(ref, DCT.accessRights)) == [URIRef(EU + "access-right/RESTRICTED")]
        return list(graph.objects(_distribution(graph, ref), DCAT.accessURL))

    for token in tokens.values():
        assert access_urls(token) == [URIRef(REAL_CONDITIONAL_URL)]
    helpers.call_action("sharing_grant_revoke", context={"user": portal["sysadmin"]["name"]}, id=grant["id"],
                        reason="用途已结束")
    assert access_urls(tokens[requester["name"]]) == [_request_page(conditional)]


def test_dataset_page_links_rdf_without_leaking(app, portal):
    """The conditional dataset's HTML page links its RDF alternates and embeds no real URL of its data."""
    conditional = portal["datasets"]["conditional"]
    html = _get(app, f"/dataset/{conditional['name']}").get_data(as_text=True)
    assert f"/dataset/{conditional['id']}.ttl" in html or f"/dataset/{conditional['name']}.ttl" in html
    assert REAL_CONDITIONAL_URL not in html
