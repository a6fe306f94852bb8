"""The OpenAPI document describes every route, and /api/v1/docs renders from Kith alone."""

from __future__ import annotations

import contextlib
import importlib
import json
import pkgutil
import re
from typing import Any

from django.test import Client
from pydantic import BaseModel

import kith
from kith.server.tests.conftest import make_caller
from kith.web.middleware import CSP


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    assert not twice, f"keys listed twice: {twice}"
    return dict(pairs)


def _document() -> dict[str, Any]:
    resp = Client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc: dict[str, Any] = json.loads(resp.content, object_pairs_hook=_no_duplicate_keys)
    return doc


def test_openapi_lists_each_status_once_with_a_description() -> None:
    doc = _document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, answer in op["responses"].items():
                assert answer.get("description"), f"{method} {path} {status} has no description"


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_success_response_is_typed() -> None:
    doc = _document()
    loose = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, answer in op["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                for media, body in answer.get("content", {}).items():
                    schema = _resolve(doc, body.get("schema") or {})
                    if schema.get("type") == "array":
                        schema = _resolve(doc, schema.get("items") or {})
                    untyped = not schema or (
                        schema.get("type") == "object" and not schema.get("properties")
                    )
                    if untyped and not path.endswith("/export"):  # a file, one per format
                        loose.append(f"{method.upper()} {path} {status} {media}")
    assert loose == []


def test_docs_page_and_every_asset_it_needs_are_served_by_kith() -> None:
    client = Client()
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert resp.headers["Content-Security-Policy"] == CSP
    assets = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert any(a.endswith("swagger-ui.css") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} is not served by Kith"
        got = client.get(asset)
        assert got.status_code == 200, asset
        assert b"".join(got.streaming_content if got.streaming else [got.content])
    # no inline script runs: the one inline <script> is JSON data the page's own JS reads
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    settings = json.loads(html.split('id="swagger-settings">')[1].split("</script>")[0])
    assert settings["url"] == "/api/v1/openapi.json"


def test_a_multipart_body_without_a_boundary_is_a_bad_request() -> None:
    caller = make_caller("member@our.test", "member")
    resp = Client().post(
        "/api/v1/imports",
        data=b"--x\r\nContent-Disposition: form-data; name=dry_run\r\n\r\ntrue\r\n--x--\r\n",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=f"Bearer {caller.token}",
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "bad_request" and "boundary" in resp.json()["message"]


def test_operations_with_a_query_document_the_servers_uri_too_long() -> None:
    for item in _document()["paths"].values():
        for op in item.values():
            if any(p["in"] == "query" for p in op.get("parameters", [])):
                assert op["responses"]["414"]["description"]


def test_each_schema_name_is_one_model() -> None:
    """OpenAPI names a component by its class name: two models of one name would merge."""
    for info in pkgutil.iter_modules(kith.__path__):
        if not info.ispkg:
            continue
        for leaf in ("api", "schemas"):
            with contextlib.suppress(ModuleNotFoundError):
                importlib.import_module(f"kith.{info.name}.{leaf}")
    by_name: dict[str, set[str]] = {}
    stack: list[type[BaseModel]] = [BaseModel]
    while stack:
        for cls in stack.pop().__subclasses__():
            stack.append(cls)
            if cls.__module__.startswith("kith."):
                by_name.setdefault(cls.__name__, set()).add(cls.__module__)
    assert {n: m for n, m in by_name.items() if len(m) > 1} == {}
