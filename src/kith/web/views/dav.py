"""CardDAV for phones: each user's people as an address book under /dav/ (RFC 6352), found
through /.well-known/carddav, listed with ETags, fetched by addressbook-multiget, followed
by sync-collection (RFC 6578); a PUT needs the card's ETag (If-Match) and a stale one is
412. Signed in with HTTP Basic: the user's email and one of their API tokens."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from kith.accounts.selectors import token_user, viewer_of
from kith.capture import addressbook
from kith.capture.card_services import PreconditionFailed, apply_card
from kith.core.context import acting_as
from kith.core.errors import KithError, NotFound
from kith.core.viewer import Viewer

D, C, CS = "DAV:", "urn:ietf:params:xml:ns:carddav", "http://calendarserver.org/ns/"
ET.register_namespace("d", D)
ET.register_namespace("card", C)
ET.register_namespace("cs", CS)
MAX_BODY = 1_000_000


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _auth(request: HttpRequest) -> tuple[Any, Viewer] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeError):
        return None
    found = token_user(secret)
    if found is None or found[1].username != user.strip().lower():
        return None
    return found[1], viewer_of(found[1])


def _unauthorized() -> HttpResponse:
    resp = HttpResponse("sign in with your email and an API token\n", status=401)
    resp["WWW-Authenticate"] = 'Basic realm="Kith", charset="UTF-8"'
    return resp


def _multistatus(responses: list[ET.Element], token: str | None = None) -> HttpResponse:
    root = ET.Element(_q(D, "multistatus"))
    root.extend(responses)
    if token is not None:
        ET.SubElement(root, _q(D, "sync-token")).text = token
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root)
    return HttpResponse(body, status=207, content_type='application/xml; charset="utf-8"')


def _response(href: str, props: dict[str, Any], missing: list[str] | None = None) -> ET.Element:
    resp = ET.Element(_q(D, "response"))
    ET.SubElement(resp, _q(D, "href")).text = href
    stat = ET.SubElement(resp, _q(D, "propstat"))
    prop = ET.SubElement(stat, _q(D, "prop"))
    for tag, value in props.items():
        el = ET.SubElement(prop, tag)
        if isinstance(value, ET.Element):
            el.append(value)
        elif isinstance(value, list):
            el.extend(value)
        elif value is not None:
            el.text = str(value)
    ET.SubElement(stat, _q(D, "status")).text = "HTTP/1.1 200 OK"
    if missing:
        stat404 = ET.SubElement(resp, _q(D, "propstat"))
        prop404 = ET.SubElement(stat404, _q(D, "prop"))
        for tag in missing:
            ET.SubElement(prop404, tag)
        ET.SubElement(stat404, _q(D, "status")).text = "HTTP/1.1 404 Not Found"
    return resp


def _href_el(href: str) -> ET.Element:
    el = ET.Element(_q(D, "href"))
    el.text = href
    return el


def _body(request: HttpRequest) -> ET.Element | None:
    if not request.body:
        return None
    if len(request.body) > MAX_BODY:
        raise KithError("body: too large")
    try:
        return ET.fromstring(request.body)
    except ET.ParseError as exc:
        raise KithError(f"body: not XML ({exc})") from None


def _asked(body: ET.Element | None) -> list[str]:
    if body is None:
        return []
    prop = body.find(_q(D, "prop"))
    return [child.tag for child in prop] if prop is not None else []


def _collection_props(user: Any, viewer: Viewer, kind: str, asked: list[str]) -> ET.Element:
    me = f"/dav/{user.username}/"
    book = f"{me}contacts/"
    href = {"root": "/dav/", "home": me, "book": book}[kind]
    rtype = [ET.Element(_q(D, "collection"))]
    if kind == "book":
        rtype.append(ET.Element(_q(C, "addressbook")))
    props: dict[str, Any] = {
        _q(D, "resourcetype"): rtype,
        _q(D, "current-user-principal"): _href_el(me),
        _q(D, "principal-URL"): _href_el(me),
        _q(C, "addressbook-home-set"): _href_el(me),
        _q(D, "displayname"): "Kith" if kind == "book" else user.username,
    }
    if kind == "book":
        tok = addressbook.token(viewer)
        props[_q(CS, "getctag")] = tok
        props[_q(D, "sync-token")] = tok
        report = ET.Element(_q(D, "supported-report"))
        inner = ET.SubElement(report, _q(D, "report"))
        ET.SubElement(inner, _q(D, "sync-collection"))
        props[_q(D, "supported-report-set")] = [report]
    if asked:
        missing = [t for t in asked if t not in props]
        return _response(href, {t: props[t] for t in asked if t in props}, missing)
    return _response(href, props)


def _card_href(user: Any, rid: str) -> str:
    return f"/dav/{user.username}/contacts/{rid}.vcf"


def _propfind(request: HttpRequest, user: Any, viewer: Viewer, kind: str) -> HttpResponse:
    asked = _asked(_body(request))
    depth = request.headers.get("Depth", "1")
    out = [_collection_props(user, viewer, kind, asked)]
    if depth != "0":
        if kind in ("root", "home"):
            out.append(_collection_props(user, viewer, "book", asked))
        elif kind == "book":
            for rid, etag in addressbook.listing(viewer):
                out.append(_response(_card_href(user, rid), {_q(D, "getetag"): etag,
                           _q(D, "getcontenttype"): "text/vcard; charset=utf-8"}))  # fmt: skip
    return _multistatus(out)


def _card_id(href: str) -> str:
    return unquote(href.rstrip("/").rsplit("/", 1)[-1]).removesuffix(".vcf")


def _report(request: HttpRequest, user: Any, viewer: Viewer) -> HttpResponse:
    body = _body(request)
    if body is None:
        return HttpResponse("REPORT needs a body\n", status=400)
    want_data = _q(C, "address-data") in _asked(body)
    if body.tag == _q(C, "addressbook-multiget"):
        hrefs = [h.text or "" for h in body.findall(_q(D, "href"))]
        found = {c.id: c for c in addressbook.cards(viewer, [_card_id(h) for h in hrefs])}
        out = []
        for h in hrefs:
            card = found.get(_card_id(h))
            if card is None:
                missing = ET.Element(_q(D, "response"))
                ET.SubElement(missing, _q(D, "href")).text = h
                ET.SubElement(missing, _q(D, "status")).text = "HTTP/1.1 404 Not Found"
                out.append(missing)
            else:
                props = {_q(D, "getetag"): card.etag}
                if want_data:
                    props[_q(C, "address-data")] = card.text
                out.append(_response(h, props))
        return _multistatus(out)
    if body.tag == _q(D, "sync-collection"):
        text = (body.findtext(_q(D, "sync-token")) or "").strip()
        now = addressbook.token(viewer)
        if text:
            since = addressbook.parse_token(text)
            if since is None:
                err = ET.Element(_q(D, "error"))
                ET.SubElement(err, _q(D, "valid-sync-token"))
                return HttpResponse(ET.tostring(err), status=403, content_type="application/xml")
            changed, removed = addressbook.changes(viewer, since)
        else:
            changed, removed = addressbook.listing(viewer), []
        out = [_response(_card_href(user, rid), {_q(D, "getetag"): etag}) for rid, etag in changed]
        for rid in removed:
            gone = ET.Element(_q(D, "response"))
            ET.SubElement(gone, _q(D, "href")).text = _card_href(user, rid)
            ET.SubElement(gone, _q(D, "status")).text = "HTTP/1.1 404 Not Found"
            out.append(gone)
        return _multistatus(out, token=now)
    return HttpResponse("unsupported REPORT\n", status=501)


@csrf_exempt
def dav(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every request under /dav/: the address book of the signed-in user."""
    found = _auth(request)
    if found is None:
        return _unauthorized()
    user, viewer = found
    parts = [p for p in rest.split("/") if p]
    if parts and parts[0] != user.username:
        return HttpResponse("not your address book\n", status=404)
    kind = {0: "root", 1: "home"}.get(len(parts), "book" if parts[1:2] == ["contacts"] else "")
    method = request.method or "GET"
    try:
        if len(parts) == 3 and parts[1] == "contacts":
            return _card(request, user, viewer, parts[2])
        if kind == "" or (len(parts) > 2):
            return HttpResponse("not found\n", status=404)
        if method == "PROPFIND":
            return _propfind(request, user, viewer, kind)
        if method == "REPORT" and kind == "book":
            return _report(request, user, viewer)
        if method == "OPTIONS":
            resp = HttpResponse(status=200)
            resp["DAV"] = "1, 3, addressbook"
            resp["Allow"] = "OPTIONS, PROPFIND, REPORT, GET, PUT"
            return resp
        return HttpResponse(f"{method} is not allowed here\n", status=405)
    except KithError as exc:
        return HttpResponse(f"{exc.message}\n", status=400)


def _card(request: HttpRequest, user: Any, viewer: Viewer, name: str) -> HttpResponse:
    rid = _card_id(name)
    method = request.method or "GET"
    if method in ("GET", "HEAD"):
        cards = addressbook.cards(viewer, [rid])
        if not cards:
            return HttpResponse("no such contact\n", status=404)
        resp = HttpResponse(cards[0].text if method == "GET" else b"",
                            content_type="text/vcard; charset=utf-8")  # fmt: skip
        resp["ETag"] = cards[0].etag
        return resp
    if method == "PUT":
        if len(request.body) > MAX_BODY:
            return HttpResponse("card too large\n", status=413)
        try:
            with acting_as(user.username):
                record = apply_card(
                    viewer=viewer,
                    record_id=rid,
                    text=request.body.decode("utf-8", errors="replace"),
                    if_match=request.headers.get("If-Match"),
                )
        except PreconditionFailed as exc:
            return HttpResponse(f"{exc.message}\n", status=412)
        except NotFound:
            return HttpResponse("new contacts are not created from a phone yet\n", status=403)
        resp = HttpResponse(status=204)
        resp["ETag"] = addressbook.etag_of(record.id, record.version)
        return resp
    if method == "DELETE":
        return HttpResponse("contacts are not deleted from a phone\n", status=403)
    return HttpResponse(f"{method} is not allowed here\n", status=405)


def well_known(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/dav/")


urlpatterns = [
    path(".well-known/carddav", well_known, name="carddav-well-known"),
    path("dav/", dav, name="dav"),
    re_path(r"^dav/(?P<rest>.+)$", dav, name="dav-path"),
]
