"""The catalogue import and export through the real schema, database and index (SPEC §12, issue 15)."""
from __future__ import annotations

import io
import json

import pytest

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.tests import factories, helpers

from ckanext.sharing.catalogue.transfer import exporter, importer, readers

from tests.catalogue.transfer import files

PLUGINS = "activity datastore scheming_datasets scheming_organizations sharing sharing_catalogue"
USCC = "91350100M000100Y43"
HEADER = ["信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方", "信息资源摘要", "信息资源格式", "信息项信息",
          "共享类型", "共享条件", "共享方式", "更新周期", "发布日期"]


def row(n: int, **over):
    values = {"信息资源分类": "101001001", "信息资源名称": f"测试资源{n}", "信息资源代码": f"101001001/{n:06d}",
              "信息资源提供方": "示范局", "信息资源摘要": f"第{n}个测试资源。", "信息资源格式": "电子表格",
              "信息项信息": "统计年度、常住人口", "共享类型": "无条件共享", "共享条件": "", "共享方式": "文件下载",
              "更新周期": "每年", "发布日期": "2024-01-15"}
    values.update(over)
    return values


def csv_bytes(rows, encoding="utf-8-sig", delimiter=","):
    return files.to_csv(rows, encoding=encoding, delimiter=delimiter)


def run(data: bytes, name: str = "catalogue.csv", **options):
    options.setdefault("mapping", importer.ImportMapping())
    return importer.run(data, name, importer.Options(**options))


def outcomes(report):
    return [r.outcome for r in report.rows]


def active_count() -> int:
    return model.Session.query(model.Package).filter_by(state="active", type="dataset").count()


@pytest.fixture
def org():
    return factories.Organization(name="shi-fan-ju", title="示范局", uscc=USCC)


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "with_request_context")
class TestImport:
    def test_create_then_unchanged(self, org):
        """Rows are created through the catalogue schema; the same file again changes nothing (idempotent)."""
        data = csv_bytes([row(1), row(2)])
        first = run(data)
        assert outcomes(first) == ["created", "created"], first.table()
        shown = helpers.call_action("package_show", id=first.rows[0].dataset_id)
        assert shown["res_class"] == "1" and shown["owner_org"] == org["id"]
        assert [i["item_name"] for i in shown["data_items"]] == ["统计年度", "常住人口"]
        assert shown["sharing_tier"] == "open" and shown["share_method"] == ["文件下载"]
        found = helpers.call_action("package_search", q="res_code:*", fq=f"owner_org:{org['id']}")
        assert found["count"] == 2  # indexed, in batches
        second = run(data)
        assert outcomes(second) == ["unchanged", "unchanged"]
        assert active_count() == 2

    def test_update_only_with_the_flag(self, org):
        """A changed row is refused (naming the fields) without --update and updates the dataset with it."""
        run(csv_bytes([row(1)]))
        changed = csv_bytes([row(1, 更新周期="每天")])
        refused = run(changed)
        assert outcomes(refused) == ["refused"]
        assert "--update" in refused.rows[0].messages() and "Update cycle" in refused.rows[0].messages()
        updated = run(changed, update=True)
        assert outcomes(updated) == ["updated"] and updated.rows[0].changed == ["update_cycle"]
        assert helpers.call_action("package_show", id=updated.rows[0].dataset_id)["update_cycle"] == "每日"
        assert active_count() == 1

    def test_dry_run_writes_nothing(self, org):
        """--dry-run runs the same validation and reports, but no dataset (or organization) is stored."""
        report = run(csv_bytes([row(1), row(2, 共享类型="有条件共享")]), dry_run=True)
        assert outcomes(report) == ["created", "refused"]
        assert report.rows[1].errors[0][0] == "share_condition"
        new_org = run(csv_bytes([row(3, 信息资源提供方="新部门")]), dry_run=True, create_organizations=True)
        assert outcomes(new_org) == ["created"], new_org.table()
        assert active_count() == 0
        assert model.Session.query(model.Group).filter_by(title="新部门").count() == 0

    def test_refusals_name_field_and_message_and_never_stop_the_others(self, org):
        """Each refused row says which field and why; the good rows around it are imported."""
        rows = [row(1), row(2, 信息资源代码="9/1"), row(3, 发布日期="2023-02-30"), row(4, 共享类型=""),
                row(5, 信息资源提供方="没有这个部门"), row(6, 信息资源名称="测试资源1", 信息资源代码="101001001/000001"), row(7)]
        report = run(csv_bytes(rows))
        assert outcomes(report) == ["created", "refused", "refused", "refused", "refused", "refused", "created"]
        fields = [r.errors[0][0] for r in report.rows if r.errors]
        assert fields == ["res_code", "publish_date", "sharing_tier", "owner_org", "res_code"]
        assert "Duplicate of row" in report.rows[5].messages()
        assert active_count() == 2
        assert report.top_refusals()[0][1] == 1

    def test_messages_in_the_portals_language(self, org):
        """With a Chinese portal the refusal names the field by its Chinese label, in Chinese."""
        with helpers.changed_config("ckan.locale_default", "zh_Hans_CN"):
            from flask_babel import force_locale

            with force_locale("zh_Hans_CN"):
                report = run(csv_bytes([row(1, 发布日期="2023-02-30")]))
                text = report.rows[0].messages()
        assert text.startswith("发布日期")

    def test_report_keeps_the_language_of_its_messages(self):
        """A report written in Chinese has Chinese labels in an English request too: table, CSV, page data."""
        from ckanext.sharing.catalogue.transfer import views
        from ckanext.sharing.catalogue.transfer.report import Report, RowResult

        report = Report(lang="zh_Hans_CN", rows=[RowResult(row=2, title="t", outcome="refused", errors=[
            ("owner_org", "未知的组织 x"), ("publish_date", "缺少值")])])
        assert "信息资源提供方: 未知的组织 x; 发布日期: 缺少值" in report.table()
        assert report.csv_text().startswith("\ufeff行,结果,")
        page = views._view_report(report.to_dict())
        assert [label for label, _ in page["rows"][0]["messages"]] == ["信息资源提供方", "发布日期"]
        assert page["labels"]["refused"] == "已拒绝" and tk._("refused") == "refused"

    def test_resident_id_in_a_data_item_is_refused(self, org):
        """A data item that carries a resident ID number is refused; the number is not repeated in the report."""
        report = run(csv_bytes([row(1, 信息项信息="姓名、110101199003074573")]))
        assert outcomes(report) == ["refused"]
        assert report.rows[0].errors[0][0] == "data_items"
        assert "110101199003074573" not in report.rows[0].messages()

    def test_personal_data_items_make_an_open_row_need_deidentification(self, org):
        """A personal data item (身份证号) in an open row is refused by the schema's personal-information rule."""
        report = run(csv_bytes([row(1, 信息项信息="身份证号、姓名")]))
        assert outcomes(report) == ["refused"]
        assert {f for f, _ in report.rows[0].errors} >= {"contains_personal_info"}

    def test_gb18030_without_bom_and_sniffed_delimiter(self, org):
        """A GB18030 CSV without BOM, semicolon-separated, imports like a UTF-8 one."""
        report = run(csv_bytes([row(1)], encoding="gb18030", delimiter=";"))
        assert outcomes(report) == ["created"]
        assert helpers.call_action("package_show", id=report.rows[0].dataset_id)["title"] == "测试资源1"

    def test_xlsx_with_title_row_merged_cells_formulas_and_serial_dates(self, org):
        """XLSX: a title row above the header, a merged provider cell, a formula title and an Excel serial date."""
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["示范局政务信息资源目录"])
        sheet.merge_cells("A1:D1")
        sheet.append(HEADER)
        sheet.append(list(row(1).values()))
        sheet.append(list(row(2).values()))
        sheet["D4"] = None
        sheet.merge_cells("D3:D4")  # 信息资源提供方 merged over both rows
        sheet["L3"] = 44943  # 2023-01-17 as a serial
        sheet["L3"].number_format = "0"
        sheet["B4"] = '="测试"&"资源2"'
        out = io.BytesIO()
        book.save(out)
        report = run(out.getvalue(), "catalogue.xlsx")
        # openpyxl stores no cached result for a formula: the title is empty and the row is refused, clearly
        assert outcomes(report) == ["created", "refused"], report.table()
        assert report.rows[0].row == 3
        assert report.rows[1].errors[0][0] == "title"
        shown = helpers.call_action("package_show", id=report.rows[0].dataset_id)
        assert shown["publish_date"] == "2023-01-17"

    def test_bad_files_are_refused_whole(self, org):
        """Not a spreadsheet, empty, no recognisable header, too many rows: the file is refused with a message."""
        cases = {
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR": "not a spreadsheet",
            b"": "empty",
            b"   \n": "empty",
            "甲,乙,丙\n1,2,3\n".encode("utf-8"): "No header row",
            b"PK\x03\x04broken zip": "could not be read",
            b'{"a": 1}': "no array",
            b"[]": "empty",
        }
        for data, expected in cases.items():
            report = run(data)
            assert report.refused_file and expected in report.refused_file, (data, report.refused_file)
            assert report.rows == []
        many = csv_bytes([row(n) for n in range(1, 12)])
        report = run(many, max_rows=10)
        assert "11 records" in report.refused_file
        assert active_count() == 0

    def test_hundred_thousand_rows_refused_before_writing(self, org):
        """A 100,000-row file above the configured limit is refused whole, nothing written, no crash."""
        body = "\n".join(f"测试{n},101001001/{n:06d},示范局,无条件共享" for n in range(100000))
        data = ("信息资源名称,信息资源代码,信息资源提供方,共享类型\n" + body).encode("utf-8")
        from ckanext.sharing import config

        report = run(data, max_rows=config.catalogue_import_max_rows())
        assert "100000 records" in report.refused_file
        assert active_count() == 0

    def test_create_organizations(self):
        """Unknown providers are refused, and created with --create-organizations (once for many rows)."""
        data = csv_bytes([row(1, 信息资源提供方="新部门甲"), row(2, 信息资源提供方="新部门甲")])
        assert outcomes(run(data)) == ["refused", "refused"]
        report = run(data, create_organizations=True)
        assert outcomes(report) == ["created", "created"]
        assert model.Session.query(model.Group).filter_by(title="新部门甲", state="active").count() == 1

    def test_mapping_file(self, org, tmp_path):
        """A mapping file names unknown columns, translates values, fills defaults and assigns resource codes."""
        mapping = tmp_path / "map.yaml"
        mapping.write_text(
            "columns: {资源标题: title, 说明: notes, 内部编号: ignore}\n"
            "values: {sharing_tier: {公开: open}}\n"
            "defaults: {update_cycle: 每年, publish_date: '2024-01-01', share_method: 文件下载, format_category: 电子文件}\n"
            "res_code_prefix: '301001001'\n", encoding="utf-8")
        data = "资源标题,说明,内部编号,共享类型,信息资源提供方\n甲表,甲的说明,X1,公开,示范局\n乙表,乙的说明,X2,公开,示范局\n"
        report = run(data.encode(), mapping=importer.load_mapping(str(mapping)))
        assert outcomes(report) == ["created", "created"], report.table()
        codes = sorted(helpers.call_action("package_show", id=r.dataset_id)["res_code"] for r in report.rows)
        assert codes == ["301001001/000001", "301001001/000002"]
        assert report.unknown_columns == []
        again = run(data.encode(), mapping=importer.load_mapping(str(mapping)))
        assert outcomes(again) == ["unchanged", "unchanged"]
        with pytest.raises(importer.MappingError, match="nonsense"):
            importer.load_mapping({"columns": {"x": "nonsense"}})

    @pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
    def test_two_columns_of_one_field_pick_the_plainer_name_in_any_order(self, org, fmt):
        """发布日期 wins over 创建日期 and 主题分类 over 领域 whatever the column order (JSON key order, sheet order)."""
        first = {"领域": "综合政务", "创建日期": "2022-12-14"} | row(1) | {"主题分类": "卫生健康"}
        second = row(2) | {"主题分类": "公共安全"}
        second = {"主题分类": second.pop("主题分类"), **second, "领域": "综合政务", "创建日期": "2021-03-01"}
        first["发布日期"], second["发布日期"] = "2023-06-13", "2023-06-10"
        records = [first, second]
        data = {"json": lambda: json.dumps(records, ensure_ascii=False).encode(), "csv": lambda: csv_bytes(records),
                "xlsx": lambda: files.to_xlsx(records)}[fmt]()
        report = run(data, f"catalogue.{fmt}")
        assert outcomes(report) == ["created", "created"], report.table()
        shown = [helpers.call_action("package_show", id=r.dataset_id) for r in report.rows]
        assert [(d["publish_date"], d["theme"]) for d in shown] == [("2023-06-13", "卫生健康"), ("2023-06-10", "公共安全")]

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_export_imports_back_with_no_change(self, org, fmt):
        """An export (2017 guide column order, Chinese headers) imports back: every row unchanged."""
        first = run(csv_bytes([row(1), row(2, 共享类型="有条件共享", 共享条件="仅限政务用途", 共享范围="本市政务部门"),
                               row(3, 共享类型="不予共享", 共享条件="", 共享方式="", 信息项信息="")
                               | {"不予共享依据": "《数据安全法》第二十一条", "信息资源格式": "电子文件"}]))
        assert outcomes(first) == ["created"] * 3, first.table()
        data = exporter.export(importer.site_user(), fmt)
        table = readers.read(data, f"export.{fmt}")
        assert table.headers[:6] == ["信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方", "信息资源提供方代码",
                                     "信息资源摘要"]
        assert len(table.rows) == 3
        back = run(data, f"export.{fmt}")
        assert outcomes(back) == ["unchanged"] * 3, back.table()
        shared = readers.read(exporter.export(importer.site_user(), fmt, list_="shared"), f"s.{fmt}")
        opened = readers.read(exporter.export(importer.site_user(), fmt, list_="open"), f"o.{fmt}")
        assert (len(shared.rows), len(opened.rows)) == (2, 1)

    @pytest.mark.skipif(files.cnpds_dir() is None, reason="../shared/data/cnpds (the real records) is absent")
    def test_real_records_sample(self):
        """120 real records (JSON as published, 10 from every third portal) import with 0 crashes, each refused
        row carrying its reason; a second import creates nothing."""
        records = []
        for path in files.cnpds_files()[::3]:
            records.extend(files.cnpds_records(path)[:10])
        data = json.dumps(records, ensure_ascii=False).encode("utf-8")
        mapping = importer.load_mapping(str(importer.OPEN_DATA_MAPPING))
        report = run(data, "cnpds.json", create_organizations=True, mapping=mapping)
        counts = report.counts()
        assert sum(counts.values()) == len(records) == 120
        assert counts["created"] > 40, report.table(limit=20)
        assert all(r.errors for r in report.rows if r.outcome == "refused")
        assert not [r for r in report.rows if "Internal error" in r.messages()]
        again = run(data, "cnpds.json", create_organizations=True, mapping=mapping)
        assert again.counts()["created"] == 0 and again.counts()["unchanged"] == counts["created"]
