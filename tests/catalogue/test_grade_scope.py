"""数据分级 ``data_grade`` and 共享范围 ``share_scope`` of the catalogue (Regulation Art. 13, 15; SPEC §6), and
records made before those fields existed."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.lib import search
from ckan.tests import factories, helpers

from ckanext.sharing.catalogue.schemas import sharing_sample_record

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"
USCC = "91350100M000100Y43"
CONDITIONAL = {"sharing_tier": "conditional", "share_condition": "仅限政务服务使用"}

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", PLUGINS),
    pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index"),
]


@pytest.fixture
def people():
    sysadmin = factories.Sysadmin()
    editor = factories.User()
    org = factories.Organization(user=sysadmin, uscc=USCC, users=[{"name": editor["name"], "capacity": "editor"}])
    return {"sysadmin": sysadmin, "editor": editor, "org": org,
            "token": factories.APIToken(user=sysadmin["name"])["token"]}


def act(action: str, people: dict, **data):
    return helpers.call_action(action, context={"user": people["sysadmin"]["name"]}, **data)


def errors_of(action: str, people: dict, **data) -> dict:
    with pytest.raises(tk.ValidationError) as info:
        act(action, people, **data)
    return info.value.error_dict


def record(people: dict, *codes: str, **overrides):
    return sharing_sample_record(*codes, owner_org=people["org"]["id"], **overrides)


def _as_legacy(pkg_id: str, *fields: str) -> None:
    """Make a stored record look as if it was saved before ``fields`` existed (extras removed, re-indexed)."""
    pkg = model.Package.get(pkg_id)
    pkg.extras = {k: v for k, v in pkg.extras.items() if k not in fields}
    model.Session.commit()
    search.rebuild(pkg_id)


def test_grade_defaults_to_general_and_takes_synonyms(people):
    """Art. 13: a record that names no grade is 一般数据; 重要, important, 核心 are stored by their Chinese names."""
    assert act("package_create", people, **record(people))["data_grade"] == "一般数据"
    ds = act("package_create", people, **record(people, "101001001/000002", name="bb", data_grade="important",
                                                    **CONDITIONAL, share_scope="本市政务部门"))
    assert ds["data_grade"] == "重要数据"
    ds = act("package_patch", people, id=ds["id"], data_grade="核心")
    assert ds["data_grade"] == "核心数据"


def test_unknown_grade_is_an_error_naming_the_field(people, app):
    """An unknown grade is a 409 naming data_grade, never a 500."""
    resp = app.post("/api/3/action/package_create", json=record(people, data_grade="secret"),
                    headers={"Authorization": people["token"]}, status=409)
    assert "data_grade" in resp.json["error"]


@pytest.mark.parametrize("grade", ["重要数据", "核心数据"])
def test_important_and_core_data_cannot_be_unconditional(people, grade):
    """Art. 13/《数据安全法》: important and core data cannot be open — on create and on a change to open."""
    errors = errors_of("package_create", people, **record(people, data_grade=grade))
    assert "data_grade" in errors and "sharing_tier" in errors
    assert grade in errors["data_grade"][0]
    ds = act("package_create", people, **record(people, data_grade=grade, **CONDITIONAL, share_scope="本市政务部门"))
    errors = errors_of("package_patch", people, id=ds["id"], sharing_tier="open")
    assert "data_grade" in errors
    assert act("package_show", people, id=ds["id"])["sharing_tier"] == "conditional"


def test_an_update_without_the_grade_keeps_it(people):
    """An update that leaves data_grade out keeps the stored grade (no silent downgrade that would allow open)."""
    ds = act("package_create", people, **record(people, data_grade="重要数据", **CONDITIONAL, share_scope="本市政务部门"))
    sent = {k: v for k, v in ds.items() if k != "data_grade"}
    assert act("package_update", people, **sent)["data_grade"] == "重要数据"
    errors = errors_of("package_update", people, **dict(sent, sharing_tier="open"))
    assert "data_grade" in errors


def test_scope_is_required_for_conditional_records(people):
    """Art. 15: a new conditional record, or one changed to conditional, states its share_scope."""
    errors = errors_of("package_create", people, **record(people, **CONDITIONAL))
    assert "share_scope" in errors and "共享范围" in errors["share_scope"][0]
    ds = act("package_create", people, **record(people))
    errors = errors_of("package_patch", people, id=ds["id"], **CONDITIONAL)
    assert "share_scope" in errors
    ds = act("package_patch", people, id=ds["id"], **CONDITIONAL, share_scope="  本市承担市场监管职能的部门 ")
    assert ds["share_scope"] == "本市承担市场监管职能的部门"
    errors = errors_of("package_patch", people, id=ds["id"], share_scope="")
    assert "share_scope" in errors, "once given it cannot be emptied"
    assert not act("package_patch", people, id=ds["id"], sharing_tier="open", share_scope="").get("share_scope")


def test_old_records_without_the_fields_are_readable_and_editable(people, app):
    """Records saved before data_grade/share_scope existed: show, search, the edit form and the dataset page
    work; saving an edit of an old open record sets 一般数据; an old conditional record saves without a scope."""
    opened = act("package_create", people, **record(people))
    cond = act("package_create", people, **record(people, "101001001/000002", name="cond", **CONDITIONAL,
                                                  share_scope="x"))
    _as_legacy(opened["id"], "data_grade")
    _as_legacy(cond["id"], "data_grade", "share_scope")
    shown = act("package_show", people, id=opened["id"])
    assert "data_grade" not in shown
    found = act("package_search", people, q="*:*", **{"facet.field": ["data_grade"]})
    assert found["count"] == 2 and not found["search_facets"].get("data_grade", {}).get("items")
    headers = {"Authorization": people["token"]}
    for url in (f"/dataset/{opened['name']}", f"/dataset/edit/{opened['name']}", f"/dataset/edit/{cond['name']}",
                "/dataset/", f"/zh_Hans_CN/dataset/{cond['name']}"):
        assert app.get(url, headers=headers).status_code == 200, url
    act("package_update", people, **shown)  # unchanged: CKAN 2.12 saves nothing, and nothing fails
    assert act("package_update", people, **dict(shown, notes="改"))["data_grade"] == "一般数据"
    old = act("package_show", people, id=cond["id"])
    saved = act("package_update", people, **dict(old, notes="新的摘要"))
    assert saved["notes"] == "新的摘要" and saved["data_grade"] == "一般数据" and not saved.get("share_scope")


def test_grade_facet_with_labels(people, app):
    """The data_grade facet is offered, its items labelled in the page's language."""
    act("package_create", people, **record(people))
    act("package_create", people, **record(people, "101001001/000002", name="bb", data_grade="重要数据",
                                           **CONDITIONAL, share_scope="本市政务部门"))
    found = act("package_search", people, q="*:*", **{"facet.field": ["data_grade"]})
    assert {i["name"]: i["count"] for i in found["search_facets"]["data_grade"]["items"]} == {"一般数据": 1, "重要数据": 1}
    en = app.get("/dataset/").get_data(as_text=True)
    assert "Data grade" in en and "Important data" in en
    zh = app.get("/zh_Hans_CN/dataset/").get_data(as_text=True)
    assert "数据分级" in zh and "重要数据" in zh


def test_form_and_card_show_both_fields_in_both_languages(people, app):
    """The form has a 数据分级 select (一般数据 chosen) and a 共享范围 text; the card shows them (en and zh)."""
    headers = {"Authorization": people["token"]}
    form = app.get("/zh_Hans_CN/dataset/new", headers=headers).get_data(as_text=True)
    assert 'name="data_grade"' in form and 'name="share_scope"' in form
    assert "数据分级" in form and "共享范围" in form and "第十五条" in form
    ds = act("package_create", people, **record(people, data_grade="重要数据", **CONDITIONAL, share_scope="本市政务部门"))
    zh = app.get(f"/zh_Hans_CN/dataset/{ds['name']}").get_data(as_text=True)
    card = zh[zh.index("sharing-catalogue-card"):]
    assert "数据分级" in card and "重要数据" in card and "共享范围" in card and "本市政务部门" in card
    en = app.get(f"/en/dataset/{ds['name']}").get_data(as_text=True)
    card = en[en.index("sharing-catalogue-card"):]
    assert "Data grade" in card and "Important data" in card and "Sharing scope" in card
