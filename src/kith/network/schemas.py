"""Response shapes of the network API: paths, mutual connections, maps, org charts, connectors."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kith.server.schemas import Out, PersonRef, Ref


class StepOut(Out):
    from_: Ref = Field(alias="from")
    to: Ref
    type: str
    label: str
    strength: float


class PathOut(Out):
    score: float = Field(description="what paths are ranked by: strength less the hop penalty")
    strength: float
    hops: int
    steps: list[StepOut]


class PathsOut(Out):
    as_of: str
    to: Ref
    from_: Literal["team"] | PersonRef = Field(
        alias="from", description='"team", or the person the paths start from'
    )
    max_hops: int
    ranking: str = Field(description="how the paths are ranked, in words")
    paths: list[PathOut]


class ViaOut(Out):
    type: str
    label: str
    strength: float


class MutualRow(Out):
    id: str
    name: str
    type: str
    via_a: ViaOut
    via_b: ViaOut


class MutualOut(Out):
    as_of: str
    a: PersonRef
    b: PersonRef
    directly_connected: bool
    mutual: list[MutualRow]


class MapNodeOut(Out):
    id: str
    name: str
    type: str
    depth: int


class MapMemberOut(Out):
    id: str
    name: str
    type: str
    strength: float


class MapEdgeOut(Out):
    source: str
    target: str
    type: str
    label: str
    types: list[str]
    strength: float


class EgoMapOut(Out):
    as_of: str
    center: Ref
    depth: int
    groups: dict[str, list[MapMemberOut]] = Field(description="By relationship label")
    nodes: list[MapNodeOut]
    edges: list[MapEdgeOut]
    truncated: bool


class OrgNodeOut(Out):
    id: str
    name: str
    role: str
    reports: list[OrgNodeOut]


class OrgChartOut(Out):
    as_of: str
    org: PersonRef
    people: int
    tree: list[OrgNodeOut]


class ConnectorOut(Out):
    id: str
    name: str
    type: str
    betweenness: float
    degree: int


class ConnectorsOut(Out):
    as_of: str
    scope: str
    measure: str
    connectors: list[ConnectorOut]
