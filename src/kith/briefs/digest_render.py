"""A digest as plain text and as HTML email (CSS inlined: mail clients drop <style>)."""

from __future__ import annotations

from html import escape
from typing import Any

from kith.briefs.render import href

CSS = {
    "body": "font-family:Arial,Helvetica,sans-serif;color:#1b1f24;font-size:14px;line-height:1.4",
    "h1": "font-size:18px;margin:0 0 6px",
    "h2": "font-size:15px;margin:16px 0 4px;border-bottom:1px solid #c8ccd1",
    "p": "color:#57606a;font-size:12px;margin:0 0 8px",
    "ul": "margin:0;padding-left:18px",
    "li": "margin:2px 0",
    "ev": "color:#57606a;font-size:11px",
    "a": "color:#0b57d0;text-decoration:none",
}


def as_text(d: dict[str, Any], base: str = "") -> str:
    out = [f"Your Kith digest: {d['since']} to {d['until']}"]
    for s in d["sections"]:
        out += ["", s["title"]]
        for line in s["lines"]:
            ev = f" [{', '.join(line['evidence'])}]" if line["evidence"] else ""
            link = f" {base}{line['link']}" if line.get("link") else ""
            out.append(f"  - {line['text']}{ev}{link}")
    return "\n".join(out) + "\n"


def as_html(d: dict[str, Any], base: str = "") -> str:
    def a(target: str, text: str) -> str:
        return f'<a style="{CSS["a"]}" href="{escape(base + target)}">{escape(text)}</a>'

    parts = [
        f'<!doctype html><html><body style="{CSS["body"]}">',
        f'<h1 style="{CSS["h1"]}">Your Kith digest</h1>',
        f'<p style="{CSS["p"]}">From {escape(d["since"])} to {escape(d["until"])}</p>',
    ]
    for s in d["sections"]:
        parts.append(f'<h2 style="{CSS["h2"]}">{escape(s["title"])}</h2><ul style="{CSS["ul"]}">')
        for line in s["lines"]:
            text = a(line["link"], line["text"]) if line.get("link") else escape(line["text"])
            ev = ", ".join(a(href(e), e) for e in line["evidence"])
            ev_html = f' <span style="{CSS["ev"]}">[{ev}]</span>' if ev else ""
            parts.append(f'<li style="{CSS["li"]}">{text}{ev_html}</li>')
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def atom_feed(digests: list[dict[str, Any]], *, base: str, user: str) -> str:
    """The user's digests as an Atom feed (RFC 4287), newest first."""
    updated = digests[0]["until"] if digests else "1970-01-01T00:00:00+00:00"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>Kith digests of {escape(user)}</title>",
        f"<id>{escape(base)}/digests/feed.atom</id>",
        f"<updated>{escape(updated)}</updated>",
        f'<link rel="self" href="{escape(base)}/digests/feed.atom"/>',
    ]
    for d in digests:
        link = f"{base}/digests/{d['id']}"
        out += [
            "<entry>",
            f"<title>Digest to {escape(d['until'][:16])}: {d['items']} items</title>",
            f"<id>{escape(link)}</id>",
            f'<link href="{escape(link)}"/>',
            f"<updated>{escape(d['until'])}</updated>",
            f'<content type="text">{escape(d["text"])}</content>',
            "</entry>",
        ]
    out.append("</feed>")
    return "\n".join(out) + "\n"
