"""Road network for routing: a graph built from the ``roads`` layer, snapping, and multi-source shortest paths.

Every length is in metres, measured in a metric CRS (the CGCS2000 3-degree Gauss-Krueger zone of the data,
EPSG:4548 for Changjiang District).  Searches run in scipy's compiled Dijkstra on a sparse adjacency matrix:
one call serves many sources at once, so no analysis loops over origin/destination pairs in Python.

Node indices are stable: :func:`snap_points` only ever *appends* nodes (it splits the road a point projects
onto), so indices from an earlier snap stay valid in the graph a later snap returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.model import crs as model_crs

#: scipy's marker for "no predecessor" in a shortest-path tree.
NO_PREDECESSOR = -9999
#: Two positions along a road closer than this are one point: snapping there reuses the node.
_SAME_POINT_M = 0.01
#: Upper bound on the cells of a dense distance block (float64): 2**23 cells = 64 MB.
_BLOCK_CELLS = 2**23


@dataclass(frozen=True)
class NetworkPieces:
    """Connected pieces of a road graph: the main one, and every other piece with the roads it holds."""

    n_pieces: int
    main_nodes: int
    main_length_m: float
    total_length_m: float
    #: Every piece but the main one, longest first: ``piece``, ``nodes``, ``length_m``, ``road_ids``.
    pieces: list[dict]

    def to_dict(self) -> dict:
        return {
            "n_pieces": self.n_pieces,
            "main_nodes": self.main_nodes,
            "main_length_m": round(self.main_length_m, 1),
            "total_length_m": round(self.total_length_m, 1),
            "disconnected_pieces": self.pieces,
        }


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """An undirected road graph in a metric CRS.

    Edge ``i`` runs from node ``edge_nodes[i, 0]`` to ``edge_nodes[i, 1]`` along ``edge_geometry[i]`` (oriented
    that way) with weight ``edge_length[i]`` metres; ``matrix`` holds every edge in both directions.  There is at
    most one edge per node pair; ``matrix_edge`` names the edge behind each stored entry of ``matrix``.
    ``labels`` gives the connected piece of each node.
    """

    crs: str
    tolerance_m: float
    coords: np.ndarray
    edge_nodes: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    edge_road_id: np.ndarray
    matrix: sparse.csr_matrix
    matrix_edge: np.ndarray
    labels: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.coords)

    @property
    def n_edges(self) -> int:
        return len(self.edge_nodes)

    @cached_property
    def _edge_keys(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.sort(self.edge_nodes, axis=1).T
        keys = lo * self.n_nodes + hi
        order = np.argsort(keys)
        return keys[order], order

    @cached_property
    def _edge_coords(self) -> tuple[np.ndarray, np.ndarray]:
        """All edge vertices in one array, and where each edge's vertices start (E + 1 offsets)."""
        flat, owner = shapely.get_coordinates(self.edge_geometry, return_index=True)
        offsets = np.searchsorted(owner, np.arange(self.n_edges + 1))
        return flat, offsets

    def edge_ids(self, a, b) -> np.ndarray:
        """Edge index between each pair of nodes ``a[i]``, ``b[i]`` (either order); -1 where there is none."""
        a, b = np.atleast_1d(a).astype(np.int64), np.atleast_1d(b).astype(np.int64)
        keys, order = self._edge_keys
        if not len(keys):
            return np.full(len(a), -1, dtype=np.int64)
        wanted = np.minimum(a, b) * self.n_nodes + np.maximum(a, b)
        pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return np.where(keys[pos] == wanted, order[pos], -1)

    def edge_geometry_between(self, a: int, b: int) -> shapely.LineString:
        """The road between two adjacent nodes, oriented from ``a`` to ``b``."""
        edge = int(self.edge_ids(a, b)[0])
        if edge < 0:
            raise KeyError(f"no edge between nodes {a} and {b}")
        geom = self.edge_geometry[edge]
        return geom if self.edge_nodes[edge, 0] == a else shapely.reverse(geom)

    def components(self) -> NetworkPieces:
        """Summarise the connected pieces; the main piece is the one with the most road length."""
        if not self.n_edges:
            return NetworkPieces(0, 0, 0.0, 0.0, [])
        edge_label = self.labels[self.edge_nodes[:, 0]]
        n = int(self.labels.max()) + 1
        length = np.bincount(edge_label, weights=self.edge_length, minlength=n)
        nodes = np.bincount(self.labels, minlength=n)
        ranked = np.argsort(-length, kind="stable")
        pieces = [
            {
                "piece": int(label),
                "nodes": int(nodes[label]),
                "length_m": round(float(length[label]), 1),
                "road_ids": sorted({str(r) for r in self.edge_road_id[edge_label == label]}),
            }
            for label in ranked[1:]
        ]
        main = ranked[0]
        return NetworkPieces(n, int(nodes[main]), float(length[main]), float(length.sum()), pieces)

    def without_edges(self, remove: np.ndarray) -> RoadGraph:
        """The same nodes (same indices) without the edges where ``remove`` is True."""
        keep = ~np.asarray(remove, dtype=bool)
        return _make_graph(
            self.crs,
            self.tolerance_m,
            self.coords,
            self.edge_nodes[keep],
            self.edge_geometry[keep],
            self.edge_road_id[keep],
        )


def _adjacency(n_nodes: int, edge_nodes: np.ndarray, lengths: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The symmetric adjacency matrix, and the edge behind each of its stored entries."""
    n_edges = len(edge_nodes)
    rows = np.concatenate([edge_nodes[:, 0], edge_nodes[:, 1]])
    cols = np.concatenate([edge_nodes[:, 1], edge_nodes[:, 0]])
    edge = np.tile(np.arange(n_edges), 2)
    order = np.lexsort((cols, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_nodes))])
    matrix = sparse.csr_matrix((lengths[edge[order]], cols[order], indptr), shape=(n_nodes, n_nodes))
    return matrix, edge[order]


def _make_graph(crs, tolerance_m, coords, edge_nodes, geoms, road_ids) -> RoadGraph:
    edge_nodes = np.asarray(edge_nodes, dtype=np.int64).reshape(-1, 2)
    lengths = shapely.length(geoms).astype(float)
    matrix, matrix_edge = _adjacency(len(coords), edge_nodes, lengths)
    _, labels = connected_components(matrix, directed=False)
    return RoadGraph(crs, tolerance_m, coords, edge_nodes, lengths, geoms, road_ids, matrix, matrix_edge, labels)


def _split_line(coords: np.ndarray, cuts: np.ndarray) -> list[np.ndarray]:
    """Cut a polyline at sorted distances along it (strictly inside); return the pieces' vertices."""
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    points = np.column_stack([np.interp(cuts, cum, coords[:, 0]), np.interp(cuts, cum, coords[:, 1])])
    ends = np.concatenate([[0.0], cuts, [cum[-1]]])
    stops = np.vstack([coords[:1], points, coords[-1:]])
    return [
        np.vstack([stops[i], coords[(cum > ends[i]) & (cum < ends[i + 1])], stops[i + 1]]) for i in range(len(cuts) + 1)
    ]


def _cut_lines(geoms: np.ndarray, line_idx: np.ndarray, positions: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Cut ``geoms[line_idx[i]]`` at ``positions[i]``; return every piece and the line it came from."""
    pieces, owner = [], []
    order = np.lexsort((positions, line_idx))
    line_idx, positions = line_idx[order], positions[order]
    bounds = np.flatnonzero(np.diff(line_idx)) + 1
    for idx, cuts in zip(np.split(line_idx, bounds), np.split(positions, bounds), strict=True):
        if not len(idx):
            continue
        parts = _split_line(shapely.get_coordinates(geoms[idx[0]]), cuts)
        pieces.extend(parts)
        owner.extend([idx[0]] * len(parts))
    return pieces, np.asarray(owner, dtype=np.int64)


def _lines_from(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype=object)
    counts = [len(p) for p in parts]
    return shapely.linestrings(np.vstack(parts), indices=np.repeat(np.arange(len(parts)), counts))


def _split_edges(
    coords: np.ndarray, edge_nodes: np.ndarray, geoms: np.ndarray, road_ids: np.ndarray, edge, along
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split edges at distances along them; every cut becomes a node appended to ``coords``.

    ``edge``/``along`` must be sorted by edge, then distance, without repeats: the new nodes are numbered in
    that order.  Returns the new (coords, edge_nodes, geoms, road_ids); unsplit edges keep their order first.
    """
    pieces, owner = _cut_lines(geoms, np.asarray(edge, dtype=np.int64), np.asarray(along, dtype=float))
    # Pieces come out edge by edge in order along it, so the end of each piece but an edge's last is the next
    # new node, and the start of each piece but an edge's first is the previous piece's end.
    is_first = np.ones(len(owner), dtype=bool)
    is_first[1:] = owner[1:] != owner[:-1]
    is_last = np.roll(is_first, -1)
    end_node = np.where(is_last, edge_nodes[owner, 1], len(coords) + np.cumsum(~is_last) - 1)
    start_node = np.where(is_first, edge_nodes[owner, 0], np.roll(end_node, 1))
    new_xy = np.array([pieces[i][-1] for i in np.flatnonzero(~is_last)]).reshape(-1, 2)
    split = np.zeros(len(edge_nodes), dtype=bool)
    split[owner] = True
    return (
        np.vstack([coords, new_xy]),
        np.vstack([edge_nodes[~split], np.column_stack([start_node, end_node])]),
        np.concatenate([geoms[~split], _lines_from(pieces)]),
        np.concatenate([road_ids[~split], road_ids[owner]]),
    )


def build_graph(roads: gpd.GeoDataFrame, *, tolerance_m: float = 5.0, crs: str | None = None) -> RoadGraph:
    """Build a routable graph from the ``roads`` layer.

    Multi-part roads are exploded.  Road ends within ``tolerance_m`` of each other become one node (near-miss
    digitising), and a road end within ``tolerance_m`` of another road's interior splits that road there
    (T-junction).  Roads that cross without a shared vertex are *not* joined: one may be a bridge over the
    other.  Each edge keeps the road's shape and weighs its length in metres.  No road is dropped to keep the
    graph simple: of parallel roads between two nodes all but the shortest are split at their middle, and a
    closed road at its thirds; only a road shorter than three tolerances that closes on itself vanishes.

    Parameters
    ----------
    roads
        The ``roads`` layer (any CRS); ``road_id`` is kept per edge so disconnected pieces can be named.
    tolerance_m
        Join distance for road ends, in metres.  End points are clustered transitively: a chain of ends each
        within the tolerance of the next becomes one node, placed at their mean.
    crs
        Metric CRS to work in; by default the Gauss-Krueger zone of the roads' centre.

    Returns
    -------
    RoadGraph
    """
    if roads.crs is None:
        raise ValueError("roads layer has no CRS; cannot measure lengths")
    crs = crs or model_crs.metric_crs(roads)
    road_ids = roads["road_id"].astype(str).to_numpy() if "road_id" in roads else roads.index.astype(str).to_numpy()
    parts = gpd.GeoDataFrame({"road_id": road_ids}, geometry=roads.geometry.to_crs(crs).to_numpy(), crs=crs)
    parts = parts.explode(index_parts=False, ignore_index=True)
    geoms = shapely.remove_repeated_points(parts.geometry.to_numpy())
    keep = shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING
    keep &= shapely.length(geoms) > 0
    geoms, road_ids = geoms[keep], parts["road_id"].to_numpy()[keep]
    if not len(geoms):
        empty = np.empty(0, dtype=object)
        return _make_graph(crs, tolerance_m, np.empty((0, 2)), np.empty((0, 2)), empty, empty)

    line_idx, positions = _t_junctions(geoms, tolerance_m)
    cut = np.zeros(len(geoms), dtype=bool)
    cut[line_idx] = True
    pieces, owner = _cut_lines(geoms, line_idx, positions)
    geoms = np.concatenate([geoms[~cut], _lines_from(pieces)])
    road_ids = np.concatenate([road_ids[~cut], road_ids[owner]])

    flat, owner = shapely.get_coordinates(geoms, return_index=True)
    first = np.searchsorted(owner, np.arange(len(geoms)))
    last = np.append(first[1:], len(flat)) - 1
    ends = np.vstack([flat[first], flat[last]])
    pairs = cKDTree(ends).query_pairs(r=tolerance_m, output_type="ndarray")
    link = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(ends), len(ends)))
    n_nodes, cluster = connected_components(link, directed=False)
    size = np.bincount(cluster, minlength=n_nodes)
    node_xy = np.column_stack([np.bincount(cluster, weights=ends[:, k], minlength=n_nodes) / size for k in (0, 1)])
    u, v = cluster[: len(geoms)], cluster[len(geoms) :]
    # Ends move onto their node so that stitched routes are continuous; lengths follow the moved ends.
    flat[first], flat[last] = node_xy[u], node_xy[v]
    geoms = shapely.linestrings(flat, indices=owner)
    lengths = shapely.length(geoms)

    keep = (u != v) | (lengths >= 3 * tolerance_m)
    used, edge_nodes = np.unique(np.concatenate([u[keep], v[keep]]), return_inverse=True)
    edge_nodes = edge_nodes.reshape(2, -1).T
    geoms, road_ids, lengths = geoms[keep], road_ids[keep], lengths[keep]

    lo, hi = np.sort(edge_nodes, axis=1).T
    order = np.lexsort((lengths, hi, lo))
    spare = np.zeros(len(order), dtype=bool)
    spare[1:] = (lo[order][1:] == lo[order][:-1]) & (hi[order][1:] == hi[order][:-1])
    spare = np.sort(order[spare & (lo[order] != hi[order])])
    loops = np.flatnonzero(lo == hi)
    edge = np.concatenate([spare, loops, loops])
    along = np.concatenate([lengths[spare] / 2, lengths[loops] / 3, lengths[loops] * 2 / 3])
    order = np.lexsort((along, edge))
    coords, edge_nodes, geoms, road_ids = _split_edges(
        node_xy[used], edge_nodes, geoms, road_ids, edge[order], along[order]
    )
    return _make_graph(crs, tolerance_m, coords, edge_nodes, geoms, road_ids)


def _t_junctions(geoms: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Where roads must be split because another road ends on their interior: (line, distance along it)."""
    lengths = shapely.length(geoms)
    flat, owner = shapely.get_coordinates(geoms, return_index=True)
    first = np.searchsorted(owner, np.arange(len(geoms)))
    last = np.append(first[1:], len(flat)) - 1
    ends = shapely.points(np.vstack([flat[first], flat[last]]))
    pt, line = shapely.STRtree(geoms).query(ends, predicate="dwithin", distance=tolerance_m)
    # A road's own ends (and ends shared with it) project onto its ends: the interior test rules them out.
    along = shapely.line_locate_point(geoms[line], ends[pt])
    inside = (along > tolerance_m) & (along < lengths[line] - tolerance_m)
    return line[inside], along[inside]


@dataclass(frozen=True, eq=False)
class SnapResult:
    """Where points join the road network.

    ``graph`` is the input graph with a node inserted where each point projects onto a road (existing nodes
    keep their indices).  Per point, in input order: ``node`` (-1 when it could not be snapped), ``distance_m``
    (straight line from the point to the road; NaN when unsnapped), ``xy`` (the point on the road) and
    ``reason`` (None, or why it was not snapped).
    """

    graph: RoadGraph
    node: np.ndarray
    distance_m: np.ndarray
    xy: np.ndarray
    reason: list[str | None]


def _geometries_in(graph: RoadGraph, geoms) -> np.ndarray:
    """Geometries as an array in the graph's CRS; a GeoSeries is reprojected, a plain array is taken as is."""
    if isinstance(geoms, gpd.GeoSeries | gpd.GeoDataFrame):
        if geoms.crs is None:
            raise ValueError("geometries have no CRS; cannot bring them into the road graph's CRS")
        return np.asarray(geoms.geometry.to_crs(graph.crs).to_numpy())
    return np.asarray(geoms, dtype=object)


def snap_points(graph: RoadGraph, points: gpd.GeoSeries, *, max_distance_m: float) -> SnapResult:
    """Join points to the network at the nearest point of the nearest road.

    A point is projected onto its nearest edge and the edge is split there (a new node), so a route starts
    where the point meets the road rather than at the nearest junction, which on long rural roads can be
    hundreds of metres off.  A projection within 1 cm of a node, or of another point's projection, reuses
    that node.

    Parameters
    ----------
    graph
        The road graph.
    points
        Points with a CRS (reprojected to the graph's), or an array of points already in it.
    max_distance_m
        Points farther than this from every road are left unsnapped (``node == -1``) with a reason.

    Returns
    -------
    SnapResult
    """
    geoms = _geometries_in(graph, points)
    n = len(geoms)
    node = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    xy = np.full((n, 2), np.nan)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, bool)
    reason: list[str | None] = ["no location" if not ok else f"no road within {max_distance_m:g} m" for ok in present]
    if not graph.n_edges or not present.any():
        return SnapResult(graph, node, distance, xy, reason)

    which = np.flatnonzero(present)
    pt, edge = shapely.STRtree(graph.edge_geometry).query_nearest(
        geoms[which], max_distance=max_distance_m, all_matches=False
    )
    pt = which[pt]
    lines = graph.edge_geometry[edge]
    along = shapely.line_locate_point(lines, geoms[pt])
    distance[pt] = shapely.distance(geoms[pt], lines)
    for p in pt:
        reason[p] = None

    at_start = along <= _SAME_POINT_M
    at_end = ~at_start & (along >= graph.edge_length[edge] - _SAME_POINT_M)
    node[pt[at_start]] = graph.edge_nodes[edge[at_start], 0]
    node[pt[at_end]] = graph.edge_nodes[edge[at_end], 1]

    inner = ~(at_start | at_end)
    pt, edge, along = pt[inner], edge[inner], along[inner]
    order = np.lexsort((along, edge))
    pt, edge, along = pt[order], edge[order], along[order]
    new_cut = np.ones(len(pt), dtype=bool)
    new_cut[1:] = (edge[1:] != edge[:-1]) | (along[1:] - along[:-1] > _SAME_POINT_M)
    cut_id = np.cumsum(new_cut) - 1
    node[pt] = graph.n_nodes + cut_id
    cut_edge, cut_along = edge[new_cut], along[new_cut]

    augmented = _make_graph(
        graph.crs,
        graph.tolerance_m,
        *_split_edges(graph.coords, graph.edge_nodes, graph.edge_geometry, graph.edge_road_id, cut_edge, cut_along),
    )
    done = node >= 0
    xy[done] = augmented.coords[node[done]]
    return SnapResult(augmented, node, distance, xy, reason)


def edges_intersecting(graph: RoadGraph, polygons) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (edge index, polygon position) of every edge that intersects (crosses or touches) a polygon.

    Parameters
    ----------
    graph
        The road graph.
    polygons
        A GeoSeries with a CRS (reprojected to the graph's), or an array of polygons already in it.
    """
    geoms = _geometries_in(graph, polygons)
    if not len(geoms) or not graph.n_edges:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    edge, polygon = shapely.STRtree(geoms).query(graph.edge_geometry, predicate="intersects")
    return edge, polygon


def graph_without(graph: RoadGraph, polygons) -> RoadGraph:
    """The graph without every edge that intersects one of ``polygons``; node indices are unchanged."""
    remove = np.zeros(graph.n_edges, dtype=bool)
    remove[edges_intersecting(graph, polygons)[0]] = True
    return graph.without_edges(remove)


def _search_matrix(graph: RoadGraph, blocked_edges: np.ndarray | None) -> sparse.csr_matrix:
    if blocked_edges is None:
        return graph.matrix
    # An infinite weight closes an edge for scipy's Dijkstra; cheaper than building a smaller matrix.
    matrix = graph.matrix.copy()
    matrix.data[np.asarray(blocked_edges, dtype=bool)[graph.matrix_edge]] = np.inf
    return matrix


def shortest_paths(
    graph: RoadGraph, source_nodes, *, blocked_edges: np.ndarray | None = None, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest paths from each source to every node, in one Dijkstra call over the unique sources.

    Parameters
    ----------
    graph
        The road graph.
    source_nodes
        Node indices (all >= 0); repeats are searched once.
    blocked_edges
        Boolean mask over ``graph``'s edges that may not be used.
    limit
        Stop each search at this distance (metres); nodes beyond it come back as ``inf``.

    Returns
    -------
    dist, predecessors
        Arrays of shape ``(len(source_nodes), graph.n_nodes)``, row ``i`` for ``source_nodes[i]``;
        predecessors hold :data:`NO_PREDECESSOR` at the source and at unreachable nodes.
    """
    sources, inverse = np.unique(np.asarray(source_nodes, dtype=np.int64), return_inverse=True)
    if not len(sources):
        return np.empty((0, graph.n_nodes)), np.empty((0, graph.n_nodes), dtype=np.int32)
    dist, pred = dijkstra(
        _search_matrix(graph, blocked_edges), directed=True, indices=sources, return_predecessors=True, limit=limit
    )
    return dist[inverse], pred[inverse]


def nearest_sources(
    graph: RoadGraph, source_nodes, *, blocked_edges: np.ndarray | None = None, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every node, the nearest of ``source_nodes`` by route length, in one multi-source Dijkstra call.

    Parameters
    ----------
    graph
        The road graph.
    source_nodes
        Node indices of the facilities; negative entries (unsnapped) are ignored.
    blocked_edges
        Boolean mask over ``graph``'s edges that may not be used.
    limit
        Stop the search at this distance (metres).

    Returns
    -------
    dist, predecessors, source
        Per node: distance to the nearest source (``inf`` if none is reachable), the next node on the way
        *towards* that source (walk it with :func:`trace_paths`), and the source node (:data:`NO_PREDECESSOR`
        where unreachable).
    """
    sources = np.unique(np.asarray(source_nodes, dtype=np.int64))
    sources = sources[sources >= 0]
    if not len(sources):
        none = np.full(graph.n_nodes, NO_PREDECESSOR, dtype=np.int32)
        return np.full(graph.n_nodes, np.inf), none, none.copy()
    return dijkstra(
        _search_matrix(graph, blocked_edges),
        directed=True,
        indices=sources,
        return_predecessors=True,
        min_only=True,
        limit=limit,
    )


def distance_matrix(
    graph: RoadGraph, origin_nodes, dest_nodes, *, blocked_edges: np.ndarray | None = None, limit: float = np.inf
) -> np.ndarray:
    """Route length in metres from every origin to every destination.

    The graph is undirected, so the searches start from whichever side has fewer unique nodes; they run in
    blocks that keep the dense intermediate under 64 MB.

    Parameters
    ----------
    graph
        The road graph.
    origin_nodes, dest_nodes
        Node indices; a negative index (an unsnapped point) gives a row or column of ``inf``.
    blocked_edges
        Boolean mask over ``graph``'s edges that may not be used.
    limit
        Stop each search at this distance; farther pairs come back as ``inf``.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(origin_nodes), len(dest_nodes))``; ``inf`` where unreachable.
    """
    origins = np.asarray(origin_nodes, dtype=np.int64)
    dests = np.asarray(dest_nodes, dtype=np.int64)
    from_origins = len(np.unique(origins)) <= len(np.unique(dests))
    search, other = (origins, dests) if from_origins else (dests, origins)
    sources, columns = np.unique(search[search >= 0]), np.unique(other[other >= 0])
    out = np.full((len(search), len(other)), np.inf)
    if len(sources) and len(columns):
        matrix = _search_matrix(graph, blocked_edges)
        block = np.empty((len(sources), len(columns)))
        step = max(1, _BLOCK_CELLS // max(graph.n_nodes, 1))
        for start in range(0, len(sources), step):
            chunk = sources[start : start + step]
            block[start : start + len(chunk)] = dijkstra(matrix, directed=True, indices=chunk, limit=limit)[:, columns]
        rows, cols = np.flatnonzero(search >= 0), np.flatnonzero(other >= 0)
        out[np.ix_(rows, cols)] = block[
            np.ix_(np.searchsorted(sources, search[rows]), np.searchsorted(columns, other[cols]))
        ]
    return out if from_origins else out.T


def trace_paths(predecessors: np.ndarray, starts) -> tuple[np.ndarray, np.ndarray]:
    """Walk a shortest-path tree from each start node to its root, all starts at once.

    Parameters
    ----------
    predecessors
        One row of predecessors (from :func:`shortest_paths` or :func:`nearest_sources`).
    starts
        Node per path; negative entries give no path.

    Returns
    -------
    path_id, nodes
        Flat arrays: the nodes of path ``i`` (position in ``starts``) from its start to the root, grouped by
        ``path_id`` in ascending order.  An unreachable start yields just itself.
    """
    starts = np.asarray(starts, dtype=np.int64)
    active = np.flatnonzero(starts >= 0)
    current = starts[active]
    ids, nodes = [], []
    while len(active):
        ids.append(active)
        nodes.append(current)
        current = predecessors[current].astype(np.int64)
        more = current >= 0
        active, current = active[more], current[more]
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    path_id, nodes = np.concatenate(ids), np.concatenate(nodes)
    order = np.argsort(path_id, kind="stable")
    return path_id[order], nodes[order]


def path_edges(graph: RoadGraph, path_id: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges along paths from :func:`trace_paths`, one row per step in travel order.

    Returns
    -------
    step_path, edge, forward
        The path of each step, the edge it takes, and whether it runs along the edge's own orientation.
    """
    step = path_id[1:] == path_id[:-1]
    edge = graph.edge_ids(nodes[:-1][step], nodes[1:][step])
    return path_id[:-1][step], edge, graph.edge_nodes[edge, 0] == nodes[:-1][step]


def path_coordinates(graph: RoadGraph, path_id: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stitch paths from :func:`trace_paths` into vertex lists following the roads' shapes.

    Returns
    -------
    coords, coord_path_id
        Every vertex of every path in travel order (first vertex: the start node; each road contributes its
        vertices after the first), and the path each belongs to.
    """
    if not len(nodes):
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    first = np.ones(len(path_id), dtype=bool)
    first[1:] = path_id[1:] != path_id[:-1]
    step_path, edge, forward = path_edges(graph, path_id, nodes)
    flat, offsets = graph._edge_coords
    start, stop = offsets[edge], offsets[edge + 1]
    take = stop - start - 1
    step = np.repeat(np.arange(len(edge)), take)
    within = np.arange(len(step)) - np.repeat(np.cumsum(take) - take, take) + 1
    vertex = np.where(forward[step], start[step] + within, stop[step] - 1 - within)

    coords = np.vstack([graph.coords[nodes[first]], flat[vertex]])
    owner = np.concatenate([path_id[first], step_path[step]])
    rank = np.concatenate([np.zeros(first.sum(), dtype=np.int64), np.arange(1, len(step) + 1)])
    order = np.lexsort((rank, owner))
    return coords[order], owner[order]


def path_geometry(graph: RoadGraph, predecessors_row: np.ndarray, source: int, target: int) -> shapely.LineString:
    """The route from ``source`` to ``target`` as one line along the roads, oriented source to target.

    ``predecessors_row`` is the row of the search rooted at ``source``.  A path of no edge (source is target)
    is a two-vertex line of length zero.
    """
    path_id, nodes = trace_paths(predecessors_row, [target])
    if nodes[-1] != source:
        raise ValueError(f"node {target} is not reachable from node {source} in this search")
    coords, _ = path_coordinates(graph, path_id, nodes)
    coords = coords[::-1]
    return shapely.LineString(coords if len(coords) > 1 else np.vstack([coords, coords]))
