"""Evacuation routes (docs/data-model.md "Definitions the analyses use": evacuation route), shelter load, and the
figures of a selection of routes: one hazard point's or one township's (:func:`selection_summary`).

For every active hazard point: one route per village inside its danger zones (from the hazard point itself
where no village is inside), along the roads, to its assigned shelter, else to the nearest shelter (by route
length, straight legs included: see Choices) outside every danger zone.  A route never runs through another hazard
point's danger zone.  A route that cannot be made is kept, with the reason.

How zone avoidance stays fast
-----------------------------
Each route has its own road graph: every road except those touching a danger zone of a hazard point other
than the ones whose zones hold the route's origin (its own hazard point's, and any other it must leave).
Searching each of those graphs separately would be one Dijkstra per hazard point.  Instead routes are solved
in a few rounds of *optimistic batches*:

1. A batch is a set of routes searched together on the union of their graphs: roads touching no zone, plus
   roads touching only zones that some member may pass.  One Dijkstra from the shelters answers every member at
   once; the graph is undirected, so searching from the shelters gives the routes from the origins.  For routes to
   an assigned shelter it is a multi-source search from the members' shelters (``min_only``: every node learns its
   nearest shelter).  For routes to the nearest safe shelter it starts from a virtual node with one edge to each
   safe shelter's road point, weighing the shelter's straight leg (the shortest, where several share the point):
   every node learns the shelter with the shortest way from there, leg included (Choices).
2. The batch graph contains each member's own graph, so a member's batch route is at least as short as its
   true best route.  When that route passes no zone foreign to the member (and, for an assigned shelter,
   ends at that shelter), it is therefore the member's best valid route: accepted, exactly.
3. Otherwise the member learns what went wrong (the foreign hazard points it crossed, or the rival shelter
   that was nearer than its assigned one) and goes into the next round, packed only into batches that allow
   none of those hazard points and search from none of those shelters.  Every failure adds something new to
   what the route excludes, so the rounds end; an unreachable shelter in a batch graph is unreachable in the
   member's own (smaller) graph too.

Most routes cross no foreign zone, so the first round (one batch for routes to the nearest shelter, one for
routes to an assigned shelter) settles most of them, and the rest need a handful of batches: at province scale
(``demo.build(scale=100)``: 10,000 hazard points, 8,400 routes, 471,000 roads) 31 searches in 7 rounds.

Choices
-------
- Villages, hazard points and shelters join the roads where they project onto the nearest road
  (:func:`geo.analysis.network.snap_points`), not at the nearest junction.  ``length_m`` includes the two straight legs:
  origin to road, and road to shelter.
- An assigned shelter that cannot be used (not in the layer, inside a danger zone, too far from any road, or
  reachable only through another hazard point's zone or not at all) is not silently replaced: the route goes
  to the nearest safe shelter and ``reason`` names the assigned one and why.  ``reason`` is None exactly when
  the route is the one the plan asks for.
- The nearest safe shelter is the one with the shortest route as ``length_m`` reports it: way along the roads
  plus the shelter's straight leg (the origin's leg is the same for every shelter).  A shelter 50 m along the
  road but 900 m off it loses to one 300 m along and 5 m off.  Safe shelters meeting the roads at one point share
  the way along the roads: the one with the shortest leg takes the route, and of equal legs (shelters on one spot)
  the first in the layer.  Between different road points of exactly equal length the search decides.

Reasons in two languages
------------------------
A reason is built once, language-neutral, as a list of parts ``{"code": ..., parameters}`` (:data:`REASON_CODES`):
at most one about the assigned shelter, then one about the outcome.  Example: ``[{"code": "assigned_in_zone",
"shelter_id": "S0", "hazard_ids": ["HP1"]}, {"code": "rerouted", "shelter_id": "S1"}]``.  :func:`reason_text`
words it in ``"zh"`` or ``"en"``; every reader goes through it.  The routes table carries three columns:

- ``reason``: the English wording.  Kept as it was: the ``routes --json`` output and the route files promise it.
- ``reason_zh``: the Chinese wording, so a route file opened in QGIS reads in Chinese too.
- ``reason_parts``: the parts as JSON text (text, not objects, so the table still writes to a GeoPackage);
  ``routes --json`` gives them parsed.  :func:`reason_texts` words this column for a table in a language.

All three are None together, exactly when the route is the one the plan asks for.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo.analysis import network
from geo.model import crs as model_crs
from geo.model import schema
from geo.settings import AnalysisSettings

#: The layers the analysis reads.
INPUT_LAYERS = ("hazard_points", "danger_zones", "villages", "shelters", "roads")
ROUTE_COLUMNS = [
    "hazard_id",
    "origin_id",
    "origin_kind",
    "origin_name",
    "shelter_id",
    "assigned_shelter_id",
    "length_m",
    "walk_minutes",
    "people",
    "reachable",
    "reason",
    "reason_zh",
    "reason_parts",
]
SHELTER_COLUMNS = [
    "shelter_id",
    "name",
    "township",
    "capacity",
    "assigned_people",
    "load_ratio",
    "over_capacity",
    "inside_danger_zone",
    "on_network",
]
#: Layer name of the routes when written to a file.
ROUTES_LAYER = "evacuation_routes"
#: What tells the origins of routes apart: a village, or a hazard point with no village in its zones.
ORIGIN_KEY = ["origin_kind", "origin_id"]


@dataclass
class EvacuationResult:
    """Routes (EPSG:4490 lines, one row per route), shelter load, the road network report, and assumptions."""

    routes: gpd.GeoDataFrame
    shelters: gpd.GeoDataFrame
    network: dict
    assumptions: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict:
        """The JSON contract of ``python -m geo routes --json``."""
        routes = [
            {
                "hazard_id": r.hazard_id,
                "origin_id": r.origin_id,
                "origin_kind": r.origin_kind,
                "shelter_id": r.shelter_id,
                "assigned_shelter_id": r.assigned_shelter_id,
                "length_m": _number(r.length_m, 1),
                "walk_minutes": _number(r.walk_minutes, 1),
                "people": int(r.people),
                "reachable": bool(r.reachable),
                "reason": r.reason,
                "reason_zh": r.reason_zh,
                "reason_parts": json.loads(r.reason_parts) if r.reason_parts else None,
            }
            for r in self.routes.itertuples(index=False)
        ]
        shelters = [
            {
                "shelter_id": s.shelter_id,
                "name": s.name,
                "assigned_people": int(s.assigned_people),
                "capacity": int(s.capacity),
                "load_ratio": _number(s.load_ratio, 3),
                "over_capacity": bool(s.over_capacity),
            }
            for s in self.shelters.itertuples(index=False)
        ]
        return {
            "routes": routes,
            "shelters": shelters,
            "summary": asdict(self.summary()),
            "network": self.network,
            "assumptions": self.assumptions,
        }

    def summary(self) -> SelectionSummary:
        """The figures of every route of the result (:func:`selection_summary`)."""
        return selection_summary(self, self.routes)

    def to_text(self) -> str:
        """A readable report: routes, people to move, shelters over capacity, the road network, assumptions."""
        routes = self.routes
        summary = self.summary()
        lines = [
            f"Evacuation routes: {summary.routes} route(s) for {routes['hazard_id'].nunique()} hazard point(s); "
            f"{summary.routes - summary.unreachable} reachable, {summary.unreachable} not; "
            f"{summary.people} people to move (each village or hazard point once).",
            "",
        ]
        if len(routes):
            lines.append(_table(routes))
        full = self.shelters[self.shelters["over_capacity"]]
        lines += ["", f"Shelters over capacity: {len(full)} of {len(self.shelters)}"]
        lines += [
            f"  {s.shelter_id} {s.name}: {s.assigned_people} people, capacity {s.capacity}" for s in full.itertuples()
        ]
        net = self.network
        lines += [
            "",
            f"Road network ({net['crs']}): {net['nodes']} nodes, {net['edges']} edges, {net['n_pieces']} piece(s); "
            f"main piece {net['main_length_m'] / 1000:.1f} km of {net['total_length_m'] / 1000:.1f} km.",
        ]
        lines += [
            f"  disconnected piece {p['piece']}: {p['length_m']} m, roads {', '.join(p['road_ids'])}"
            for p in net["disconnected_pieces"]
        ]
        lines += ["", "Assumptions:", *(f"  - {a}" for a in self.assumptions)]
        return "\n".join(lines)


def _table(routes: gpd.GeoDataFrame) -> str:
    """Routes as a left-aligned text table (pandas right-aligns text, which buries long reasons)."""
    cells = [
        [
            r.hazard_id,
            r.origin_id,
            r.shelter_id or "-",
            "-" if np.isnan(r.length_m) else f"{r.length_m:.0f}",
            "-" if np.isnan(r.walk_minutes) else f"{r.walk_minutes:.1f}",
            str(r.people),
            r.reason or "",
        ]
        for r in routes.itertuples(index=False)
    ]
    header = ["hazard_id", "origin_id", "shelter_id", "length_m", "walk_min", "people", "reason"]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in [header, *cells]
    )


def _number(value, digits: int) -> float | None:
    return round(float(value), digits) if value is not None and np.isfinite(value) else None


# --------------------------------------------------------------------------------------------------
# A selection: the routes of one hazard point or of a township, as the Evacuation page shows them (plan 4.5.3,
# 4.5.4: the people a warning moves, and the shelters that receive them)


@dataclass(frozen=True)
class SelectionSummary:
    """The figures of a selection of routes (:func:`selection_summary`).

    Attributes
    ----------
    routes
        Routes in the selection: one per origin and hazard point, so a village in two points' zones has two.
    people
        People to move: each origin counted once, however many of the selection's hazard points route it
        (docs/data-model.md "People to move"), whether its route reaches a shelter or not: they move either way.
    unreachable
        Routes that reach no shelter.
    shelters_over_capacity
        Shelters the selection reaches or was assigned that receive more people than they hold, counting every
        route of the result (docs/data-model.md "Shelter load").
    """

    routes: int
    people: int
    unreachable: int
    shelters_over_capacity: int


def select_routes(
    result: EvacuationResult,
    points: gpd.GeoDataFrame,
    *,
    hazard_id: str | None = None,
    township: str | None = None,
) -> gpd.GeoDataFrame:
    """The routes of one hazard point, or of every active hazard point whose ``township`` is the one given.

    Parameters
    ----------
    result
        The routes of the district (or of any set of hazard points).
    points
        The ``hazard_points`` layer: a point's township is its inventory's ``township``, not where it lies.
    hazard_id, township
        Exactly one of them.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of ``result.routes`` chosen, in their order, re-indexed 0..n-1.

    Raises
    ------
    ValueError
        Neither or both of ``hazard_id`` and ``township`` given.
    """
    if (hazard_id is None) == (township is None):
        raise ValueError("choose the routes by a hazard point or by a township, not both or neither")
    routes = result.routes
    if hazard_id is not None:
        chosen = routes["hazard_id"] == hazard_id
    else:
        ids = points.loc[(points["status"] == "active") & (points["township"] == township), "hazard_id"]
        chosen = routes["hazard_id"].isin(ids)
    return routes[chosen].reset_index(drop=True)


def people_to_move(routes: pd.DataFrame) -> int:
    """People the routes move, each origin (``origin_kind``, ``origin_id``) once (docs/data-model.md "People to
    move"): a village inside the zones of two hazard points has two routes but its people move once."""
    return int(routes.drop_duplicates(ORIGIN_KEY)["people"].sum())


def _people_per_shelter(routes: pd.DataFrame, shelter: str) -> pd.Series:
    """People the reachable routes bring to each shelter (by the ``shelter`` column): an origin routed to one
    shelter by several hazard points counts once there, routed to two shelters at each."""
    arrived = routes[routes["reachable"]].drop_duplicates([*ORIGIN_KEY, shelter])
    return arrived.groupby(shelter)["people"].sum()


def selection_shelters(result: EvacuationResult, routes: pd.DataFrame) -> gpd.GeoDataFrame:
    """The shelters a selection of routes reaches or was assigned, with the selection's people and the total load.

    Parameters
    ----------
    result
        The result the routes were selected from: its shelters' load counts all its routes.
    routes
        A selection of ``result.routes`` (:func:`select_routes`).

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of ``result.shelters`` used by ``routes``, over capacity first, then by load, highest first.
        ``assigned_people``, ``load_ratio`` and ``over_capacity`` count everyone the result sends there: a shelter
        is full whoever fills it.  Added: ``selected_people``, the selection's people who reach it (each origin once
        per shelter, as the load counts them), and ``load_percent``, the load in whole per cent.
    """
    used = set(routes["shelter_id"].dropna()) | set(routes["assigned_shelter_id"].dropna())
    shelters = result.shelters
    table = shelters[shelters["shelter_id"].isin(used)].copy()
    selected = _people_per_shelter(routes, "shelter_id")
    table["selected_people"] = table["shelter_id"].map(selected).fillna(0).astype(np.int64)
    table["load_percent"] = (table["load_ratio"] * 100).round(0)
    return table.sort_values(["over_capacity", "load_ratio"], ascending=False).reset_index(drop=True)


def selection_summary(result: EvacuationResult, routes: pd.DataFrame) -> SelectionSummary:
    """The figures of a selection of ``result.routes``: routes, people to move, unreachable routes, and the
    selection's shelters over capacity (:class:`SelectionSummary`)."""
    return SelectionSummary(
        routes=len(routes),
        people=people_to_move(routes),
        unreachable=int((~routes["reachable"]).sum()),
        shelters_over_capacity=int(selection_shelters(result, routes)["over_capacity"].sum()),
    )


# --------------------------------------------------------------------------------------------------
# Reasons: built language-neutral, worded on demand (see the module docstring)

#: Reason code -> (Chinese, English) wording; ``{name}`` is filled from the part's parameters, a list joined by
#: 、 in Chinese and ", " in English.  ``safe_shelters_blocked`` adds :data:`_IN_THE_WAY` when it names zones.
REASON_CODES: dict[str, tuple[str, str]] = {
    "origin_off_road": ("起点周围{max_snap_m:g}米内没有道路", "no road within {max_snap_m:g} m of the origin"),
    "assigned_not_found": (
        "预定避灾场所{shelter_id}不在避灾场所图层中",
        "assigned shelter {shelter_id} is not in the shelters layer",
    ),
    "assigned_in_zone": (
        "预定避灾场所{shelter_id}位于隐患点{hazard_ids}的危险区内",
        "assigned shelter {shelter_id} lies inside the danger zone of {hazard_ids}",
    ),
    "assigned_off_road": (
        "预定避灾场所{shelter_id}周围{max_snap_m:g}米内没有道路",
        "assigned shelter {shelter_id} has no road within {max_snap_m:g} m",
    ),
    "assigned_blocked": (
        "预定避灾场所{shelter_id}只能穿过其他隐患点的危险区到达",
        "assigned shelter {shelter_id} is reachable only through another hazard point's danger zone",
    ),
    "assigned_disconnected": (
        "预定避灾场所{shelter_id}与起点之间没有道路相通",
        "assigned shelter {shelter_id} is not connected by road",
    ),
    "rerouted": (
        "已改往最近的安全避灾场所{shelter_id}",
        "routed to the nearest safe shelter {shelter_id} instead",
    ),
    "no_safe_shelter_on_network": (
        "危险区外没有接入路网的避灾场所",
        "no shelter outside the danger zones is on the road network",
    ),
    "no_safe_shelter_connected": (
        "危险区外的避灾场所都与起点没有道路相通",
        "no shelter outside the danger zones is connected to the origin by road",
    ),
    "safe_shelters_blocked": (
        "危险区外的避灾场所都只能穿过其他隐患点的危险区到达",
        "every shelter outside the danger zones is reachable only through another hazard point's danger zone",
    ),
}
#: Chinese without brackets: the cards print the whole reason inside （）.
_IN_THE_WAY = ("，途中有隐患点{hazard_ids}的危险区阻隔", " ({hazard_ids} in the way)")
#: Between the parts of one reason, and between the items of a list parameter: (Chinese, English).
_PART_SEPARATOR = ("；", "; ")
_LIST_SEPARATOR = ("、", ", ")
_LANGS = ("zh", "en")

ReasonParts = Sequence[Mapping[str, object]]


def reason_text(parts: ReasonParts | str | None, lang: str) -> str | None:
    """Word a reason in ``lang`` (``"zh"`` or ``"en"``); None (or an empty reason, or a missing value) -> None.

    ``parts`` is a list of ``{"code": ..., parameters}`` or the same as JSON text (the ``reason_parts`` column).

    >>> parts = [{"code": "assigned_off_road", "shelter_id": "S2", "max_snap_m": 2000.0}, {"code": "rerouted",
    ...     "shelter_id": "S1"}]
    >>> reason_text(parts, "zh")
    '预定避灾场所S2周围2000米内没有道路；已改往最近的安全避灾场所S1'
    >>> reason_text(parts, "en")
    'assigned shelter S2 has no road within 2000 m; routed to the nearest safe shelter S1 instead'

    Raises
    ------
    ValueError
        ``lang`` is neither language, or a part has an unknown code.
    """
    if lang not in _LANGS:
        raise ValueError(f"lang must be one of {'|'.join(_LANGS)}, not {lang!r}")
    if isinstance(parts, str):
        parts = json.loads(parts)
    elif not isinstance(parts, Sequence) and pd.isna(parts):  # None, NaN, pd.NA: a table cell with no reason
        return None
    if not parts:
        return None
    i = _LANGS.index(lang)
    return _PART_SEPARATOR[i].join(_word(part, i) for part in parts)


def _word(part: Mapping[str, object], i: int) -> str:
    code = part.get("code")
    if code not in REASON_CODES:
        raise ValueError(f"unknown reason code {code!r}")
    values = {
        k: _LIST_SEPARATOR[i].join(map(str, v)) if isinstance(v, list | tuple) else v
        for k, v in part.items()
        if k != "code"
    }
    text = REASON_CODES[code][i].format(**values)
    if code == "safe_shelters_blocked" and part.get("hazard_ids"):
        text += _IN_THE_WAY[i].format(**values)
    return text


def reason_texts(routes: pd.DataFrame, lang: str) -> pd.Series:
    """The reasons of a routes table worded in ``lang``, on its index (None where a route has no reason).

    Worded from ``reason_parts``; a table without that column (built by hand, or by an older version) keeps its
    ``reason`` as it is.
    """
    if "reason_parts" not in routes.columns:
        return routes["reason"].astype(object)
    return pd.Series([reason_text(p, lang) for p in routes["reason_parts"]], index=routes.index, dtype=object)


# --------------------------------------------------------------------------------------------------
# Routing with zone avoidance: optimistic batches (see the module docstring)


@dataclass
class _Batch:
    to_assigned: bool
    members: list[int] = field(default_factory=list)
    hazards: set[int] = field(default_factory=set)
    banned_hazards: set[int] = field(default_factory=set)
    shelters: set[int] = field(default_factory=set)
    banned_shelters: set[int] = field(default_factory=set)


@dataclass
class _Router:
    """Solves every route of one analysis; per route ``r`` it holds the search state and, at the end, the result.

    ``touches`` is an (edges x hazard points) 0/1 matrix: which hazard points' zones each edge touches.
    ``allowed[r]`` are the hazard points whose zones route ``r`` may pass; ``target[r]`` the node of its
    assigned shelter, or -1 for the nearest safe shelter.  ``safe_nodes`` are the nodes of the safe shelters and
    ``safe_legs`` their straight legs to the road (one per safe shelter; several may share a node).

    ``dist[r]`` is the length along the roads only, from the origin's node to the shelter's ``end_node[r]``.
    """

    graph: network.RoadGraph
    touches: sparse.csr_matrix
    origin: np.ndarray
    allowed: list[frozenset[int]]
    target: np.ndarray
    safe_nodes: np.ndarray
    safe_legs: np.ndarray
    searches: int = 0
    rounds: int = 0

    def __post_init__(self) -> None:
        n = len(self.origin)
        n_hazards = self.touches.shape[1]
        self.crossed: list[set[int]] = [set() for _ in range(n)]
        self.rivals: list[set[int]] = [set() for _ in range(n)]
        self.allowed_keys = np.sort(
            np.array([r * n_hazards + h for r, hs in enumerate(self.allowed) for h in hs], dtype=np.int64)
        )
        self.touched_edge = np.diff(self.touches.indptr) > 0
        self.dist = np.full(n, np.inf)
        self.end_node = np.full(n, -1, dtype=np.int64)
        self.paths: list[tuple[np.ndarray, np.ndarray]] = []
        #: Routes whose assigned shelter proved unreachable (they then go to the nearest safe shelter).
        self.assigned_failed = np.zeros(n, dtype=bool)
        # The search for the nearest safe shelter starts from a virtual node (number n_nodes) with an edge to each
        # safe shelter's node weighing the straight leg from there to the shelter (the shortest, where several
        # share the node).  Its distance to a node is then the length from there to the shelter, leg included.
        # Only the virtual node's row holds these edges: no path passes through it.
        nodes, which = np.unique(self.safe_nodes.astype(np.int64), return_inverse=True)
        legs = np.full(len(nodes), np.inf)
        np.minimum.at(legs, which, self.safe_legs)
        self.leg_nodes, self.node_legs = nodes, legs
        matrix, n_nodes = self.graph.matrix, self.graph.n_nodes
        self.to_safe = sparse.csr_matrix(
            (
                np.concatenate([matrix.data, legs]),
                np.concatenate([matrix.indices, nodes]),
                np.append(matrix.indptr, matrix.nnz + len(nodes)),
            ),
            shape=(n_nodes + 1, n_nodes + 1),
        )
        #: The edge behind each stored entry of ``to_safe``; n_edges for the legs, which are never blocked.
        self.to_safe_edge = np.append(self.graph.matrix_edge, np.full(len(nodes), self.graph.n_edges))

    def solve(self) -> None:
        pending = [r for r in range(len(self.origin)) if self.origin[r] >= 0]
        while pending:
            self.rounds += 1
            retry: list[int] = []
            for batch in self._pack(pending):
                retry.extend(self._search(batch))
            pending = retry

    def _pack(self, routes: list[int]) -> list[_Batch]:
        batches: list[_Batch] = []
        for r in routes:
            to_assigned = bool(self.target[r] >= 0)
            batch = next((b for b in batches if self._fits(b, r, to_assigned)), None)
            if batch is None:
                batch = _Batch(to_assigned)
                batches.append(batch)
            batch.members.append(r)
            batch.hazards |= self.allowed[r]
            batch.banned_hazards |= self.crossed[r]
            if to_assigned:
                batch.shelters.add(int(self.target[r]))
                batch.banned_shelters |= self.rivals[r]
        return batches

    def _fits(self, batch: _Batch, r: int, to_assigned: bool) -> bool:
        if batch.to_assigned != to_assigned:
            return False
        if self.allowed[r] & batch.banned_hazards or self.crossed[r] & batch.hazards:
            return False
        return not to_assigned or (self.target[r] not in batch.banned_shelters and not self.rivals[r] & batch.shelters)

    def _search(self, batch: _Batch) -> list[int]:
        """Run one batch; record the routes it settles and return those to retry."""
        n_hazards = self.touches.shape[1]
        passable = np.zeros(n_hazards, dtype=np.int32)
        passable[list(batch.hazards)] = 1
        blocked = (self.touches @ (1 - passable)) > 0
        if batch.to_assigned:
            dist, pred, _ = network.nearest_sources(self.graph, sorted(batch.shelters), blocked_edges=blocked)
        else:
            dist, pred = self._nearest_safe(blocked)
        self.searches += 1

        members = np.array(batch.members)
        start = self.origin[members]
        length = dist[start]
        reached = np.isfinite(length)
        # In a batch graph, which holds each member's own graph, an unreachable shelter is unreachable for
        # the member too: an assigned one is given up for the nearest safe shelter, a nearest one is final.
        retry = ~reached if batch.to_assigned else np.zeros(len(members), dtype=bool)
        if batch.to_assigned:
            self.assigned_failed[members[~reached]] = True
            self.target[members[~reached]] = -1

        path_id, nodes, foreign = self._trace(pred, members, np.where(reached, start, -1))
        end = _path_ends(path_id, nodes, len(members))
        for r, h in foreign:
            self.crossed[r].add(h)
        bad = np.isin(members, [r for r, _ in foreign])
        if batch.to_assigned:
            wrong = reached & (end != self.target[members])
            for r, s in zip(members[wrong], end[wrong], strict=True):
                self.rivals[r].add(int(s))
            bad |= wrong
        else:
            # The search measured the shelter's leg too; ``dist`` keeps the length along the roads.
            length[reached] -= self.node_legs[np.searchsorted(self.leg_nodes, end[reached])]
        retry |= reached & bad

        done = reached & ~bad
        self.dist[members[done]] = length[done]
        self.end_node[members[done]] = end[done]
        keep = np.isin(path_id, np.flatnonzero(done))
        self.paths.append((members[path_id[keep]], nodes[keep]))
        return members[retry].tolist()

    def _nearest_safe(self, blocked: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """One Dijkstra from the virtual node: per node, the length to its nearest safe shelter, leg included.

        Returns distances and predecessors over the graph's nodes plus the virtual one (the last); a path traced
        from a node ends at the virtual node, right after the chosen shelter's node.
        """
        matrix = self.to_safe
        if blocked is not None:
            # An infinite weight closes an edge for scipy's Dijkstra (as in geo.analysis.network).
            matrix = matrix.copy()
            matrix.data[np.append(blocked, False)[self.to_safe_edge]] = np.inf
        dist, pred, _ = dijkstra(
            matrix, directed=True, indices=[self.graph.n_nodes], return_predecessors=True, min_only=True
        )
        return dist, pred

    def _trace(
        self, pred: np.ndarray, members: np.ndarray, start: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """Paths from ``start`` (-1: none) along ``pred``, and the (route, hazard point) of each foreign zone met.

        The virtual node of :meth:`_nearest_safe` is left out: a path ends at its shelter's node.
        """
        n_hazards = self.touches.shape[1]
        path_id, nodes = network.trace_paths(pred, start)
        real = nodes < self.graph.n_nodes
        path_id, nodes = path_id[real], nodes[real]
        step_path, edge, _ = network.path_edges(self.graph, path_id, nodes)
        on_zone = self.touched_edge[edge]
        hits = self.touches[edge[on_zone]].tocoo()
        route = members[step_path[on_zone][hits.row]]
        foreign = ~np.isin(route * n_hazards + hits.col, self.allowed_keys)
        pairs = {(int(r), int(h)) for r, h in zip(route[foreign], hits.col[foreign], strict=True)}
        return path_id, nodes, sorted(pairs)

    def zones_in_the_way(self, routes: np.ndarray) -> dict[int, list[int]]:
        """For routes with no safe shelter: the foreign hazard points whose zones the shortest way would cross.

        One more search, on the graph with every zone open, explains the failures in the terms a planner acts
        on (which hazard point's zone cuts the village off).
        """
        if not len(routes) or not len(self.safe_nodes):
            return {}
        _, pred = self._nearest_safe(None)
        self.searches += 1
        found: dict[int, list[int]] = {}
        for r, h in self._trace(pred, routes, self.origin[routes])[2]:
            found.setdefault(r, []).append(h)
        return found


def _path_ends(path_id: np.ndarray, nodes: np.ndarray, n_paths: int) -> np.ndarray:
    """The last node of each of ``n_paths`` paths from :func:`geo.analysis.network.trace_paths`.

    -1 for a path not there.
    """
    end = np.full(n_paths, -1, dtype=np.int64)
    last = np.ones(len(path_id), dtype=bool)
    last[:-1] = path_id[1:] != path_id[:-1]
    end[path_id[last]] = nodes[last]
    return end


# --------------------------------------------------------------------------------------------------
# The analysis


def evacuation_routes(
    layers: dict[str, gpd.GeoDataFrame],
    settings: AnalysisSettings | None = None,
    *,
    hazard_ids: list[str] | None = None,
) -> EvacuationResult:
    """Evacuation routes of active hazard points, with shelter load and a report on the road network.

    Parameters
    ----------
    layers
        Layer name -> frame; needs ``hazard_points``, ``danger_zones``, ``villages``, ``shelters``, ``roads``.
    settings
        Defaults to :class:`AnalysisSettings`.  ``walk_speed_kmh`` (walking time), ``snap_tolerance_m``
        (joining road ends), ``max_snap_distance_m`` (farthest a village, hazard point or shelter may lie from
        a road).
    hazard_ids
        Route only these hazard points (each must be active); by default every active one.  Danger zones of
        every active hazard point are avoided either way.

    Returns
    -------
    EvacuationResult
        ``routes`` has the columns :data:`ROUTE_COLUMNS` and a line per route in EPSG:4490 (None where
        unreachable); ``shelters`` the columns :data:`SHELTER_COLUMNS` and the shelter points.

    Raises
    ------
    ValueError
        A layer is missing, the walking speed is not positive, or ``hazard_ids`` names an unknown or inactive
        hazard point.
    """
    settings = settings or AnalysisSettings()
    missing = [name for name in INPUT_LAYERS if name not in layers]
    if missing:
        raise ValueError(f"evacuation routes need the layer(s) {', '.join(missing)}")
    if not settings.walk_speed_kmh > 0:
        raise ValueError(f"walking speed must be above 0 km/h, not {settings.walk_speed_kmh:g}")
    roads, hazards = layers["roads"], layers["hazard_points"]
    crs = model_crs.metric_crs(roads if len(roads) else hazards)
    active = hazards[hazards["status"] == "active"].to_crs(crs).reset_index(drop=True)
    chosen = _chosen(hazards, active, hazard_ids)
    zones = layers["danger_zones"]
    zones = zones[zones["hazard_id"].isin(active["hazard_id"])].to_crs(crs)
    zone_geoms = zones.geometry.to_numpy()
    zone_hazard = pd.Index(active["hazard_id"]).get_indexer(zones["hazard_id"])
    villages = layers["villages"].to_crs(crs).reset_index(drop=True)
    shelters = layers["shelters"].to_crs(crs).reset_index(drop=True)

    zone_tree = shapely.STRtree(zone_geoms)

    def holding(points: gpd.GeoSeries) -> pd.DataFrame:
        """(point, hazard) for every point in or on a danger zone of an active hazard point."""
        point, zone = zone_tree.query(points.to_numpy(), predicate="intersects")
        return pd.DataFrame({"point": point, "hazard": zone_hazard[zone]}).drop_duplicates()

    routes = _origins(active, chosen, villages, holding(villages.geometry), holding(active.geometry))
    shelter_zones = holding(shelters.geometry).sort_values("hazard")
    in_zone = (
        shelter_zones.assign(hazard_id=active["hazard_id"].to_numpy()[shelter_zones["hazard"].to_numpy()])
        .groupby("point")["hazard_id"]
        .agg(tuple)
    )

    graph = network.build_graph(roads, tolerance_m=settings.snap_tolerance_m, crs=crs)
    origin_points = routes.drop_duplicates("point_key")
    points = np.concatenate([origin_points["point"].to_numpy(), shelters.geometry.to_numpy()])
    snap = network.snap_points(graph, points, max_distance_m=settings.max_snap_distance_m)
    origin_no = pd.Index(origin_points["point_key"]).get_indexer(routes["point_key"])
    shelter_no = len(origin_points) + np.arange(len(shelters))
    origin_node, shelter_node = snap.node[origin_no], snap.node[shelter_no]
    safe = (shelter_node >= 0) & ~np.isin(np.arange(len(shelters)), in_zone.index)

    assigned, notes = _assigned(routes, shelters, shelter_node, in_zone, settings.max_snap_distance_m)
    edge, zone = network.edges_intersecting(snap.graph, zone_geoms)
    touches = sparse.csr_matrix(
        (np.ones(len(edge), dtype=np.int32), (edge, zone_hazard[zone])), shape=(snap.graph.n_edges, len(active))
    )
    touches.data[:] = 1  # several zones of one hazard point on one edge add up; one is enough
    target = np.full(len(routes), -1, dtype=np.int64)
    target[assigned >= 0] = shelter_node[assigned[assigned >= 0]]
    shelter_leg = snap.distance_m[shelter_no]
    router = _Router(
        snap.graph, touches, origin_node, list(routes["allowed"]), target.copy(), shelter_node[safe], shelter_leg[safe]
    )
    router.solve()

    reached = np.isfinite(router.dist)
    # Several safe shelters on one node share their way along the roads: the one with the shortest straight leg
    # takes the route (the leg the search weighed), and of equal legs the first in the layer.
    safe_at = pd.DataFrame({"node": shelter_node[safe], "leg": shelter_leg[safe], "shelter": np.flatnonzero(safe)})
    first_safe_at = safe_at.sort_values(["leg", "shelter"]).groupby("node")["shelter"].first()
    end = np.where(router.target >= 0, assigned, first_safe_at.reindex(router.end_node).fillna(-1).to_numpy())
    end = np.where(reached, end, -1).astype(np.int64)

    reasons = _reasons(
        router,
        snap.graph.labels,
        target,
        assigned,
        end,
        notes,
        shelters["shelter_id"],
        active["hazard_id"].to_numpy(),
        settings.max_snap_distance_m,
    )

    # ``end`` is -1 for unreachable routes: reindex (not plain indexing) gives them no shelter and no leg.
    end_leg = pd.Series(shelter_leg).reindex(end).fillna(0.0).to_numpy()
    length = np.where(reached, np.nan_to_num(snap.distance_m[origin_no]) + router.dist + end_leg, np.nan)
    shelter_ids = shelters["shelter_id"].to_numpy(dtype=object)
    table = pd.DataFrame(
        {
            "hazard_id": active["hazard_id"].to_numpy()[routes["hazard"]],
            "origin_id": routes["origin_id"].to_numpy(),
            "origin_kind": routes["origin_kind"].to_numpy(),
            "origin_name": routes["origin_name"].to_numpy(),
            "shelter_id": _nullable_text(shelter_ids[e] if e >= 0 else None for e in end),
            "assigned_shelter_id": _nullable_text(routes["assigned_shelter_id"]),
            "length_m": length,
            "walk_minutes": length / (settings.walk_speed_kmh * 1000.0 / 60.0),
            "people": routes["people"].to_numpy(dtype=np.int64),
            "reachable": reached,
            "reason": _nullable_text(reason_text(parts, "en") for parts in reasons),
            "reason_zh": _nullable_text(reason_text(parts, "zh") for parts in reasons),
            "reason_parts": _nullable_text(
                None if parts is None else json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
                for parts in reasons
            ),
        }
    )
    point_xy = np.column_stack([shapely.get_x(points), shapely.get_y(points)])
    lines = _route_lines(router, point_xy, origin_no, len(origin_points) + end, reached)
    return EvacuationResult(
        routes=gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(lines, crs=crs).to_crs(model_crs.STORAGE_CRS)),
        shelters=_shelter_load(shelters, table, end, in_zone, shelter_node),
        network={
            "crs": crs,
            "nodes": graph.n_nodes,
            "edges": graph.n_edges,
            **graph.components().to_dict(),
            "origins_off_network": int((origin_node < 0).sum()),
            "shelters_off_network": shelters["shelter_id"][shelter_node < 0].astype(str).tolist(),
            "route_searches": router.searches,
            "search_rounds": router.rounds,
        },
        assumptions=_assumptions(crs, settings),
    )


def _nullable_text(values) -> pd.Series:
    """Text with None for missing; an object column, since pandas' string dtype would turn None into NaN."""
    return pd.Series(list(values), dtype=object)


def _chosen(hazards: gpd.GeoDataFrame, active: gpd.GeoDataFrame, hazard_ids: list[str] | None) -> np.ndarray:
    """Positions in ``active`` of the hazard points to route, in layer order."""
    if hazard_ids is None:
        return np.arange(len(active))
    wanted = list(dict.fromkeys(hazard_ids))
    unknown = [h for h in wanted if h not in set(hazards["hazard_id"])]
    if unknown:
        raise ValueError(f"unknown hazard_id: {', '.join(unknown)}")
    inactive = [h for h in wanted if h not in set(active["hazard_id"])]
    if inactive:
        raise ValueError(f"not active (only active hazard points are routed): {', '.join(inactive)}")
    return np.sort(pd.Index(active["hazard_id"]).get_indexer(wanted))


def _origins(
    active: gpd.GeoDataFrame,
    chosen: np.ndarray,
    villages: gpd.GeoDataFrame,
    village_zones: pd.DataFrame,
    point_zones: pd.DataFrame,
) -> pd.DataFrame:
    """One row per route: its hazard point, origin, people, assigned shelter, and the zones it may pass.

    ``village_zones`` and ``point_zones`` pair villages and hazard points with the hazard points whose zones
    hold them.  ``point_key`` tells origin points apart: a village's position, or the number of villages plus
    a hazard point's position.
    """
    inside = village_zones[village_zones["hazard"].isin(chosen)]
    alone = chosen[~np.isin(chosen, inside["hazard"])]
    v, h = inside["point"].to_numpy(), inside["hazard"].to_numpy()
    routes = pd.concat(
        [
            pd.DataFrame(
                {
                    "hazard": h,
                    "origin_kind": "village",
                    "origin_id": villages["village_id"].to_numpy()[v],
                    "origin_name": villages["name"].to_numpy()[v],
                    "people": villages["population"].to_numpy()[v],
                    "point_key": v,
                    "point": villages.geometry.to_numpy()[v],
                }
            ),
            pd.DataFrame(
                {
                    "hazard": alone,
                    "origin_kind": "hazard_point",
                    "origin_id": active["hazard_id"].to_numpy()[alone],
                    "origin_name": active["name"].to_numpy()[alone],
                    "people": active["threatened_people"].to_numpy()[alone],
                    "point_key": len(villages) + alone,
                    "point": active.geometry.to_numpy()[alone],
                }
            ),
        ],
        ignore_index=True,
    )
    routes = routes.astype({"hazard": np.int64, "people": np.int64, "point_key": np.int64})
    routes = routes.sort_values(["hazard", "point_key"], ignore_index=True)
    holders = {
        **village_zones.groupby("point")["hazard"].agg(frozenset).to_dict(),
        **{len(villages) + p: hs for p, hs in point_zones.groupby("point")["hazard"].agg(frozenset).items()},
    }
    routes["allowed"] = [
        holders.get(k, frozenset()) | {hz} for k, hz in zip(routes["point_key"], routes["hazard"], strict=True)
    ]
    shelter = active["shelter_id"].to_numpy()[routes["hazard"].to_numpy()]
    routes["assigned_shelter_id"] = _nullable_text(s if isinstance(s, str) and s.strip() else None for s in shelter)
    return routes


def _assigned(
    routes: pd.DataFrame, shelters: gpd.GeoDataFrame, shelter_node: np.ndarray, in_zone: pd.Series, max_snap_m: float
) -> tuple[np.ndarray, list[dict | None]]:
    """Position of each route's usable assigned shelter (-1: none or unusable) and why an assigned one is not.

    ``in_zone`` maps a shelter's position to the ids of the hazard points whose zones hold it.
    """
    position = {sid: i for i, sid in reversed(list(enumerate(shelters["shelter_id"])))}
    assigned = np.full(len(routes), -1, dtype=np.int64)
    notes: list[dict | None] = []
    for r, sid in enumerate(routes["assigned_shelter_id"]):
        pos = position.get(sid, -1)
        note = None
        if sid is None:
            pass
        elif pos < 0:
            note = {"code": "assigned_not_found", "shelter_id": sid}
        elif pos in in_zone.index:
            note = {"code": "assigned_in_zone", "shelter_id": sid, "hazard_ids": list(in_zone[pos])}
        elif shelter_node[pos] < 0:
            note = {"code": "assigned_off_road", "shelter_id": sid, "max_snap_m": float(max_snap_m)}
        else:
            assigned[r] = pos
        notes.append(note)
    return assigned, notes


def _reasons(
    router: _Router,
    labels: np.ndarray,
    target: np.ndarray,
    assigned: np.ndarray,
    end: np.ndarray,
    notes: list[dict | None],
    shelter_ids: pd.Series,
    active_ids: np.ndarray,
    max_snap_m: float,
) -> list[list[dict] | None]:
    """Why each route is not the one the plan asks for, as reason parts (module docstring); None where it is.

    ``target``/``assigned`` are each route's assigned shelter node/position before routing (-1: none),
    ``end`` the shelter it reached, ``notes`` why an assigned shelter was unusable before any search.
    """
    origin = router.origin
    for r in np.flatnonzero(router.assigned_failed):
        connected = labels[origin[r]] == labels[target[r]]
        code = "assigned_blocked" if connected else "assigned_disconnected"
        notes[r] = {"code": code, "shelter_id": str(shelter_ids.iat[assigned[r]])}
    reached = np.isfinite(router.dist)
    on_network = origin >= 0
    failed = on_network & ~reached
    cut_off = np.zeros(len(origin), dtype=bool)
    cut_off[failed] = np.isin(labels[origin[failed]], labels[router.safe_nodes])
    in_the_way = router.zones_in_the_way(np.flatnonzero(cut_off))
    reasons: list[list[dict] | None] = []
    for r in range(len(origin)):
        # An origin off the roads says only that: whatever its assigned shelter, no search started from it.
        if not on_network[r]:
            outcome = {"code": "origin_off_road", "max_snap_m": float(max_snap_m)}
        elif reached[r]:
            outcome = {"code": "rerouted", "shelter_id": str(shelter_ids.iat[end[r]])} if notes[r] else None
        else:
            ids = [str(h) for h in active_ids[in_the_way.get(r, [])]]
            outcome = _no_safe_shelter(len(router.safe_nodes) > 0, bool(cut_off[r]), ids)
        if outcome is None:
            reasons.append(None)
        elif not on_network[r] or not notes[r]:
            reasons.append([outcome])
        else:
            reasons.append([notes[r], outcome])
    return reasons


def _no_safe_shelter(any_safe: bool, cut_off: bool, in_the_way: list[str]) -> dict:
    """Why a route found no safe shelter; ``cut_off``: one is on the origin's road piece, behind other zones."""
    if not any_safe:
        return {"code": "no_safe_shelter_on_network"}
    if not cut_off:
        return {"code": "no_safe_shelter_connected"}
    return {"code": "safe_shelters_blocked", "hazard_ids": in_the_way}


def _route_lines(
    router: _Router,
    point_xy: np.ndarray,
    origin_no: np.ndarray,
    end_no: np.ndarray,
    reached: np.ndarray,
) -> np.ndarray:
    """Route lines in the metric CRS: the origin, the roads from where it meets them, the shelter."""
    lines = np.full(len(origin_no), None, dtype=object)
    if not reached.any():
        return lines
    route_of = np.concatenate([p for p, _ in router.paths])
    nodes = np.concatenate([n for _, n in router.paths])
    order = np.argsort(route_of, kind="stable")
    coords, owner = network.path_coordinates(router.graph, route_of[order], nodes[order])
    done = np.flatnonzero(reached)
    xy = np.vstack([point_xy[origin_no[done]], coords, point_xy[end_no[done]]])
    owner = np.concatenate([done, owner, done])
    rank = np.concatenate([np.zeros(len(done)), np.arange(1, len(coords) + 1), np.full(len(done), len(coords) + 1)])
    order = np.lexsort((rank, owner))
    lines[done] = shapely.linestrings(xy[order], indices=np.searchsorted(done, owner[order]))
    return lines


def _shelter_load(
    shelters: gpd.GeoDataFrame, table: pd.DataFrame, end: np.ndarray, in_zone: pd.Series, shelter_node: np.ndarray
) -> gpd.GeoDataFrame:
    """People each shelter receives; an origin routed to one shelter by several hazard points counts once."""
    # By position in the layer (``end``), so that the counts line up with the shelters' rows below.
    arrived = _people_per_shelter(table.assign(shelter=end), "shelter")
    people = arrived.reindex(range(len(shelters)), fill_value=0).to_numpy()
    capacity = shelters["capacity"].to_numpy(dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        load = people / capacity
    frame = pd.DataFrame(
        {
            "shelter_id": shelters["shelter_id"].to_numpy(),
            "name": shelters["name"].to_numpy(),
            "township": shelters["township"].to_numpy(),
            "capacity": capacity,
            "assigned_people": people.astype(np.int64),
            "load_ratio": load,
            "over_capacity": people > capacity,
            "inside_danger_zone": np.isin(np.arange(len(shelters)), in_zone.index),
            "on_network": shelter_node >= 0,
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=shelters.geometry.to_crs(model_crs.STORAGE_CRS).to_numpy(), crs=model_crs.STORAGE_CRS
    )


def _assumptions(crs: str, settings: AnalysisSettings) -> list[str]:
    return [
        "Only active hazard points are routed, and only their danger zones are avoided (docs/data-model.md).",
        f"Distances are measured in {crs} (CGCS2000 Gauss-Krueger), along the roads layer.",
        f"Road ends within {settings.snap_tolerance_m:g} m of each other, or of another road, are joined; "
        "roads crossing without a shared vertex are not (they may be a bridge).",
        f"Villages, hazard points and shelters join the nearest road at the nearest point on it, if within "
        f"{settings.max_snap_distance_m:g} m; route length includes these two straight legs.",
        "A route may pass the danger zones that hold its origin (its own hazard point's, and any other it "
        "starts in) and no other: a road touching any other active hazard point's danger zone, even at its "
        "edge, is closed to it.  The straight legs to and from the roads are not checked against zones.",
        "A shelter in or on any active danger zone is never chosen as the nearest shelter.",
        "The nearest shelter is the one with the shortest route, straight legs included: a shelter close along "
        "the roads but far off them can lose to one farther along them.",
        "Where the assigned shelter (shelter_id) cannot be used, the route goes to the nearest safe shelter "
        "and the reason says so.",
        f"Walking time assumes {settings.walk_speed_kmh:g} km/h.",
        "Shelter load counts a village (or hazard point) once per shelter, however many hazard points send it "
        "there; routed to different shelters, it counts at each.",
    ]


#: File formats the routes layer can be written to, by file name ending.
ROUTE_FORMATS = {".gpkg": "GPKG", ".geojson": "GeoJSON"}


def route_file_driver(path: str | os.PathLike) -> str:
    """The GDAL driver for writing routes to ``path``; ValueError for a file name it cannot take."""
    driver = ROUTE_FORMATS.get(Path(path).suffix.lower())
    if driver is None:
        raise ValueError(f"cannot write routes to {Path(path).name}: use a .gpkg or .geojson file")
    return driver


def write_routes(routes: gpd.GeoDataFrame, path: str | os.PathLike) -> None:
    """Write the routes layer to a GeoPackage (EPSG:4490) or GeoJSON (WGS84, RFC 7946), replacing atomically.

    Raises
    ------
    ValueError
        The file name ends in neither ``.gpkg`` nor ``.geojson``.
    """
    import pyogrio

    path = Path(path)
    driver = route_file_driver(path)
    frame = routes.to_crs("EPSG:4326") if driver == "GeoJSON" else routes
    # Written next to the target, then renamed over it: a reader never sees half a file.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".routes-") as scratch:
        temporary = Path(scratch) / path.name
        options = {"VERSION": schema.GPKG_VERSION} if driver == "GPKG" else {}
        pyogrio.write_dataframe(frame, temporary, layer=ROUTES_LAYER, driver=driver, dataset_options=options)
        os.replace(temporary, path)
