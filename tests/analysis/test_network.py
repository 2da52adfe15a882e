"""The road graph: noding, snapping and multi-source searches, on hand-drawn roads in EPSG:4548 metres."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point, box

from geo.analysis import network

X0, Y0 = 500_000.0, 3_240_000.0  # near Changjiang District, central meridian 117E


def _roads(*lines) -> gpd.GeoDataFrame:
    """Roads given as vertex lists in local metres; stored like the data model, in EPSG:4490."""
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    ids = [f"R{i}" for i in range(1, len(lines) + 1)]
    return gpd.GeoDataFrame({"road_id": ids}, geometry=geoms, crs="EPSG:4548").to_crs("EPSG:4490")


def _points(*xy) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(X0 + x, Y0 + y) for x, y in xy], crs="EPSG:4548")


def _node_at(graph: network.RoadGraph, x: float, y: float) -> int:
    gaps = np.hypot(*(graph.coords - [X0 + x, Y0 + y]).T)
    assert gaps.min() < 1e-3, f"no node at ({x}, {y})"
    return int(gaps.argmin())


def _route(graph: network.RoadGraph, a: int, b: int) -> float:
    return float(network.shortest_paths(graph, [a])[0][0, b])


def test_graph_works_in_the_gauss_krueger_zone_and_measures_metres():
    graph = network.build_graph(_roads([(0, 0), (300, 0), (300, 400)]))
    assert graph.crs == "EPSG:4548"
    assert graph.edge_length.sum() == pytest.approx(700.0, abs=1e-6)


def test_shared_ends_make_one_node_and_edges_follow_the_road_shape():
    graph = network.build_graph(_roads([(0, 0), (100, 0)], [(100, 0), (100, 50), (200, 50)]))
    assert graph.n_nodes == 3 and graph.n_edges == 2
    start, end = _node_at(graph, 0, 0), _node_at(graph, 200, 50)
    # 100 along the first road, 50 + 100 along the bent one.
    assert _route(graph, start, end) == pytest.approx(250.0, abs=1e-6)
    _, pred = network.shortest_paths(graph, [start])
    line = network.path_geometry(graph, pred[0], start, end)
    assert [(round(x - X0, 6), round(y - Y0, 6)) for x, y in line.coords] == [(0, 0), (100, 0), (100, 50), (200, 50)]


def test_near_miss_ends_are_joined_within_tolerance_but_not_beyond():
    # A 4.9 m gap closes (5 m tolerance): the node sits in the gap's middle and the lengths still add up to
    # 100 + 4.9 + 95.1 = 200 m.  A 5.1 m gap stays open.
    joined = network.build_graph(_roads([(0, 0), (100, 0)], [(104.9, 0), (200, 0)]), tolerance_m=5.0)
    assert joined.n_nodes == 3
    assert _route(joined, _node_at(joined, 0, 0), _node_at(joined, 200, 0)) == pytest.approx(200.0, abs=1e-6)
    apart = network.build_graph(_roads([(0, 0), (100, 0)], [(105.1, 0), (200, 0)]), tolerance_m=5.0)
    assert apart.n_nodes == 4
    assert apart.components().n_pieces == 2


def test_road_ending_on_another_roads_interior_splits_it_t_junction():
    # R2 ends 3 m short of R1's middle.  R1 is split there; the junction node is the mean of the three ends
    # that meet ((100, 0) twice from the split, (100, 3) once): (100, 1).
    graph = network.build_graph(_roads([(0, 0), (200, 0)], [(100, 3), (100, 100)]), tolerance_m=5.0)
    assert graph.n_nodes == 4 and graph.n_edges == 3
    assert graph.components().n_pieces == 1
    start, top = _node_at(graph, 0, 0), _node_at(graph, 100, 100)
    assert _route(graph, start, top) == pytest.approx(np.hypot(100, 1) + 99, abs=1e-6)


def test_roads_crossing_without_a_shared_vertex_are_not_joined():
    # They may be a bridge over the other road.
    graph = network.build_graph(_roads([(0, 0), (200, 0)], [(100, -100), (100, 100)]))
    assert graph.components().n_pieces == 2


def test_parallel_roads_are_all_kept_and_routes_take_the_shortest():
    # The bent road (2 x 70.71 m) is split at its middle, so the graph stays simple without losing it.
    graph = network.build_graph(_roads([(0, 0), (50, 50), (100, 0)], [(0, 0), (100, 0)]))
    assert graph.n_edges == 3
    assert graph.edge_length.sum() == pytest.approx(100 + 2 * np.hypot(50, 50))
    assert _route(graph, _node_at(graph, 0, 0), _node_at(graph, 100, 0)) == pytest.approx(100.0)
    assert _node_at(graph, 50, 50) >= 0


def test_multilinestrings_are_exploded_and_closed_roads_kept():
    roads = _roads([(0, 0), (100, 0)])
    roads.loc[0, "geometry"] = roads.geometry[0].union(_roads([(300, 0), (400, 0)]).geometry[0])
    loop = _roads([(0, 0), (0, 100), (100, 100), (0, 0)])
    graph = network.build_graph(gpd.GeoDataFrame(pd.concat([roads, loop], ignore_index=True), crs="EPSG:4490"))
    # Two parts of R1, and the loop cut at its thirds into three edges.
    assert graph.n_edges == 5
    assert graph.edge_length.sum() == pytest.approx(200 + 200 + np.hypot(100, 100), abs=1e-6)
    assert graph.components().n_pieces == 2


def test_disconnected_pieces_are_reported_with_their_roads():
    graph = network.build_graph(_roads([(0, 0), (1000, 0)], [(0, 500), (50, 500)], [(0, 900), (10, 900)]))
    pieces = graph.components()
    assert pieces.n_pieces == 3
    assert pieces.main_length_m == pytest.approx(1000.0)
    assert [p["road_ids"] for p in pieces.pieces] == [["R2"], ["R3"]]
    assert pieces.to_dict()["disconnected_pieces"][0]["length_m"] == pytest.approx(50.0)


def test_snapping_projects_onto_the_nearest_road_and_splits_it():
    graph = network.build_graph(_roads([(0, 0), (1000, 0)]))
    snap = network.snap_points(graph, _points((300, 20), (1000, -5), (500, 3000)), max_distance_m=2000)
    assert snap.distance_m[:2] == pytest.approx([20.0, 5.0])
    assert snap.node[1] == _node_at(graph, 1000, 0)  # projects onto the road's end: no new node
    assert snap.node[2] == -1 and snap.reason[2] == "no road within 2000 m"
    assert snap.graph.n_nodes == graph.n_nodes + 1
    # Earlier node indices keep their meaning in the snapped graph.
    assert np.array_equal(snap.graph.coords[: graph.n_nodes], graph.coords)
    assert _route(snap.graph, _node_at(graph, 0, 0), snap.node[0]) == pytest.approx(300.0, abs=1e-6)
    assert snap.xy[0] - [X0, Y0] == pytest.approx([300.0, 0.0], abs=1e-6)


def test_snapping_twice_builds_on_the_first_graph():
    graph = network.build_graph(_roads([(0, 0), (1000, 0)]))
    first = network.snap_points(graph, _points((200, 10)), max_distance_m=100)
    second = network.snap_points(first.graph, _points((700, -10), (200, 5)), max_distance_m=100)
    assert second.node[1] == first.node[0]  # the same spot on the road is the same node
    assert _route(second.graph, first.node[0], second.node[0]) == pytest.approx(500.0, abs=1e-6)


def test_nearest_sources_answers_every_node_in_one_search():
    graph = network.build_graph(_roads([(0, 0), (100, 0), (400, 0), (1000, 0)]))
    snap = network.snap_points(graph, _points((0, 0), (1000, 0), (300, 0), (700, 0)), max_distance_m=1)
    west, east, a, b = snap.node
    dist, _, source = network.nearest_sources(snap.graph, [west, east])
    assert dist[[a, b]] == pytest.approx([300.0, 300.0])
    assert source[a] == west and source[b] == east


def test_distance_matrix_matches_single_searches_and_marks_unsnapped_points():
    graph = network.build_graph(_roads([(0, 0), (500, 0), (500, 500)], [(2000, 0), (2100, 0)]))
    snap = network.snap_points(graph, _points((0, 10), (500, 250), (2050, 0), (100, 0)), max_distance_m=50)
    nodes = snap.node
    origins = [nodes[0], -1, nodes[2]]
    matrix = network.distance_matrix(snap.graph, origins, [nodes[1], nodes[3]])
    assert matrix[0] == pytest.approx([750.0, 100.0])
    assert np.isinf(matrix[1]).all()
    assert np.isinf(matrix[2]).all()  # the other road piece
    # Searching from the fewer side (one origin here) gives the same numbers.
    assert network.distance_matrix(snap.graph, [nodes[0]], nodes)[0] == pytest.approx([0.0, 750.0, np.inf, 100.0])


def test_graph_without_removes_edges_touching_the_polygons():
    graph = network.build_graph(
        _roads([(0, 0), (100, 0)], [(100, 0), (200, 0)], [(0, 0), (0, 100), (200, 100), (200, 0)])
    )
    zone = gpd.GeoSeries([box(X0 + 140, Y0 - 10, X0 + 160, Y0 + 10)], crs="EPSG:4548")
    blocked = network.graph_without(graph, zone)
    assert blocked.n_edges == graph.n_edges - 1
    start, end = _node_at(graph, 0, 0), _node_at(graph, 200, 0)
    assert _route(graph, start, end) == pytest.approx(200.0)
    assert _route(blocked, start, end) == pytest.approx(400.0)


def test_path_geometry_runs_from_source_to_target_and_edges_are_oriented():
    graph = network.build_graph(_roads([(0, 0), (100, 0), (100, 100)]))
    a, b = _node_at(graph, 0, 0), _node_at(graph, 100, 100)
    _, pred = network.shortest_paths(graph, [b])
    line = network.path_geometry(graph, pred[0], b, a)
    assert line.coords[0] == pytest.approx((X0 + 100, Y0 + 100)) and line.coords[-1] == pytest.approx((X0, Y0))
    assert graph.edge_geometry_between(b, a).coords[0] == pytest.approx((X0 + 100, Y0 + 100))
    with pytest.raises(ValueError, match="not reachable"):
        network.path_geometry(graph, pred[0], a, b)


def test_empty_roads_give_an_empty_graph():
    graph = network.build_graph(_roads([(0, 0), (100, 0)]).iloc[:0])
    assert graph.n_nodes == 0
    snap = network.snap_points(graph, _points((0, 0)), max_distance_m=100)
    assert snap.node.tolist() == [-1]
