"""Importing what staff actually have: one file per real-world quirk, built here in code, each landing within a metre
of where its features truly are (computed independently with pyproj) with their Chinese text intact."""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from shapely.geometry import Point

from geo import importers, store
from geo.model import gcj02
from tests.support.importing import TRUTH, assert_at, by_id, fresh_copy, make_template, metres_apart, project

HAZARD_ROWS = [
    # id, name (rare characters of Jiangxi place names included), type, scale, township, village, people, property
    ("N1", "塅下村滑坡", "滑坡", "小型", "鲇鱼山镇", "塅下村", 120, 60.0),
    ("N2", "墈上组崩塌", "崩塌", "中型", "西郊街道", "墈上组", 8, 700.0),
    ("N3", "荷塘乡泥石流", "泥石流", "大型", "鲇鱼山镇", "荷塘村", 1200, 5.0),
]
#: Danger grades by plan 3.2 for the rows above (people 120 -> medium; 700 万元 -> medium; 1200 people -> giant).
GRADES = {"N1": "medium", "N2": "medium", "N3": "giant"}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def data(template, tmp_path) -> Path:
    return fresh_copy(template, tmp_path)


def import_all(source: Path, data: Path, layer: str = "hazard_points", **options) -> importers.ImportPlan:
    """Preview, check nothing was rejected, write, and return the plan."""
    plan = importers.preview_import(source, data, importers.ImportOptions(layer, **options))
    assert plan.rejected == [], plan.to_text()
    importers.apply_plan(plan, user="tester")
    return plan


def assert_hazards_landed(data: Path) -> None:
    stored = by_id(store.open(data).read_layer("hazard_points"), "hazard_id")
    for hazard_id, name, _, _, township, village, people, money in HAZARD_ROWS:
        row = stored[hazard_id]
        assert_at(row, *TRUTH[hazard_id])
        assert (row["name"], row["township"], row["village"]) == (name, township, village)
        assert (row["threatened_people"], row["threatened_property_10k_yuan"]) == (people, money)
        assert row["danger_grade"] == GRADES[hazard_id]
        assert row["version"] == 1 and row["status"] == "active"
    assert stored["N1"]["hazard_type"] == "landslide" and stored["N3"]["scale_class"] == "large"


def hazard_frame(crs: str = "EPSG:4490") -> gpd.GeoDataFrame:
    """The test hazards with Chinese column names; in a DBF, GDAL cuts 威胁财产(万元) to 10 bytes, mid-character."""
    records = [
        {"统一编号": i, "名称": n, "灾害类型": t, "规模等级": s, "乡镇": tw, "村": v, "威胁户数": p // 4,
         "威胁人数": p, "威胁财产(万元)": m}
        for i, n, t, s, tw, v, p, m in HAZARD_ROWS
    ]  # fmt: skip
    geometry = [Point(TRUTH[row[0]]) for row in HAZARD_ROWS]
    return gpd.GeoDataFrame(records, geometry=geometry, crs="EPSG:4490").to_crs(crs)


def notes(plan: importers.ImportPlan) -> str:
    return "\n".join(str(n) for n in plan.notes)


# --------------------------------------------------------------------------------------------------
# Shapefiles in GBK


def gbk_shapefile(folder: Path, ldid: int | None = None) -> Path:
    """A shapefile with GBK text and no .cpg, as ArcGIS and MapGIS users hand them over."""
    path = folder / "隐患点.shp"
    with warnings.catch_warnings():  # GDAL says, in GBK bytes, that it cut 威胁财产(万元): that cut is the point
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(hazard_frame(), path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    if ldid is not None:
        with open(path.with_suffix(".dbf"), "r+b") as f:
            f.seek(29)
            f.write(bytes([ldid]))
    return path


def test_gbk_shapefile_without_cpg_is_read_by_its_content(data, tmp_path):
    source = gbk_shapefile(tmp_path)
    assert source.with_suffix(".dbf").read_bytes()[29] == 0  # GDAL wrote no language driver
    plan = import_all(source, data)
    assert "DBF encoding gb18030 (detected from the text)" in notes(plan)
    assert_hazards_landed(data)


@pytest.mark.parametrize("ldid", [0x4D, 0x57])
def test_gbk_shapefile_with_a_language_driver_byte(data, tmp_path, ldid):
    plan = import_all(gbk_shapefile(tmp_path, ldid), data)
    assert f"DBF encoding gbk (DBF language driver byte 0x{ldid:02X})" in notes(plan)
    assert_hazards_landed(data)


def test_zipped_gbk_shapefile_is_read_in_place(data, tmp_path):
    shp = gbk_shapefile(tmp_path)
    source = tmp_path / "隐患点.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in shp.parent.glob("隐患点.*"):
            if part.suffix != ".zip":
                archive.write(part, f"成果/{part.name}")
    for part in shp.parent.glob("隐患点.*"):
        if part.suffix != ".zip":
            part.unlink()  # GDAL must read the zip itself, nothing extracted beside it
    import_all(source, data)
    assert_hazards_landed(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.gpkg", "data.gpkg.lock", "隐患点.zip"]


def test_encoding_option_overrides_detection(data, tmp_path):
    # Read as Windows-1252, the GBK headers turn to mojibake: the error shows them so the user sees why.
    with pytest.raises(importers.SourceError, match="no id column") as caught:
        importers.preview_import(
            gbk_shapefile(tmp_path), data, importers.ImportOptions("hazard_points", encoding="cp1252")
        )
    assert "Ãû³Æ" in str(caught.value)


# --------------------------------------------------------------------------------------------------
# Excel with Chinese headers and DMS coordinates


def dms(value: float, style: str) -> str:
    """Degree-minute-second text of ``value`` in one of the spellings staff type."""
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return style.format(d=degrees, m=minutes, s=seconds)


def dms_value(text: str) -> float:
    """What a DMS text means, computed here without the importer."""
    d, m, s = (float(x) for x in re.findall(r"\d+(?:\.\d+)?", text))
    return d + m / 60 + s / 3600


def test_excel_inventory_with_title_row_merged_cells_and_dms(data, tmp_path):
    styles = [
        ("{d}°{m}′{s}″", "{d}°{m}′{s}″"),
        ("{d}度{m}分{s}秒", "{d}度{m}分{s}秒"),
        ("E{d}°{m}'{s}\"", "{d}°{m}'{s}\"N"),
    ]
    book = openpyxl.Workbook()
    book.active.title = "填表说明"
    book.active.append(["本表由各乡镇填报"])
    sheet = book.create_sheet("隐患点台账")
    headers = ["统一编号", "野外编号", "名称", "灾害类型", "规模等级", "乡镇", "村", "经度", "纬度", "威胁户数",
               "威胁人数", "威胁财产（万元）", "监测人", "联系电话", "避险场所", "险情等级"]  # fmt: skip
    sheet.append(["昌江区地质灾害隐患点台账（2024 年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append(headers)
    expected = {}
    for (hazard_id, name, kind, scale, township, village, people, money), (lon_style, lat_style) in zip(
        HAZARD_ROWS, styles, strict=True
    ):
        lon, lat = (dms(v, s) for v, s in zip(TRUTH[hazard_id], (lon_style, lat_style), strict=True))
        expected[hazard_id] = (dms_value(lon), dms_value(lat))
        sheet.append([hazard_id, "YW-01", name, kind, scale, township, village, lon, lat, people // 4, people,
                      money, "王监测", 13800000009, "枫林村委会", "小型"])  # fmt: skip
    # A township written once for the first two rows, in a merged cell, as inventories do.
    sheet["F4"] = None
    sheet.merge_cells("F3:F4")
    sheet["F3"] = "鲇鱼山镇"
    source = tmp_path / "台账.xlsx"
    book.save(source)

    plan = import_all(source, data)
    assert "header on row 2" in notes(plan) and "read sheet '隐患点台账'" in notes(plan)
    assert "野外编号" in notes(plan)  # said to be left out, not silently dropped
    assert [e.row for e in plan.added] == [3, 4, 5]  # spreadsheet rows, title and header counted
    stored = by_id(store.open(data).read_layer("hazard_points"), "hazard_id")
    for hazard_id, (lon, lat) in expected.items():
        assert_at(stored[hazard_id], lon, lat)
        assert metres_apart(lon, lat, *TRUTH[hazard_id]) < 0.01
        assert stored[hazard_id]["monitor_phone"] == "13800000009"
        assert stored[hazard_id]["shelter_id"] == "SH1"  # 枫林村委会 is the name of shelter SH1
        assert stored[hazard_id]["danger_grade"] == GRADES[hazard_id]  # 险情等级 小型 in the file is ignored
    assert stored["N2"]["township"] == "鲇鱼山镇"  # from the merged cell


# --------------------------------------------------------------------------------------------------
# CSV in Gauss-Krüger coordinates, no CRS information


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def projected_csv(path: Path, epsg: int, survey_order: bool) -> Path:
    header = [
        "统一编号",
        "名称",
        "灾害类型",
        "规模等级",
        "乡镇",
        "村",
        "X",
        "Y",
        "威胁户数",
        "威胁人数",
        "威胁财产(万元)",
    ]
    rows = []
    for hazard_id, name, kind, scale, township, village, people, money in HAZARD_ROWS:
        easting, northing = project(epsg, *TRUTH[hazard_id])
        xy = [f"{northing:.3f}", f"{easting:.3f}"] if survey_order else [f"{easting:.3f}", f"{northing:.3f}"]
        rows.append([hazard_id, name, kind, scale, township, village, *xy, people // 4, people, money])
    return write_csv(path, header, rows, encoding="gbk")


@pytest.mark.parametrize(
    ("epsg", "survey_order", "said"),
    [
        (4527, True, "zone-prefixed eastings: EPSG:4527"),
        (4498, False, "zone-prefixed eastings: EPSG:4498"),
        (4548, False, "ASSUMED EPSG:4548"),
    ],
)
def test_csv_in_gauss_kruger_without_crs_info(data, tmp_path, epsg, survey_order, said):
    plan = import_all(projected_csv(tmp_path / "坐标.csv", epsg, survey_order), data)
    assert said in notes(plan)
    assert ("northing first" in notes(plan)) is survey_order
    if epsg == 4548:
        assert "from the data set's longitude 117.2E" in notes(plan)
    assert_hazards_landed(data)


def test_crs_option_overrides_detection(data, tmp_path):
    plan = import_all(projected_csv(tmp_path / "坐标.csv", 4548, False), data, crs="EPSG:4548")
    assert "ASSUMED" not in notes(plan) and "as given" in notes(plan)
    assert_hazards_landed(data)


def test_a_wrong_crs_option_rejects_rows_outside_china(data, tmp_path):
    plan = importers.preview_import(
        projected_csv(tmp_path / "坐标.csv", 4548, False), data, importers.ImportOptions("hazard_points", crs="4527")
    )
    assert len(plan.rejected) == 3
    assert all("wrong coordinate system?" in str(r.reasons[0]) for r in plan.rejected)


# --------------------------------------------------------------------------------------------------
# GeoJSON digitised on Gaode maps (GCJ-02), KML, GeoPackage


def gcj_geojson(path: Path) -> Path:
    frame = hazard_frame()
    lon, lat = gcj02.wgs84_to_gcj02(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    frame = frame.set_geometry(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    pyogrio.write_dataframe(frame, path, driver="GeoJSON")
    return path


def test_gcj02_geojson_is_converted_when_asked(data, tmp_path):
    source = gcj_geojson(tmp_path / "高德标注.geojson")
    plan = import_all(source, data, from_gcj02=True)
    assert "GCJ-02" in notes(plan)
    assert_hazards_landed(data)


def test_gcj02_geojson_read_as_wgs84_is_hundreds_of_metres_off(data, tmp_path):
    plan = importers.preview_import(
        gcj_geojson(tmp_path / "高德标注.geojson"), data, importers.ImportOptions("hazard_points")
    )
    geom = plan.added[0].new["geometry"]
    assert metres_apart(geom.x, geom.y, *TRUTH[plan.added[0].feature_id]) > 100


def test_kml_placemarks_become_shelters(data, tmp_path):
    frame = gpd.GeoDataFrame(
        {"Name": ["塅下村小学操场", "墈上组文化礼堂"], "避灾场所编号": ["N1", "N2"], "容纳人数": ["300", "120人"]},
        geometry=[Point(TRUTH["N1"]), Point(TRUTH["N2"])],
        crs="EPSG:4326",
    )
    source = tmp_path / "避灾场所.kml"
    pyogrio.write_dataframe(frame, source, driver="LIBKML")
    plan = import_all(source, data, layer="shelters")
    assert "not imported" not in notes(plan)  # KML's own bookkeeping columns are passed over quietly
    stored = by_id(store.open(data).read_layer("shelters"), "shelter_id")
    assert (stored["N1"]["name"], stored["N1"]["capacity"], stored["N2"]["capacity"]) == ("塅下村小学操场", 300, 120)
    assert_at(stored["N1"], *TRUTH["N1"])
    assert_at(stored["N2"], *TRUTH["N2"])


def schools_geopackage(path: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "学校代码": ["N1", "N2"],
            "学校名称": ["塅下村小学", "墈上教学点"],
            "乡镇": ["鲇鱼山镇", "鲇鱼山镇"],
            "学段": ["小学", "九年一贯制"],
            "城乡": ["农村", "城区"],
            "是否教学点": ["否", "是"],
            "学生数": [320, 25],
            "教师数": [20, 2],
            "四年级学生数": [50, 4],
            "是否有游泳池": ["无", "有"],
            "游泳指导员": [1, 0],
            "红十字救护师资": [0, 0],
        },
        geometry=[Point(TRUTH["N1"]), Point(TRUTH["N2"])],
        crs="EPSG:4490",
    ).to_crs("EPSG:4548")
    pyogrio.write_dataframe(frame, path, layer="学校调查")
    pyogrio.write_dataframe(frame.head(1), path, layer="草稿")
    return path


def test_geopackage_layer_is_chosen_and_reprojected(data, tmp_path):
    source = schools_geopackage(tmp_path / "学校.gpkg")
    with pytest.raises(importers.SourceError, match="'学校调查', '草稿'"):
        importers.preview_import(source, data, importers.ImportOptions("schools"))
    import_all(source, data, layer="schools", source_layer="学校调查")
    stored = by_id(store.open(data).read_layer("schools"), "school_id")
    assert stored["N2"]["stage"] == "combined" and stored["N2"]["area_type"] == "urban"
    assert stored["N2"]["is_teaching_point"] and stored["N2"]["has_pool"]
    assert not stored["N1"]["is_teaching_point"] and not stored["N1"]["has_pool"]
    assert_at(stored["N1"], *TRUTH["N1"])
    assert_at(stored["N2"], *TRUTH["N2"])


def test_excel_unicode_text_export_is_read(data, tmp_path):
    # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated.
    source = tmp_path / "村庄.txt"
    lon, lat = TRUTH["N1"]
    source.write_bytes(
        f"村庄编号\t村名\t乡镇\t人口\t户数\t经度\t纬度\nN1\t塅下村\t鲇鱼山镇\t45\t12\t{lon}\t{lat}\n".encode("utf-16")
    )
    plan = import_all(source, data, layer="villages")
    assert "utf-16" in notes(plan)
    stored = by_id(store.open(data).read_layer("villages"), "village_id")["N1"]
    assert stored["name"] == "塅下村"
    assert_at(stored, lon, lat)


def test_a_datum_without_exact_parameters_is_warned_about(data, tmp_path):
    plan = importers.preview_import(
        projected_csv(tmp_path / "坐标.csv", 4548, False),
        data,
        importers.ImportOptions("hazard_points", crs="EPSG:2436"),
    )
    assert "no exact transformation from Beijing 1954" in notes(plan)


def test_gcj02_option_on_projected_coordinates_is_refused(data, tmp_path):
    source = projected_csv(tmp_path / "坐标.csv", 4527, True)
    with pytest.raises(importers.SourceError, match=r"坐标\.csv: --from-gcj02 只适用于经纬度"):
        importers.preview_import(source, data, importers.ImportOptions("hazard_points", from_gcj02=True))
