"""JSON API for network: warm paths, mutual connections, ego maps, org charts, connectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.network import selectors as network_selectors
from kith.network.schemas import ConnectorsOut, EgoMapOut, MutualOut, OrgChartOut, PathsOut
from kith.network.selectors import path
from kith.server.auth import require
from kith.server.schemas import READ_ERRORS

router = Router(tags=["network"])


class PathQuery(Schema):
    to: str = Field(..., max_length=320)
    from_: str | None = Field(None, alias="from", max_length=320)
    max_hops: int = Field(4, ge=1, le=8)
    k: int = Field(3, ge=1, le=50)
    as_of: dt.date | None = None


class MutualQuery(Schema):
    a: str = Field(..., max_length=320)
    b: str = Field(..., max_length=320)
    as_of: dt.date | None = None


class MapQuery(Schema):
    depth: int = Field(1, ge=1, le=3)
    limit: int = Field(500, ge=1, le=5000)
    as_of: dt.date | None = None


class AsOf(Schema):
    as_of: dt.date | None = None


class ConnectorQuery(Schema):
    org: str | None = Field(None, max_length=320)
    limit: int = Field(20, ge=1, le=1000)
    as_of: dt.date | None = None


@router.get("/paths", response={200: PathsOut, **READ_ERRORS}, by_alias=True)
def paths(request: HttpRequest, q: Query[PathQuery]) -> Any:
    """The strongest warm-introduction paths to a person or organisation."""
    viewer = viewer_of(require(request, "viewer"))
    return path(viewer, q.to, from_=q.from_, max_hops=q.max_hops, k=q.k, as_of=q.as_of)


@router.get("/mutual", response={200: MutualOut, **READ_ERRORS})
def mutual(request: HttpRequest, q: Query[MutualQuery]) -> Any:
    """Records both a and b are connected to, and how."""
    return network_selectors.mutual(viewer_of(require(request, "viewer")), q.a, q.b, as_of=q.as_of)


@router.get("/records/{ref}/map", response={200: EgoMapOut, **READ_ERRORS})
def ego_map(request: HttpRequest, ref: str, q: Query[MapQuery]) -> Any:
    """A record's network to ``depth`` hops: nodes, edges, groups."""
    viewer = viewer_of(require(request, "viewer"))
    return network_selectors.ego_map(viewer, ref, depth=q.depth, as_of=q.as_of, limit=q.limit)


@router.get("/records/{ref}/orgchart", response={200: OrgChartOut, **READ_ERRORS})
def orgchart(request: HttpRequest, ref: str, q: Query[AsOf]) -> Any:
    """Who reports to whom among an organisation's people."""
    return network_selectors.orgchart(viewer_of(require(request, "viewer")), ref, as_of=q.as_of)


@router.get("/connectors", response={200: ConnectorsOut, **READ_ERRORS})
def connectors(request: HttpRequest, q: Query[ConnectorQuery]) -> Any:
    """People who bridge otherwise separate groups."""
    viewer = viewer_of(require(request, "viewer"))
    return network_selectors.connectors(viewer, org=q.org, as_of=q.as_of, limit=q.limit)
