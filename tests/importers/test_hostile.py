"""Hostile and broken input: every refusal names the file and what is wrong, and leaves the data set byte for byte
as it was; hostile text in values is data, stored exactly as given."""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from shapely.geometry import LineString, Point, Polygon

from geo import cli, importers, store
from tests.support.importing import TRUTH, by_id, fresh_copy, make_template, sha256

HOSTILE = ["<img src=x onerror=alert(1)>", "'; DROP TABLE hazard_points; --", "${alert(1)}"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def data(template, tmp_path) -> Path:
    return fresh_copy(template, tmp_path)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def good_shapefile(folder: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"name": ["新村"], "village_id": ["V9"], "population": [10], "households": [3]},
        geometry=[Point(TRUTH["N1"])],
        crs="EPSG:4490",
    )
    path = folder / "villages.shp"
    pyogrio.write_dataframe(frame, path)
    return path


def zip_of(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def shapefile_members(folder: Path) -> dict[str, bytes]:
    shp = good_shapefile(folder)
    return {p.name: p.read_bytes() for p in folder.glob(f"{shp.stem}.*")}


def refused_with(data: Path, source: Path, match: str, options: importers.ImportOptions) -> None:
    """The preview is refused with a SourceError naming the file, and the data set is unchanged."""
    before = sha256(data)
    with pytest.raises(importers.SourceError, match=match) as caught:
        importers.preview_import(source, data, options)
    assert source.name in caught.value.source
    assert sha256(data) == before


def refused(data: Path, source: Path, match: str, layer: str = "villages", **options) -> None:
    """As :func:`refused_with`, and ``python -m geo import --yes`` exits with 2 and writes nothing either."""
    refused_with(data, source, match, importers.ImportOptions(layer, **options))
    before = sha256(data)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in options.items() if not isinstance(v, bool)]
    assert cli.main(["import", str(source), "--layer", layer, "--data", str(data), "--yes", *flags]) == 2
    assert sha256(data) == before


# --------------------------------------------------------------------------------------------------
# Damaged and unsupported files


def test_truncated_zip(data, tmp_path, capsys):
    source = zip_of(
        tmp_path / "villages.zip",
        shapefile_members(tmp_path / "parts" if (tmp_path / "parts").mkdir() is None else tmp_path),
    )
    source.write_bytes(source.read_bytes()[: os.path.getsize(source) // 2])
    refused(data, source, "not a valid zip archive")
    assert "villages.zip" in capsys.readouterr().err


def test_random_bytes_geopackage(data, tmp_path):
    source = tmp_path / "调查.gpkg"
    source.write_bytes(os.urandom(4096))
    refused(data, source, "is not GeoPackage")


def test_broken_shp_with_sound_sidecars(data, tmp_path):
    shp = good_shapefile(tmp_path)
    shp.write_bytes(os.urandom(300))
    refused(data, shp, "is not Shapefile")


def test_shp_truncated_after_its_header(data, tmp_path):
    shp = good_shapefile(tmp_path)
    shp.write_bytes(shp.read_bytes()[:100])
    refused(data, shp, "no feature has a geometry")


def test_shapefile_without_its_dbf(data, tmp_path):
    shp = good_shapefile(tmp_path)
    shp.with_suffix(".dbf").unlink()
    refused(data, shp, r"lacks its \.dbf")


def test_damaged_workbook(data, tmp_path):
    source = tmp_path / "台账.xlsx"
    source.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    refused(data, source, "not a valid zip archive|cannot read the Excel file")


@pytest.mark.parametrize("name", ["台账.xls", "map.dwg", "no_suffix"])
def test_unsupported_file_types(data, tmp_path, name):
    source = tmp_path / name
    source.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))
    refused(data, source, "unsupported file type")


def test_missing_file(data, tmp_path):
    refused(data, tmp_path / "nowhere.csv", "no such file")


# --------------------------------------------------------------------------------------------------
# Hostile archives: refused before GDAL or openpyxl reads them


def test_zip_slip_member(data, tmp_path):
    members = {"../evil.shp": b"x", "villages.dbf": b"x"}
    refused(data, zip_of(tmp_path / "slip.zip", members), "unsafe path")


def test_absolute_member(data, tmp_path):
    refused(data, zip_of(tmp_path / "abs.zip", {"/etc/evil.shp": b"x"}), "unsafe path")


def test_zip_bomb_by_ratio(data, tmp_path):
    # 20 MB of zeros deflates to about 20 kB: a thousand to one.
    members = {**shapefile_members(tmp_path), "filler.dbf": bytes(20 * 1024 * 1024)}
    refused(data, zip_of(tmp_path / "bomb.zip", members), "probable zip bomb")


def test_archive_expanding_beyond_the_cap(data, tmp_path):
    # Hex text deflates about two to one: no bomb, but 600 kB unpacked is over a 400 kB cap the zip itself is under.
    members = {**shapefile_members(tmp_path), "notes.txt": os.urandom(300_000).hex().encode()}
    source = zip_of(tmp_path / "big.zip", members)
    limits = importers.ImportLimits(max_bytes=400_000)
    assert os.path.getsize(source) < limits.max_bytes
    refused_with(data, source, "the archive expands to", importers.ImportOptions("villages", limits=limits))


def test_too_many_members(data, tmp_path):
    members = {f"part{i}.txt": b"x" for i in range(101)}
    refused(data, zip_of(tmp_path / "many.zip", members), "101 members")


def test_file_over_the_size_cap(data, tmp_path):
    source = write_csv(tmp_path / "big.csv", ["村庄编号"], [["V9"]] * 100)
    limits = importers.ImportLimits(max_bytes=100)
    refused_with(data, source, r"over the 0\.0 MB import limit", importers.ImportOptions("villages", limits=limits))


def test_workbook_bomb_is_refused_before_openpyxl(data, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["村庄编号", "名称"])
    good = tmp_path / "good.xlsx"
    book.save(good)
    with zipfile.ZipFile(good) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["xl/media/padding.bin"] = bytes(30 * 1024 * 1024)
    refused(data, zip_of(tmp_path / "bomb.xlsx", members), "probable zip bomb")


# --------------------------------------------------------------------------------------------------
# Wrong layers, sheets and columns


@pytest.mark.parametrize("asked", ["其他", "'; DROP TABLE hazard_points; --", 'villages" OR 1=1 --'])
def test_a_layer_not_in_the_file_is_refused_with_the_files_layers(data, tmp_path, asked):
    source = tmp_path / "src.gpkg"
    frame = gpd.GeoDataFrame({"village_id": ["V9"]}, geometry=[Point(TRUTH["N1"])], crs="EPSG:4490")
    pyogrio.write_dataframe(frame, source, layer="村庄")
    before_source = sha256(source)
    refused(data, source, "the file has: '村庄'", source_layer=asked)
    assert sha256(source) == before_source


def test_a_sheet_not_in_the_workbook_is_refused_with_its_sheets(data, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "村庄"
    book.active.append(["村庄编号", "名称"])
    source = tmp_path / "村庄.xlsx"
    book.save(source)
    refused(data, source, "the file has: '村庄'", sheet="<img src=x onerror=alert(1)>")


def test_no_id_column_is_refused_with_the_files_columns(data, tmp_path):
    source = write_csv(tmp_path / "x.csv", ["名称", "经度", "纬度"], [["新村", "117.2", "29.3"]])
    refused(data, source, "no id column village_id .* columns in the file: 名称、经度、纬度")


def test_two_columns_for_one_field_are_refused(data, tmp_path):
    source = write_csv(tmp_path / "x.csv", ["村庄编号", "乡镇", "所在乡镇"], [["V9", "a", "b"]])
    refused(data, source, "township ← 乡镇、所在乡镇")


def test_no_header_row_is_refused(data, tmp_path):
    source = write_csv(tmp_path / "x.csv", ["a", "b"], [["1", "2"]])
    refused(data, source, "no header row in the first 20 rows")


# --------------------------------------------------------------------------------------------------
# Invalid geometries: rejected rows, each with its reason


def test_invalid_and_misplaced_geometries_are_rejected_with_reasons(data, tmp_path):
    bowtie = Polygon([(117.0, 29.1), (117.1, 29.2), (117.1, 29.1), (117.0, 29.2)])
    frame = gpd.GeoDataFrame(
        {"township_code": ["T1", "T2", "T3"], "name": ["甲", "乙", "丙"], "area_type": ["农村", "城区", "农村"]},
        geometry=[bowtie, LineString([(117.0, 29.1), (117.1, 29.2)]), Polygon([(0, 0), (1, 0), (1, 1)])],
        crs="EPSG:4490",
    )
    source = tmp_path / "乡镇.geojson"
    pyogrio.write_dataframe(frame, source, driver="GeoJSON")
    plan = importers.preview_import(source, data, importers.ImportOptions("townships"))
    reasons = {r.feature_id: " ".join(m.en for m in r.reasons) for r in plan.rejected}
    assert "invalid geometry: Self-intersection" in reasons["T1"]
    assert "geometry is a LineString, expected Polygon" in reasons["T2"]
    assert "outside China" in reasons["T3"]
    before = sha256(data)
    with pytest.raises(importers.ImportBlocked):
        importers.apply_plan(plan, user="tester")
    assert sha256(data) == before


def test_coordinates_that_fit_no_system_are_rejected(data, tmp_path):
    source = write_csv(
        tmp_path / "x.csv", ["村庄编号", "名称", "人口", "户数", "X", "Y"], [["V9", "a", "1", "1", "12", "999999999"]]
    )
    (rejection,) = importers.preview_import(source, data, importers.ImportOptions("villages")).rejected
    assert "look like neither lon/lat nor Gauss-Krüger; give --crs" in rejection.reasons[0].en


# --------------------------------------------------------------------------------------------------
# Hostile text is data


def test_hostile_values_are_stored_exactly_as_given(data, tmp_path):
    header = ["统一编号", "名称", "灾害类型", "规模等级", "乡镇", "村", "经度", "纬度", "威胁户数", "威胁人数",
              "威胁财产(万元)", "监测人", "预警信号"]  # fmt: skip
    rows = [
        [f"X{i}", text, "滑坡", "小型", text, text, "117.2", "29.3", "1", "2", "3", text, text]
        for i, text in enumerate(HOSTILE)
    ]
    source = write_csv(tmp_path / "'; DROP TABLE hazard_points; --.csv", header, rows)
    plan = importers.preview_import(source, data, importers.ImportOptions("hazard_points"))
    importers.apply_plan(plan, user="<b>tester</b>")
    stored = by_id(store.open(data).read_layer("hazard_points"), "hazard_id")
    assert {"H1", "H2", "H3"} <= set(stored)  # the table is all there
    for i, text in enumerate(HOSTILE):
        row = stored[f"X{i}"]
        assert [row[c] for c in ("name", "township", "village", "monitor_name", "warning_signal")] == [text] * 5
    log = store.open(data).read_audit()
    assert json.loads(log.iloc[-1]["changes"])["source"][1] == "'; DROP TABLE hazard_points; --.csv"
    assert log.iloc[-1]["user"] == "<b>tester</b>"


def test_hostile_headers_are_reported_verbatim_and_ignored(data, tmp_path):
    source = write_csv(tmp_path / "x.csv", ["村庄编号", "名称", "人口", "户数", "经度", "纬度", *HOSTILE],
                       [["V9", "新村", "1", "1", "117.2", "29.3", "a", "b", "c"]])  # fmt: skip
    plan = importers.preview_import(source, data, importers.ImportOptions("villages"))
    assert plan.rejected == [] and [e.feature_id for e in plan.added] == ["V9"]
    said = " ".join(n.en for n in plan.notes)
    assert all(text in said for text in HOSTILE)


# --------------------------------------------------------------------------------------------------
# Files that would make GDAL read other files (the file-read class of the hostile-input issue)

SECRET = "hazmap-secret-7f3a"


def _vrt(secret_csv: Path) -> bytes:
    """An OGR VRT that reads a CSV file of the server as a layer named villages."""
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="villages"><SrcDataSource>CSV:{secret_csv}</SrcDataSource>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    ).encode()


def _gdalg(secret_csv: Path) -> bytes:
    """A GDAL algorithm file (GDALG, JSON) that reads a CSV file of the server."""
    return json.dumps(
        {"type": "gdal_streamed_alg", "command_line": f"gdal vector pipeline ! read {secret_csv}"}
    ).encode()


@pytest.mark.parametrize("suffix", [".geojson", ".json", ".kml", ".gpkg", ".shp"])
@pytest.mark.parametrize("payload", [_vrt, _gdalg])
@pytest.mark.parametrize("zipped", [False, True])
def test_file_read_class_a_file_that_points_at_other_files_is_refused(data, tmp_path, suffix, payload, zipped):
    # Hostile input: GDAL picks a driver by content; a VRT or GDALG under any supported name must never be opened.
    secret = tmp_path / "secret.csv"
    secret.write_text(f"village_id,name,population,households\nV9,{SECRET},1,1\n", encoding="utf-8")
    content = payload(secret)
    if zipped:
        source = zip_of(tmp_path / "villages.zip", {f"villages{suffix}": content})
    else:
        if suffix == ".shp":  # a shapefile's sound .shx and .dbf beside the hostile .shp
            good_shapefile(tmp_path / "parts" if (tmp_path / "parts").mkdir() is None else tmp_path)
            for part in (tmp_path / "parts").glob("villages.*"):
                (tmp_path / part.name).write_bytes(part.read_bytes())
        source = tmp_path / f"villages{suffix}"
        source.write_bytes(content)
    before = sha256(data)
    with pytest.raises(importers.SourceError) as caught:
        importers.preview_import(source, data, importers.ImportOptions("villages"))
    assert source.name in caught.value.source
    assert "不是" in str(caught.value) and SECRET not in str(caught.value)
    assert sha256(data) == before
    assert cli.main(["import", str(source), "--layer", "villages", "--data", str(data), "--json"]) == 2


def test_file_read_class_a_kmz_is_read_and_one_holding_a_vrt_is_refused(data, tmp_path):
    kml = tmp_path / "villages.kml"
    frame = gpd.GeoDataFrame(
        {"village_id": ["V9"], "name": ["新村"], "population": [10], "households": [3]},
        geometry=[Point(TRUTH["N1"])],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, kml, driver="KML", layer="villages")
    good = zip_of(tmp_path / "villages.kmz", {"doc.kml": kml.read_bytes()})
    assert importers.source_choices(good) == ["villages"]  # passed the content check and opened
    secret = tmp_path / "secret.csv"
    secret.write_text(f"village_id,name\nV8,{SECRET}\n", encoding="utf-8")
    hostile = zip_of(tmp_path / "hostile.kmz", {"doc.kml": _vrt(secret)})
    refused(data, hostile, "VRT/GDALG")


# The rejected rows never overwrite the inventory or the data set


def inventory_with_a_rejected_row(path: Path) -> Path:
    rows = [["V9", "新村", "10", "3", "117.2", "29.3"], ["V10", "坏村", "很多", "3", "117.2", "29.3"]]
    return write_csv(path, ["村庄编号", "名称", "人口", "户数", "经度", "纬度"], rows)


@pytest.mark.parametrize("spelling", ["same path", "./ relative", "other directory", "symlink", "hard link"])
def test_rejected_out_that_is_the_source_file_is_refused(data, tmp_path, monkeypatch, capsys, spelling):
    source = inventory_with_a_rejected_row(tmp_path / "台账.csv")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    out = {
        "same path": str(source),
        "./ relative": "./../台账.csv",
        "other directory": str(tmp_path / "sub" / ".." / "台账.csv"),
        "symlink": "rejected.csv",
        "hard link": "rejected.csv",
    }[spelling]
    if spelling == "symlink":
        os.symlink(source, out)
    elif spelling == "hard link":
        os.link(source, out)
    before, data_before = sha256(source), sha256(data)
    args = ["import", str(source), "--layer", "villages", "--data", str(data), "--rejected-out", out]
    for more in ([], ["--yes", "--partial"]):
        assert cli.main([*args, *more]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {out}: 这是正在导入的源文件 {source}") and "source file being imported" in err
        assert sha256(source) == before and sha256(data) == data_before
    # The library refuses it too, whoever calls it.
    plan = importers.preview_import(source, data, importers.ImportOptions("villages"))
    assert plan.rejected
    with pytest.raises(ValueError, match="源文件"):
        importers.write_rejected(plan, out)
    assert sha256(source) == before


def test_rejected_out_that_is_the_data_set_is_refused(data, tmp_path, capsys):
    source = inventory_with_a_rejected_row(tmp_path / "台账.csv")
    out = tmp_path / "rejected.csv"
    out.symlink_to(data)  # a .csv name that is the data set
    before, data_before = sha256(source), sha256(data)
    assert (
        cli.main(["import", str(source), "--layer", "villages", "--data", str(data), "--rejected-out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: 这是数据集 {data}") and "this is the data set" in err
    assert sha256(source) == before and sha256(data) == data_before and out.is_symlink()


def test_rejected_out_of_an_xlsx_source_and_wrong_suffix_are_refused_first(data, tmp_path, capsys):
    book = openpyxl.Workbook()
    book.active.append(["村庄编号", "名称", "人口", "户数", "经度", "纬度"])
    book.active.append(["V10", "坏村", "很多", "3", "117.2", "29.3"])
    source = tmp_path / "台账.xlsx"
    book.save(source)
    before = sha256(source)
    args = ["import", str(source), "--layer", "villages", "--data", str(data), "--rejected-out"]
    assert cli.main([*args, str(source)]) == 2
    assert "台账.xlsx" in capsys.readouterr().err
    assert cli.main([*args, str(data)]) == 2  # the data set's .gpkg is no name for rejected rows either
    assert "须以 .csv 或 .xlsx 结尾" in capsys.readouterr().err
    assert sha256(source) == before
    # A good name still gets the rejected rows.
    assert cli.main([*args, str(tmp_path / "rejected.xlsx")]) == 1
    assert (tmp_path / "rejected.xlsx").exists() and sha256(source) == before
