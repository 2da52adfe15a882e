"""Evacuation routes (docs/data-model.md "Definitions the analyses use": evacuation route; the plan's 预定避灾地点).

Scenes are drawn in EPSG:4548 metres around (X0, Y0) and stored in EPSG:4490 like the data model; every
expected length is worked out by hand in the comments.
"""

import dataclasses
import itertools
import json
import re
import subprocess

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from shapely import LineString, Point, box

from geo import cli, store
from geo.analysis import evacuation, network
from geo.model import crs as model_crs
from geo.settings import DEMO_DATA, AnalysisSettings
from tests.support.fixtures import tiny_dataset

X0, Y0 = 500_000.0, 3_240_000.0
METRIC = "EPSG:4548"


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC).to_crs("EPSG:4490")


def _pt(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def _zone(x0: float, y0: float, x1: float, y1: float):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _grid(xs, ys) -> list[list[tuple[float, float]]]:
    """One road per side of every cell of a grid."""
    lines = [[(a, y), (b, y)] for y in ys for a, b in itertools.pairwise(xs)]
    return lines + [[(x, a), (x, b)] for x in xs for a, b in itertools.pairwise(ys)]


def scene(roads, hazards, zones, villages, shelters) -> dict[str, gpd.GeoDataFrame]:
    """Layers from plain tuples in local metres.

    hazards: (hazard_id, x, y, threatened_people, shelter_id[, status]); zones: (hazard_id, x0, y0, x1, y1);
    villages: (village_id, x, y, population); shelters: (shelter_id, x, y, capacity).
    """
    return {
        "roads": _frame(
            [{"road_id": f"R{i}", "road_class": "rural"} for i in range(len(roads))],
            [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in roads],
        ),
        "hazard_points": _frame(
            [
                {"hazard_id": h[0], "name": f"隐患点{h[0]}", "threatened_people": h[3], "shelter_id": h[4]}
                | {"status": h[5] if len(h) > 5 else "active"}
                for h in hazards
            ],
            [_pt(h[1], h[2]) for h in hazards],
        ),
        "danger_zones": _frame([{"hazard_id": z[0]} for z in zones], [_zone(*z[1:]) for z in zones]),
        "villages": _frame(
            [{"village_id": v[0], "name": f"村{v[0]}", "population": v[3]} for v in villages],
            [_pt(v[1], v[2]) for v in villages],
        ),
        "shelters": _frame(
            [{"shelter_id": s[0], "name": f"避灾点{s[0]}", "township": "竟成镇", "capacity": s[3]} for s in shelters],
            [_pt(s[1], s[2]) for s in shelters],
        ),
    }


# The grid scene: two rows of roads (y = 0 and y = 100) joined at x = 0, 100, ..., 400, every side 100 m.
# HP1's zone holds village V1 at (0, -10), 10 m below the corner node (0, 0).  HP2's zone sits on the node
# (200, 0), closing the three roads that meet there.  Shelter S1 is 10 m below the far corner (400, 0).
GRID = _grid([0, 100, 200, 300, 400], [0, 100])
HP1 = ("HP1", 0, 15, 30, None)
HP2 = ("HP2", 200, 10, 40, None)
Z1 = ("HP1", -30, -30, 30, 30)
Z2 = ("HP2", 180, -20, 220, 20)
V1 = ("V1", 0, -10, 120)
S1 = ("S1", 400, -10, 500)


def _grid_scene(hazards=(HP1, HP2), zones=(Z1, Z2), villages=(V1,), shelters=(S1,), roads=GRID):
    return scene(list(roads), list(hazards), list(zones), list(villages), list(shelters))


def _route(result: evacuation.EvacuationResult, hazard_id: str, origin_id: str | None = None):
    routes = result.routes[result.routes["hazard_id"] == hazard_id]
    if origin_id is not None:
        routes = routes[routes["origin_id"] == origin_id]
    assert len(routes) == 1
    return routes.iloc[0]


def _metric(geom):
    return gpd.GeoSeries([geom], crs="EPSG:4490").to_crs(METRIC).iloc[0]


def test_route_detours_around_another_hazard_points_danger_zone():
    result = evacuation.evacuation_routes(_grid_scene())
    v1 = _route(result, "HP1", "V1")
    # Straight along y = 0 would be 10 + 400 + 10 = 420 m, through HP2's zone.  The detour climbs to y = 100
    # and back down at x = 300 or earlier: 10 leg + 100 + 100 + 200 + 100 + 100 + 10 leg = 620 m.
    assert v1["reachable"] and v1["reason"] is None
    assert v1["shelter_id"] == "S1"
    assert v1["length_m"] == pytest.approx(620.0, abs=1e-6)
    assert not _metric(v1.geometry).intersects(_zone(*Z2[1:]))
    # HP2 has no village inside: it is routed from its point (200, 10), which lies on the road x = 200:
    # 10 down to (200, 0) through its own zone, 200 along y = 0, 10 leg = 220 m.
    hp2 = _route(result, "HP2")
    assert hp2["origin_kind"] == "hazard_point" and hp2["origin_id"] == "HP2"
    assert hp2["people"] == 40
    assert hp2["length_m"] == pytest.approx(220.0, abs=1e-6)


def test_zones_of_treated_hazard_points_do_not_block():
    result = evacuation.evacuation_routes(_grid_scene(hazards=(HP1, (*HP2, "treated"))))
    assert _route(result, "HP1")["length_m"] == pytest.approx(420.0, abs=1e-6)  # 10 + 400 + 10
    assert set(result.routes["hazard_id"]) == {"HP1"}


def test_a_shelter_inside_a_danger_zone_is_never_the_nearest():
    # S0 sits 20 m from V1 but inside HP1's own zone.
    s0 = ("S0", 20, 0, 1000)
    result = evacuation.evacuation_routes(_grid_scene(shelters=(s0, S1)))
    v1 = _route(result, "HP1")
    assert v1["shelter_id"] == "S1" and v1["length_m"] == pytest.approx(620.0, abs=1e-6)
    shelters = result.shelters.set_index("shelter_id")
    assert shelters.loc["S0", "inside_danger_zone"] and shelters.loc["S0", "assigned_people"] == 0


def test_an_assigned_shelter_inside_a_danger_zone_falls_back_to_the_nearest_safe_one_and_says_so():
    s0 = ("S0", 20, 0, 1000)
    result = evacuation.evacuation_routes(_grid_scene(hazards=(("HP1", 0, 15, 30, "S0"), HP2), shelters=(s0, S1)))
    v1 = _route(result, "HP1")
    assert v1["reachable"] and v1["shelter_id"] == "S1" and v1["assigned_shelter_id"] == "S0"
    assert v1["reason"] == (
        "assigned shelter S0 lies inside the danger zone of HP1; routed to the nearest safe shelter S1 instead"
    )


def test_the_assigned_shelter_is_used_even_when_another_is_nearer():
    # S2 is 10 m above the corner (400, 100).  HP2 -> S1 would be 220 m; its assigned S2 is 90 up x = 200,
    # 200 along y = 100, 10 leg: 300 m.  HP1 -> S1 is searched in the same batch as HP2 -> S2 first, where S1
    # is HP2's nearer rival: the answer must still be S2.
    s2 = ("S2", 400, 110, 500)
    hazards = (("HP1", 0, 15, 30, "S1"), ("HP2", 200, 10, 40, "S2"))
    result = evacuation.evacuation_routes(_grid_scene(hazards=hazards, shelters=(S1, s2)))
    hp2 = _route(result, "HP2")
    assert hp2["shelter_id"] == "S2" and hp2["reason"] is None
    assert hp2["length_m"] == pytest.approx(300.0, abs=1e-6)
    assert _route(result, "HP1")["length_m"] == pytest.approx(620.0, abs=1e-6)


def test_an_assigned_shelter_behind_another_danger_zone_is_reported_and_replaced():
    # A spur road runs east from (400, 0) to (500, 0); HP3's zone covers it at x = 440..460 and S3 waits at
    # its end.  HP1 may not cross HP3's zone, so it goes to the nearest safe shelter, S1 (620 m), and says why.
    hp3 = ("HP3", 450, 30, 5, None)
    z3 = ("HP3", 440, -20, 460, 40)
    s3 = ("S3", 500, -20, 500)
    result = evacuation.evacuation_routes(
        _grid_scene(
            hazards=(("HP1", 0, 15, 30, "S3"), HP2, hp3),
            zones=(Z1, Z2, z3),
            shelters=(S1, s3),
            roads=[*GRID, [(400, 0), (500, 0)]],
        )
    )
    v1 = _route(result, "HP1")
    assert v1["reachable"] and v1["shelter_id"] == "S1"
    assert v1["length_m"] == pytest.approx(620.0, abs=1e-6)
    assert v1["reason"] == (
        "assigned shelter S3 is reachable only through another hazard point's danger zone; "
        "routed to the nearest safe shelter S1 instead"
    )


def test_a_village_on_a_disconnected_road_piece_is_reported_not_dropped():
    # V4 lies on a road 1 km off the grid with no shelter on it.
    far = [(1000, 0), (1100, 0)]
    result = evacuation.evacuation_routes(
        _grid_scene(
            hazards=(HP1, HP2, ("HP4", 1050, 15, 8, None)),
            zones=(Z1, Z2, ("HP4", 1020, -30, 1080, 30)),
            villages=(V1, ("V4", 1050, -10, 60)),
            roads=[*GRID, far],
        )
    )
    v4 = _route(result, "HP4", "V4")
    assert not v4["reachable"] and v4["shelter_id"] is None and v4.geometry is None
    assert np.isnan(v4["length_m"]) and np.isnan(v4["walk_minutes"])
    assert v4["reason"] == "no shelter outside the danger zones is connected to the origin by road"
    assert result.network["n_pieces"] == 2
    assert result.network["disconnected_pieces"][0]["road_ids"] == [f"R{len(GRID)}"]


def test_a_village_cut_off_by_another_zone_names_the_zone_in_the_way():
    # One road: V at its west end, HB's zone across it at x = 500, the only shelter at the east end.
    result = evacuation.evacuation_routes(
        scene(
            [[(0, 0), (1000, 0)]],
            [("HA", 0, 30, 10, None), ("HB", 500, 30, 10, None)],
            [("HA", -50, -50, 50, 50), ("HB", 480, -50, 520, 50)],
            [("V", 0, 10, 80)],
            [("S", 1000, 0, 500)],
        ),
        hazard_ids=["HA"],
    )
    v = _route(result, "HA", "V")
    assert not v["reachable"]
    assert v["reason"] == (
        "every shelter outside the danger zones is reachable only through another hazard point's danger zone "
        "(HB in the way)"
    )


def test_an_origin_beyond_the_snapping_distance_is_reported():
    result = evacuation.evacuation_routes(
        _grid_scene(hazards=(HP1, HP2, ("HP5", 0, 5000, 3, None)), zones=(Z1, Z2, ("HP5", -10, 4990, 10, 5010)))
    )
    hp5 = _route(result, "HP5")
    assert not hp5["reachable"] and hp5["reason"] == "no road within 2000 m of the origin"
    assert result.network["origins_off_network"] == 1


def test_empty_roads_or_shelters_leave_every_route_unreachable_with_a_reason():
    no_roads = _grid_scene()
    no_roads["roads"] = no_roads["roads"].iloc[:0]
    result = evacuation.evacuation_routes(no_roads)
    assert result.routes["reason"].tolist() == ["no road within 2000 m of the origin"] * 2
    assert result.network["shelters_off_network"] == ["S1"]
    no_shelters = _grid_scene()
    no_shelters["shelters"] = no_shelters["shelters"].iloc[:0]
    result = evacuation.evacuation_routes(no_shelters)
    assert not result.routes["reachable"].any()
    assert set(result.routes["reason"]) == {"no shelter outside the danger zones is on the road network"}


def test_a_village_inside_two_danger_zones_is_routed_for_each_and_counted_once_at_the_shelter():
    # One straight road; V at (100, 10) lies in both HA's and HB's zones and may leave through both.
    # Each route: 10 leg + 900 along the road to S at its end = 910 m.
    result = evacuation.evacuation_routes(
        scene(
            [[(0, 0), (1000, 0)]],
            [("HA", 100, 30, 10, None), ("HB", 150, 30, 10, None)],
            [("HA", 50, -50, 150, 50), ("HB", 80, -50, 200, 50)],
            [("V", 100, 10, 80)],
            [("S", 1000, 0, 50)],
        )
    )
    assert result.routes["origin_id"].tolist() == ["V", "V"]
    assert result.routes["reachable"].all()
    assert result.routes["length_m"].to_numpy() == pytest.approx([910.0, 910.0])
    s = result.shelters.set_index("shelter_id").loc["S"]
    assert s["assigned_people"] == 80  # not 160
    assert s["over_capacity"] and s["load_ratio"] == pytest.approx(80 / 50)


# --------------------------------------------------------------------------------------------------
# The figures of a selection.  Plan 4.5.3 (orange: 必要时转移) and 4.5.4 (red: 立即转移) move the threatened
# people to the shelters: the Evacuation page shows how many people a hazard point's or a township's routes move,
# how many routes reach no shelter and which shelters overflow (docs/data-model.md "People to move", "Shelter load").

# One road along y = 0 to shelter S (capacity 100) at x = 1000, and a separate road piece at x = 2000..2100 with none.
# Township 甲: HA and HB, whose zones both hold village V (80 people).  Township 乙: HC, with no village in its zone,
# 300 m above the road (25 people), and HD, whose village W (40) lies on the separate piece.
SELECTION_ROADS = [[(0, 0), (1000, 0)], [(2000, 0), (2100, 0)]]
SELECTION_HAZARDS = [
    ("HA", 100, 30, 10, None),
    ("HB", 150, 30, 10, None),
    ("HC", 600, 300, 25, None),
    ("HD", 2050, 30, 5, None),
]
SELECTION_TOWNSHIPS = {"HA": "甲", "HB": "甲", "HC": "乙", "HD": "乙"}


@pytest.fixture(scope="module")
def two_townships() -> tuple[dict[str, gpd.GeoDataFrame], evacuation.EvacuationResult]:
    layers = scene(
        SELECTION_ROADS,
        SELECTION_HAZARDS,
        [
            ("HA", 50, -50, 150, 50),
            ("HB", 80, -50, 200, 50),
            ("HC", 580, 280, 620, 320),
            ("HD", 2020, -30, 2080, 60),
        ],
        [("V", 100, 10, 80), ("W", 2050, 10, 40)],
        [("S", 1000, 0, 100)],
    )
    layers["hazard_points"]["township"] = layers["hazard_points"]["hazard_id"].map(SELECTION_TOWNSHIPS)
    return layers, evacuation.evacuation_routes(layers)


def test_a_village_in_two_zones_moves_once_in_the_figures_of_its_township(two_townships):
    """Plan 4.5.3-4.5.4: the people to move are counted by village, not by route."""
    layers, result = two_townships
    town = evacuation.select_routes(result, layers["hazard_points"], township="甲")
    assert town[["origin_id", "hazard_id"]].values.tolist() == [["V", "HA"], ["V", "HB"]]
    assert town["people"].sum() == 160  # what adding up the routes would show
    # By hand: V's 80 once; both routes reach S.  S receives V (80, once) and HC (25) = 105 > 100.
    assert evacuation.selection_summary(result, town) == evacuation.SelectionSummary(
        routes=2, people=80, unreachable=0, shelters_over_capacity=1
    )
    (s,) = evacuation.selection_shelters(result, town).itertuples()
    assert (s.shelter_id, s.selected_people, s.assigned_people, s.load_percent) == ("S", 80, 105, 105.0)
    assert s.over_capacity


def test_unreachable_routes_still_count_their_people_to_move(two_townships):
    """Plan 4.5.3-4.5.4: people whose route reaches no shelter still have to move; the page flags their route."""
    layers, result = two_townships
    town = evacuation.select_routes(result, layers["hazard_points"], township="乙")
    # By hand: HC's own 25 (no village in its zone) reach S; W's 40 are on the piece without a shelter.
    assert town[["origin_id", "reachable"]].values.tolist() == [["HC", True], ["W", False]]
    assert evacuation.selection_summary(result, town) == evacuation.SelectionSummary(
        routes=2, people=65, unreachable=1, shelters_over_capacity=1
    )
    (s,) = evacuation.selection_shelters(result, town).itertuples()
    assert (s.selected_people, s.assigned_people) == (25, 105)  # the load counts the district, 甲's V too
    # The district: V once, HC, W.
    district = evacuation.SelectionSummary(routes=4, people=145, unreachable=1, shelters_over_capacity=1)
    assert result.summary() == district
    assert result.to_json_dict()["summary"] == dataclasses.asdict(result.summary())


def test_routes_are_selected_by_one_hazard_point_or_one_township(two_townships):
    """Plan 4.5.3-4.5.4: the people of one hazard point move, or those of a township under warning."""
    layers, result = two_townships
    one = evacuation.select_routes(result, layers["hazard_points"], hazard_id="HB")
    assert one["hazard_id"].tolist() == ["HB"] and evacuation.selection_summary(result, one).people == 80
    assert evacuation.select_routes(result, layers["hazard_points"], township="丙").empty
    for both_or_neither in ({}, {"hazard_id": "HA", "township": "甲"}):
        with pytest.raises(ValueError, match="not both or neither"):
            evacuation.select_routes(result, layers["hazard_points"], **both_or_neither)


def _people_by_brute_force(layers: dict[str, gpd.GeoDataFrame], hazard_ids: set[str]) -> int:
    """People to move for some active hazard points, from the layers alone: the villages in or on any of their danger
    zones, each once, and the threatened people of a point with no village in its zones."""
    crs = model_crs.metric_crs(layers["roads"])
    zones = layers["danger_zones"].to_crs(crs)
    villages = layers["villages"].to_crs(crs)
    points = layers["hazard_points"].set_index("hazard_id")
    moved: dict[tuple[str, str], int] = {}
    for hazard_id in hazard_ids:
        inside = [
            v
            for v in villages.itertuples()
            if any(z.geometry.intersects(v.geometry) for z in zones.itertuples() if z.hazard_id == hazard_id)
        ]
        for v in inside:
            moved["village", v.village_id] = int(v.population)
        if not inside:
            moved["hazard_point", hazard_id] = int(points.at[hazard_id, "threatened_people"])
    return sum(moved.values())


def test_demo_people_to_move_count_each_village_once_by_brute_force():
    """Plan 4.5.3-4.5.4 on the demo district: every township and the district against the layers, village by village."""
    layers = store.open(DEMO_DATA).read_layers()
    result = evacuation.evacuation_routes(layers)
    points = layers["hazard_points"]
    active = points[points["status"] == "active"]
    double_counted = []
    for township in sorted(active["township"].dropna().unique()):
        routes = evacuation.select_routes(result, points, township=township)
        summary = evacuation.selection_summary(result, routes)
        ids = set(active.loc[active["township"] == township, "hazard_id"])
        assert summary.people == _people_by_brute_force(layers, ids), township
        assert summary.routes == len(routes) and summary.unreachable == (~routes["reachable"]).sum()
        # Brute force over the shelters the township uses: over capacity counts everyone the district sends there.
        used = set(routes["shelter_id"].dropna()) | set(routes["assigned_shelter_id"].dropna())
        full = [s for s in result.shelters.itertuples() if s.shelter_id in used and s.assigned_people > s.capacity]
        assert summary.shelters_over_capacity == len(full), township
        if routes["people"].sum() > summary.people:
            double_counted.append(township)
    # The demo has villages in the zones of two hazard points (荷塘乡, 鲇鱼山镇): adding up routes counts them twice.
    assert double_counted
    assert result.summary().people == _people_by_brute_force(layers, set(active["hazard_id"]))


def test_route_line_starts_at_the_origin_and_ends_at_the_shelter():
    v1 = _route(evacuation.evacuation_routes(_grid_scene()), "HP1", "V1")
    line = _metric(v1.geometry)
    assert line.coords[0] == pytest.approx((X0, Y0 - 10), abs=1e-6)
    assert line.coords[-1] == pytest.approx((X0 + 400, Y0 - 10), abs=1e-6)
    assert line.length == pytest.approx(v1["length_m"], abs=1e-6)


def test_walk_minutes_is_length_over_the_walking_speed():
    result = evacuation.evacuation_routes(_grid_scene(), AnalysisSettings(walk_speed_kmh=4.5))
    # 4.5 km/h = 75 m/min; 620 m / 75 = 8.2667 min.
    assert _route(result, "HP1")["walk_minutes"] == pytest.approx(620.0 / 75.0)


def test_hazard_ids_limit_the_routes_but_every_active_zone_still_blocks():
    result = evacuation.evacuation_routes(_grid_scene(), hazard_ids=["HP1"])
    assert result.routes["hazard_id"].tolist() == ["HP1"]
    assert result.routes["length_m"].iloc[0] == pytest.approx(620.0, abs=1e-6)
    with pytest.raises(ValueError, match="unknown hazard_id: NOPE"):
        evacuation.evacuation_routes(_grid_scene(), hazard_ids=["NOPE"])
    with pytest.raises(ValueError, match="not active"):
        evacuation.evacuation_routes(_grid_scene(hazards=(HP1, (*HP2, "cancelled"))), hazard_ids=["HP2"])


def test_searches_are_batched_not_run_per_route(monkeypatch):
    # 25 hazard points, each with a village on a grid node inside its zone; most routes must leave their
    # own zone and many would cross a neighbour's.  The search count must not grow with the routes.
    calls = []
    real = network.dijkstra

    def counting(*args, **kwargs):
        calls.append(len(kwargs["indices"]))
        return real(*args, **kwargs)

    # Searches to assigned shelters run in geo.analysis.network, those to the nearest safe shelter in
    # geo.analysis.evacuation.
    monkeypatch.setattr(network, "dijkstra", counting)
    monkeypatch.setattr(evacuation, "dijkstra", counting)
    steps = list(range(0, 1100, 100))
    nodes = [(x, y) for x in range(100, 1000, 200) for y in range(100, 1000, 200)]
    layers = scene(
        _grid(steps, steps),
        [(f"H{i}", x + 10, y + 10, 5, None) for i, (x, y) in enumerate(nodes)],
        [(f"H{i}", x - 30, y - 30, x + 30, y + 30) for i, (x, y) in enumerate(nodes)],
        [(f"V{i}", x, y + 5, 50) for i, (x, y) in enumerate(nodes)],
        [("SW", 0, 0, 2000), ("NE", 1000, 1000, 2000)],
    )
    result = evacuation.evacuation_routes(layers)
    assert len(result.routes) == 25 and result.routes["reachable"].all()
    assert len(calls) == result.network["route_searches"] <= 6
    # Each route avoids every other hazard point's zone.
    zones = layers["danger_zones"].to_crs(METRIC)
    for route in result.routes.itertuples():
        others = zones[zones["hazard_id"] != route.hazard_id]
        assert not others.intersects(_metric(route.geometry)).any()


def test_json_contract():
    doc = evacuation.evacuation_routes(_grid_scene()).to_json_dict()
    assert set(doc) == {"routes", "shelters", "summary", "network", "assumptions"}
    route = doc["routes"][0]
    for key in ("hazard_id", "origin_id", "shelter_id", "length_m", "walk_minutes", "people", "reachable", "reason"):
        assert key in route
    assert route["hazard_id"] == "HP1" and route["length_m"] == 620.0 and route["walk_minutes"] == 10.3
    assert doc["shelters"] == [
        {
            "shelter_id": "S1",
            "name": "避灾点S1",
            "assigned_people": 160,  # V1's 120 and HP2's 40
            "capacity": 500,
            "load_ratio": 0.32,
            "over_capacity": False,
        }
    ]
    assert any("straight legs" in a for a in doc["assumptions"])


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_routes_are_written_to_a_file(tmp_path, suffix):
    result = evacuation.evacuation_routes(_grid_scene())
    path = tmp_path / f"routes{suffix}"
    evacuation.write_routes(result.routes, path)
    back = pyogrio.read_dataframe(path)
    assert back.crs.to_epsg() == (4490 if suffix == ".gpkg" else 4326)
    assert back["length_m"].tolist() == pytest.approx(result.routes["length_m"].tolist())
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    if suffix == ".gpkg":
        # Written as GeoPackage 1.2, like every file hazmap writes: Debian's GDAL 3.6 opens it without a warning.
        done = subprocess.run(["ogrinfo", "-ro", "-so", str(path)], capture_output=True, text=True, check=True)
        assert done.stderr == ""


def test_unknown_output_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.gpkg or \.geojson"):
        evacuation.write_routes(evacuation.evacuation_routes(_grid_scene()).routes, tmp_path / "routes.shp")


def test_settings_defaults_are_used():
    assert dataclasses.asdict(AnalysisSettings())["walk_speed_kmh"] == 3.6
    result = evacuation.evacuation_routes(_grid_scene())
    assert _route(result, "HP1")["walk_minutes"] == pytest.approx(620.0 / 60.0)
    with pytest.raises(ValueError, match="walking speed"):
        evacuation.evacuation_routes(_grid_scene(), AnalysisSettings(walk_speed_kmh=0))


@pytest.fixture
def tiny_gpkg(tmp_path):
    path = tmp_path / "tiny.gpkg"
    store.open(path).create(tiny_dataset(), user="test")
    return path


def test_cli_routes_prints_json_and_writes_the_routes_layer(tiny_gpkg, tmp_path, capsys):
    out = tmp_path / "routes.geojson"
    code = cli.main(["routes", "--data", str(tiny_gpkg), "--speed", "4.5", "--out", str(out), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {r["hazard_id"] for r in doc["routes"]} == {"H1", "H2"}  # H3 is treated
    assert [r["origin_id"] for r in doc["routes"] if r["hazard_id"] == "H1"] == ["V1"]
    assert len(pyogrio.read_dataframe(out)) == len(doc["routes"])


def test_cli_routes_prints_a_table(tiny_gpkg, capsys):
    assert cli.main(["routes", "--data", str(tiny_gpkg), "--hazard", "H1"]) == 0
    text = capsys.readouterr().out
    assert "Evacuation routes: 1 route(s)" in text and "Assumptions:" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--hazard", "NOPE"], "unknown hazard_id: NOPE"), (["--out", "routes.shp"], ".gpkg or .geojson")],
)
def test_cli_routes_refuses_bad_input_with_a_usage_error(tiny_gpkg, capsys, args, message):
    assert cli.main(["routes", "--data", str(tiny_gpkg), *args]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The nearest safe shelter.  The plan hands every threatened household its evacuation route (撤离路线, on the
# 明白卡 cards of plan 4.1.3) and drills it with them every year (路线和避灾场所, plan 6.6); where a hazard point
# has no usable assigned shelter (预定避灾地点), hazmap sends the route to the nearest shelter outside every danger
# zone.  The plan gives no rule for "nearest": hazmap's is the shortest route as reported in ``length_m``, the
# straight legs to and from the roads included, since that is the way the residents walk.

# One road along y = 0 from x = -500 to 1000.  Village V, in HA's zone, is 10 m above it at x = 0.
ROAD = [[(-500, 0), (1000, 0)]]
ZA = ("HA", -50, -50, 50, 50)
VA = ("V", 0, 10, 80)
FAR = ("FAR", -60, 900, 500)  # 60 m along the road from V's node, but 900 m off it: V -> FAR is 10 + 60 + 900 m
NEAR = ("NEAR", 300, -5, 500)  # 300 m along the road and 5 m off it: V -> NEAR is 10 + 300 + 5 m


def _shortest_to_safe_shelters(layers, result, settings=None) -> list[tuple[float, dict[int, float]]]:
    """Brute force, per route of ``result``: the origin's leg, and the length from the origin's road point to each
    safe shelter (position in the layer -> way along the roads + the shelter's leg) that the route may reach.

    One single-source Dijkstra per route from its origin on its own road graph: every road but those touching a
    danger zone of an active hazard point other than the route's own and those holding its origin.  ``(nan, {})``
    for an origin off the roads.
    """
    settings = settings or AnalysisSettings()
    crs = model_crs.metric_crs(layers["roads"])
    hazards = layers["hazard_points"]
    active = hazards[hazards["status"] == "active"].to_crs(crs).set_index("hazard_id")
    zones = layers["danger_zones"].to_crs(crs)
    zones = zones[zones["hazard_id"].isin(active.index)].reset_index(drop=True)
    villages = layers["villages"].to_crs(crs).set_index("village_id")
    shelters = layers["shelters"].to_crs(crs).reset_index(drop=True)

    origins = [
        (villages if r.origin_kind == "village" else active).geometry[r.origin_id] for r in result.routes.itertuples()
    ]
    graph = network.build_graph(layers["roads"], tolerance_m=settings.snap_tolerance_m, crs=crs)
    snap = network.snap_points(
        graph, np.array([*origins, *shelters.geometry], dtype=object), max_distance_m=settings.max_snap_distance_m
    )
    shelter_node, shelter_leg = snap.node[len(origins) :], snap.distance_m[len(origins) :]
    in_zone = shelters.geometry.apply(lambda p: zones.intersects(p).any()).to_numpy()
    safe = np.flatnonzero((shelter_node >= 0) & ~in_zone)
    edge, zone = network.edges_intersecting(snap.graph, zones.geometry.to_numpy())
    edge_hazard = zones["hazard_id"].to_numpy()[zone]

    found = []
    for r, (route, origin) in enumerate(zip(result.routes.itertuples(), origins, strict=True)):
        if snap.node[r] < 0:
            found.append((float("nan"), {}))
            continue
        allowed = {route.hazard_id, *zones["hazard_id"][zones.intersects(origin)]}
        blocked = np.zeros(snap.graph.n_edges, dtype=bool)
        blocked[edge[~np.isin(edge_hazard, list(allowed))]] = True
        dist, _ = network.shortest_paths(snap.graph, [snap.node[r]], blocked_edges=blocked)
        total = dist[0][shelter_node[safe]] + shelter_leg[safe]
        found.append((float(snap.distance_m[r]), {int(s): float(t) for s, t in zip(safe, total, strict=True)}))
    return found


def _check_nearest_by_brute_force(layers, result, settings=None) -> int:
    """Every route to the nearest safe shelter (none assigned, or the assigned one unusable) goes to a shelter no
    other reachable safe shelter beats on length, legs included; a route that reached none could reach none.
    Returns how many routes went to the nearest safe shelter."""
    shelter_ids = layers["shelters"]["shelter_id"].tolist()
    checked = 0
    for route, (origin_leg, totals) in zip(
        result.routes.itertuples(), _shortest_to_safe_shelters(layers, result, settings), strict=True
    ):
        reachable = {s: t for s, t in totals.items() if np.isfinite(t)}
        if not route.reachable:
            if route.assigned_shelter_id is None or route.reason_parts is not None:
                assert not reachable, (route.hazard_id, route.origin_id)
            continue
        if route.shelter_id == route.assigned_shelter_id:
            continue  # the assigned shelter, nearest or not
        best = min(reachable.values())
        chosen = [t for s, t in reachable.items() if shelter_ids[s] == route.shelter_id]
        assert chosen and min(chosen) == pytest.approx(best, abs=1e-6), (route.hazard_id, route.origin_id)
        assert route.length_m == pytest.approx(origin_leg + best, abs=1e-6), (route.hazard_id, route.origin_id)
        checked += 1
    return checked


@pytest.mark.parametrize("assigned", [None, "GONE"])
def test_the_nearest_safe_shelter_is_nearest_by_the_whole_route_legs_included(assigned):
    layers = scene(ROAD, [("HA", 0, 30, 50, assigned)], [ZA], [VA], [FAR, NEAR])
    result = evacuation.evacuation_routes(layers)
    v = _route(result, "HA", "V")
    # Along the roads FAR's road point (60 m) is nearer than NEAR's (300 m), but the walk to FAR is
    # 10 + 60 + 900 = 970 m and the walk to NEAR 10 + 300 + 5 = 315 m.
    assert v["reachable"] and v["shelter_id"] == "NEAR"
    assert v["length_m"] == pytest.approx(315.0, abs=1e-6)
    assert _metric(v.geometry).length == pytest.approx(315.0, abs=1e-6)
    assert _metric(v.geometry).coords[-1] == pytest.approx((X0 + 300, Y0 - 5), abs=1e-6)
    if assigned:
        assert (
            v["reason"]
            == "assigned shelter GONE is not in the shelters layer; routed to the nearest safe shelter NEAR instead"
        )
    else:
        assert v["reason"] is None
    load = result.shelters.set_index("shelter_id")["assigned_people"]
    assert load["NEAR"] == 80 and load["FAR"] == 0
    assert _check_nearest_by_brute_force(layers, result) == 1


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["A", "B", "C"], "B"),  # A comes first in the layer, but its leg is the longer
        (["A", "C", "B"], "C"),  # B and C stand on one spot: the first in the layer takes the route
        (["C", "B", "A"], "C"),
    ],
)
def test_shelters_on_one_road_point_the_shortest_leg_takes_the_route_then_the_first_in_the_layer(order, expected):
    # A, B and C all meet the road at (300, 0): A 40 m above it, B and C on one spot 20 m below.  The way along the
    # road is the same 300 m for all three: V -> A is 10 + 300 + 40 = 350 m, V -> B and V -> C 10 + 300 + 20 = 330 m.
    at = {"A": ("A", 300, 40, 500), "B": ("B", 300, -20, 500), "C": ("C", 300, -20, 500)}
    layers = scene(ROAD, [("HA", 0, 30, 50, None)], [ZA], [VA], [at[s] for s in order])
    result = evacuation.evacuation_routes(layers)
    v = _route(result, "HA", "V")
    assert v["shelter_id"] == expected
    assert v["length_m"] == pytest.approx(330.0, abs=1e-6)
    assert _metric(v.geometry).coords[-1] == pytest.approx((X0 + at[expected][1], Y0 + at[expected][2]), abs=1e-6)
    load = result.shelters.set_index("shelter_id")["assigned_people"]
    assert load.to_dict() == {s: (80 if s == expected else 0) for s in order}


def test_a_nearest_shelter_behind_another_zone_gives_way_to_the_next_nearest_legs_included():
    # HB's zone closes the road at x = 150..200, between V and NEAR.  HB is routed from its point (175, 30),
    # 30 m above the road, to NEAR: 30 + 125 + 5 = 160 m.  V may not pass HB's zone; of the shelters west of it,
    # FAR's road point is the nearer (60 m against 400 m), but MID's walk is the shorter: 10 + 400 + 10 = 420 m
    # against FAR's 970 m.  V and HB are searched together first, where V's best (NEAR) crosses HB's zone: the
    # second round must still weigh the legs.
    mid = ("MID", -400, -10, 500)
    layers = scene(
        ROAD,
        [("HA", 0, 30, 50, None), ("HB", 175, 30, 20, None)],
        [ZA, ("HB", 150, -50, 200, 50)],
        [VA],
        [FAR, NEAR, mid],
    )
    result = evacuation.evacuation_routes(layers)
    v, hb = _route(result, "HA", "V"), _route(result, "HB")
    assert v["shelter_id"] == "MID" and v["length_m"] == pytest.approx(420.0, abs=1e-6)
    assert hb["shelter_id"] == "NEAR" and hb["length_m"] == pytest.approx(160.0, abs=1e-6)
    assert result.network["search_rounds"] == 2
    assert not _metric(v.geometry).intersects(_zone(150, -50, 200, 50))
    assert _check_nearest_by_brute_force(layers, result) == 2


def test_demo_routes_to_the_nearest_safe_shelter_are_the_shortest_by_brute_force():
    # Every demo route without a usable assigned shelter, against one Dijkstra per route on its own road graph.
    layers = store.open(DEMO_DATA).read_layers()
    result = evacuation.evacuation_routes(layers)
    assert _check_nearest_by_brute_force(layers, result) >= 5  # the demo has 8 such routes


# --------------------------------------------------------------------------------------------------
# Reasons in Chinese and English.  A reason reaches the 明白卡 cards of plan 4.1.3 and the drill maps of plan 6.6,
# which Chinese-speaking cadres and residents read, and the app's tables in the reader's language: every kind of
# reason is built language-neutral and worded in both, with its ids and numbers.


def _hp5_off_the_roads():
    return _grid_scene(hazards=(HP1, HP2, ("HP5", 0, 5000, 3, None)), zones=(Z1, Z2, ("HP5", -10, 4990, 10, 5010)))


def _assigned(shelter_id: str, shelters=(S1,), roads=GRID):
    return _grid_scene(hazards=(("HP1", 0, 15, 30, shelter_id), HP2), shelters=shelters, roads=roads)


def _no_shelters():
    layers = _grid_scene()
    layers["shelters"] = layers["shelters"].iloc[:0]
    return layers


def _on_a_far_piece():
    return _grid_scene(
        hazards=(HP1, HP2, ("HP4", 1050, 15, 8, None)),
        zones=(Z1, Z2, ("HP4", 1020, -30, 1080, 30)),
        villages=(V1, ("V4", 1050, -10, 60)),
        roads=[*GRID, [(1000, 0), (1100, 0)]],
    )


def _cut_off_by_hb():
    return scene(
        [[(0, 0), (1000, 0)]],
        [("HA", 0, 30, 10, None), ("HB", 500, 30, 10, None)],
        [("HA", -50, -50, 50, 50), ("HB", 480, -50, 520, 50)],
        [("V", 0, 10, 80)],
        [("S", 1000, 0, 500)],
    )


# (scene, settings, hazard_id, origin_id, reason parts, Chinese wording, English wording)
REASON_CASES = {
    "origin_off_road": (
        _hp5_off_the_roads,
        AnalysisSettings(max_snap_distance_m=1500),
        "HP5",
        "HP5",
        [{"code": "origin_off_road", "max_snap_m": 1500.0}],
        "起点周围1500米内没有道路",
        "no road within 1500 m of the origin",
    ),
    "assigned_not_found": (
        lambda: _assigned("S9"),
        None,
        "HP1",
        "V1",
        [{"code": "assigned_not_found", "shelter_id": "S9"}, {"code": "rerouted", "shelter_id": "S1"}],
        "预定避灾场所S9不在避灾场所图层中；已改往最近的安全避灾场所S1",
        "assigned shelter S9 is not in the shelters layer; routed to the nearest safe shelter S1 instead",
    ),
    "assigned_in_zone": (
        lambda: _assigned("S0", shelters=(("S0", 20, 0, 1000), S1)),
        None,
        "HP1",
        "V1",
        [
            {"code": "assigned_in_zone", "shelter_id": "S0", "hazard_ids": ["HP1"]},
            {"code": "rerouted", "shelter_id": "S1"},
        ],
        "预定避灾场所S0位于隐患点HP1的危险区内；已改往最近的安全避灾场所S1",
        "assigned shelter S0 lies inside the danger zone of HP1; routed to the nearest safe shelter S1 instead",
    ),
    "assigned_off_road": (
        # S6 stands 800 m above the grid; with 500 m as the farthest a shelter may lie from a road it is off them.
        lambda: _assigned("S6", shelters=(S1, ("S6", 0, 900, 100))),
        AnalysisSettings(max_snap_distance_m=500),
        "HP1",
        "V1",
        [
            {"code": "assigned_off_road", "shelter_id": "S6", "max_snap_m": 500.0},
            {"code": "rerouted", "shelter_id": "S1"},
        ],
        "预定避灾场所S6周围500米内没有道路；已改往最近的安全避灾场所S1",
        "assigned shelter S6 has no road within 500 m; routed to the nearest safe shelter S1 instead",
    ),
    "assigned_blocked": (
        lambda: _grid_scene(
            hazards=(("HP1", 0, 15, 30, "S3"), HP2, ("HP3", 450, 30, 5, None)),
            zones=(Z1, Z2, ("HP3", 440, -20, 460, 40)),
            shelters=(S1, ("S3", 500, -20, 500)),
            roads=[*GRID, [(400, 0), (500, 0)]],
        ),
        None,
        "HP1",
        "V1",
        [{"code": "assigned_blocked", "shelter_id": "S3"}, {"code": "rerouted", "shelter_id": "S1"}],
        "预定避灾场所S3只能穿过其他隐患点的危险区到达；已改往最近的安全避灾场所S1",
        "assigned shelter S3 is reachable only through another hazard point's danger zone; "
        "routed to the nearest safe shelter S1 instead",
    ),
    "assigned_disconnected": (
        # S7 stands on a road 1 km east of the grid that meets none of its roads.
        lambda: _assigned("S7", shelters=(S1, ("S7", 1100, 0, 100)), roads=[*GRID, [(1000, 0), (1100, 0)]]),
        None,
        "HP1",
        "V1",
        [{"code": "assigned_disconnected", "shelter_id": "S7"}, {"code": "rerouted", "shelter_id": "S1"}],
        "预定避灾场所S7与起点之间没有道路相通；已改往最近的安全避灾场所S1",
        "assigned shelter S7 is not connected by road; routed to the nearest safe shelter S1 instead",
    ),
    "no_safe_shelter_on_network": (
        _no_shelters,
        None,
        "HP1",
        "V1",
        [{"code": "no_safe_shelter_on_network"}],
        "危险区外没有接入路网的避灾场所",
        "no shelter outside the danger zones is on the road network",
    ),
    "no_safe_shelter_connected": (
        _on_a_far_piece,
        None,
        "HP4",
        "V4",
        [{"code": "no_safe_shelter_connected"}],
        "危险区外的避灾场所都与起点没有道路相通",
        "no shelter outside the danger zones is connected to the origin by road",
    ),
    "safe_shelters_blocked": (
        _cut_off_by_hb,
        None,
        "HA",
        "V",
        [{"code": "safe_shelters_blocked", "hazard_ids": ["HB"]}],
        "危险区外的避灾场所都只能穿过其他隐患点的危险区到达，途中有隐患点HB的危险区阻隔",
        "every shelter outside the danger zones is reachable only through another hazard point's danger zone "
        "(HB in the way)",
    ),
}


def test_every_reason_code_has_a_case():
    # A new code without a case here would reach readers untested.
    assert set(REASON_CASES) == set(evacuation.REASON_CODES) - {"rerouted"}


@pytest.mark.parametrize("kind", list(REASON_CASES))
def test_each_kind_of_reason_is_worded_in_chinese_and_english_with_its_numbers(kind):
    make, settings, hazard_id, origin_id, parts, zh, en = REASON_CASES[kind]
    route = _route(evacuation.evacuation_routes(make(), settings), hazard_id, origin_id)
    assert json.loads(route["reason_parts"]) == parts
    assert route["reason"] == en  # the English column keeps its wording: `routes --json` promises it
    assert route["reason_zh"] == zh
    assert evacuation.reason_text(parts, "zh") == zh and evacuation.reason_text(route["reason_parts"], "en") == en
    # Chinese through and through: the only Latin letters are ids (HP1, S0 ...), never an English word.
    assert not re.search(r"[A-Za-z]{3,}", zh), zh


def test_a_route_as_the_plan_asks_has_no_reason_in_any_form():
    v1 = _route(evacuation.evacuation_routes(_grid_scene()), "HP1", "V1")
    assert v1["reason"] is None and v1["reason_zh"] is None and v1["reason_parts"] is None
    for missing in (None, float("nan"), [], "[]"):
        assert evacuation.reason_text(missing, "zh") is None


def test_reason_wording_refuses_an_unknown_language_or_code():
    with pytest.raises(ValueError, match="lang"):
        evacuation.reason_text([{"code": "no_safe_shelter_on_network"}], "fr")
    with pytest.raises(ValueError, match="unknown reason code 'nope'"):
        evacuation.reason_text([{"code": "nope"}], "en")


def test_reason_texts_words_a_table_and_leaves_a_table_without_parts_as_it_is():
    routes = evacuation.evacuation_routes(_no_shelters()).routes
    assert evacuation.reason_texts(routes, "zh").tolist() == ["危险区外没有接入路网的避灾场所"] * 2
    assert evacuation.reason_texts(routes, "en").tolist() == routes["reason"].tolist()
    by_hand = routes.drop(columns="reason_parts")
    assert evacuation.reason_texts(by_hand, "zh").tolist() == routes["reason"].tolist()


def test_json_and_route_files_carry_the_reason_in_both_languages_and_its_parts(tmp_path):
    result = evacuation.evacuation_routes(_no_shelters())
    route = result.to_json_dict()["routes"][0]
    assert route["reason"] == "no shelter outside the danger zones is on the road network"
    assert route["reason_zh"] == "危险区外没有接入路网的避灾场所"
    assert route["reason_parts"] == [{"code": "no_safe_shelter_on_network"}]
    path = tmp_path / "routes.gpkg"
    evacuation.write_routes(result.routes, path)
    back = pyogrio.read_dataframe(path)
    assert back["reason_zh"].tolist() == ["危险区外没有接入路网的避灾场所"] * 2
    assert back["reason_parts"].map(json.loads).tolist() == [[{"code": "no_safe_shelter_on_network"}]] * 2
