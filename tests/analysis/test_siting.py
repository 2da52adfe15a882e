"""Pool siting: MCLP / LSCP over the grade-4 pupils of schools without a pool, and the what-if of one site.

The fixture is laid out in local metres (EPSG:4548, shifted near Changjiang District) and stored in EPSG:4490.
Townships A [0, 10k], B [10k, 20k] and C [20k, 30k] are 10 km squares along x; y runs 0..10k.  Radius 3000 m.

    open pool P1 (1000, 5000) in A; schools without a pool and their grade-4 pupils:
    s1 (2000, 5000) 10   s2 (8000, 5000) 50   s3 (8000, 7500) 20   s4 (15000, 5000) 30   s5 (17500, 5000) 45
    candidates c1 (8000, 6000), c2 (16500, 5000), c3 (2000, 6000), c4 (12500, 5000), c5 (25000, 5000)

s1 is 1000 m from P1: already covered (before = 10 of total 155).  What each candidate gains:
    c1: s2 1000 m, s3 1500 m -> 50 + 20 = 70        c2: s4 1500 m, s5 1000 m -> 30 + 45 = 75
    c3: s1 only (already covered) -> 0              c4: s4 2500 m -> 30
    c5: nobody (C has no school)
"""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import cli
from geo.analysis import siting
from tests.support.fixtures import with_district, write_layers

METRIC = "EPSG:4548"
ORIGIN = (520_000.0, 3_245_000.0)
STRAIGHT = {"metric": "straight"}


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    local = gpd.GeoSeries(geoms).translate(*ORIGIN)
    return gpd.GeoDataFrame(rows, geometry=local.values, crs=METRIC).to_crs("EPSG:4490")


def _lonlat(x: float, y: float) -> tuple[float, float]:
    point = _frame([{}], [shapely.Point(x, y)]).geometry.iloc[0]
    return point.x, point.y


def _layers() -> dict[str, gpd.GeoDataFrame]:
    townships = _frame(
        [{"township_code": f"T{n}", "name": n, "area_type": "rural"} for n in "ABC"],
        [shapely.box(x0, 0, x0 + 10_000, 10_000) for x0 in (0, 10_000, 20_000)],
    )
    pools = _frame(
        [{"pool_id": "P1", "name": "P1", "township": "A", "kind": "public", "status": "open", "lanes": 4}],
        [shapely.Point(1000, 5000)],
    )
    rows = [("s1", 2000, 5000, "A", 10), ("s2", 8000, 5000, "A", 50), ("s3", 8000, 7500, "A", 20)]
    rows += [("s4", 15_000, 5000, "B", 30), ("s5", 17_500, 5000, "B", 45)]
    schools = _frame(
        [
            {
                "school_id": sid,
                "name": sid,
                "township": town,
                "stage": "primary",
                "area_type": "rural",
                "is_teaching_point": False,
                "students": 6 * g4,
                "teachers": g4 // 2,
                "grade4_students": g4,
                "has_pool": False,
                "swim_instructors": 0,
                "redcross_trainers": 0,
            }
            for sid, _, _, town, g4 in rows
        ],
        [shapely.Point(x, y) for _, x, y, _, _ in rows],
    )
    return {"townships": townships, "pools": pools, "schools": schools}


def _candidates() -> gpd.GeoDataFrame:
    sites = {"c1": (8000, 6000), "c2": (16_500, 5000), "c3": (2000, 6000), "c4": (12_500, 5000), "c5": (25_000, 5000)}
    return _frame([{"site_id": s} for s in sites], [shapely.Point(*xy) for xy in sites.values()])


def test_mclp_picks_the_best_site():
    result = siting.site_pools(_layers(), p=1, candidates=_candidates(), **STRAIGHT)
    doc = result.to_dict()
    assert [(c["site_id"], c["covered_grade4"], c["schools"]) for c in doc["chosen"]] == [("c2", 75, ["s4", "s5"])]
    assert (doc["covered_grade4_before"], doc["covered_grade4_after"], doc["total_grade4_without_pool"]) == (
        10,
        85,
        155,
    )
    assert result.covered_grade4_gain == 75  # what the Pools page shows as the change: c2's s4 and s5


def test_the_gain_of_two_sites_is_the_pupils_of_the_schools_they_reach():
    """Swimming plan 二(二)1: the change the Pools page shows, against the pupils of the schools the new sites reach."""
    result = siting.site_pools(_layers(), p=2, candidates=_candidates(), **STRAIGHT)
    reached = {school for schools in result.chosen["schools"] for school in schools}
    pupils = {"s1": 10, "s2": 50, "s3": 20, "s4": 30, "s5": 45}
    assert result.covered_grade4_gain == sum(pupils[s] for s in reached) == 145


def test_mclp_two_sites_cover_everyone_and_lscp_needs_two():
    doc = siting.site_pools(_layers(), p=2, candidates=_candidates(), **STRAIGHT).to_dict()
    assert {c["site_id"] for c in doc["chosen"]} == {"c1", "c2"}
    # 10 already covered + 70 + 75 = 155: every grade-4 pupil.
    assert doc["covered_grade4_after"] == doc["total_grade4_without_pool"] == 155
    assert doc["lscp_min_pools"] == 2
    assert set(doc["lscp_sites"]) == {"c1", "c2"}
    assert doc["uncoverable_schools"] == []


def test_chosen_sites_are_reported_in_lon_lat():
    doc = siting.site_pools(_layers(), p=1, candidates=_candidates(), **STRAIGHT).to_dict()
    x, y = _lonlat(16_500, 5000)
    assert doc["chosen"][0]["x"] == pytest.approx(x, abs=1e-6)
    assert doc["chosen"][0]["y"] == pytest.approx(y, abs=1e-6)
    assert doc["chosen"][0]["township"] == "B"


def test_require_each_township_puts_a_site_in_every_township_without_a_pool():
    # 泳动昌江 二(二)1: B and C have no open pool, so one site each: c2 (75) in B, c5 (0) in C; c1 (70) loses out.
    doc = siting.site_pools(_layers(), p=2, candidates=_candidates(), require_each_township=True, **STRAIGHT).to_dict()
    assert {c["site_id"] for c in doc["chosen"]} == {"c2", "c5"}
    assert doc["covered_grade4_after"] == 10 + 75
    assert doc["required_townships"] == ["B", "C"]


def test_require_each_township_needs_p_at_least_the_townships():
    with pytest.raises(ValueError, match="2 townships each need a site but only p = 1"):
        siting.site_pools(_layers(), p=1, candidates=_candidates(), require_each_township=True, **STRAIGHT)


def test_what_if_counts_only_pupils_not_yet_covered():
    # A pool at c1 reaches s2 and s3 (70); one at c3 reaches only s1, which P1 already covers.
    gain = siting.what_if(_layers(), _lonlat(8000, 6000), **STRAIGHT)
    assert (gain.covered_grade4_gain, gain.schools, gain.township) == (70, ["s2", "s3"], "A")
    assert gain.covered_grade4_after == gain.to_dict()["covered_grade4_after"] == 10 + 70
    assert siting.what_if(_layers(), _lonlat(2000, 6000), **STRAIGHT).covered_grade4_gain == 0


def test_candidates_from_schools_seats_and_grid():
    layers = _layers()
    schools = siting.candidate_sites(layers, "schools")
    assert schools["site_id"].tolist() == [f"school:s{i}" for i in range(1, 6)]
    seats = siting.candidate_sites(layers, "township-seats")
    assert seats[["site_id", "township"]].values.tolist() == [["seat:A", "A"], ["seat:B", "B"], ["seat:C", "C"]]
    # 30 km x 10 km at 5 km spacing: x at 2.5, 7.5, ... 27.5 km (6) times y at 2.5, 7.5 km (2).
    grid = siting.candidate_sites(layers, "grid", grid_spacing_m=5000)
    assert len(grid) == 12
    assert grid["township"].value_counts().to_dict() == {"A": 4, "B": 4, "C": 4}


def test_schools_as_candidates_pick_the_school_serving_most():
    # A pool at s4 or at s5 (2500 m apart) reaches both: 75 pupils, the most any school site gains.
    doc = siting.site_pools(_layers(), p=1, candidates="schools", **STRAIGHT).to_dict()
    [chosen] = doc["chosen"]
    assert (chosen["site_id"] in {"school:s4", "school:s5"}, chosen["covered_grade4"]) == (True, 75)


def _brute_force(cover: np.ndarray, weights: np.ndarray, p: int, groups=()) -> float:
    best = -1.0
    for combo in itertools.combinations(range(cover.shape[1]), p):
        if all(set(g) & set(combo) for g in groups):
            best = max(best, float(weights[cover[:, list(combo)].any(axis=1)].sum()))
    return best


@pytest.fixture(params=["spopt", "sparse PuLP"])
def model(request, monkeypatch):
    """Run a test on spopt's models and, with spopt's size limit at 0, on the same models built in PuLP."""
    if request.param != "spopt":
        monkeypatch.setattr(siting, "SPOPT_MAX_CELLS", 0)
    return request.param


@pytest.mark.parametrize("seed", range(4))
def test_mclp_matches_brute_force(seed, model):
    rng = np.random.default_rng(seed)
    cover = rng.random((14, 7)) < 0.25
    weights = rng.integers(0, 60, size=14).astype(float)
    for p in (1, 2, 3):
        solution = siting.maximal_cover(cover, weights, p)
        assert len(solution.sites) <= p and solution.optimal
        assert weights[cover[:, solution.sites].any(axis=1)].sum() == _brute_force(cover, weights, p)


@pytest.mark.parametrize("seed", range(4))
def test_township_variant_matches_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    cover = rng.random((14, 8)) < 0.25
    weights = rng.integers(0, 60, size=14).astype(float)
    groups = [[0, 1], [5]]
    chosen = siting.maximal_cover(cover, weights, 3, groups).sites
    assert len(chosen) == 3
    assert all(set(g) & set(chosen) for g in groups)
    assert weights[cover[:, chosen].any(axis=1)].sum() == _brute_force(cover, weights, 3, groups)


@pytest.mark.parametrize("seed", range(4))
def test_lscp_matches_brute_force(seed, model):
    rng = np.random.default_rng(200 + seed)
    cover = rng.random((12, 7)) < 0.3
    coverable = cover.any(axis=1)
    chosen = siting.minimal_cover(cover).sites
    assert (cover[:, chosen].any(axis=1) == coverable).all()
    fewest = min(
        n
        for n in range(cover.shape[1] + 1)
        for combo in itertools.combinations(range(cover.shape[1]), n)
        if (cover[:, list(combo)].any(axis=1) == coverable).all()
    )
    assert len(chosen) == fewest


def test_cli_site_pools_json(tmp_path, capsys):
    data = write_layers(tmp_path / "fixture.gpkg", with_district(_layers()))
    sites = tmp_path / "sites.geojson"
    _candidates().to_file(sites)
    args = ["site-pools", "--data", data, "--candidates", str(sites), "--p", "1", "--metric", "straight"]
    assert cli.main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["chosen"][0]["site_id"] == "c2"
    x, y = _lonlat(8000, 6000)
    assert cli.main([*args, "--what-if", f"{x},{y}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["what_if"]["covered_grade4_gain"] == 70
    assert cli.main([*args, "--require-each-township"]) == 2
    assert "2 townships each need a site but only p = 1" in capsys.readouterr().err


def test_network_coverage_follows_the_roads():
    # A U-shaped road (0, 0) -> (0, 2000) -> (1000, 2000) -> (1000, 0) runs around a river; no pool is open yet.
    # Site c at the far end (1000, 0).  School w at (0, 0), 10 pupils: 1000 m straight, 5000 m by road.
    # School u at (500, 2100), 5 pupils: 2158.7 m straight, 100 + 500 + 2000 = 2600 m by road.
    layers = _layers()
    layers["schools"] = _frame(
        [
            {**layers["schools"].iloc[0].drop("geometry").to_dict(), "school_id": s, "grade4_students": g}
            for s, g in [("w", 10), ("u", 5)]
        ],
        [shapely.Point(0, 0), shapely.Point(500, 2100)],
    )
    layers["pools"] = layers["pools"].iloc[0:0]
    layers["roads"] = _frame(
        [{"road_id": "R1", "name": None, "road_class": "rural"}],
        [shapely.LineString([(0, 0), (0, 2000), (1000, 2000), (1000, 0)])],
    )
    site = _frame([{"site_id": "c"}], [shapely.Point(1000, 0)])
    by_road = siting.site_pools(layers, p=1, candidates=site, metric="network").to_dict()
    by_line = siting.site_pools(layers, p=1, candidates=site, metric="straight").to_dict()
    assert [(c["site_id"], c["schools"]) for c in by_road["chosen"]] == [("c", ["u"])]
    assert (by_road["covered_grade4_after"], by_line["covered_grade4_after"]) == (5, 15)
    assert siting.what_if(layers, _lonlat(1000, 0), metric="network").covered_grade4_gain == 5
