"""Personal-information guard (SPEC §6): scans data before a dataset becomes or receives open data.

What is looked for: mainland resident ID numbers (GB 11643: valid check digit, real birth date
and place, checked by ``stdnum.cn.ric``) and mobile numbers. Where: CSV and XLSX files, uploaded
to an open dataset or already stored in a dataset that changes to open. How: streamed (CSV in
chunks, XLSX through openpyxl's read-only mode) and bounded by bytes and rows, never a whole file
in memory; an upload is rewound afterwards so CKAN still stores all of it.

A hit blocks the change with an error naming the column and the count, never a value, unless a
sysadmin or an admin of the owning organization attests de-identification (``deidentified`` on
the dataset, or ``sharing_pi_attest`` on the request); that override is written to the audit ledger.
"""
from __future__ import annotations

import codecs
import csv
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator, Mapping, Optional

import ckan.plugins.toolkit as tk
from ckan import model
from stdnum.cn import ric

from ckanext.sharing import config, values
from ckanext.sharing.access import facts, policy, roles
from ckanext.sharing.ledger import chain, events

log = logging.getLogger(__name__)

RESIDENT_ID = "resident_id"
MOBILE = "mobile"
ATTEST_KEY = "sharing_pi_attest"

_CHUNK = 64 * 1024

# Candidates only: a resident ID is confirmed by stdnum (check digit, birth date, region).
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?1[3-9]\d{9}(?![0-9])")
_CSV_EXT = (".csv", ".txt", ".tsv")
_XLSX_EXT = (".xlsx", ".xlsm")


@dataclass
class ScanResult:
    """Counts per (column, kind); ``truncated`` when the bounds stopped the scan early."""

    counts: Counter = field(default_factory=Counter)
    rows: int = 0
    truncated: bool = False
    source: str = ""

    @property
    def hit(self) -> bool:
        return bool(self.counts)

    def summary(self) -> list[dict[str, Any]]:
        """Column, kind and count of each finding (safe for errors and the audit: no values)."""
        return [{"column": col, "kind": kind, "count": n} for (col, kind), n in sorted(self.counts.items())]


# --- finding values in text ---------------------------------------------------------------------


def find_in_text(text: str) -> Counter:
    """How many resident ID numbers and mobile numbers one cell holds."""
    found: Counter = Counter()
    if not text or len(text) < 11:
        return found
    ids = [m for m in _ID_RE.findall(text) if ric.is_valid(m)]
    if ids:
        found[RESIDENT_ID] += len(ids)
    mobiles = _MOBILE_RE.findall(text)
    if mobiles:
        found[MOBILE] += len(mobiles)
    return found


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _scan_rows(rows: Iterable[list[Any]], result: ScanResult, max_rows: int) -> None:
    header: Optional[list[str]] = None
    for row in rows:
        if header is None:
            header = [_cell_text(c).strip() for c in row]
            # a header that itself holds personal data is data: scan it too, under column numbers
            data_row: Optional[list[Any]] = row if any(find_in_text(h) for h in header) else None
            if data_row is None:
                continue
            header = []
        else:
            data_row = row
        if result.rows >= max_rows:
            result.truncated = True
            return
        result.rows += 1
        for index, cell in enumerate(data_row):
            hits = find_in_text(_cell_text(cell))
            if hits:
                name = header[index] if index < len(header) and header[index] else tk._("column %d") % (index + 1)
                for kind, n in hits.items():
                    result.counts[(name, kind)] += n


# --- CSV: chunked decoding, csv.reader over lines -------------------------------------------------


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"  # the other encoding government spreadsheets are saved in


def _lines(stream: IO[bytes], max_bytes: int, result: ScanResult) -> Iterator[str]:
    head = stream.read(min(_CHUNK, max_bytes))
    decoder = codecs.getincrementaldecoder(_detect_encoding(head))(errors="replace")
    read = len(head)
    pending = ""
    chunk = head
    while chunk:
        pending += decoder.decode(chunk)
        lines = pending.splitlines(keepends=True)
        pending = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        yield from lines
        if read >= max_bytes:
            result.truncated = True
            break
        chunk = stream.read(min(_CHUNK, max_bytes - read))
        read += len(chunk)
    if result.truncated:
        return  # a cut-off last line is not scanned
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def scan_csv(stream: IO[bytes], max_bytes: Optional[int] = None, max_rows: Optional[int] = None) -> ScanResult:
    """Scan a CSV byte stream from its current position (UTF-8 or GB18030, delimiter sniffed)."""
    result = ScanResult()
    lines = _lines(stream, max_bytes or config.pi_scan_max_bytes(), result)
    first = next(lines, "")
    delimiter = max((",", "\t", ";", "|"), key=first.count) if first else ","

    def all_lines() -> Iterator[str]:
        yield first
        yield from lines

    csv.field_size_limit(1024 * 1024)
    try:
        _scan_rows(csv.reader(all_lines(), delimiter=delimiter), result, max_rows or config.pi_scan_max_rows())
    except csv.Error as exc:  # e.g. a field over the size limit: unreadable is not "clean"
        raise tk.ValidationError({"upload": [tk._("Could not read the file as CSV: %s") % exc]})
    return result


def scan_xlsx(stream: IO[bytes], max_rows: Optional[int] = None) -> ScanResult:
    """Scan every sheet of an XLSX workbook with openpyxl in read-only mode (rows streamed)."""
    from openpyxl import load_workbook

    result = ScanResult()
    limit = max_rows or config.pi_scan_max_rows()
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file; never a 500
        raise tk.ValidationError({"upload": [tk._("Could not read the spreadsheet: %s") % type(exc).__name__]})
    try:
        for sheet in workbook.worksheets:
            sheet_result = ScanResult(rows=result.rows)
            _scan_rows(sheet.iter_rows(values_only=True), sheet_result, limit)
            result.rows = sheet_result.rows
            for (col, kind), n in sheet_result.counts.items():
                label = f"{sheet.title}: {col}" if len(workbook.worksheets) > 1 else col
                result.counts[(label, kind)] += n
            if sheet_result.truncated:
                result.truncated = True
                break
    finally:
        workbook.close()
    return result


def kind_of(filename: str | None, fmt: str | None = None) -> Optional[str]:
    """``csv``, ``xlsx`` or None (not scanned) from a file name or a resource format."""
    name = (filename or "").lower()
    fmt = (fmt or "").lower().strip(".")
    if name.endswith(_XLSX_EXT) or fmt in ("xlsx", "xlsm"):
        return "xlsx"
    if name.endswith(_CSV_EXT) or fmt in ("csv", "tsv"):
        return "csv"
    return None


def scan_stream(stream: IO[bytes], kind: str, source: str = "") -> ScanResult:
    """Scan a seekable binary stream and rewind it to where it was, so the caller can still use it."""
    start = stream.tell() if hasattr(stream, "tell") else 0
    try:
        result = scan_xlsx(stream) if kind == "xlsx" else scan_csv(stream)
    finally:
        if hasattr(stream, "seek"):
            stream.seek(start)
    result.source = source
    if result.truncated:
        log.info("personal-information scan of %s stopped at its bounds after %d rows", source, result.rows)
    return result


# --- errors, attestation, audit -----------------------------------------------------------------


def _kind_label(kind: str, n: int) -> str:
    if kind == RESIDENT_ID:
        return tk.ungettext("%(num)d resident ID number", "%(num)d resident ID numbers", n)
    return tk.ungettext("%(num)d mobile number", "%(num)d mobile numbers", n)


def describe(results: Iterable[ScanResult]) -> str:
    """'file.csv: column "身份证号": 3 resident ID numbers; ...' (columns and counts, never values)."""
    parts = []
    for result in results:
        for (col, kind), n in sorted(result.counts.items()):
            parts.append(tk._('%(file)s: column "%(column)s": %(what)s') % {
                "file": result.source or tk._("file"), "column": col, "what": _kind_label(kind, n)})
    return "; ".join(parts)


def _enforce(
    context: Mapping[str, Any],
    results: list[ScanResult],
    attested: bool,
    field_name: str,
    package_id: Optional[str],
    owner_org: Optional[str],
    trigger: str,
    resource_id: Optional[str] = None,
) -> None:
    hits = [r for r in results if r.hit]
    if not hits:
        return
    found = describe(hits)
    if not attested:
        raise tk.ValidationError({field_name: [
            tk._("Personal information found (%s). Remove or de-identify it, or have a sysadmin or "
                 "organization admin attest de-identification.") % found]})
    user = facts.user_from_context(context)
    if not roles.may_attest(user, owner_org):
        raise tk.ValidationError({"deidentified": [
            tk._("Only a sysadmin or an admin of the organization can attest de-identification (%s)") % found]})
    assert user is not None
    chain.append(
        events.PI_ATTEST,
        actor_id=user.id,
        actor_name=user.name,
        package_id=package_id,
        resource_id=resource_id,
        organization_id=owner_org,
        detail={"trigger": trigger, "findings": [dict(s, file=r.source) for r in hits for s in r.summary()]},
    )


# --- entry points -------------------------------------------------------------------------------


def _stored_file(res: model.Resource) -> Optional[str]:
    """Path of a resource's uploaded file in CKAN's local storage (None if not there)."""
    if res.url_type != "upload":
        return None
    from ckan.lib import uploader

    upload = uploader.get_resource_uploader({"id": res.id, "url": res.url, "url_type": res.url_type})
    try:
        path = upload.get_path(res.id)
    except Exception:  # storage not configured
        return None
    return path if isinstance(path, str) and os.path.isfile(path) else None


def scan_package_files(pkg: model.Package) -> list[ScanResult]:
    """Scan the stored CSV/XLSX uploads of a dataset's active resources."""
    results = []
    for res in pkg.resources:
        if res.state != "active":
            continue
        name = (res.url or "").rsplit("/", 1)[-1]
        kind = kind_of(name, res.format)
        path = _stored_file(res) if kind else None
        if path is None:
            continue
        with open(path, "rb") as handle:
            results.append(scan_stream(handle, kind, name or res.id))
    return results


def check_dataset_open(context: Mapping[str, Any], data: Mapping[str, Any], existing: Optional[Any]) -> None:
    """Raise ValidationError if the dataset's uploads contain unattested personal information."""
    attested = values.truthy(data.get("deidentified"))
    if isinstance(data, dict) and ATTEST_KEY in data:
        attested = values.truthy(data.pop(ATTEST_KEY)) or attested
    if existing is None:
        return  # a new dataset has no stored files yet; its uploads are scanned as they come
    results = scan_package_files(existing)
    _enforce(context, results, attested, "sharing_tier", existing.id, existing.owner_org, "tier_change")


def _is_file(upload: Any) -> bool:
    return hasattr(upload, "stream") and bool(getattr(upload, "filename", None))


# Marks an upload object already scanned (resource_create scans its file, then core's package_update
# stores it: scanned once, one attestation row).
_SCANNED = "_sharing_pi_scanned"


def _first_scan(context: Mapping[str, Any], upload: Any) -> bool:
    """True the first time this upload object is scanned."""
    if getattr(upload, _SCANNED, False):
        return False
    try:
        setattr(upload, _SCANNED, True)
    except AttributeError:  # an object that takes no attributes: scan it each time
        pass
    return True


def check_package_uploads(context: Mapping[str, Any], data: Mapping[str, Any], tier: str,
                          existing: Optional[Any]) -> None:
    """Scan every file carried by the resources of a package_create/update/revise
    (``resources[i].upload``) when the dataset ends up in a scanned tier (issue 10, hole 8: every path
    that stores a file is guarded, not only resource_create/update)."""
    if not policy.scanned_for_personal_info(tier):
        return
    attested = values.truthy(data.get("deidentified"))
    for index, res in enumerate(data.get("resources") or []):
        upload = res.get("upload") if isinstance(res, Mapping) else None
        if not _is_file(upload) or not _first_scan(context, upload):
            continue
        kind = kind_of(upload.filename, res.get("format"))
        if kind is None:
            continue
        result = scan_stream(upload.stream, kind, os.path.basename(upload.filename))
        _enforce(context, [result], attested, "upload", getattr(existing, "id", None),
                 getattr(existing, "owner_org", None) or data.get("owner_org"), "upload", res.get("id"))


def check_resource_upload(context: Mapping[str, Any], data_dict: dict[str, Any]) -> None:
    """Scan the file of a resource_create/update (``data_dict['upload']``) when the dataset is open."""
    attested = values.truthy(data_dict.pop(ATTEST_KEY, None))
    upload = data_dict.get("upload")
    if not _is_file(upload) or not _first_scan(context, upload):
        return
    pkg: Optional[model.Package] = None
    resource_id = data_dict.get("id")
    if data_dict.get("package_id"):
        pkg = model.Package.get(data_dict["package_id"])
    if pkg is None and resource_id:
        res = model.Resource.get(resource_id)
        pkg = res.package if res is not None else None
    if pkg is None or not policy.scanned_for_personal_info(facts.tier_of_package(pkg)):
        return
    kind = kind_of(upload.filename, data_dict.get("format"))
    if kind is None:
        return
    result = scan_stream(upload.stream, kind, os.path.basename(upload.filename))
    _enforce(context, [result], attested, "upload", pkg.id, pkg.owner_org, "upload", resource_id)
