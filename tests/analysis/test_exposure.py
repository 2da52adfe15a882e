"""Tests of geo.analysis.exposure: people and places at risk under the warnings (plan 4.4–4.5; docs/data-model.md).

The fixture is a small map in EPSG:4490 drawn on a grid of 0.01 degree (about 1 km) cells from lon 117.20,
lat 29.30; ``xy(3, 2.5)`` is 3 cells east and 2.5 cells north of that corner, ``cells(x0, y0, x1, y1)`` a box.
Every expected number below is worked out by hand from this table:

- townships 甲镇 x 0..10 and 乙镇 x 10..20 (y 0..10);
- warning areas WA-Y yellow x 2..8 y 2..8 and WA-O orange x 6..14 y 4..8, overlapping at x 6..8;
- hazard points (status, grade, people/households): H1 (3,3) active medium 120/30; H2 (7,5) active large
  600/150, in both areas; H3 (14,6) active small 20/5, on WA-O's east edge, no danger zone; H4 (4,4) treated;
  H5 (12,5) cancelled; H6 (18,2) active small 10/3, under no warning;
- danger zones: H1 x 2..5 y 2..5; H2 x 4..8 y 4..6 and x 6..7 y 6..7; H4 x 3..4 y 6..7; H6 x 17..19 y 1..3;
- villages (people/households): V1 (3,2.5) 100/25 in H1's zone; V2 (4.5,4.5) 50/12 in H1's and H2's;
  V3 (6.5,6.5) 30/8 in H2's second zone; V4 (3.5,6.5) 40/10 in treated H4's; V5 (15,5) 1000/300 in none;
- schools: S1 (4.5,4.2) 300 students in H1's and H2's zones; S2 (9,9) 200 in none;
- shelters (capacity): SH1 (7,3) 500 in WA-Y; SH2 (4.8,4.8) 200 in WA-Y but inside H1's and H2's zones;
  SH3 (10,7) 300 in WA-O, on the 甲镇/乙镇 border.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo import cli
from geo.analysis import exposure
from geo.model import rules
from tests.support.fixtures import tiny_dataset

ORIGIN = (117.20, 29.30)
CELL = 0.01
CRS = "EPSG:4490"


def xy(x: float, y: float) -> tuple[float, float]:
    return ORIGIN[0] + CELL * x, ORIGIN[1] + CELL * y


def cells(x0: float, y0: float, x1: float, y1: float):
    """A box between two grid corners; edges go through the same ``xy`` values as the points on them."""
    return box(*xy(x0, y0), *xy(x1, y1))


def frame(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def hazard(hid, x, y, status, grade, kind, people, households, township) -> dict:
    return {
        "hazard_id": hid,
        "name": f"{hid}隐患点",
        "hazard_type": kind,
        "danger_grade": grade,
        "township": township,
        "village": "某村",
        "threatened_people": people,
        "threatened_households": households,
        "status": status,
        "shelter_id": None,
        "geometry": Point(xy(x, y)),
    }


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "townships": frame(
            [
                {"township_code": "001", "name": "甲镇", "area_type": "rural", "geometry": cells(0, 0, 10, 10)},
                {"township_code": "002", "name": "乙镇", "area_type": "rural", "geometry": cells(10, 0, 20, 10)},
            ]
        ),
        "hazard_points": frame(
            [
                hazard("H1", 3, 3, "active", "medium", "landslide", 120, 30, "甲镇"),
                hazard("H2", 7, 5, "active", "large", "collapse", 600, 150, "甲镇"),
                hazard("H3", 14, 6, "active", "small", "debris_flow", 20, 5, "乙镇"),
                hazard("H4", 4, 4, "treated", "medium", "landslide", 200, 50, "甲镇"),
                hazard("H5", 12, 5, "cancelled", "small", "collapse", 10, 2, "乙镇"),
                hazard("H6", 18, 2, "active", "small", "unstable_slope", 10, 3, "乙镇"),
            ]
        ),
        # H2 has two zones; H3 has none; H4's zone belongs to a treated point.
        "danger_zones": frame(
            [
                {"hazard_id": "H1", "geometry": cells(2, 2, 5, 5)},
                {"hazard_id": "H2", "geometry": cells(4, 4, 8, 6)},
                {"hazard_id": "H2", "geometry": cells(6, 6, 7, 7)},
                {"hazard_id": "H4", "geometry": cells(3, 6, 4, 7)},
                {"hazard_id": "H6", "geometry": cells(17, 1, 19, 3)},
            ]
        ),
        "villages": frame(
            [
                {
                    "village_id": "V1",
                    "name": "一村",
                    "population": 100,
                    "households": 25,
                    "geometry": Point(xy(3, 2.5)),
                },
                {
                    "village_id": "V2",
                    "name": "二村",
                    "population": 50,
                    "households": 12,
                    "geometry": Point(xy(4.5, 4.5)),
                },
                {
                    "village_id": "V3",
                    "name": "三村",
                    "population": 30,
                    "households": 8,
                    "geometry": Point(xy(6.5, 6.5)),
                },
                {
                    "village_id": "V4",
                    "name": "四村",
                    "population": 40,
                    "households": 10,
                    "geometry": Point(xy(3.5, 6.5)),
                },
                {
                    "village_id": "V5",
                    "name": "五村",
                    "population": 1000,
                    "households": 300,
                    "geometry": Point(xy(15, 5)),
                },
            ]
        ),
        "schools": frame(
            [
                {"school_id": "S1", "name": "一小", "students": 300, "geometry": Point(xy(4.5, 4.2))},
                {"school_id": "S2", "name": "二小", "students": 200, "geometry": Point(xy(9, 9))},
            ]
        ),
        "shelters": frame(
            [
                {"shelter_id": "SH1", "name": "一号", "capacity": 500, "geometry": Point(xy(7, 3))},
                {"shelter_id": "SH2", "name": "二号", "capacity": 200, "geometry": Point(xy(4.8, 4.8))},
                {"shelter_id": "SH3", "name": "三号", "capacity": 300, "geometry": Point(xy(10, 7))},
            ]
        ),
        "warning_areas": frame(
            [
                {
                    "warning_id": "WA-Y",
                    "level": "yellow",
                    "issued_at": "2024-06-01T08:00:00",
                    "geometry": cells(2, 2, 8, 8),
                },
                {
                    "warning_id": "WA-O",
                    "level": "orange",
                    "issued_at": "2024-06-01T08:00:00",
                    "geometry": cells(6, 4, 14, 8),
                },
            ]
        ),
    }


def area_row(result: exposure.ExposureResult, warning_id: str) -> dict:
    return result.areas.set_index("warning_id").loc[warning_id].to_dict()


def test_overlapping_areas_each_count_a_point_but_the_district_counts_it_once_at_its_highest_level(layers):
    result = exposure.analyse(layers)
    yellow, orange = area_row(result, "WA-Y"), area_row(result, "WA-O")
    # WA-Y holds H1 and H2: 120 + 600 = 720 people, 30 + 150 = 180 households.
    assert (yellow["hazard_points"], yellow["threatened_people"], yellow["threatened_households"]) == (2, 720, 180)
    # WA-O holds H2 and H3: 600 + 20 = 620 people, 150 + 5 = 155 households.
    assert (orange["hazard_points"], orange["threatened_people"], orange["threatened_households"]) == (2, 620, 155)
    district = result.district
    # H1 + H2 + H3 once each: 120 + 600 + 20 = 740 people (not 720 + 620 = 1340).
    assert (district["hazard_points"], district["threatened_people"]) == (3, 740)
    # H2 sits in both areas and counts at orange, the higher: orange = H2 + H3, yellow = H1 alone.
    assert district["by_level"]["orange"]["hazard_points"] == 2
    assert district["by_level"]["orange"]["threatened_people"] == 620
    assert district["by_level"]["yellow"]["hazard_points"] == 1
    assert district["by_level"]["red"]["hazard_points"] == district["by_level"]["blue"]["hazard_points"] == 0
    assert district["level"] == "orange"
    listed = result.hazard_points.set_index("hazard_id")
    assert listed.loc["H2", "level"] == "orange"
    assert listed.loc["H2", "warning_ids"] == ["WA-O", "WA-Y"]


def test_counts_by_danger_grade_and_hazard_type(layers):
    yellow = area_row(exposure.analyse(layers), "WA-Y")
    # H1 medium landslide, H2 large collapse.
    assert (yellow["danger_grade_medium"], yellow["danger_grade_large"], yellow["danger_grade_small"]) == (1, 1, 0)
    assert (yellow["hazard_type_landslide"], yellow["hazard_type_collapse"]) == (1, 1)


def test_a_point_on_the_boundary_of_a_warning_area_counts(layers):
    result = exposure.analyse(layers)
    # H3 lies exactly on WA-O's east edge x = 14.
    assert "H3" in set(result.hazard_points["hazard_id"])
    assert area_row(result, "WA-O")["hazard_type_debris_flow"] == 1


def test_a_village_in_two_danger_zones_counts_once(layers):
    result = exposure.analyse(layers)
    yellow = area_row(result, "WA-Y")
    # Union of H1's and H2's zones holds V1, V2 (in both) and V3: 100 + 50 + 30 = 180, households 25 + 12 + 8 = 45.
    assert (yellow["villages_in_danger_zones"], yellow["people_in_danger_zones"]) == (3, 180)
    assert yellow["households_in_danger_zones"] == 45
    # S1 is in both zones as well: one school, 300 students.
    assert (yellow["schools_in_danger_zones"], yellow["school_ids"], yellow["students_in_danger_zones"]) == (
        1,
        ["S1"],
        300,
    )
    # District: the same three villages once, 180.
    assert result.district["people_in_danger_zones"] == 180


def test_levels_count_their_own_union_so_they_may_add_up_to_more_than_the_total(layers):
    by_level = exposure.analyse(layers).district["by_level"]
    # Orange (H2, H3): V2 + V3 = 50 + 30 = 80.  Yellow (H1): V1 + V2 = 100 + 50 = 150.  80 + 150 = 230 > 180.
    assert by_level["orange"]["people_in_danger_zones"] == 80
    assert by_level["yellow"]["people_in_danger_zones"] == 150


def test_treated_and_cancelled_points_and_their_zones_are_left_out(layers):
    result = exposure.analyse(layers)
    assert not {"H4", "H5"} & set(result.hazard_points["hazard_id"])
    # WA-Y covers treated H4 (200 people) and its zone's V4 (40): neither counts, so still 720 and 180.
    yellow = area_row(result, "WA-Y")
    assert (yellow["threatened_people"], yellow["people_in_danger_zones"]) == (720, 180)
    assert any("status = active" in note for note in result.assumptions)


def test_a_point_without_a_danger_zone_counts_its_inventory_people_but_no_one_in_zones(layers):
    listed = exposure.analyse(layers).hazard_points.set_index("hazard_id")
    assert (listed.loc["H3", "threatened_people"], listed.loc["H3", "people_in_danger_zones"]) == (20, 0)


def test_shelters_inside_a_danger_zone_are_not_available(layers):
    result = exposure.analyse(layers)
    # WA-Y holds SH1 (500) and SH2 (200, inside H1's zone): only SH1.  WA-O holds SH3 (300).
    assert (area_row(result, "WA-Y")["shelters"], area_row(result, "WA-Y")["shelter_capacity"]) == (1, 500)
    assert (area_row(result, "WA-O")["shelters"], area_row(result, "WA-O")["shelter_capacity"]) == (1, 300)
    # District: SH1 + SH3 = 500 + 300 = 800.
    assert (result.district["shelters"], result.district["shelter_capacity"]) == (2, 800)


def test_townships_roll_up_by_polygon_each_point_once(layers):
    townships = exposure.analyse(layers).townships.set_index("township")
    # 甲镇: H1 (yellow) + H2 (orange) = 2 points, 720 people, zones 180; 乙镇: H3 (orange), 20 people.
    assert townships.loc["甲镇", ["hazard_points", "threatened_people", "people_in_danger_zones"]].tolist() == [
        2,
        720,
        180,
    ]
    assert (townships.loc["甲镇", "hazard_points_orange"], townships.loc["甲镇", "hazard_points_yellow"]) == (1, 1)
    assert townships.loc["甲镇", "level"] == "orange"
    assert townships.loc["乙镇", ["hazard_points", "threatened_people"]].tolist() == [1, 20]


def test_township_polygon_wins_over_a_wrong_township_attribute_and_says_so(layers):
    layers["hazard_points"].loc[layers["hazard_points"]["hazard_id"] == "H2", "township"] = "乙镇"
    result = exposure.analyse(layers)
    # H2 lies at x = 7, inside 甲镇's polygon, so 甲镇 keeps it.
    assert result.townships.set_index("township").loc["甲镇", "hazard_points"] == 2
    assert result.hazard_points.set_index("hazard_id").loc["H2", "township"] == "甲镇"
    assert any(note.startswith("1 个预警区内隐患点的 township 属性") for note in result.assumptions)


def test_quick_township_warning_uses_the_township_polygon(layers):
    areas = exposure.township_warnings({"乙镇": "红色"}, layers["townships"])
    assert areas[["warning_id", "level"]].values.tolist() == [["TW-002", "red"]]
    result = exposure.analyse(layers, areas)
    red = area_row(result, "TW-002")
    # 乙镇 (x 10..20) holds active H3 (20/5) and H6 (10/3); H5 is cancelled.  H6's zone has no village.
    assert (red["hazard_points"], red["threatened_people"], red["threatened_households"]) == (2, 30, 8)
    assert red["people_in_danger_zones"] == 0
    # SH3 (300) lies on the township's west edge x = 10 and counts.
    assert (red["shelters"], red["shelter_capacity"]) == (1, 300)
    assert result.district["by_level"]["red"]["hazard_points"] == 2


def test_warning_areas_from_a_file_in_another_crs_with_chinese_levels_and_no_ids(layers):
    drawn = gpd.GeoDataFrame({"level": ["橙色"]}, geometry=[cells(2, 2, 8, 8)], crs=CRS).to_crs("EPSG:4548")
    result = exposure.analyse(layers, drawn)
    # Same polygon as WA-Y, now orange and numbered W001: H1 + H2 = 720 people.
    assert area_row(result, "W001")["level"] == "orange"
    assert area_row(result, "W001")["threatened_people"] == 720
    # 6 x 6 cells of 0.01 degree at 29.33N: about 0.96 km x 1.11 km each, 38.75 km2 in EPSG:4548.
    assert area_row(result, "W001")["area_km2"] == pytest.approx(38.75, abs=0.01)


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("orange", "orange"),
        ("RED", "red"),
        ("蓝", "blue"),
        ("黄色", "yellow"),
        ("二级", "orange"),
        ("一级（红色）", "red"),
    ],
)
def test_levels_may_be_spelled_the_plans_way(spelling, code):
    # Plan 4.4: 四级（蓝色）, 三级（黄色）, 二级（橙色）, 一级（红色）.
    assert exposure.parse_level(spelling) == code


def test_invalid_level_and_unknown_township_are_refused(layers):
    with pytest.raises(ValueError, match="unknown warning level 'purple'"):
        exposure.parse_level("purple")
    with pytest.raises(ValueError, match="unknown township '丙镇'"):
        exposure.township_warnings({"丙镇": "red"}, layers["townships"])
    with pytest.raises(ValueError, match="unknown warning level"):
        exposure.township_warnings({"甲镇": "紫色"}, layers["townships"])
    with pytest.raises(ValueError, match="TOWNSHIP=LEVEL"):
        exposure.parse_assignments(["甲镇"])
    with pytest.raises(ValueError, match="two levels"):
        exposure.parse_assignments(["甲镇=red", "甲镇=blue"])
    assert exposure.parse_assignments(["甲镇＝橙", " 乙镇 = blue"]) == {"甲镇": "orange", "乙镇": "blue"}
    bad = layers["warning_areas"].assign(level=["yellow", "green"])
    with pytest.raises(ValueError, match="'green'"):
        exposure.analyse(layers, bad)


def test_actions_are_cumulative_by_level(layers):
    # Plan 4.5.2-4.5.3: each level's response comes "on the basis of" the level below it.
    areas = exposure.analyse(layers).areas.set_index("warning_id")
    orange_ids = [action["id"] for action in areas.loc["WA-O", "actions"]]
    assert orange_ids == [action.id for action in rules.warning_actions("orange")]
    assert {"blue.patrol", "yellow.patrol", "orange.evacuation"} <= set(orange_ids)
    assert not any(i.startswith("red.") for i in orange_ids)
    yellow_ids = [action["id"] for action in areas.loc["WA-Y", "actions"]]
    assert "yellow.patrol" in yellow_ids and "orange.evacuation" not in yellow_ids
    assert areas.loc["WA-O", "evacuate"] == "if_needed"


def test_json_dict_is_plain_json_with_the_contract_keys(layers):
    doc = json.loads(json.dumps(exposure.analyse(layers).to_json_dict()))
    contract = {"hazard_points", "threatened_people", "threatened_households", "people_in_danger_zones"}
    assert {"warning_id", "level", "schools_in_danger_zones", "actions"} | contract <= set(doc["areas"][0])
    assert {"township"} | contract <= set(doc["townships"][0])
    assert {"hazard_points", "threatened_people", "people_in_danger_zones", "by_level"} <= set(doc["district"])
    assert {"hazard_id", "name", "township", "level", "danger_grade", "threatened_people"} <= set(
        doc["hazard_points_list"][0]
    )
    assert doc["assumptions"]
    assert doc["areas"][0]["valid_until"] is None


def test_no_warning_gives_empty_tables_and_zero_totals(layers):
    result = exposure.analyse(layers, layers["warning_areas"].iloc[0:0])
    assert result.areas.empty and result.townships.empty and result.hazard_points.empty
    assert (result.district["hazard_points"], result.district["level"]) == (0, None)


@pytest.fixture
def tiny_gpkg(tmp_path):
    store = pytest.importorskip("geo.store")
    path = tmp_path / "tiny.gpkg"
    store.open(path).create(tiny_dataset(), user="test")
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(["exposure", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_quick_township_warning_as_json(tiny_gpkg, capsys):
    code, out, _ = run_cli(["--data", str(tiny_gpkg), "--warning", "鲇鱼山镇=橙色", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert [a["level"] for a in doc["areas"]] == ["orange"]
    # 鲇鱼山镇 holds active H1 (150 people) and H2 (12): 150 + 12 = 162; H1's zones hold V1 (320), H2's none.
    assert (doc["district"]["hazard_points"], doc["district"]["threatened_people"]) == (2, 162)
    assert doc["district"]["people_in_danger_zones"] == 320
    assert [row["township"] for row in doc["townships"]] == ["鲇鱼山镇"]


def test_cli_reads_a_warnings_file_and_prints_tables(tiny_gpkg, tmp_path, capsys):
    drawn = tmp_path / "drawn.geojson"
    gpd.GeoDataFrame({"level": ["red"]}, geometry=[box(117.24, 29.29, 117.26, 29.31)], crs=CRS).to_file(drawn)
    code, out, _ = run_cli(["--data", str(tiny_gpkg), "--warnings", str(drawn)], capsys)
    assert code == 0
    assert "预警区 Warning areas" in out and "一级（红色）" in out and "Assumptions" in out


def test_cli_refuses_a_bad_warning_with_a_usage_error(tiny_gpkg, capsys):
    code, _, err = run_cli(["--data", str(tiny_gpkg), "--warning", "火星镇=red"], capsys)
    assert code == cli.EXIT_USAGE
    assert "unknown township '火星镇'" in err


def test_cli_json_on_the_demo_district_has_the_contract_keys(tmp_path, capsys):
    demo = pytest.importorskip("geo.demo")
    store = pytest.importorskip("geo.store")
    path = tmp_path / "demo.gpkg"
    store.open(path).create(demo.build(scale=1), user="test")
    code, out, _ = run_cli(["--data", str(path), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert {"areas", "townships", "district", "hazard_points_list", "assumptions"} <= set(doc)
    assert doc["areas"] and doc["townships"] and doc["hazard_points_list"]
    district = doc["district"]
    # Each warned point once: the list has one row per point, and the levels split the district total.
    assert district["hazard_points"] == len(doc["hazard_points_list"])
    assert sum(row["hazard_points"] for row in district["by_level"].values()) == district["hazard_points"]
    assert sum(row["hazard_points"] for row in doc["townships"]) == district["hazard_points"]
    assert sum(row["threatened_people"] for row in doc["townships"]) == district["threatened_people"]
