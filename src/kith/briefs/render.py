"""A brief as text, Markdown, HTML (no inline script or style: CSP-clean) or PDF (WeasyPrint).

Pure functions of the brief's dict (``kith.briefs.selectors.brief``): the same brief gives
the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML

from kith.core.errors import ValidationError

FORMATS = ("text", "markdown", "html", "pdf", "json")
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: sans-serif; font-size: 10pt; color: #1b1f24; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 12pt; margin: 12pt 0 4pt; border-bottom: 1px solid #c8ccd1; }
ul { margin: 0; padding-left: 14pt; }
li { margin: 2pt 0; }
.evidence, .why { color: #57606a; font-size: 8pt; }
.evidence a { color: #0b57d0; text-decoration: none; }
.label { color: #8a4b00; }
.brief-window, .brief-none { color: #57606a; }
"""
_env = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


def check_format(value: str, *, field: str = "format") -> str:
    fmt = (value or "text").strip().lower()
    if fmt == "md":
        fmt = "markdown"
    if fmt not in FORMATS:
        raise ValidationError(f"{field}: {value!r} is not one of {', '.join(FORMATS)}", field=field)
    return fmt


def href(evidence_id: str, base: str = "") -> str:
    """Where an evidence id is shown: a record's page, or the API's view of the item."""
    prefix = evidence_id.split("_", 1)[0]
    paths = {
        "int": "/api/v1/interactions/",
        "tsk": "/api/v1/tasks/",
        "rel": "/api/v1/relationships/",
        "msr": "/api/v1/measures/",
        "stk": "/api/v1/stakeholders/",
    }
    if prefix in paths:
        suffix = "/readings" if prefix == "msr" else ""
        return f"{base}{paths[prefix]}{evidence_id}{suffix}"
    return f"{base}/records/{evidence_id}"


def title(b: dict[str, Any]) -> str:
    if b.get("meeting"):
        m = b["meeting"]
        return f"meeting {m['subject'] or m['id']} ({m['at'][:10]})"
    return str(b["record"]["name"])


def _ev(ids: list[str]) -> str:
    return f" [{', '.join(ids)}]" if ids else ""


def as_text(b: dict[str, Any]) -> str:
    out = [
        f"Brief: {title(b)}",
        f"What changed from {b['since']} to {b['until']} (as of {b['as_of']})",
    ]
    for s in b["sections"]:
        out += ["", s["title"].upper() if s["title"].islower() else s["title"]]
        out += [f"  - {ln['text']}{_ev(ln['evidence'])}" for ln in s["lines"]] or ["  (nothing)"]
    out += ["", "Suggested next steps (suggestions, not facts)"]
    out += [
        f"  - suggestion: {sg['text']} ({sg['why']}){_ev(sg['evidence'])}"
        for sg in b["suggestions"]
    ] or ["  (none)"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>#|" else c for c in text)


def as_markdown(b: dict[str, Any], base: str = "") -> str:
    def ev(ids: list[str]) -> str:
        return (" (" + ", ".join(f"[{i}]({href(i, base)})" for i in ids) + ")") if ids else ""

    out = [f"# Brief: {_md(title(b))}", "", f"What changed from {b['since']} to {b['until']}."]
    for s in b["sections"]:
        out += ["", f"## {_md(s['title'])}", ""]
        out += [f"- {_md(ln['text'])}{ev(ln['evidence'])}" for ln in s["lines"]] or ["- nothing"]
    out += ["", "## Suggested next steps", ""]
    out += [
        f"- **Suggestion:** {_md(sg['text'])} ({_md(sg['why'])}){ev(sg['evidence'])}"
        for sg in b["suggestions"]
    ] or ["- none"]
    return "\n".join(out) + "\n"


def as_html(b: dict[str, Any], *, base: str = "", stylesheet: str = "") -> str:
    """A whole HTML document: no inline script or style (a stylesheet is linked, if any)."""
    return _env.get_template("brief.html").render(
        b=b, title=title(b), href=lambda e: href(e, base), stylesheet=stylesheet
    )


def as_pdf(b: dict[str, Any], *, base: str = "http://localhost", compress: bool = True) -> bytes:
    """The brief as a PDF (WeasyPrint), links absolute against ``base``."""
    doc = HTML(string=as_html(b, base=base), base_url=base)
    out: bytes = doc.write_pdf(stylesheets=[CSS(string=PRINT_CSS)], uncompressed_pdf=not compress)
    return out


def render(b: dict[str, Any], fmt: str, *, base: str = "") -> str | bytes:
    fmt = check_format(fmt)
    if fmt == "json":
        return json.dumps(b, indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return as_markdown(b, base)
    if fmt == "html":
        return as_html(b, base=base)
    if fmt == "pdf":
        return as_pdf(b, base=base or "http://localhost")
    return as_text(b)
