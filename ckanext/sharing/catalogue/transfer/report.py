"""The import report (SPEC §12): one line per input row — created / updated / unchanged / refused — and for a
refusal the field (by its label in the portal's language) and the validation message; as a CLI table, as
CSV and as the data of the report page.
"""
from __future__ import annotations

import contextlib
import csv
import io
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator, Optional

import ckan.plugins.toolkit as tk

OUTCOMES = ("created", "updated", "unchanged", "refused")


def outcome_label(outcome: str) -> str:
    """An outcome in the portal's language."""
    return {"created": tk._("created"), "updated": tk._("updated"), "unchanged": tk._("unchanged"),
            "refused": tk._("refused")}.get(outcome, outcome)


def _own_labels() -> dict[str, str]:
    """Labels of the import's own pseudo-fields (not schema fields)."""
    return {"owner_org": tk._("Resource provider (信息资源提供方)"), "": tk._("Row"),
            "tag_string": tk._("Keywords (关键字)"), "name": tk._("URL name")}


def portal_language() -> str:
    """The portal's default language (``ckan.locale_default``): the language of every import report (SPEC §12)."""
    return str(tk.config.get("ckan.locale_default") or "en")


def _flask_app() -> Any:
    """The current Flask app, else the one CKAN's CLI keeps in the click context (``ckan sharing catalogue
    import``, ``ckan jobs worker``: CKAN pushes no Flask context there), else None."""
    import click
    import flask

    if flask.has_app_context():
        return flask.current_app._get_current_object()
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("flask_app") if ctx is not None else None


@contextlib.contextmanager
def in_language(lang: Optional[str] = None) -> Iterator[None]:
    """``tk._`` and the schema's labels in ``lang`` (default: the portal's language) while the block runs.

    Outside a Flask context (CKAN's CLI and job worker) flask-babel's ``gettext`` falls back to the untranslated
    English string while CKAN's ``get_lang`` falls back to ``ckan.locale_default``, so a report mixed English
    labels with Chinese ones; a test request context of the command's app is pushed for the block. Inside a
    request (the report page) the report keeps the language its messages were written in, whatever the page's."""
    import flask
    from flask_babel import force_locale

    lang = lang or portal_language()
    if not flask.has_request_context():
        app = _flask_app()
        if app is not None:
            with app.test_request_context(), force_locale(lang):
                yield
            return
    with force_locale(lang):
        yield


def _lang() -> str:
    """The language ``tk._`` translates into now (a forced one included), else the portal's default language."""
    try:
        from flask_babel import get_locale

        locale = get_locale()
        if locale is not None:
            return str(locale)
    except Exception:  # noqa: BLE001 — no request context: CKAN's locale selector reads the request
        pass
    return portal_language()


def field_label(name: str) -> str:
    """A field's label as the catalogue form shows it, in the portal's language (never a raw key)."""
    own = _own_labels()
    if name in ("owner_org", ""):
        return own[name]
    try:
        from ckanext.scheming.helpers import scheming_get_dataset_schema

        lang = _lang()
        for spec in (scheming_get_dataset_schema("dataset") or {}).get("dataset_fields", []):
            if spec.get("field_name") == name:
                label = spec.get("label") or name
                if isinstance(label, dict):
                    return label.get(lang) or label.get("en") or name
                return tk._(label)
    except (ImportError, RuntimeError, KeyError):
        pass
    return own.get(name, name)


@dataclass
class RowResult:
    """One input row's outcome; ``errors`` are ``(field, message)`` pairs of a refusal."""

    row: int
    title: str = ""
    outcome: str = ""
    dataset_id: Optional[str] = None
    name: Optional[str] = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def refuse(self, errors: Iterable[tuple[str, str]]) -> None:
        self.outcome = "refused"
        self.errors = list(errors)

    def messages(self) -> str:
        """``label: message; …`` of a refusal, in the portal's language."""
        return "; ".join(f"{field_label(k)}: {m}" if k else m for k, m in self.errors)


@dataclass
class Report:
    """What an import did (or, in a dry run, would do)."""

    filename: str = ""
    dry_run: bool = False
    kind: str = ""
    refused_file: Optional[str] = None
    unknown_columns: list[str] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    seconds: float = 0.0
    #: the language its messages were written in (the portal's, :func:`in_language`); labels follow it
    lang: str = ""

    def counts(self) -> dict[str, int]:
        """Rows per outcome (every outcome present, zeros included)."""
        found = Counter(r.outcome for r in self.rows)
        return {o: found.get(o, 0) for o in OUTCOMES}

    def top_refusals(self, n: int = 10) -> list[tuple[str, int]]:
        """The most frequent refusal reasons (field label + message), with their counts."""
        reasons: Counter = Counter()
        with in_language(self.lang):
            for row in self.rows:
                for key, message in row.errors:
                    reasons[f"{field_label(key)}: {message}" if key else message] += 1
        return reasons.most_common(n)

    def rate(self) -> float:
        """Rows per second over the whole import."""
        return len(self.rows) / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the background job's stored state and the page."""
        data = asdict(self)
        data["counts"] = self.counts()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Report":
        rows = [RowResult(**{k: v for k, v in r.items()}) for r in data.get("rows") or []]
        for row in rows:
            row.errors = [tuple(e) for e in row.errors]  # type: ignore[misc]
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "rows"}
        return cls(rows=rows, **fields)

    def csv_text(self) -> str:
        """The report as CSV (UTF-8 with a BOM for Excel): row, outcome, title, dataset, field, message."""
        with in_language(self.lang):
            return self._csv_text()

    def _csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([tk._("Row"), tk._("Outcome"), tk._("Title"), tk._("Dataset"), tk._("Field"),
                         tk._("Message")])
        for row in self.rows:
            if row.errors:
                for key, message in row.errors:
                    writer.writerow([row.row, outcome_label(row.outcome), row.title, row.name or "",
                                     field_label(key), message])
            else:
                writer.writerow([row.row, outcome_label(row.outcome), row.title, row.name or "",
                                 ", ".join(field_label(c) for c in row.changed), ""])
        return "\ufeff" + buffer.getvalue()

    def summary(self) -> str:
        """One line: the counts per outcome, the time and the rate."""
        with in_language(self.lang):
            return self._summary()

    def _summary(self) -> str:
        if self.refused_file:
            return tk._("File refused: %s") % self.refused_file
        counts = self.counts()
        head = tk._("Dry run (nothing written)") + ": " if self.dry_run else ""
        return head + ", ".join(f"{outcome_label(o)} {counts[o]}" for o in OUTCOMES) + \
            tk._(" — %(rows)d rows in %(seconds).1f s (%(rate).1f rows/s)") % {
                "rows": len(self.rows), "seconds": self.seconds, "rate": self.rate()}

    def table(self, limit: Optional[int] = None) -> str:
        """The CLI table: one line per row (``limit`` rows at most), then the summary and top refusals."""
        with in_language(self.lang):
            return self._table(limit)

    def _table(self, limit: Optional[int]) -> str:
        lines = [f"{tk._('Row'):>6}  {tk._('Outcome'):<10} {tk._('Title')[:30]:<32} {tk._('Message')}"]
        for row in self.rows[:limit] if limit else self.rows:
            detail = row.messages() if row.errors else (row.name or "")
            lines.append(f"{row.row:>6}  {outcome_label(row.outcome):<10} {row.title[:30]:<32} {detail}")
        if limit and len(self.rows) > limit:
            lines.append(tk._("… %d more rows (the whole report: --report FILE.csv)") % (len(self.rows) - limit))
        if self.unknown_columns:
            lines.append(tk._("Columns not imported (unknown; name them in a mapping file): %s")
                         % ", ".join(self.unknown_columns))
        lines.append(self.summary())
        refusals = self.top_refusals()
        if refusals:
            lines.append(tk._("Top refusal reasons:"))
            lines.extend(f"  {n:>6}  {reason}" for reason, n in refusals)
        return "\n".join(lines)
