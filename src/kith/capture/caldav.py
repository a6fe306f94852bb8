"""A CalDAV client for capture (``requests`` and the stdlib's XML): discover a user's
calendars, list what changed by sync-token (else by ctag and etags), fetch events.

Failures are :class:`MailError` lines naming the server and what it said, never a secret.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from kith.capture.imap import MailError

NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav", "cs": "http://calendarserver.org/ns/"}
TIMEOUT = 30.0
MAX_BODY = 20_000_000
MULTIGET = 200  # hrefs per calendar-multiget


@dataclass
class Collection:
    url: str
    name: str
    ctag: str
    sync_token: str


@dataclass
class Changes:
    """What changed since a token (or all of it, ``full``): href -> etag, and removals."""

    changed: dict[str, str] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    token: str = ""
    full: bool = False


def _propfind(body: str) -> str:
    head = '<?xml version="1.0" encoding="utf-8"?>\n'
    return f"{head}<d:propfind {_xmlns()}><d:prop>{body}</d:prop></d:propfind>"


def _xmlns() -> str:
    return " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())


class Client:
    def __init__(self, url: str, username: str, password: str) -> None:
        import requests  # noqa: PLC0415

        self.base = url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "Kith capture"
        if username:
            self.session.auth = (username, password)
        self.requests = requests

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, url: str, body: str = "", depth: str | None = None) -> Any:
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        if depth is not None:
            headers["Depth"] = depth
        where = urlsplit(url).netloc
        try:
            resp = self.session.request(method, url, data=body.encode(), headers=headers,
                                        timeout=TIMEOUT)  # fmt: skip
        except self.requests.exceptions.SSLError as exc:
            raise MailError(f"certificate error from {where}: {exc}", retry=False) from None
        except self.requests.exceptions.RequestException as exc:
            raise MailError(f"cannot reach {where}: {type(exc).__name__}") from None
        if resp.status_code in (401, 403) and method != "REPORT":
            raise MailError(f"{where} refused the credentials (HTTP {resp.status_code})",
                            retry=False)  # fmt: skip
        if len(resp.content) > MAX_BODY:
            raise MailError(f"{where} answered more than {MAX_BODY:,} bytes", retry=False)
        return resp

    def _multistatus(self, resp: Any, what: str) -> list[ET.Element]:
        if resp.status_code != 207:
            raise MailError(f"{what}: {resp.url} answered HTTP {resp.status_code}")
        try:
            root = ET.fromstring(resp.content)
        except ET.ParseError as exc:
            raise MailError(f"{what}: {resp.url} answered unreadable XML ({exc})") from None
        return root.findall("d:response", NS)

    def _href(self, el: ET.Element, base: str) -> str:
        return urljoin(base, (el.findtext("d:href", "", NS) or "").strip())

    def _first_href(self, url: str, prop: str, what: str) -> str | None:
        """The href inside property ``prop`` (``d:current-user-principal``) of ``url``."""
        resp = self._call("PROPFIND", url, _propfind(f"<{prop}/>"), depth="0")
        for r in self._multistatus(resp, what):
            for ok in r.findall("d:propstat", NS):
                if "200" not in (ok.findtext("d:status", "", NS) or ""):
                    continue
                found = ok.find(f"d:prop/{prop}", NS)
                if found is not None:
                    href = found.findtext("d:href", "", NS)
                    if href:
                        return urljoin(url, href.strip())
        return None

    def discover(self) -> list[Collection]:
        """The calendar collections at the URL, or under the user's calendar home."""
        here = self.collections(self.base, depth="0")
        if here:
            return here
        principal = self._first_href(self.base, "d:current-user-principal", "discovery")
        home = self._first_href(principal or self.base, "c:calendar-home-set", "discovery")
        found = self.collections(home or self.base, depth="1")
        if not found:
            raise MailError(f"{self.base}: no calendar found there (CalDAV discovery)",
                            retry=False)  # fmt: skip
        return found

    def collections(self, url: str, depth: str) -> list[Collection]:
        body = _propfind("<d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/>")
        resp = self._call("PROPFIND", url, body, depth=depth)
        out = []
        for r in self._multistatus(resp, "discovery"):
            prop = r.find("d:propstat/d:prop", NS)
            if prop is None or prop.find("d:resourcetype/c:calendar", NS) is None:
                continue
            out.append(
                Collection(
                    url=self._href(r, url),
                    name=(prop.findtext("d:displayname", "", NS) or "").strip(),
                    ctag=(prop.findtext("cs:getctag", "", NS) or "").strip(),
                    sync_token=(prop.findtext("d:sync-token", "", NS) or "").strip(),
                )
            )
        return out

    def changes(self, url: str, token: str) -> Changes:
        """Changes since ``token`` by sync-collection; with no token, or one the server no
        longer knows, every event's href and etag (``full``)."""
        if token:
            body = (
                f'<?xml version="1.0" encoding="utf-8"?>\n<d:sync-collection {_xmlns()}>'
                f"<d:sync-token>{_escape(token)}</d:sync-token><d:sync-level>1</d:sync-level>"
                "<d:prop><d:getetag/></d:prop></d:sync-collection>"
            )
            resp = self._call("REPORT", url, body, depth="0")
            if resp.status_code == 207:
                out = Changes()
                root = ET.fromstring(resp.content)
                for r in root.findall("d:response", NS):
                    href = self._href(r, url)
                    status = r.findtext("d:status", "", NS) or ""
                    etag = r.findtext("d:propstat/d:prop/d:getetag", "", NS) or ""
                    if "404" in status:
                        out.removed.add(href)
                    elif href.rstrip("/") != url.rstrip("/"):
                        out.changed[href] = etag.strip()
                out.token = (root.findtext("d:sync-token", "", NS) or "").strip()
                return out
            if resp.status_code not in (403, 409, 400):
                raise MailError(f"sync-collection: {url} answered HTTP {resp.status_code}")
        here = self.collections(url, depth="0")  # the token first: a change meanwhile is seen
        resp = self._call("PROPFIND", url, _propfind("<d:getetag/><d:resourcetype/>"), depth="1")
        out = Changes(full=True)
        for r in self._multistatus(resp, "listing"):
            href = self._href(r, url)
            if href.rstrip("/") == url.rstrip("/"):
                continue
            etag = r.findtext("d:propstat/d:prop/d:getetag", "", NS) or ""
            out.changed[href] = etag.strip()
        out.token = here[0].sync_token if here else ""
        return out

    def fetch(self, url: str, hrefs: Iterable[str]) -> dict[str, str]:
        """The iCalendar text of each href (calendar-multiget)."""
        wanted = list(hrefs)
        out: dict[str, str] = {}
        for i in range(0, len(wanted), MULTIGET):
            part = wanted[i : i + MULTIGET]
            refs = "".join(f"<d:href>{_escape(urlsplit(h).path)}</d:href>" for h in part)
            body = (
                f'<?xml version="1.0" encoding="utf-8"?>\n<c:calendar-multiget {_xmlns()}>'
                f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{refs}</c:calendar-multiget>"
            )
            resp = self._call("REPORT", url, body, depth="1")
            for r in self._multistatus(resp, "calendar-multiget"):
                data = r.findtext("d:propstat/d:prop/c:calendar-data", None, NS)
                if data is not None:
                    out[self._href(r, url)] = data
        return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
