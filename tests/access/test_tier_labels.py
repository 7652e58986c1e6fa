"""``ckanext.sharing.tier_labels`` (Regulation Art. 14, SPEC §1): one set of tier names on pages, facets, the
schema API and e-mails — ``national`` (无条件共享 / 有条件共享 / 不予共享, default) or ``shanghai``
(普遍共享 / 按需共享 / 不共享)."""
from __future__ import annotations

import pytest

from ckan.tests import factories, helpers

from ckanext.sharing.access import tiers
from ckanext.sharing.catalogue.schemas import sharing_sample_record
from ckanext.sharing.workflow import notify

from tests.workflow.support import build_world, ctx, request_body
from tests.workflow.test_jobs import _body, smtp_sink  # noqa: F401 - the SMTP sink fixture

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"
NAMES = {
    "national": {"en": ("Unconditional sharing", "Conditional sharing", "Not for sharing"),
                 "zh_Hans_CN": ("无条件共享", "有条件共享", "不予共享")},
    "shanghai": {"en": ("Open", "On request", "Not shared"), "zh_Hans_CN": ("普遍共享", "按需共享", "不共享")},
}
TIERS = ("open", "conditional", "not_shared")
# each label set as a test parameter, with the option set for that test
SETTINGS = [pytest.param(name, marks=pytest.mark.ckan_config("ckanext.sharing.tier_labels", name)) for name in NAMES]


def test_every_label_set_names_every_tier():
    """Each configured set names all three tiers, with different names in each set."""
    assert set(tiers.LABEL_SETS) == set(NAMES)
    for names in tiers.LABEL_SETS.values():
        assert set(names) == set(TIERS)
    assert tiers.label("no-such-tier") == "no-such-tier"


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "with_request_context")
def test_default_is_national():
    """Without the option the names are the Regulation's (Art. 14): 有条件共享 …"""
    assert [tiers.label(t) for t in TIERS] == list(NAMES["national"]["en"])


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("labels", SETTINGS)
def test_pages_facet_form_and_schema_api_follow_the_setting(app, labels):
    """Dataset page badge, form choices, search facet (page and API) and scheming_dataset_schema_show all
    carry the configured names, in English and in Chinese."""
    sysadmin = factories.Sysadmin()
    org = factories.Organization(user=sysadmin, uscc="91350100M000100Y43")
    ds = helpers.call_action("package_create", {"user": sysadmin["name"]}, **sharing_sample_record(
        owner_org=org["id"], sharing_tier="conditional", share_condition="仅限政务服务使用", share_scope="本市政务部门"))
    token = factories.APIToken(user=sysadmin["name"])["token"]
    for lang, names in NAMES[labels].items():
        other = [n for key, ns in NAMES.items() if key != labels for n in ns[lang]]
        page = app.get(f"/{lang}/dataset/{ds['name']}").get_data(as_text=True)
        assert f'sharing-tier-conditional" title' in page and names[1] in page, lang
        search = app.get(f"/{lang}/dataset/").get_data(as_text=True)
        facet = search[search.index("sharing_tier"):]
        assert names[1] in facet
        form = app.get(f"/{lang}/dataset/edit/{ds['name']}", headers={"Authorization": token}).get_data(as_text=True)
        for name in names:
            assert name in form, (lang, name)
        for name in (n for n in other if n not in names and n not in ("Open",)):
            assert f">{name}<" not in page + form, (lang, name)
    api = app.get("/api/3/action/package_search", query_string={"facet.field": '["sharing_tier"]'}).json["result"]
    assert [i["display_name"] for i in api["search_facets"]["sharing_tier"]["items"]] == [NAMES[labels]["en"][1]]
    schema = app.get("/api/3/action/scheming_dataset_schema_show", query_string={"type": "dataset"}).json["result"]
    tier_field = next(f for f in schema["dataset_fields"] if f["field_name"] == "sharing_tier")
    assert [c["label"] for c in tier_field["choices"]] == list(NAMES[labels]["en"])


@pytest.mark.ckan_config("ckan.plugins", "activity datastore sharing")
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("labels", SETTINGS)
def test_the_cancellation_email_names_the_tier_as_configured(app, smtp_sink, labels, ckan_config,  # noqa: F811
                                                             monkeypatch):
    """The e-mail telling a requester that a tier change cancelled the request names the new tier as configured."""
    sink, smtp = smtp_sink
    monkeypatch.setitem(ckan_config, "smtp.server", smtp)
    monkeypatch.setitem(ckan_config, "smtp.mail_from", "sharing@test.ckan.net")
    w = build_world(app)
    req = helpers.call_action("sharing_request_create", ctx(w, "requester"), **request_body(w))
    helpers.call_action("package_patch", ctx(w, "admin_b"), id=w.pkgs["conditional"]["id"], sharing_tier="open",
                        private=False)
    with app.flask_app.test_request_context():  # the job's own context: CKAN's translator, no user
        assert notify.decision(req["id"]) == 1
    body = _body(sink.messages[-1])
    assert NAMES[labels]["en"][0] in body
    other = "national" if labels == "shanghai" else "shanghai"
    assert NAMES[other]["en"][0] not in body
