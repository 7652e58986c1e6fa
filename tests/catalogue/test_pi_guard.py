"""The personal-information guard (SPEC §6) on real files: scanning units, uploads over HTTP, tier changes."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from stdnum.cn import ric

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.tests import factories, helpers

from ckanext.sharing.catalogue import pi_guard
from ckanext.sharing.model import SharingAudit
from ckanext.sharing.catalogue.schemas import sharing_sample_record

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"


def _id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")  # stdnum expects a placeholder check digit


GOOD_ID = _id("11010519491231002")  # Beijing Dongcheng, born 1949-12-31
GOOD_ID_2 = _id("44030419900307351")
BAD_CHECK = GOOD_ID[:-1] + ("1" if GOOD_ID[-1] != "1" else "2")
BAD_DATE = _id("11010519491331002")  # month 13: right check digit, no such birth date
MOBILE = "13812345678"


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "\n".join(",".join(r) for r in rows).encode(encoding) + b"\n"


PI_CSV = _csv([["姓名", "身份证号", "手机", "备注"], ["张三", GOOD_ID, MOBILE, "x"], ["李四", GOOD_ID_2, "", BAD_CHECK]])
CLEAN_CSV = _csv([["年度", "人口", "编号"], ["2023", "8420000", BAD_CHECK], ["2024", "8450000", BAD_DATE]])


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- scanning units -------------------------------------------------------------------------


class TestScanning:
    def test_find_in_text_real_ids_and_mobiles_only(self):
        """Find in text real ids and mobiles only."""
        assert pi_guard.find_in_text(f"证件 {GOOD_ID}") == {pi_guard.RESIDENT_ID: 1}
        assert pi_guard.find_in_text(BAD_CHECK) == {}
        assert pi_guard.find_in_text(BAD_DATE) == {}
        assert pi_guard.find_in_text(f"电话 {MOBILE}；+86 13912345678") == {pi_guard.MOBILE: 2}
        assert pi_guard.find_in_text("12812345678") == {}  # no mobile prefix 12
        assert pi_guard.find_in_text("138123456789") == {}  # 12 digits: not a mobile number
        assert pi_guard.find_in_text("0591-87654321") == {}

    def test_csv_counts_per_column_and_rewinds(self):
        """CSV counts per column and rewinds."""
        stream = io.BytesIO(b"garbage-before" + PI_CSV)
        stream.seek(len(b"garbage-before"))
        result = pi_guard.scan_stream(stream, "csv", "people.csv")
        assert stream.tell() == len(b"garbage-before")  # the upload is still whole for CKAN
        assert result.summary() == [
            {"column": "手机", "kind": "mobile", "count": 1},
            {"column": "身份证号", "kind": "resident_id", "count": 2},
        ]
        text = pi_guard.describe([result])
        assert "身份证号" in text and "2" in text
        assert GOOD_ID not in text and MOBILE not in text

    def test_clean_csv_has_no_hit(self):
        """Clean CSV has no hit."""
        assert not pi_guard.scan_stream(io.BytesIO(CLEAN_CSV), "csv").hit

    def test_gb18030_csv(self):
        """A GB18030 CSV is decoded and scanned."""
        result = pi_guard.scan_csv(io.BytesIO(PI_CSV.decode("utf-8").encode("gb18030")))
        assert result.counts[("身份证号", pi_guard.RESIDENT_ID)] == 2

    def test_bounded_by_rows_and_bytes(self):
        """Bounded by rows and bytes."""
        rows = [["a", "b"]] + [["x", "y"]] * 50 + [["z", GOOD_ID]]
        by_rows = pi_guard.scan_csv(io.BytesIO(_csv(rows)), max_rows=10)
        assert by_rows.truncated and by_rows.rows == 10 and not by_rows.hit
        data = _csv(rows)
        by_bytes = pi_guard.scan_csv(io.BytesIO(data), max_bytes=100)
        assert by_bytes.truncated and not by_bytes.hit
        assert pi_guard.scan_csv(io.BytesIO(data)).hit

    def test_xlsx_read_only(self):
        """XLSX workbooks are scanned sheet by sheet in read-only mode."""
        data = _xlsx([["姓名", "证件号码", "联系电话"], ["王五", GOOD_ID, int(MOBILE)], ["赵六", BAD_CHECK, None]])
        result = pi_guard.scan_stream(io.BytesIO(data), "xlsx", "list.xlsx")
        assert result.counts == {("证件号码", "resident_id"): 1, ("联系电话", "mobile"): 1}

    def test_kind_of(self):
        """File kind comes from the name or the resource format."""
        assert pi_guard.kind_of("a.CSV") == "csv"
        assert pi_guard.kind_of("a.xlsx") == "xlsx"
        assert pi_guard.kind_of("blob", "CSV") == "csv"
        assert pi_guard.kind_of("a.pdf", "PDF") is None


# --- over HTTP, real uploads ----------------------------------------------------------------


@pytest.fixture
def people():
    editor, admin = factories.User(), factories.User()
    sysadmin = factories.Sysadmin()
    org = factories.Organization(
        user=sysadmin,
        users=[{"name": editor["name"], "capacity": "editor"}, {"name": admin["name"], "capacity": "admin"}],
    )
    tokens = {u["name"]: factories.APIToken(user=u["name"])["token"] for u in (editor, admin, sysadmin)}
    return {"editor": editor, "admin": admin, "sysadmin": sysadmin, "org": org, "tokens": tokens}


def _dataset(people, **overrides):
    return helpers.call_action(
        "package_create",
        context={"user": people["sysadmin"]["name"]},
        **sharing_sample_record(owner_org=people["org"]["id"], **overrides),
    )


def _upload(app, people, who, pkg_id, content, filename, status, **extra):
    return app.post(
        "/api/3/action/resource_create",
        data=dict({"package_id": pkg_id, "name": filename, "upload": (io.BytesIO(content), filename)}, **extra),
        headers={"Authorization": people["tokens"][people[who]["name"]]},
        content_type="multipart/form-data",
        status=status,
    ).json


def _attest_rows(pkg_id):
    return model.Session.query(SharingAudit).filter_by(package_id=pkg_id, action="pi_attest").all()


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestUploads:
    def test_csv_with_ids_blocked_on_open_dataset(self, app, people):
        """CSV with ids blocked on open dataset."""
        ds = _dataset(people)
        body = _upload(app, people, "editor", ds["id"], PI_CSV, "people.csv", 409)
        message = body["error"]["upload"][0]
        assert "身份证号" in message and "手机" in message and "people.csv" in message
        assert "2 resident ID numbers" in message and "1 mobile number" in message
        assert GOOD_ID not in message and GOOD_ID_2 not in message and MOBILE not in message
        assert helpers.call_action("package_show", id=ds["id"])["num_resources"] == 0

    def test_clean_csv_is_stored_whole(self, app, people):
        """Clean CSV is stored whole."""
        ds = _dataset(people)
        res = _upload(app, people, "editor", ds["id"], CLEAN_CSV, "pop.csv", 200)["result"]
        got = app.get(f"/dataset/{ds['id']}/resource/{res['id']}/download/pop.csv")
        assert got.data == CLEAN_CSV  # the scan did not consume the upload

    def test_xlsx_blocked(self, app, people):
        """An XLSX with resident IDs is refused on an open dataset."""
        ds = _dataset(people)
        data = _xlsx([["姓名", "手机号码"], ["王五", MOBILE]])
        body = _upload(app, people, "editor", ds["id"], data, "list.xlsx", 409)
        assert "手机号码" in body["error"]["upload"][0]

    def test_clean_xlsx_is_stored_whole(self, app, people):
        """Clean XLSX is stored whole."""
        ds = _dataset(people)
        data = _xlsx([["年度", "人口"], [2023, 8420000], [2024, BAD_CHECK]])
        res = _upload(app, people, "editor", ds["id"], data, "pop.xlsx", 200)["result"]
        assert app.get(f"/dataset/{ds['id']}/resource/{res['id']}/download/pop.xlsx").data == data

    def test_unreadable_files_are_409_not_500(self, app, people):
        """Unreadable files are 409 not 500."""
        ds = _dataset(people)
        body = _upload(app, people, "editor", ds["id"], b"not a zip at all", "broken.xlsx", 409)
        assert "spreadsheet" in body["error"]["upload"][0]
        huge = b"a,b\n\"" + b"x" * (1024 * 1024 + 10) + b"\",1\n"
        body = _upload(app, people, "editor", ds["id"], huge, "huge.csv", 409)
        assert "CSV" in body["error"]["upload"][0]

    def test_conditional_dataset_not_scanned_on_upload(self, app, people):
        """Conditional dataset not scanned on upload."""
        ds = _dataset(people, sharing_tier="conditional", share_condition="仅限政务用途",
                      share_scope="本市政务部门")
        _upload(app, people, "editor", ds["id"], PI_CSV, "people.csv", 200)

    def test_attestation_needs_admin_and_is_audited(self, app, people):
        """Attestation needs admin and is audited."""
        ds = _dataset(people)
        body = _upload(app, people, "editor", ds["id"], PI_CSV, "people.csv", 409, sharing_pi_attest="true")
        assert "deidentified" in body["error"]
        assert _attest_rows(ds["id"]) == []
        res = _upload(app, people, "admin", ds["id"], PI_CSV, "people.csv", 200, sharing_pi_attest="true")["result"]
        assert "sharing_pi_attest" not in res
        rows = _attest_rows(ds["id"])
        assert len(rows) == 1
        assert rows[0].actor_name == people["admin"]["name"]
        assert {"column": "身份证号", "kind": "resident_id", "count": 2, "file": "people.csv"} in rows[0].detail["findings"]
        assert GOOD_ID not in str(rows[0].detail)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
class TestTierChange:
    def _conditional_with_pi(self, app, people):
        ds = _dataset(people, sharing_tier="conditional", share_condition="仅限政务用途",
                      share_scope="本市政务部门")
        _upload(app, people, "editor", ds["id"], PI_CSV, "people.csv", 200)
        return ds

    def _patch(self, app, people, who, status, **data):
        return app.post(
            "/api/3/action/package_patch", json=data,
            headers={"Authorization": people["tokens"][people[who]["name"]]}, status=status,
        ).json

    def test_change_to_open_blocked(self, app, people):
        """Change to open blocked."""
        ds = self._conditional_with_pi(app, people)
        body = self._patch(app, people, "admin", 409, id=ds["id"], sharing_tier="open")
        assert "身份证号" in body["error"]["sharing_tier"][0]
        assert GOOD_ID not in str(body)
        assert helpers.call_action("package_show", id=ds["id"])["sharing_tier"] == "conditional"

    def test_editor_cannot_attest(self, app, people):
        """An editor cannot attest de-identification to open a dataset."""
        ds = self._conditional_with_pi(app, people)
        body = self._patch(app, people, "editor", 409, id=ds["id"], sharing_tier="open", deidentified=True)
        assert "deidentified" in body["error"]
        assert helpers.call_action("package_show", id=ds["id"])["sharing_tier"] == "conditional"

    def test_admin_attests_and_is_audited(self, app, people):
        """Admin attests and is audited."""
        ds = self._conditional_with_pi(app, people)
        result = self._patch(app, people, "admin", 200, id=ds["id"], sharing_tier="open", deidentified=True)["result"]
        assert result["sharing_tier"] == "open" and result["deidentified"] is True
        rows = _attest_rows(ds["id"])
        assert sorted(r.detail["trigger"] for r in rows) == ["metadata", "tier_change"]
        assert all(r.actor_name == people["admin"]["name"] for r in rows)

    def test_attesting_in_metadata_is_for_admins_and_audited_once(self, app, people):
        """Attesting in metadata is for admins and audited once."""
        ds = _dataset(people, sharing_tier="conditional", share_condition="仅限政务用途",
                      share_scope="本市政务部门")
        body = self._patch(app, people, "editor", 409, id=ds["id"], deidentified=True)
        assert "deidentified" in body["error"]
        assert _attest_rows(ds["id"]) == []
        self._patch(app, people, "admin", 200, id=ds["id"], deidentified=True)
        self._patch(app, people, "editor", 200, id=ds["id"], notes="已脱敏，保持不变")  # no new attestation
        rows = _attest_rows(ds["id"])
        assert [r.detail["trigger"] for r in rows] == ["metadata"]
        assert rows[0].actor_name == people["admin"]["name"]


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.ckan_config("ckanext.sharing.pi_scan_max_rows", "1")
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_row_bound_is_configurable(app, people):
    """With the bound at one row, an ID in the second data row is past the scanned part."""
    ds = _dataset(people)
    late = _csv([["a", "b"], ["x", "y"], ["z", GOOD_ID]])
    _upload(app, people, "editor", ds["id"], late, "late.csv", 200)
    _upload(app, people, "editor", ds["id"], _csv([["a", "b"], ["z", GOOD_ID]]), "early.csv", 409)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("lang,expected", [("zh_Hans_CN", "发现个人信息"), ("en", "Personal information found")])
def test_resource_form_upload_blocked_in_the_browser(app, people, lang, expected):
    """The resource form (logged in through the login form, CSRF token) shows the guard's error."""
    import re

    from tests.catalogue.test_catalogue_http import PASSWORD, _csrf, _login

    user = factories.User(password=PASSWORD)
    helpers.call_action("organization_member_create", id=people["org"]["id"], username=user["name"], role="editor")
    ds = _dataset(people)
    _login(app, user)
    html = app.get(f"/{lang}/dataset/{ds['name']}/resource/new").get_data(as_text=True)
    resp = app.post(
        f"/{lang}/dataset/{ds['name']}/resource/new",
        data={"_csrf_token": _csrf(html), "id": "", "name": "名单", "url": "", "save": "go-metadata",
              "upload": (io.BytesIO(PI_CSV), "people.csv")},
        content_type="multipart/form-data",
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert expected in body and "身份证号" in body
    assert GOOD_ID not in body and MOBILE not in body
    assert helpers.call_action("package_show", id=ds["id"])["num_resources"] == 0
    assert re.search(r'name="_csrf_token"', body)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_a_refused_dataset_writes_no_attestation(people):
    """The de-identification attestation is written by the action with the change, never by a validator
    alone: a create refused for another field leaves no ledger row (issue 9)."""
    with pytest.raises(tk.ValidationError) as err:
        helpers.call_action(
            "package_create", context={"user": people["admin"]["name"]},
            **sharing_sample_record(owner_org=people["org"]["id"], deidentified=True, notes=""),
        )
    assert "notes" in err.value.error_dict
    assert model.Session.query(SharingAudit).filter_by(action="pi_attest").count() == 0
