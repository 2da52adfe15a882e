"""Tests of geo.importers.warning_areas: the one reader of warning-area files, shared by the Warning page (an upload,
as bytes) and ``python -m geo exposure --warnings FILE`` (a path).

Plan 4.4 names the four levels 四级（蓝色）, 三级（黄色）, 二级（橙色）, 一级（红色）; a file may spell them any of the
plan's ways, under any of the importers' headers for the level column, and both entry points must read it alike.
The tiny data set (tests/fixtures.py) has hazard point H1 (150 threatened people) at 117.25E 29.30N, whose danger
zones hold village V1 (320 people).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box, mapping

from geo import cli, store
from geo.analysis import exposure
from geo.importers import aliases
from geo.importers.warning_areas import WarningAreaError, check_warning_areas, read_warning_areas
from geo.model import rules
from tests.support.fixtures import tiny_dataset

#: Around H1 only.
AROUND_H1 = box(117.24, 29.29, 117.26, 29.31)
POINT = {"type": "Point", "coordinates": [117.2, 29.3]}
#: Crosses itself: an invalid polygon.
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[117.0, 29.0], [117.1, 29.1], [117.1, 29.0], [117.0, 29.1], [117.0, 29.0]]],
}


def geojson(column: str, *features: tuple[object, dict]) -> bytes:
    """A GeoJSON FeatureCollection whose features carry one property, ``column``, and a geometry."""
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {column: value}, "geometry": g} for value, g in features],
    }
    return json.dumps(collection, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def tiny_gpkg(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.gpkg"
    store.open(path).create(tiny_dataset(), user="test")
    return path


def cli_exposure(args: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(["exposure", *args])
    out, err = capsys.readouterr()
    return code, out, err


def page_reading(data: bytes, filename: str) -> list[str]:
    """The problems the Warning page shows for an upload: what the reader it calls raises."""
    with pytest.raises(WarningAreaError) as caught:
        read_warning_areas(data, filename)
    return caught.value.problems


# --------------------------------------------------------------------------------------------------
# The page and the CLI read a file alike


@pytest.mark.parametrize("header", ["等级", "预警等级", "预警级别", "级别", "level"])
@pytest.mark.parametrize("level", ["红色", "一级", "一级（红色）", "red"])
def test_the_page_and_the_cli_read_every_header_and_spelling_of_a_red_warning_alike(
    header, level, tiny_gpkg, tmp_path, capsys
):
    """Plan 4.4: 一级（红色） however the file writes it, under any header the importers know for the level."""
    data = geojson(header, (level, mapping(AROUND_H1)))
    # The page: the upload's bytes through the reader, then the analysis (ui.analysis.exposure_of_areas).
    areas = read_warning_areas(data, "预警.geojson")
    page = json.loads(json.dumps(exposure.analyse(store.open(tiny_gpkg).read_layers(), areas).to_json_dict()))
    # The CLI: the same file by its path.
    path = tmp_path / "预警.geojson"
    path.write_bytes(data)
    code, out, err = cli_exposure(["--data", str(tiny_gpkg), "--warnings", str(path), "--json"], capsys)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    del doc["data"]
    assert doc == page
    assert [(a["warning_id"], a["level"]) for a in doc["areas"]] == [("W001", "red")]
    red = doc["district"]["by_level"]["red"]
    assert (red["hazard_points"], red["threatened_people"], red["people_in_danger_zones"]) == (1, 150, 320)


def test_a_bad_file_gets_the_same_messages_from_the_page_and_the_cli(tiny_gpkg, tmp_path, capsys):
    data = geojson(
        "等级",
        ("purple", mapping(AROUND_H1)),
        ("红色", POINT),
        ("一级", BOWTIE),
        (None, mapping(AROUND_H1)),
    )
    problems = page_reading(data, "bad.geojson")
    path = tmp_path / "bad.geojson"
    path.write_bytes(data)
    code, out, err = cli_exposure(["--data", str(tiny_gpkg), "--warnings", str(path)], capsys)
    assert (code, out) == (cli.EXIT_USAGE, "")
    assert err == f"error: {'; '.join(problems)}\n"
    # Every problem at once, Chinese first, each naming its feature.
    assert problems == [
        "第 1 个要素：预警等级 'purple' 无法识别 / feature 1: unknown level",
        "第 2 个要素是 Point，应为面 / feature 2 is a Point, not a polygon",
        "第 3 个要素的面无效 / feature 3 is an invalid polygon: Self-intersection[117.05 29.05]",
        "第 4 个要素没有预警等级 / feature 4 has no level",
    ]


def test_the_cli_refuses_what_the_page_refuses_with_a_usage_error(tiny_gpkg, tmp_path, capsys):
    shapefile = tmp_path / "w.shp"
    gpd.GeoDataFrame({"level": ["red"]}, geometry=[AROUND_H1], crs="EPSG:4490").to_file(shapefile)
    code, _, err = cli_exposure(["--data", str(tiny_gpkg), "--warnings", str(shapefile)], capsys)
    assert code == cli.EXIT_USAGE
    assert err == f"error: {'; '.join(page_reading(shapefile.read_bytes(), 'w.shp'))}\n"
    assert "文件类型 .shp 不支持" in err
    code, _, err = cli_exposure(["--data", str(tiny_gpkg), "--warnings", str(tmp_path / "none.geojson")], capsys)
    assert code == cli.EXIT_USAGE
    assert err.startswith("error: 找不到文件 ") and "none.geojson" in err
    code, _, err = cli_exposure(["--data", str(tiny_gpkg), "--warnings-layer", "x"], capsys)
    assert (code, err) == (cli.EXIT_USAGE, "error: --warnings-layer needs --warnings FILE\n")


# --------------------------------------------------------------------------------------------------
# Files


def test_a_geopackage_is_read_from_its_warning_areas_layer_unless_another_is_named(tmp_path):
    path = tmp_path / "upload.gpkg"
    layers = tiny_dataset()
    pyogrio.write_dataframe(layers["schools"], path, layer="schools")
    pyogrio.write_dataframe(layers["warning_areas"], path, layer="warning_areas")
    pyogrio.write_dataframe(layers["warning_areas"].assign(level="橙色"), path, layer="tomorrow")
    assert read_warning_areas(path.read_bytes(), "upload.gpkg")["level"].tolist() == ["blue", "red"]
    assert read_warning_areas(path, layer="tomorrow")["level"].tolist() == ["orange", "orange"]
    with pytest.raises(
        WarningAreaError, match=r"no layer 'today' \(the file has: 'schools', 'warning_areas', 'tomorrow'\)"
    ):
        read_warning_areas(path, layer="today")
    # A colon in the name does not cut the path GDAL is given.
    renamed = tmp_path / "预警:0601.gpkg"
    path.rename(renamed)
    assert read_warning_areas(renamed)["warning_id"].tolist() == ["W1", "W2"]


def test_a_file_is_opened_only_by_the_driver_its_suffix_names(tmp_path):
    """A VRT renamed .geojson or .gpkg would, by its own driver, read a file of the server: it is refused."""
    secret = tmp_path / "secret.csv"
    secret.write_text('WKT,level\n"POLYGON((117 29,117.1 29,117.1 29.1,117 29))",red\n', encoding="utf-8")
    vrt = (
        f'<OGRVRTDataSource><OGRVRTLayer name="secret"><SrcDataSource>{secret}</SrcDataSource>'
        '<GeometryType>wkbPolygon</GeometryType><GeometryField encoding="WKT" field="WKT"/></OGRVRTLayer>'
        "</OGRVRTDataSource>"
    ).encode()
    disguised = tmp_path / "w.geojson"
    disguised.write_bytes(vrt)
    assert len(pyogrio.read_dataframe(disguised)) == 1  # what GDAL does when left to choose the driver
    for source, filename in ((vrt, "w.geojson"), (vrt, "w.gpkg"), (disguised, None)):
        with pytest.raises(WarningAreaError, match="无法读取文件"):
            read_warning_areas(source, filename)


def test_uploads_that_are_too_large_foreign_or_unreadable_are_refused():
    with pytest.raises(WarningAreaError) as caught:
        read_warning_areas(b"x" * 2048, "w.geojson", max_mb=0.001)
    assert caught.value.problems == ["文件超过 0.001 MB / the file is larger than 0.001 MB"]
    assert page_reading(b"x", "w.kml") == [
        "文件类型 .kml 不支持，请使用 .geojson、.json、.gpkg 文件 / "
        "unsupported file type .kml: use .geojson, .json, .gpkg"
    ]
    (problem,) = page_reading(b"not json", "w.geojson")
    assert problem.startswith("无法读取文件 w.geojson / cannot read w.geojson: ")
    assert "hazmap-warning-" not in problem  # the server's scratch copy is not named to the user
    (problem,) = page_reading(b"not a database", "w.gpkg")
    assert problem.startswith("无法读取文件 w.gpkg / cannot read w.gpkg: ")


# --------------------------------------------------------------------------------------------------
# Checks


def areas(rows: list[dict], crs: str | None = "EPSG:4490") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def test_columns_are_found_by_the_importers_spellings_and_ids_numbered_as_the_analysis_numbers_them():
    checked = check_warning_areas(
        areas(
            [
                {"编号": "YJ-1", "预警级别": "橙色预警", "发布日期": "2024-06-01", "geometry": AROUND_H1},
                {"编号": None, "预警级别": "四级（蓝色）", "发布日期": None, "geometry": box(117.2, 29.2, 117.3, 29.3)},
            ]
        )
    )
    assert checked[["warning_id", "level"]].values.tolist() == [["YJ-1", "orange"], ["W002", "blue"]]
    assert checked["issued_at"].iloc[0] == "2024-06-01"
    # What the check returns, the analysis takes as it is.
    assert exposure.analyse(tiny_dataset(), checked).areas["warning_id"].tolist() == ["YJ-1", "W002"]


def test_a_projected_file_is_brought_to_cgcs2000_and_one_declared_wrong_is_refused():
    metric = areas([{"level": "red", "geometry": AROUND_H1}]).to_crs("EPSG:4548")
    checked = check_warning_areas(metric)
    assert checked.crs == "EPSG:4490"
    assert checked.geometry.iloc[0].equals_exact(AROUND_H1, tolerance=1e-6)
    # Gauss-Krüger metres labelled as lon/lat: the classic wrong CRS, which would silently find nothing.
    mislabelled = metric.set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(WarningAreaError, match="第 1 个要素不在中国境内，请检查坐标系"):
        check_warning_areas(mislabelled)
    # A local site grid has no way to CGCS2000.
    site = 'LOCAL_CS["site grid",LOCAL_DATUM["d",0],UNIT["metre",1],AXIS["E",EAST],AXIS["N",NORTH]]'
    with pytest.raises(WarningAreaError, match=r"^无法从坐标系 site grid 转换到 CGCS2000"):
        check_warning_areas(areas([{"level": "red", "geometry": box(0, 0, 10, 10)}], crs=site))


def test_every_problem_of_the_layer_is_listed_at_once():
    with pytest.raises(WarningAreaError) as caught:
        check_warning_areas(
            areas(
                [
                    {"等级": "red", "级别": "red", "warning_id": "A", "geometry": AROUND_H1},
                    {"等级": "blue", "级别": "blue", "warning_id": "A", "geometry": AROUND_H1},
                ],
                crs=None,
            )
        )
    assert caught.value.problems == [
        "等级、级别 都是预警等级字段，请只保留一个 / columns 等级, 级别 all mean level: keep one",
        "文件没有坐标系 / the file has no CRS",
        "第 1、2 个要素的预警编号都是 'A' / features 1, 2 share the warning_id 'A'",
    ]
    with pytest.raises(WarningAreaError) as caught:
        check_warning_areas(gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4490"))
    assert caught.value.problems == [
        "缺少预警等级字段（可用表头：level、预警等级、Warning level、预警级别、级别、等级）/ no level column "
        "(headers accepted: level、预警等级、Warning level、预警级别、级别、等级)",
        "文件中没有要素 / the file holds no feature",
    ]


def test_an_inventory_import_and_the_warning_reader_accept_the_same_level_spellings():
    # Plan 4.4: one list of spellings (geo.model.rules.level_spellings) serves the importers' coded values of
    # warning_areas.level and parse_level, which the warning-area reader and the CLI use.
    imported = aliases.value_index("warning_areas", "level")
    for code in rules.WARNING_LEVELS:
        for spelling in rules.level_spellings(code):
            assert rules.parse_level(spelling) == code
            assert imported[aliases.normalize_key(spelling)] == code
    assert set(imported.values()) == set(rules.WARNING_LEVELS)
    assert rules.parse_level("Ⅰ级") == rules.parse_level("一级（红色）") == "red"
