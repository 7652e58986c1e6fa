"""Reading a catalogue file into records (SPEC §12): XLSX (and XLS) with python-calamine, CSV in UTF-8 with or
without a BOM or GB18030 with the delimiter sniffed, JSON arrays (and JSON lines, as ``ckanapi dump`` writes).

A record is a list of ``(header, value)`` pairs, so two columns with the same name both survive. The header
row of a sheet is found among its first rows (templates put a title above it; two-row headers with merged
group cells such as 共享属性 over 共享类型 / 共享条件 are joined), merged data cells take the value of their
top-left cell, formulas give their stored result. A file that cannot be a catalogue raises
:class:`FileRefused` with a message for the user, before anything is imported.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator, Optional

import ckan.plugins.toolkit as tk

from ckanext.sharing.catalogue.transfer import headers as hdr

Record = list[tuple[str, Any]]
HEADER_SCAN_ROWS = 20
SNIFF_BYTES = 64 * 1024


class FileRefused(Exception):
    """The whole file is refused (not a spreadsheet, empty, no recognisable header, too many rows)."""


@dataclass
class Table:
    """The records of a file: ``rows`` are ``(row number in the file, record)``; ``unknown`` lists the headers
    that are neither mapped nor ignored."""

    kind: str
    headers: list[str]
    rows: list[tuple[int, Record]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    sheet: str = ""


def sniff_kind(head: bytes, filename: str = "") -> str:
    """``xlsx`` | ``xls`` | ``json`` | ``csv`` from the first bytes (the file name only breaks ties)."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped[:1] in (b"[", b"{"):
        return "json"
    if b"\x00" in head[:4096] and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(tk._("The file is not a spreadsheet: upload an XLSX, CSV or JSON file"))
    return "csv"


def decode(data: bytes) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), UTF-16 with a BOM, else GB18030 (which includes GBK)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileRefused(tk._("The file is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8) or XLSX"))


def _cell(value: Any) -> Any:
    """Cells as the normaliser wants them: strings stripped, empty strings None."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _score(row: Iterable[Any], mapping: Optional[dict[str, str]]) -> int:
    return len(hdr.map_headers([c if isinstance(c, str) else "" for c in row], mapping))


def _header_row(rows: list[list[Any]], mapping: Optional[dict[str, str]]) -> tuple[int, list[str]]:
    """Index of the last header row and the headers; two-row headers (group cells merged above their
    sub-columns) are joined column by column, the lower row winning where it names a field."""
    best, best_score = -1, 0
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _score(row, mapping)
        if score > best_score:
            best, best_score = index, score
    if best < 0 or best_score < 2:
        raise FileRefused(tk._(
            "No header row with catalogue columns was found in the first %d rows (e.g. 信息资源名称, 信息资源代码, "
            "共享类型): check the sheet, or name the columns in a mapping file") % HEADER_SCAN_ROWS)
    top = ["" if c is None else str(c).strip() for c in rows[best]]
    if best + 1 < len(rows):
        below = ["" if c is None else str(c).strip() for c in rows[best + 1]]
        if _score(below, mapping) >= 1 and sum(1 for c in top if not c) >= 1:
            width = max(len(top), len(below))
            top += [""] * (width - len(top))
            below += [""] * (width - len(below))
            joined = [b if hdr.field_for(b, mapping) else (t or b) for t, b in zip(top, below)]
            return best + 1, joined
    return best, top


def _records_from_grid(kind: str, grid: list[list[Any]], mapping: Optional[dict[str, str]], first_row: int = 1,
                       sheet: str = "") -> Table:
    """A table of rows (lists of cells) → records under the detected header row."""
    if not any(any(c not in (None, "") for c in row) for row in grid):
        raise FileRefused(tk._("The file is empty: it has no rows"))
    last_header, headers = _header_row(grid, mapping)
    names = [h or tk._("column %d") % (i + 1) for i, h in enumerate(headers)]
    table = Table(kind=kind, headers=names, unknown=hdr.unknown(headers, mapping), sheet=sheet)
    for index in range(last_header + 1, len(grid)):
        cells = [_cell(c) for c in grid[index]]
        if all(c in (None, "") for c in cells):
            continue
        table.rows.append((index + first_row, [(names[i], c) for i, c in enumerate(cells) if i < len(names)]))
    return table


def _fill_merged(grid: list[list[Any]], ranges: Iterable[Any]) -> None:
    """Every cell of a merged range takes the value of its top-left cell (calamine gives it only there)."""
    for cell_range in ranges or ():
        (r1, c1), (r2, c2) = cell_range
        if r1 >= len(grid):
            continue
        value = grid[r1][c1] if c1 < len(grid[r1]) else None
        for r in range(r1, min(r2, len(grid) - 1) + 1):
            row = grid[r]
            if len(row) <= c2:
                row.extend([None] * (c2 + 1 - len(row)))
            for c in range(c1, c2 + 1):
                if r != r1 or c != c1:
                    row[c] = value


def read_xlsx_calamine(stream: IO[bytes], mapping: Optional[dict[str, str]] = None) -> Table:
    """XLSX/XLS with python-calamine (Rust; measured faster than openpyxl, bench/catalogue_import.py): the
    sheet with the best header row; formulas give their cached results."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(stream)
    except (CalamineError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileRefused(tk._("The file could not be read as a workbook: %s") % type(exc).__name__)
    refusal: Optional[FileRefused] = None
    best: Optional[Table] = None
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            grid = [list(r) for r in sheet.to_python(skip_empty_area=False)]
            start = sheet.start[0] if sheet.start else 0
            try:
                ranges = sheet.merged_cell_ranges
            except Exception:  # not available for every format (XLS)
                ranges = None
            if ranges:
                _fill_merged(grid, [((a[0] - start, a[1]), (b[0] - start, b[1])) for a, b in ranges])
            table = _records_from_grid("xlsx", grid, mapping, first_row=start + 1, sheet=name)
        except FileRefused as exc:
            refusal = refusal or exc
            continue
        except CalamineError as exc:
            refusal = refusal or FileRefused(tk._("The file could not be read as a workbook: %s") % type(exc).__name__)
            continue
        if best is None or len(hdr.map_headers(table.headers, mapping)) > len(hdr.map_headers(best.headers, mapping)):
            best = table
    if best is None:
        raise refusal or FileRefused(tk._("The file is empty: it has no rows"))
    return best


def read_xlsx_openpyxl(stream: IO[bytes], mapping: Optional[dict[str, str]] = None) -> Table:
    """XLSX with openpyxl (read-only, cached formula values): the reader calamine was measured against; kept
    for that comparison (no merged ranges in openpyxl's read-only mode)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileRefused(tk._("The file could not be read as a workbook: %s") % type(exc).__name__)
    sheet = workbook.worksheets[0]
    grid = [list(r) for r in sheet.iter_rows(values_only=True)]
    workbook.close()
    return _records_from_grid("xlsx", grid, mapping, sheet=sheet.title)


def read_csv(data: bytes, mapping: Optional[dict[str, str]] = None) -> Table:
    """CSV/TSV text in UTF-8 (± BOM) or GB18030, delimiter sniffed among ``, ; tab |``."""
    content = decode(data)
    if not content.strip():
        raise FileRefused(tk._("The file is empty: it has no rows"))
    sample = content[:SNIFF_BYTES]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ","
    try:  # only the delimiter is sniffed: the quoting is Excel's (the sniffer guesses "" escapes wrong)
        grid = [list(r) for r in csv.reader(io.StringIO(content, newline=""), csv.excel, delimiter=delimiter)]
    except csv.Error as exc:
        raise FileRefused(tk._("The CSV file is malformed: %s") % exc)
    return _records_from_grid("csv", grid, mapping)


def _json_records(parsed: Any) -> Optional[list[Any]]:
    """The list of records inside a parsed JSON document (an array, or one under result/results/records/data)."""
    if isinstance(parsed, list):
        return parsed
    if isinstance(parsed, dict):
        for key in ("result", "results", "records", "data", "datasets"):
            inner = parsed.get(key)
            found = _json_records(inner) if isinstance(inner, (list, dict)) else None
            if found is not None:
                return found
    return None


def read_json(data: bytes, mapping: Optional[dict[str, str]] = None) -> Table:
    """A JSON array of objects (as ``../shared/data/cnpds``), an object holding one, or JSON lines."""
    content = decode(data).strip()
    if not content:
        raise FileRefused(tk._("The file is empty: it has no rows"))
    try:
        records = _json_records(json.loads(content))
    except ValueError:
        try:
            records = [json.loads(line) for line in content.splitlines() if line.strip()]
        except ValueError as exc:
            raise FileRefused(tk._("The JSON file is malformed: %s") % exc)
    if records is None:
        raise FileRefused(tk._("The JSON file holds no array of records"))
    if not records:
        raise FileRefused(tk._("The file is empty: it has no rows"))
    keys: dict[str, None] = {}
    table = Table(kind="json", headers=[])
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise FileRefused(tk._("Record %d of the JSON file is not an object") % number)
        for key in record:
            keys.setdefault(str(key), None)
        table.rows.append((number, [(str(k), v) for k, v in record.items()]))
    table.headers = list(keys)
    if len(hdr.map_headers(table.headers, mapping)) < 2:
        raise FileRefused(tk._(
            "No catalogue fields were recognised among the keys of the records (e.g. 信息资源名称, 共享类型): "
            "name them in a mapping file"))
    table.unknown = hdr.unknown(table.headers, mapping)
    return table


READERS: dict[str, Callable[[bytes, Optional[dict[str, str]]], Table]] = {
    "xlsx": lambda data, mapping: read_xlsx_calamine(io.BytesIO(data), mapping),
    "xls": lambda data, mapping: read_xlsx_calamine(io.BytesIO(data), mapping),
    "csv": read_csv,
    "json": read_json,
}


def read(data: bytes, filename: str = "", mapping: Optional[dict[str, str]] = None,
         max_rows: Optional[int] = None) -> Table:
    """The records of a catalogue file; :class:`FileRefused` for a file that is empty, not a spreadsheet,
    without a recognisable header, or with more than ``max_rows`` records."""
    if data[:2] == b"\x1f\x8b":  # gzip (the cnpds files are .json.gz): read what it holds
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FileRefused(tk._("The file could not be read as a workbook: %s") % type(exc).__name__)
    if not data or not data.strip():
        raise FileRefused(tk._("The file is empty"))
    table = READERS[sniff_kind(data[:8192], filename)](data, mapping)
    if not table.rows:
        raise FileRefused(tk._("The file has a header row but no records"))
    if max_rows and len(table.rows) > max_rows:
        raise FileRefused(tk._("The file has %(rows)d records; at most %(max)d are imported from one file "
                               "(ckanext.sharing.catalogue_import_max_rows): split it") %
                          {"rows": len(table.rows), "max": max_rows})
    return table


def iter_values(record: Record, mapping: Optional[dict[str, str]] = None) -> Iterator[tuple[str, str, Any]]:
    """``(field, header, value)`` for each recognised, non-ignored pair of a record."""
    for header, value in record:
        target = hdr.field_for(header, mapping)
        if target and target != hdr.IGNORE:
            yield target, header, value
