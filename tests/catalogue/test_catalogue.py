"""The catalogue schema (SPEC §6) through the Action API: create/update/patch/show/search round-trips."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.sharing.catalogue.schemas import sharing_sample_record

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"
USCC = "91350100M000100Y43"


@pytest.fixture
def sysadmin():
    return factories.Sysadmin()


@pytest.fixture
def org(sysadmin):
    return factories.Organization(uscc=USCC, user=sysadmin)


def act(action: str, user: dict, **data):
    """Call an action as ``user`` (auth still ignored by call_action; these tests are about the schema)."""
    return helpers.call_action(action, context={"user": user["name"]}, **data)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestRoundTrip:
    def test_create_show(self, org, sysadmin):
        """A catalogue record is created and shown with every field."""
        ds = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"]))
        shown = act("package_show", sysadmin, id=ds["id"])
        assert shown["res_code"] == "101001001/000001"
        assert shown["res_class"] == "1"
        assert shown["name"] == "ren-kou-ji-ben-xin-xi"
        assert shown["data_items"][1]["item_name"] == "常住人口"
        assert shown["data_items"][0]["item_personal"] is False
        assert shown["contains_personal_info"] is False
        assert shown["share_method"] == ["文件下载"]
        assert shown["sharing_tier"] == "open"
        assert shown["publish_date"] == "2024-01-15"

    def test_update_and_patch_keep_the_record(self, org, sysadmin):
        """Update and patch keep the record."""
        ds = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"]))
        updated = act("package_update", sysadmin, **dict(ds, update_cycle="每月", data_items=ds["data_items"][:1]))
        assert updated["update_cycle"] == "每月"
        assert [i["item_name"] for i in updated["data_items"]] == ["统计年度"]
        patched = act("package_patch", sysadmin, id=ds["id"], theme="经济")
        assert patched["theme"] == "经济"
        assert patched["update_cycle"] == "每月"
        assert patched["res_code"] == ds["res_code"]
        assert patched["name"] == ds["name"]
        assert [i["item_name"] for i in patched["data_items"]] == ["统计年度"]

    def test_search_facets_and_filters(self, org, sysadmin):
        """Search facets and filters."""
        act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"]))
        act("package_create", sysadmin, **sharing_sample_record(
            "301002003/000007", owner_org=org["id"], title="市场主体登记", format_category="数据库",
            update_cycle="每日", theme="市场监管", share_method=["接口", "库表交换"]))
        found = act("package_search", sysadmin, fq="res_class:3", **{
            "facet.field": ["res_class", "format_category", "update_cycle", "theme", "organization"]})
        assert found["count"] == 1
        assert found["results"][0]["res_code"] == "301002003/000007"
        assert found["results"][0]["share_method"] == ["接口", "库表交换"]
        facets = found["search_facets"]
        assert {i["name"] for i in facets["format_category"]["items"]} == {"数据库"}
        assert {i["name"] for i in facets["update_cycle"]["items"]} == {"每日"}
        assert {i["name"] for i in facets["theme"]["items"]} == {"市场监管"}
        assert facets["res_class"]["items"][0]["display_name"] == "3 Departmental information resource"
        everything = act("package_search", sysadmin, q="*:*", **{"facet.field": ["format_category"]})
        assert {i["name"]: i["count"] for i in everything["search_facets"]["format_category"]["items"]} == {
            "电子表格": 1, "数据库": 1}


def _errors(action: str, user: dict, **data) -> dict:
    with pytest.raises(tk.ValidationError) as info:
        act(action, user, **data)
    return info.value.error_dict


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestRules:
    def test_code_unique_error_names_the_dataset(self, org, sysadmin):
        """Code unique error names the dataset."""
        act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], title="人口基本信息"))
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], title="另一个"))
        assert "人口基本信息" in errors["res_code"][0] and "ren-kou-ji-ben-xin-xi" in errors["res_code"][0]

    def test_code_unique_allows_own_update_and_deleted(self, org, sysadmin):
        """Code unique allows own update and deleted."""
        ds = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"]))
        act("package_patch", sysadmin, id=ds["id"], notes="新的摘要")
        act("package_delete", sysadmin, id=ds["id"])
        act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], name="again"))

    def test_class_digit_must_match(self, org, sysadmin):
        """Class digit must match."""
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], res_class="2"))
        assert "res_code" in errors and "(1)" in errors["res_code"][0]

    @pytest.mark.parametrize("code", ["401001001/1", "10100/000001", "101001001-000001", "101001001/", "1a1001001/1"])
    def test_malformed_codes(self, org, sysadmin, code):
        """Malformed resource codes are validation errors naming res_code."""
        errors = _errors("package_create", sysadmin, **sharing_sample_record(code, owner_org=org["id"], res_class="1"))
        assert "res_code" in errors

    def test_required_fields(self, org, sysadmin):
        """Every required catalogue field is named when missing."""
        record = sharing_sample_record(owner_org=org["id"])
        for key in ("res_code", "res_class", "notes", "format_category", "update_cycle", "publish_date"):
            record.pop(key)
        errors = _errors("package_create", sysadmin, **record)
        for key in ("res_code", "res_class", "notes", "format_category", "update_cycle", "publish_date"):
            assert key in errors, key

    def test_choices_enforced(self, org, sysadmin):
        """Choice fields refuse values outside their choices."""
        errors = _errors("package_create", sysadmin, **sharing_sample_record(
            owner_org=org["id"], format_category="Excel", update_cycle="hourly", share_method=["邮寄"]))
        assert {"format_category", "update_cycle", "share_method"} <= set(errors)

    def test_tier_justifications(self, org, sysadmin):
        """Conditional needs share_condition, not_shared needs share_basis."""
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], sharing_tier="conditional"))
        assert "share_condition" in errors
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], sharing_tier="不予共享"))
        assert "share_basis" in errors
        ds = act("package_create", sysadmin, **sharing_sample_record(
            owner_org=org["id"], sharing_tier="有条件共享", share_condition="仅用于政务服务", share_scope="本市政务部门"))
        assert ds["sharing_tier"] == "conditional" and ds["private"] is False

    def test_share_method_needed_unless_not_shared(self, org, sysadmin):
        """Share method needed unless not shared."""
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], share_method=[]))
        assert "share_method" in errors
        ds = act("package_create", sysadmin, **sharing_sample_record(
            owner_org=org["id"], share_method=[], sharing_tier="not_shared", share_basis="《中华人民共和国保守国家秘密法》"))
        assert ds["sharing_tier"] == "not_shared" and ds["private"] is True

    def test_related_codes_must_exist(self, org, sysadmin):
        """Related codes must exist."""
        act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"]))
        errors = _errors("package_create", sysadmin, **sharing_sample_record(
            "201001001/000002", owner_org=org["id"], name="bb", related_res_codes=["101001001/000001", "201009009/000009"]))
        assert "201009009/000009" in errors["related_res_codes"][0]
        assert "101001001/000001" not in errors["related_res_codes"][0]
        ds = act("package_create", sysadmin, **sharing_sample_record(
            "201001001/000002", owner_org=org["id"], name="bb", related_res_codes="101001001/000001"))
        assert act("package_show", sysadmin, id=ds["id"])["related_res_codes"] == ["101001001/000001"]

    def test_structured_formats_need_items(self, org, sysadmin):
        """Structured formats need items."""
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], data_items=[]))
        assert "data_items" in errors
        errors = _errors("package_create", sysadmin, **sharing_sample_record(
            owner_org=org["id"], data_items=[{"item_type": "C"}]))
        assert "item_name" in str(errors["data_items"])
        ds = act("package_create", sysadmin, **sharing_sample_record(
            owner_org=org["id"], format_category="电子文件", data_items=[]))
        assert ds["format_category"] == "电子文件"

    def test_personal_items_derive_flag_and_block_open(self, org, sysadmin):
        """Personal items derive flag and block open."""
        items = [{"item_name": "姓名", "item_type": "C", "item_personal": True}, {"item_name": "年度", "item_type": "C"}]
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], data_items=items))
        assert "contains_personal_info" in errors and "sharing_tier" in errors
        ds = act("package_create", sysadmin, **sharing_sample_record(
            owner_org=org["id"], data_items=items, sharing_tier="conditional", share_condition="审批后使用",
            share_scope="本市政务部门"))
        assert ds["contains_personal_info"] is True
        assert ds["data_items"][0]["item_personal"] is True
        opened = act("package_patch", sysadmin, id=ds["id"], sharing_tier="open", deidentified="true")
        assert opened["sharing_tier"] == "open" and opened["deidentified"] is True

    @pytest.mark.parametrize("field,value", [
        ("contact_phone", "123"), ("contact_phone", "0591-8765"), ("contact_email", "data@localhost"),
        ("contact_email", "not-an-email"), ("publish_date", "2024-02-30"), ("publish_date", "15/01/2024"),
    ])
    def test_bad_contact_and_dates(self, org, sysadmin, field, value):
        """Bad contact and dates."""
        errors = _errors("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], **{field: value}))
        assert field in errors

    def test_bad_values_are_409_not_500_over_http(self, app, org, sysadmin):
        """Bad values are 409 not 500 over HTTP."""
        token = factories.APIToken(user=sysadmin["name"])["token"]
        resp = app.post("/api/3/action/package_create", json=sharing_sample_record(
            owner_org=org["id"], res_code="bad", publish_date="yesterday", contact_phone="x"),
            headers={"Authorization": token}, status=409)
        assert {"res_code", "publish_date", "contact_phone"} <= set(resp.json["error"])


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestNames:
    def test_pinyin_name_and_collisions(self, org, sysadmin):
        """Pinyin name and collisions."""
        a = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], title="企业登记信息"))
        b = act("package_create", sysadmin, **sharing_sample_record(
            "101001001/000002", owner_org=org["id"], title="企业登记信息"))
        assert a["name"] == "qi-ye-deng-ji-xin-xi"
        assert b["name"] == "qi-ye-deng-ji-xin-xi-2"

    def test_mixed_title_and_code_fallback(self, org, sysadmin):
        """Mixed title and code fallback."""
        a = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], title="2023年GDP统计"))
        assert a["name"] == "2023-nian-gdp-tong-ji"
        b = act("package_create", sysadmin, **sharing_sample_record("101001001/000009", owner_org=org["id"], title="《》"))
        assert b["name"] == "res-101001001-000009"

    def test_blank_name_on_update_keeps_the_url(self, org, sysadmin):
        """Blank name on update keeps the url."""
        ds = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"]))
        updated = act("package_update", sysadmin, **dict(ds, name="", title="人口基本信息（2024）"))
        assert updated["name"] == ds["name"]

    def test_explicit_name_kept(self, org, sysadmin):
        """An explicit URL name is kept as given."""
        ds = act("package_create", sysadmin, **sharing_sample_record(owner_org=org["id"], name="population"))
        assert ds["name"] == "population"


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestOrganization:
    def test_uscc_round_trip(self, sysadmin):
        """An organization's USCC is stored and shown."""
        org = act("organization_create", sysadmin, name="fzsj", title="福州市数据管理局", uscc="91350100m000100y43")
        assert act("organization_show", sysadmin, id=org["id"])["uscc"] == "91350100M000100Y43"

    @pytest.mark.parametrize("bad", ["91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43"])
    def test_uscc_rejected(self, sysadmin, bad):
        """An organization with a bad USCC is refused."""
        errors = _errors("organization_create", sysadmin, name="x-dept", uscc=bad)
        assert "uscc" in errors


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.ckan_config(
    "scheming.dataset_schemas",
    "ckanext.sharing.catalogue.schemas:catalogue.yaml ckanext.sharing.catalogue.schemas:tier_only.yaml",
)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestTierWithoutCatalogue:
    """Another schema reuses the tier presets and validators without the catalogue fields."""

    def test_tier_only_schema(self, org, sysadmin):
        """The tier presets work in a schema without the catalogue fields."""
        errors = _errors("package_create", sysadmin, type="shared_dataset", name="plain-one", title="Plain",
                         owner_org=org["id"], sharing_tier="conditional")
        assert "share_condition" in errors and "res_code" not in errors
        ds = act("package_create", sysadmin, type="shared_dataset", name="plain-one", title="Plain",
                 owner_org=org["id"], sharing_tier="依申请开放", share_condition="政务用途")
        assert ds["sharing_tier"] == "conditional" and ds["share_condition"] == "政务用途"
        assert "res_code" not in ds
        found = act("package_search", sysadmin, q="name:plain-one", **{"facet.field": ["res_class"]})
        assert found["count"] == 1


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_simultaneous_creates_with_one_code(app, org, sysadmin):
    """Two creates of the same resource code at the same moment: exactly one succeeds."""
    import threading

    from ckan import model

    # warm CKAN's lazily built action/auth/validator caches in this thread (their first build is not thread-safe)
    tk.get_action("package_create")({"user": sysadmin["name"]}, sharing_sample_record(owner_org=org["id"]))
    for round_ in range(3):
        code = f"101001001/00010{round_}"
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def run(i: int) -> None:
            with app.flask_app.test_request_context():
                try:
                    barrier.wait(timeout=10)
                    record = sharing_sample_record(code, owner_org=org["id"], name=f"race-{round_}-{i}")
                    tk.get_action("package_create")({"user": sysadmin["name"]}, record)
                    results[i] = "ok"
                except tk.ValidationError as e:
                    results[i] = ("invalid", sorted(e.error_dict))
                except Exception as e:  # noqa: BLE001 - reported by the assertion
                    results[i] = ("error", repr(e))
                finally:
                    model.Session.remove()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results, key=str) == [("invalid", ["res_code"]), "ok"], results


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_uscc_unique_among_organizations(sysadmin):
    """USCC unique among organizations."""
    first = act("organization_create", sysadmin, name="dept-a", title="甲局", uscc=USCC)
    errors = _errors("organization_create", sysadmin, name="dept-b", uscc=USCC.lower())
    assert "甲局" in errors["uscc"][0] and "dept-a" in errors["uscc"][0]
    act("organization_patch", sysadmin, id=first["id"], description="更新")  # its own code is no conflict
    act("organization_delete", sysadmin, id=first["id"])
    act("organization_create", sysadmin, name="dept-b", uscc=USCC)

