"""``ckan sharing catalogue import|export`` (SPEC §12). Thin: the work is in ``importer`` and ``exporter``."""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import click

__all__ = ["catalogue"]


@click.group(short_help="Catalogue import and export (目录导入导出)")
def catalogue() -> None:
    """Import a department's catalogue spreadsheet; export the catalogue in the 2017 guide's column order."""


@catalogue.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--organization", default=None, help="Every row belongs to this organization (name or id).")
@click.option("--dry-run", is_flag=True, help="Validate every row and report; write nothing.")
@click.option("--update", is_flag=True, help="Update datasets already in the catalogue whose values differ.")
@click.option("--mapping", default=None, type=click.Path(exists=True, dir_okay=False),
              help="YAML: columns, values, defaults, res_code_prefix, data_items_from_notes.")
@click.option("--create-organizations", is_flag=True, help="Create the providers that do not exist yet.")
@click.option("--workers", default=None, type=int, help="Writer processes (default: several for large files).")
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the whole report as CSV here.")
@click.option("--rows", "show_rows", default=50, show_default=True, help="Report lines printed (0: all).")
def import_(file: str, organization: Optional[str], dry_run: bool, update: bool, mapping: Optional[str],
            create_organizations: bool, workers: Optional[int], report_path: Optional[str], show_rows: int) -> None:
    """Import FILE (XLSX, CSV in UTF-8 or GB18030, JSON array): one report line per row. Exit 1 when the
    file is refused, 0 otherwise (refused rows are in the report)."""
    from ckanext.sharing import config
    from ckanext.sharing.catalogue.transfer import importer

    try:
        options = importer.Options(organization=organization, dry_run=dry_run, update=update,
                                   create_organizations=create_organizations,
                                   mapping=importer.load_mapping(mapping), workers=workers,
                                   max_rows=config.catalogue_import_max_rows())
    except importer.MappingError as exc:
        click.secho(str(exc), fg="red", err=True)
        raise click.exceptions.Exit(1)
    log = None if sys.stderr.isatty() else ProgressLog()
    report = importer.run(Path(file).read_bytes(), Path(file).name, options,
                          progress=_progress if log is None else log.progress,
                          rows_done=None if log is None else log.rows_done)
    if report_path:
        Path(report_path).write_text(report.csv_text(), encoding="utf-8")
    if report.refused_file:
        click.secho(report.summary(), fg="red", err=True)
        raise click.exceptions.Exit(1)
    click.echo(report.table(limit=show_rows or None))


class ProgressLog:
    """Progress of an import whose stderr is a file (``nohup … 2>log``): a line per ``every`` rows with the
    rate and the outcomes so far, so a long run that is stopped still tells what it did (SPEC §12)."""

    def __init__(self, every: int = 1000) -> None:
        self.every, self.started, self.outcomes = every, time.monotonic(), Counter()
        self.printed = -1

    def rows_done(self, part: list[Any]) -> None:
        self.outcomes.update(r.outcome for r in part)

    def progress(self, done: int, total: int) -> None:
        if done != total and done // self.every == self.printed // self.every and done:
            return
        self.printed = done
        seconds = time.monotonic() - self.started
        counts = ", ".join(f"{k} {self.outcomes[k]}" for k in ("created", "updated", "unchanged", "refused"))
        click.echo(f"[{time.strftime('%H:%M:%S')}] {done}/{total} rows in {seconds:.0f} s "
                   f"({done / seconds if seconds else 0:.1f} rows/s): {counts}", err=True)


def _progress(done: int, total: int) -> None:
    click.echo(f"\r{done}/{total}", nl=False, err=True)
    if done == total:
        click.echo("", err=True)


@catalogue.command("export")
@click.option("--organization", default=None, help="Only this organization's datasets (name or id).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--list", "list_", type=click.Choice(["shared", "open"]), default=None,
              help="shared: the 共享清单 (open + conditional); open: the 开放清单 (open only).")
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False),
              help="File to write (default: catalogue.<format> in the current directory; '-' for stdout).")
def export(organization: Optional[str], fmt: str, list_: Optional[str], output: Optional[str]) -> None:
    """Write the catalogue in the 2017 guide's column order with Chinese headers, one row per dataset."""
    import ckan.plugins.toolkit as tk

    from ckanext.sharing.catalogue.transfer import exporter, importer

    try:
        data = exporter.export(importer.site_user(), fmt, organization, list_)
    except tk.ObjectNotFound:
        click.secho(f"unknown organization: {organization}", fg="red", err=True)
        raise click.exceptions.Exit(1)
    if output == "-":
        sys.stdout.buffer.write(data)
        return
    path = Path(output or f"catalogue.{fmt}")
    path.write_bytes(data)
    click.echo(f"{path}: {len(data)} bytes")
