"""What a browser without JavaScript posts for a form of a page (no tests here)."""
from __future__ import annotations

from html.parser import HTMLParser
from typing import Any, Optional

from werkzeug.datastructures import MultiDict


class _FormParser(HTMLParser):
    """Collects the successful controls of the form with the given id (HTML's form-submission rules)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: Optional[dict[str, Any]] = None
        self._option: Optional[dict[str, Any]] = None
        self._textarea: Optional[dict[str, Any]] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            self.fields.append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "first": None, "chosen": None}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            value = self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
            if self._select["first"] is None:
                self._select["first"] = value
            if self._option["selected"]:
                self._select["chosen"] = value
            self._option = None
        elif tag == "select" and self._select is not None:
            value = self._select["chosen"] if self._select["chosen"] is not None else self._select["first"]
            if value is not None:
                self.fields.append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea["name"], self._textarea["text"].lstrip("\n")))
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside = False


def browser_post(html: str, form_id: str, fill: dict[str, Any]) -> MultiDict:
    """The fields a browser posts for the form ``form_id`` of ``html`` after the user typed ``fill``.

    Every control is posted as the page renders it (hidden template rows and pre-selected options
    included); a name in ``fill`` replaces the rendered values (a list for several values).
    """
    parser = _FormParser(form_id)
    parser.feed(html)
    assert parser.fields, f"no form #{form_id} on the page"
    out: list[tuple[str, Any]] = []
    done: set[str] = set()
    for name, value in parser.fields:
        if name in fill:
            if name not in done:
                wanted = fill[name]
                out.extend((name, v) for v in (wanted if isinstance(wanted, list) else [wanted]))
                done.add(name)
            continue
        out.append((name, value))
    out.extend((n, v) for n, v in fill.items() if n not in done for v in (v if isinstance(v, list) else [v]))
    return MultiDict(out)
