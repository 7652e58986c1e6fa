"""``ckan sharing catalogue import|export`` (SPEC §12): the commands over the same importer and exporter."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ckanext.sharing.cli import sharing
from ckan.tests import factories

from tests.catalogue.transfer import files
from tests.catalogue.transfer.test_import import PLUGINS, USCC, row
from tests.live import ROOT

CKAN = Path(sys.prefix) / "bin" / "ckan"
# (portal language, refusal of an unknown provider, refusal of an impossible date, outcome, report header)
LANGUAGES = {
    "zh_Hans_CN": ("信息资源提供方: 未知的组织 没有这个部门：请先创建", "发布日期: ", "已拒绝", "行,结果,"),
    "en": ("Resource provider (信息资源提供方): Unknown organization 没有这个部门: create it first",
           "Publish date: ", "refused", "Row,Outcome,"),
}


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
def test_import_dry_run_import_and_export(cli, tmp_path):
    """The command prints one line per row; --dry-run writes nothing; export writes the guide's Chinese headers."""
    factories.Organization(name="shi-fan-ju", title="示范局", uscc=USCC)
    source = tmp_path / "目录.csv"
    source.write_bytes(files.to_csv([row(1), row(2, 发布日期="明天")]))
    dry = cli.invoke(sharing, ["catalogue", "import", str(source), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "created 1" in dry.output and "refused 1" in dry.output
    report = tmp_path / "report.csv"
    done = cli.invoke(sharing, ["catalogue", "import", str(source), "--organization", "shi-fan-ju",
                             "--report", str(report)])
    assert done.exit_code == 0, done.output
    assert "created 1" in done.output and "Publish date" in done.output
    assert "2/2 rows in" in done.output and "created 1, updated 0, unchanged 0, refused 1" in done.output  # progress
    assert "refused" in report.read_text(encoding="utf-8-sig")
    out = tmp_path / "catalogue.xlsx"
    exported = cli.invoke(sharing, ["catalogue", "export", "--format", "xlsx", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    csv_out = tmp_path / "open.csv"
    cli.invoke(sharing, ["catalogue", "export", "--format", "csv", "--list", "open", "-o", str(csv_out)])
    assert csv_out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("信息资源分类,信息资源名称,信息资源代码")
    again = cli.invoke(sharing, ["catalogue", "import", str(out)])
    assert "unchanged 1" in again.output, again.output


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_refused_file_exits_1(cli, tmp_path):
    """A file that is not a spreadsheet is refused with a message and exit status 1, never a traceback."""
    source = tmp_path / "photo.xlsx"
    source.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = cli.invoke(sharing, ["catalogue", "import", str(source)])
    assert result.exit_code == 1
    assert "not a spreadsheet" in result.output and "Traceback" not in result.output


def test_progress_log_prints_a_line_per_thousand_rows_and_the_last(capsys):
    """Without a terminal the import prints progress every 1,000 rows and at the end, with the outcomes so far."""
    from types import SimpleNamespace

    from ckanext.sharing.catalogue.transfer.cli import ProgressLog

    log = ProgressLog(every=1000)
    log.progress(0, 2500)
    for done in (50, 500, 1000, 1050, 2000, 2500):
        log.rows_done([SimpleNamespace(outcome="created")] * 40 + [SimpleNamespace(outcome="refused")] * 10)
        log.progress(done, 2500)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("] ")[1].split(" rows")[0] for line in lines] == ["0/2500", "1000/2500", "2000/2500", "2500/2500"]
    assert lines[-1].endswith("created 240, updated 0, unchanged 0, refused 60")


@pytest.mark.ckan_config("ckan.plugins", PLUGINS)
@pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")
@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_real_command_reports_in_the_portals_language(tmp_path, locale):
    """The real ``ckan`` process (no Flask context of its own) gives labels and messages in the portal's language."""
    factories.Organization(name="shi-fan-ju", title="示范局", uscc=USCC)
    ini = tmp_path / "portal.ini"
    ini.write_text(f"[app:main]\nuse = config:{ROOT / 'test.ini'}\nckan.plugins = {PLUGINS}\n"
                   f"ckan.locale_default = {locale}\n", encoding="utf-8")
    source = tmp_path / "目录.csv"
    source.write_bytes(files.to_csv([row(1), row(2, 发布日期="2023-02-30"), row(3, 信息资源提供方="没有这个部门")]))
    report = tmp_path / "report.csv"
    done = subprocess.run([str(CKAN), "-c", str(ini), "sharing", "catalogue", "import", str(source), "--dry-run",
                           "--report", str(report)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ), cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    provider, date, refused, header = LANGUAGES[locale]
    lines = done.stdout.splitlines()
    by_row = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in ("2", "3", "4")}
    assert provider in by_row["4"] and refused in by_row["4"], done.stdout  # file rows: the header is row 1
    assert date in by_row["3"], done.stdout
    message = by_row["3"].split(date, 1)[1]
    assert any("\u4e00" <= c <= "\u9fff" for c in message) == (locale == "zh_Hans_CN"), done.stdout
    csv_text = report.read_text(encoding="utf-8-sig")
    assert csv_text.startswith(header) and provider.split(": ")[0] in csv_text, csv_text
