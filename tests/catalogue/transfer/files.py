"""Test helpers: catalogue files made from records (the real ones of ``../shared/data/cnpds`` or the tests'
own), as XLSX, CSV and JSON; nothing is written into the repository."""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

# $SHARING_CNPDS_DIR (a git worktree outside the repository's parent folder), else ../shared/data/cnpds
CNPDS = Path(os.environ.get("SHARING_CNPDS_DIR") or Path(__file__).resolve().parents[3].parent / "shared" / "data" / "cnpds")


def cnpds_dir() -> Optional[Path]:
    """The real records' folder, or None when it is absent (tests then skip, saying why)."""
    return CNPDS if CNPDS.is_dir() and any(CNPDS.glob("*.json.gz")) else None


def cnpds_files() -> list[Path]:
    return sorted(CNPDS.glob("*.json.gz"))


def cnpds_records(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def columns_of(records: Iterable[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for record in records:
        for key in record:
            keys.setdefault(key, None)
    return list(keys)


def to_csv(records: list[dict[str, Any]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    """Records → CSV bytes (one column per key, lists as JSON text)."""
    header = columns_of(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for record in records:
        writer.writerow([_cell(record.get(k)) if record.get(k) is not None else "" for k in header])
    return buffer.getvalue().encode(encoding)


def to_xlsx(records: list[dict[str, Any]], title_row: Optional[str] = None) -> bytes:
    """Records → XLSX bytes (openpyxl, write-only), with an optional title row above the header."""
    import openpyxl

    header = columns_of(records)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("目录")
    if title_row:
        sheet.append([title_row])
    sheet.append(header)
    for record in records:
        sheet.append([_cell(record.get(k)) for k in header])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rows(records: list[dict[str, Any]]) -> Iterator[list[Any]]:
    header = columns_of(records)
    yield header
    for record in records:
        yield [record.get(k) for k in header]
