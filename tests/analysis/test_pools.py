"""Pool coverage (docs/data-model.md "Pool coverage") and the swimming plan's township, budget and staffing rules.

The fixture is laid out in metres in EPSG:4548 (the district's Gauss-Krueger zone) and stored in EPSG:4490, so
every distance below is worked out by hand on the x axis.  Townships are 10 km squares (E is 4 km wide) along x:

    A [0, 10k] | B [10k, 20k] | E [20k, 24k] | C [24k, 34k] | D [34k, 44k]

    open pools P1 (9000) and P2 (5000) in A, P5 (24500) in C; P3 building (9500) in A, P4 planned (12000) in B
    schools S0 (5000, has a pool) in A, S1 (11000) in B, S3 (25000, urban) in C, S2 (42000, teaching point) in D
"""

from __future__ import annotations

import dataclasses
import json
import math

import geopandas as gpd
import pytest
import shapely

from geo import cli, store
from geo.analysis import pools
from geo.model import crs as model_crs
from geo.model import rules
from geo.settings import DEMO_DATA, AnalysisSettings
from tests.support.fixtures import tiny_dataset, with_district, write_layers

METRIC = "EPSG:4548"
Y = 5000.0


#: Local (0, 0) sits near Changjiang District (117.2E, 29.3N), inside the zone of EPSG:4548.
ORIGIN = (520_000.0, 3_245_000.0)


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    """Features given in local metres, stored as the data model stores them (EPSG:4490)."""
    local = gpd.GeoSeries(geoms).translate(*ORIGIN)
    return gpd.GeoDataFrame(rows, geometry=local.values, crs=METRIC).to_crs("EPSG:4490")


def _layers(pool_status: dict[str, str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    towns = [("A", 0, 10_000, "rural"), ("B", 10_000, 20_000, "rural"), ("E", 20_000, 24_000, "rural")]
    towns += [("C", 24_000, 34_000, "urban"), ("D", 34_000, 44_000, "rural")]
    townships = _frame(
        [{"township_code": f"T{n}", "name": n, "area_type": a} for n, _, _, a in towns],
        [shapely.box(x0, 0, x1, 10_000) for _, x0, x1, _ in towns],
    )
    status = {"P1": "open", "P2": "open", "P3": "building", "P4": "planned", "P5": "open", **(pool_status or {})}
    pool_x = {"P1": (9000, "A"), "P2": (5000, "A"), "P3": (9500, "A"), "P4": (12_000, "B"), "P5": (24_500, "C")}
    pool_layer = _frame(
        [
            {"pool_id": pid, "name": pid, "township": t, "kind": "public", "status": status[pid], "lanes": 4}
            for pid, (_, t) in pool_x.items()
        ],
        [shapely.Point(x, Y) for x, _ in pool_x.values()],
    )
    # (id, x, township, area, teaching point, students, teachers, grade4, has_pool, instructors, red cross)
    school_rows = [
        ("S0", 5000, "A", "rural", False, 450, 49, 50, True, 3, 1),
        ("S1", 11_000, "B", "rural", False, 460, 40, 40, False, 0, 1),
        ("S3", 25_000, "C", "urban", False, 900, 60, 100, False, 5, 2),
        ("S2", 42_000, "D", "rural", True, 30, 3, 30, False, 1, 0),
    ]
    keys = ("school_id", "x", "township", "area_type", "is_teaching_point", "students", "teachers")
    keys += ("grade4_students", "has_pool", "swim_instructors", "redcross_trainers")
    records = [dict(zip(keys, row, strict=True)) for row in school_rows]
    points = [shapely.Point(r.pop("x"), Y) for r in records]
    schools = _frame([{**r, "name": r["school_id"], "stage": "primary"} for r in records], points)
    return {"townships": townships, "pools": pool_layer, "schools": schools}


@pytest.fixture(scope="module")
def straight() -> pools.PoolCoverage:
    return pools.pool_coverage(_layers(), AnalysisSettings(), metric="straight")


def _school(result: pools.PoolCoverage, school_id: str) -> dict:
    return next(s for s in result.to_dict()["schools"] if s["school_id"] == school_id)


def _township(result: pools.PoolCoverage, name: str) -> dict:
    return next(t for t in result.to_dict()["townships"] if t["township"] == name)


def test_only_schools_without_a_pool_are_listed(straight):
    assert [s["school_id"] for s in straight.to_dict()["schools"]] == ["S1", "S3", "S2"]


def test_third_nearest_pool_beyond_radius_but_school_covered(straight):
    # S1 at 11000: P1 |11000-9000| = 2000, P2 6000, P5 13500.  k-radius = 13500 > 3000, covered as 2000 <= 3000.
    s1 = _school(straight, "S1")
    assert [(n["pool_id"], n["distance_m"], n["metric"]) for n in s1["nearest"]] == [
        ("P1", 2000.0, "straight"),
        ("P2", 6000.0, "straight"),
        ("P5", 13500.0, "straight"),
    ]
    assert s1["k_radius_m"] == 13500
    assert s1["covered"] is True


def test_building_and_planned_pools_are_ignored(straight):
    # P3 (building, 1500 m from S1) and P4 (planned, 1000 m) would be nearer than P1 if they counted.
    ids = {n["pool_id"] for s in straight.to_dict()["schools"] for n in s["nearest"]}
    assert ids == {"P1", "P2", "P5"}
    assert [p["pool_id"] for p in straight.to_dict()["pools"]] == ["P1", "P2", "P5"]


def test_school_beyond_radius_of_every_pool_is_not_covered(straight):
    # S2 at 42000: P5 17500 m away.
    s2 = _school(straight, "S2")
    assert s2["nearest"][0] == {"pool_id": "P5", "distance_m": 17500.0, "metric": "straight"}
    assert s2["covered"] is False


def test_fewer_open_pools_than_k_gives_no_k_radius_and_a_note():
    result = pools.pool_coverage(_layers({"P5": "building"}), AnalysisSettings(), metric="straight")
    s1 = _school(result, "S1")
    assert [n["pool_id"] for n in s1["nearest"]] == ["P1", "P2"]
    assert s1["k_radius_m"] is None
    assert "fewer than k = 3" in s1["note"]
    assert any("fewer than k = 3" in a for a in result.assumptions)


def test_k_and_radius_are_settings():
    # k = 1: the k-radius is the nearest distance; radius 1500 m: S1 (2000 m) is no longer covered.
    result = pools.pool_coverage(_layers(), AnalysisSettings(k_pools=1, service_radius_m=1500), metric="straight")
    s1 = _school(result, "S1")
    assert (len(s1["nearest"]), s1["k_radius_m"], s1["covered"]) == (1, 2000, False)


def test_township_meets_requirement_alone_shared_or_not(straight):
    # 泳动昌江 二(二)1: at least one facility per township, built alone or jointly with a neighbouring township.
    a, b, e, c, d = (_township(straight, n) for n in "ABECD")
    # A: P1 and P2 open (P3 is only being built).
    assert (a["open_facilities"], a["meets_requirement"], a["how"]) == (2, True, "own")
    assert (c["open_facilities"], c["how"]) == (1, "own")
    # B: no open pool (P4 planned); its only school S1 is 2000 m from P1 in neighbouring A.
    assert (b["open_facilities"], b["meets_requirement"], b["how"], b["shared_pools"]) == (0, True, "shared", ["P1"])
    # E has no school: its seat (22000, 5000) is 2500 m from P5 in neighbouring C.
    assert (e["how"], e["shared_pools"]) == ("shared", ["P5"])
    # D: S2 is 17500 m from P5 of neighbouring C; 30 grade-4 pupils are out of reach.
    assert (d["meets_requirement"], d["how"], d["grade4_out_of_reach"]) == (False, "none", 30)


def test_shared_needs_a_touching_township():
    # Without E, B no longer touches C; moving P1 out of reach of S1 (to 7000: 4000 m) leaves B with nothing.
    layers = _layers()
    layers["pools"] = layers["pools"].copy()
    layers["pools"].loc[layers["pools"]["pool_id"] == "P1", "geometry"] = _frame(
        [{}], [shapely.Point(7000, Y)]
    ).geometry.iloc[0]
    result = pools.pool_coverage(layers, AnalysisSettings(), metric="straight")
    assert _township(result, "B")["how"] == "none"
    assert _township(result, "B")["grade4_out_of_reach"] == 40


def test_budget_at_the_plans_rural_and_urban_rates(straight):
    # 泳动昌江 三(四): ≥ 500 yuan per rural and ≥ 400 per urban grade-4 pupil, every grade-4 pupil counted:
    # S0 50 x 500 + S1 40 x 500 + S2 30 x 500 (rural) + S3 100 x 400 (urban) = 25000 + 20000 + 15000 + 40000.
    assert straight.to_dict()["budget_yuan"] == 100_000
    assert _township(straight, "A")["budget_yuan"] == 25_000
    assert _township(straight, "C")["budget_yuan"] == 40_000


def test_red_cross_499_500_and_teaching_point(straight):
    # 泳动昌江 二(一)3: 1 trainer under 500 teachers and pupils, 2 from 500; rural teaching points are exempt.
    staffing = {s["school_id"]: s for s in straight.to_dict()["staffing"]}
    assert (staffing["S0"]["redcross_required"], staffing["S0"]["redcross_short"]) == (1, 0)  # 450 + 49 = 499
    assert (staffing["S1"]["redcross_required"], staffing["S1"]["redcross_short"]) == (2, 1)  # 460 + 40 = 500
    assert (staffing["S2"]["redcross_required"], staffing["S2"]["redcross_short"]) == (0, 0)  # teaching point


def test_instructors_short_of_three_per_school(straight):
    # 泳动昌江 二(一)2: three or more swimming instructors or lifeguards per school.
    short = {s["school_id"]: s["instructors_short"] for s in straight.to_dict()["staffing"]}
    assert short == {"S0": 0, "S1": 3, "S3": 0, "S2": 2}
    assert _township(straight, "B")["schools_short_instructors"] == 1
    assert _township(straight, "B")["schools_short_redcross"] == 1


def test_each_school_uses_its_nearest_open_pool(straight):
    # S1 -> P1 (2000 m); S3 -> P5 (500 m); S2 -> P5 (17500 m, beyond the radius, but still its nearest).
    use = {p["pool_id"]: p for p in straight.to_dict()["pools"]}
    assert (use["P1"]["schools"], use["P1"]["grade4_students"]) == (["S1"], 40)
    assert (use["P5"]["schools"], use["P5"]["grade4_students"], use["P5"]["grade4_within_radius"]) == (
        ["S3", "S2"],
        130,
        100,
    )
    assert (use["P2"]["schools"], use["P2"]["grade4_students"]) == ([], 0)


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="metric"):
        pools.pool_coverage(_layers(), metric="crow")


def test_json_contract_holds_every_key(straight):
    doc = json.loads(json.dumps(straight.to_dict()))
    assert {"schools", "townships", "pools", "budget_yuan", "staffing", "assumptions"} <= set(doc)
    assert {"school_id", "nearest", "k_radius_m", "covered"} <= set(doc["schools"][0])
    assert {"township", "open_facilities", "meets_requirement", "how"} <= set(doc["townships"][0])
    assert {"school_id", "instructors_short", "redcross_short"} <= set(doc["staffing"][0])


def test_cli_pools_prints_the_json(tmp_path, capsys):
    data = write_layers(tmp_path / "fixture.gpkg", with_district(_layers()))
    assert cli.main(["pools", "--data", data, "--metric", "straight", "--radius", "1500", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["settings"] == {"k": 3, "service_radius_m": 1500.0, "metric": "straight"}
    assert _covered(doc, "S1") is False
    assert cli.main(["pools", "--data", data, "--metric", "straight"]) == 0
    assert "Training budget (三(四)): at least 100,000 yuan" in capsys.readouterr().out


def _covered(doc: dict, school_id: str) -> bool:
    return next(s["covered"] for s in doc["schools"] if s["school_id"] == school_id)


# --------------------------------------------------------------------------------------------------
# Route distances.  One township holds a U-shaped road around a river: (0, 0) -> (0, 2000) -> (1000, 2000)
# -> (1000, 0).  Pool Q sits on the road's far end at (1000, 0).


def _network_layers(schools: dict[str, tuple[float, float]]) -> dict[str, gpd.GeoDataFrame]:
    layers = _layers()
    layers["townships"] = _frame(
        [{"township_code": "TU", "name": "U", "area_type": "rural"}], [shapely.box(-3000, -8000, 5000, 5000)]
    )
    layers["pools"] = _frame(
        [{"pool_id": "Q", "name": "Q", "township": "U", "kind": "public", "status": "open", "lanes": 4}],
        [shapely.Point(1000, 0)],
    )
    template = layers["schools"].iloc[[1]].drop(columns="geometry").to_dict(orient="records")[0]
    layers["schools"] = _frame(
        [{**template, "school_id": sid, "name": sid, "township": "U"} for sid in schools],
        [shapely.Point(*xy) for xy in schools.values()],
    )
    layers["roads"] = _frame(
        [{"road_id": "R1", "name": None, "road_class": "rural"}],
        [shapely.LineString([(0, 0), (0, 2000), (1000, 2000), (1000, 0)])],
    )
    return layers


def test_route_around_a_detour_is_longer_than_the_straight_line():
    # School W at the road's start (0, 0): 1000 m from Q in a straight line, 2000 + 1000 + 2000 = 5000 m by road.
    layers = _network_layers({"W": (0, 0)})
    by_road = _school(pools.pool_coverage(layers, metric="network"), "W")
    by_line = _school(pools.pool_coverage(layers, metric="straight"), "W")
    assert (by_road["nearest"][0]["distance_m"], by_road["nearest"][0]["metric"]) == (5000.0, "network")
    assert (by_line["nearest"][0]["distance_m"], by_line["nearest"][0]["metric"]) == (1000.0, "straight")
    assert (by_road["covered"], by_line["covered"]) == (False, True)


def test_route_adds_the_snap_legs():
    # School V at (500, 2100) is 100 m above the top of the U: 100 + 500 along the top + 2000 down = 2600 m.
    v = _school(pools.pool_coverage(_network_layers({"V": (500, 2100)}), metric="network"), "V")
    assert (v["nearest"][0]["distance_m"], v["nearest"][0]["metric"], v["covered"]) == (2600.0, "network", True)


def test_school_off_the_network_falls_back_to_straight_and_is_marked():
    # School F at (0, -5000) is 5000 m from the nearest road, beyond max_snap_distance_m = 2000:
    # straight line to Q = sqrt(1000² + 5000²) = 5099.0 m.
    result = pools.pool_coverage(_network_layers({"F": (0, -5000), "W": (0, 0)}), metric="network")
    f = _school(result, "F")
    assert (f["nearest"][0]["distance_m"], f["nearest"][0]["metric"]) == (5099.0, "straight")
    assert _school(result, "W")["nearest"][0]["metric"] == "network"
    assert any("Schools reaching no pool by road: F" in a for a in result.assumptions)


def test_no_open_pool_at_all():
    layers = _layers({"P1": "planned", "P2": "planned", "P5": "building"})
    result = pools.pool_coverage(layers, metric="straight")
    s1 = _school(result, "S1")
    assert (s1["nearest"], s1["k_radius_m"], s1["covered"], s1["note"]) == ([], None, False, "no open pool in the data")
    assert {t["how"] for t in result.to_dict()["townships"]} == {"none"}


# --------------------------------------------------------------------------------------------------
# The district's figures, as the Pools page and ``pools`` show them


def test_summary_counts_schools_pupils_townships_and_staff_by_hand(straight):
    """Swimming plan 二(三)1 (pupils taken to a pool), 二(二)1 (a facility per township), 二(一)2-3 (staff)."""
    # Without a pool: S1 (2000 m to P1, covered), S3 (500 m to P5, covered), S2 (17500 m, not): 40 + 100 + 30
    # grade-4 pupils, 140 covered.  Of the five townships only D falls short.  Instructors short: S1 3, S2 2;
    # Red Cross trainers short: S1 1 (500 teachers and pupils need 2).
    assert straight.summary() == pools.CoverageSummary(
        schools_without_pool=3,
        schools_covered=2,
        grade4_without_pool=170,
        grade4_covered=140,
        grade4_out_of_reach=30,
        townships=5,
        townships_short=1,
        schools_short_instructors=2,
        instructors_short=5,
        schools_short_redcross=1,
        redcross_short=1,
    )
    assert straight.to_dict()["summary"] == dataclasses.asdict(straight.summary())
    text = straight.to_text()
    assert "Schools without a pool: 3, covered 2; grade-4 pupils out of reach 30 of 170" in text
    assert "2 school(s) short of swimming instructors (5 in all), 1 short of Red Cross trainers (1 in all)" in text


def test_summary_of_the_tiny_dataset_by_hand():
    """Swimming plan 二(二)1, 二(一)2-3 on tiny_dataset: SC1 has its own pool, SC2 (a rural teaching point) none."""
    # SC2 (117.26E, 29.32N) is about 8.9 km from P2 (117.18E, 29.28N) and farther from P1: not covered, its 6
    # grade-4 pupils out of reach.  西郊街道 holds both open pools; 鲇鱼山镇 none, and SC2 reaches no neighbour's.
    # SC1 has 3 instructors and 2 Red Cross trainers for 640 teachers and pupils; SC2 has no instructor (3 short)
    # and, a teaching point, needs no trainer.
    summary = pools.pool_coverage(tiny_dataset(), metric="straight").summary()
    assert summary == pools.CoverageSummary(
        schools_without_pool=1,
        schools_covered=0,
        grade4_without_pool=6,
        grade4_covered=0,
        grade4_out_of_reach=6,
        townships=2,
        townships_short=1,
        schools_short_instructors=1,
        instructors_short=3,
        schools_short_redcross=0,
        redcross_short=0,
    )


def test_demo_summary_by_brute_force():
    """Swimming plan 二(三)1, 二(二)1, 二(一)2-3 on the demo district, school by school from the layers."""
    layers = store.open(DEMO_DATA).read_layers()
    coverage = pools.pool_coverage(layers, metric="straight")
    crs = model_crs.data_metric_crs(layers)
    schools = layers["schools"].to_crs(crs)
    open_pools = [p.geometry for p in layers["pools"].to_crs(crs).itertuples() if p.status == "open"]
    counts = dict.fromkeys(("schools", "covered", "pupils", "pupils_covered"), 0)
    short = dict.fromkeys(("schools_instructors", "instructors", "schools_redcross", "redcross"), 0)
    for s in schools.itertuples():
        instructors = rules.swim_instructors_short(int(s.swim_instructors))
        redcross = rules.redcross_trainers_short(
            int(s.students), int(s.teachers), bool(s.is_teaching_point), int(s.redcross_trainers)
        )
        short["schools_instructors"] += instructors > 0
        short["instructors"] += instructors
        short["schools_redcross"] += redcross > 0
        short["redcross"] += redcross
        if s.has_pool:
            continue
        nearest = min(math.dist((s.geometry.x, s.geometry.y), (p.x, p.y)) for p in open_pools)
        within = nearest <= coverage.radius_m
        pupils = int(s.grade4_students)
        counts["schools"] += 1
        counts["covered"] += within
        counts["pupils"] += pupils
        counts["pupils_covered"] += pupils * within
    towns_short = sum(not t["meets_requirement"] for t in coverage.to_dict()["townships"])
    assert coverage.summary() == pools.CoverageSummary(
        schools_without_pool=counts["schools"],
        schools_covered=counts["covered"],
        grade4_without_pool=counts["pupils"],
        grade4_covered=counts["pupils_covered"],
        grade4_out_of_reach=counts["pupils"] - counts["pupils_covered"],
        townships=len(layers["townships"]),
        townships_short=towns_short,
        schools_short_instructors=short["schools_instructors"],
        instructors_short=short["instructors"],
        schools_short_redcross=short["schools_redcross"],
        redcross_short=short["redcross"],
    )
    # The demo has something in every figure, so no zero passes for a count.
    assert 0 < counts["covered"] < counts["schools"] and towns_short and short["instructors"] and short["redcross"]
