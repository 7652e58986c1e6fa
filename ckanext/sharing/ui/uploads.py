"""Uploads named in Chinese and the charset of CSV downloads (issue 11).

CKAN's ``munge_filename`` keeps ASCII only, so ``公交站点.csv`` was stored and downloaded as ``.csv``
(CKAN-NOTES). Before core sees an upload its file name becomes pinyin (``gong-jiao-zhan-dian.csv``,
the same transliteration as dataset URL names) and a resource without a name takes the Chinese stem.
A CSV download says its charset (UTF-8, else GB18030, read from the file's first bytes), so browsers
and spreadsheet programs that honour it do not show mojibake, and it is saved under its Chinese name
again (``filename*=UTF-8''...``, RFC 6266) while the stored name and the URL stay ASCII.
"""
from __future__ import annotations

import os
from typing import Any, Optional
from urllib.parse import quote

import ckan.plugins.toolkit as tk
from ckan import model
from ckan.lib import uploader

from ckanext.sharing.catalogue import naming

SNIFF_BYTES = 64 * 1024
# a 304 carries the headers of the file again (browsers update the cached ones with them), a 206 is a part of it
DOWNLOAD_STATUSES = (200, 206, 304)
TEXT_TYPES = ("text/csv", "text/plain", "text/tab-separated-values")


def _has_non_ascii(text: str) -> bool:
    return any(ord(ch) > 127 for ch in text)


def readable_filename(filename: str) -> str:
    """``公交站点.csv`` → ``gong-jiao-zhan-dian.csv``; ASCII names are left to core's munging."""
    base = os.path.basename(filename.replace("\\", "/"))
    if not _has_non_ascii(base):
        return filename
    stem, ext = os.path.splitext(base)
    ext = ext if not _has_non_ascii(ext) else ""
    return naming.slug(stem) + ext.lower()


def name_upload(data_dict: dict[str, Any]) -> None:
    """``before_resource_create/update``: pinyin file name for a Chinese upload; the stem as its name."""
    upload = data_dict.get("upload")
    original = getattr(upload, "filename", None)
    if not isinstance(original, str) or not original:
        return
    base = os.path.basename(original.replace("\\", "/"))
    if not (data_dict.get("name") or "").strip() or data_dict.get("name") == data_dict.get("url"):
        data_dict["name"] = os.path.splitext(base)[0] or base
    upload.filename = readable_filename(original)
    if isinstance(data_dict.get("url"), str) and _has_non_ascii(data_dict["url"]):
        data_dict["url"] = upload.filename


def sniff_charset(head: bytes) -> Optional[str]:
    """The charset of a text file's first bytes: ``utf-8`` (BOM or valid UTF-8), else ``gb18030``."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    for charset in ("utf-8", "gb18030"):
        try:
            head.decode(charset)
            return charset
        except UnicodeDecodeError as exc:
            if charset == "utf-8" and exc.start >= len(head) - 3:
                return charset  # a character cut by the sniffing window
    return None


def chinese_download_name(stored: str, resource_name: Any) -> Optional[str]:
    """``公交站点.csv`` for the stored ``gong-jiao-zhan-dian.csv`` of the resource named ``公交站点``: the
    Chinese name the file was uploaded with, when the stored name is its transliteration; else None."""
    if not isinstance(resource_name, str) or not _has_non_ascii(resource_name):
        return None
    stem, ext = os.path.splitext(os.path.basename(stored))
    name = resource_name.strip()
    if name.lower().endswith(ext.lower()):
        name = name[: len(name) - len(ext)]
    if not name or naming.slug(name) != stem or any(ch in name for ch in '/\\"\r\n'):
        return None
    return name + ext


def _name_download(response: Any, resource_id: str) -> None:
    """Let the browser save an upload under its Chinese name: ``filename`` keeps the ASCII name for old
    clients, ``filename*`` (RFC 6266 / 5987, UTF-8) gives the Chinese one (issue 11)."""
    res = model.Resource.get(resource_id)
    stored = (tk.request.view_args or {}).get("filename") or (res.url if res is not None else "")
    chinese = chinese_download_name(stored or "", res.name if res is not None else None)
    if chinese:
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{os.path.basename(stored)}"; filename*=UTF-8\'\'{quote(chinese, safe="")}')


def declare_charset(response: Any) -> Any:
    """``after_app_request``: on a download of an uploaded file, the Chinese file name (:func:`_name_download`),
    and ``charset=`` on a text file that lacks one."""
    endpoint = tk.request.endpoint or ""
    if not endpoint.endswith("resource.download") or response.status_code not in DOWNLOAD_STATUSES:
        return response
    resource_id = (tk.request.view_args or {}).get("resource_id")
    if resource_id:
        _name_download(response, resource_id)
    content_type = response.headers.get("Content-Type", "")
    if "charset" in content_type or not content_type.split(";")[0].strip() in TEXT_TYPES:
        return response
    path = uploader.get_resource_uploader({"id": resource_id, "url_type": "upload"}).get_path(resource_id)
    try:
        with open(path, "rb") as handle:
            charset = sniff_charset(handle.read(SNIFF_BYTES))
    except OSError:
        return response
    if charset:
        response.headers["Content-Type"] = f"{content_type.split(';')[0].strip()}; charset={charset}"
    return response
