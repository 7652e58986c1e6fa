"""The extension's own strings are all translated to Simplified Chinese (zh_Hans_CN), and the catalogues are current.

Fails when a string was added to a module or template without running ``make i18n`` and translating it.
"""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = pathlib.Path(__file__).resolve().parents[1]
I18N = ROOT / "ckanext" / "sharing" / "i18n"
POT = I18N / "ckanext-sharing.pot"
PO = I18N / "zh_Hans_CN" / "LC_MESSAGES" / "ckanext-sharing.po"
MO = PO.with_suffix(".mo")
_PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdr]|\{[a-z_]*\}")


def _read_po(path: pathlib.Path, locale: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


@pytest.fixture(scope="module")
def fresh_pot(tmp_path_factory) -> set:
    """Extract the messages of every module and template now, as ``make i18n`` does."""
    out = tmp_path_factory.mktemp("i18n") / "fresh.pot"
    subprocess.run(
        [sys.executable, "setup.py", "-q", "extract_messages", "--output-file", str(out)],
        cwd=ROOT, check=True, capture_output=True,
    )
    return _ids(_read_po(out))


def test_committed_pot_is_current(fresh_pot):
    """Committed POT is current."""
    missing = sorted(map(str, fresh_pot - _ids(_read_po(POT))))
    assert not missing, f"run `make i18n`: strings not in the .pot: {missing}"


def test_every_msgid_translated_to_zh_hans_cn(fresh_pot):
    """Every msgid translated to zh_Hans_CN."""
    po = _read_po(PO, "zh_Hans_CN")
    by_id = {m.id: m for m in po if m.id}
    untranslated = []
    for msgid in fresh_pot | _ids(_read_po(POT)):
        m = by_id.get(msgid)
        strings = (m.string if isinstance(m.string, tuple) else (m.string,)) if m else ("",)
        if m is None or m.fuzzy or not all(strings):
            untranslated.append(msgid)
    assert not untranslated, f"untranslated in zh_Hans_CN: {sorted(map(str, untranslated))}"


def test_placeholders_kept():
    """Every translation keeps the placeholders of its msgid."""
    wrong = []
    for m in _read_po(PO, "zh_Hans_CN"):
        if not m.id or not m.string:
            continue
        source = m.id[0] if isinstance(m.id, tuple) else m.id
        target = m.string[0] if isinstance(m.string, tuple) else m.string
        if sorted(_PLACEHOLDER.findall(source)) != sorted(_PLACEHOLDER.findall(target)):
            wrong.append(source)
    assert not wrong, f"placeholders differ: {wrong}"


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_compiled_mo_matches_po():
    """Compiled MO matches po."""
    with MO.open("rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    stale = [m.id for m in _read_po(PO, "zh_Hans_CN") if m.id and mo.get(_key(m.id)) != _key(m.string)]
    assert not stale, f"run `make i18n` (compile): .mo out of date for {stale[:10]}"
