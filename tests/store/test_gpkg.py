"""The GeoPackage store: faithful round trips, atomic and locked writes, audited edits, a file QGIS reads well."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from osgeo_utils.samples.validate_gpkg import check as validate_gpkg
from shapely.geometry import Point

from geo import store
from geo.model.schema import LAYERS, SchemaError
from geo.store import gpkg
from tests.support.fixtures import tiny_dataset
from tests.support.fixtures import write_layers as write_gpkg_layers

ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "data.gpkg"
    store.open(path).create(tiny_dataset(), user="fixture")
    return path


@pytest.fixture
def data(template, tmp_path) -> Path:
    """A fresh copy of the tiny data set, written by the store, in a directory of its own."""
    path = tmp_path / "data.gpkg"
    shutil.copyfile(template, path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(path: Path) -> list[str]:
    """Files beside the data set other than itself and its lock file."""
    return sorted(p.name for p in path.parent.iterdir() if p.name not in {path.name, path.name + ".lock"})


def sql(path: Path, query: str) -> list[tuple]:
    """Run one statement on the file behind the store's back (as QGIS or a user would) and return its rows."""
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(query).fetchall()


def hazard(path: Path, hazard_id: str) -> dict:
    points = store.open(path).read_layer("hazard_points")
    return points[points["hazard_id"] == hazard_id].iloc[0].to_dict()


# --------------------------------------------------------------------------------------------------
# Reading and creating


def test_round_trip_keeps_every_layer_value_and_type(data):
    expected = tiny_dataset()
    got = store.open(data).read_layers()
    assert list(got) == list(LAYERS)
    for name, gdf in got.items():
        assert_geodataframe_equal(gdf, expected[name], check_dtype=False, check_crs=False)
        assert gdf.crs.to_epsg() == 4490
        assert pyogrio.read_info(data, layer=name)["crs"] == "EPSG:4490"
        for field in LAYERS[name].fields:
            kind = {"text": "str", "int": "int64", "real": "float64", "bool": "bool"}[field.kind]
            assert str(gdf[field.name].dtype) == kind, (name, field.name)
    info = pyogrio.read_info(data, layer="schools")
    subtypes = dict(zip(info["fields"], info["ogr_subtypes"], strict=True))
    assert subtypes["has_pool"] == subtypes["is_teaching_point"] == "OFSTBoolean"
    assert got["schools"]["has_pool"].tolist() == [True, False]


def test_read_a_subset_in_the_order_asked(data):
    got = store.open(data).read_layers(["shelters", "hazard_points"])
    assert list(got) == ["shelters", "hazard_points"]
    assert store.open(data).read_layer("roads")["road_id"].tolist() == ["R1", "R2"]


def test_wgs84_input_is_stored_as_cgcs2000_with_the_same_coordinates(tmp_path):
    # docs/data-model.md "Coordinates": EPSG:4326 is accepted and treated as CGCS2000, not transformed.
    gdfs = {name: gdf.set_crs("EPSG:4326", allow_override=True) for name, gdf in tiny_dataset().items()}
    path = tmp_path / "wgs84.gpkg"
    store.open(path).create(gdfs, user="test")
    villages = store.open(path).read_layer("villages")
    assert villages.crs.to_epsg() == 4490
    assert villages.geometry.iloc[0].equals(gdfs["villages"].geometry.iloc[0])


def test_create_refuses_invalid_data_and_writes_nothing(tmp_path):
    gdfs = tiny_dataset()
    gdfs["villages"].loc[0, "population"] = -1
    path = tmp_path / "bad.gpkg"
    with pytest.raises(SchemaError, match=r"villages\[V1\] range"):
        store.open(path).create(gdfs, user="test")
    assert leftovers(path) == []
    assert not path.exists()


def test_loose_types_of_a_hand_made_file_are_read_as_declared(data):
    # A layer saved from QGIS may hold booleans as plain 0/1 integers and counts as whole reals.
    schools = tiny_dataset()["schools"].astype({"has_pool": "int64", "students": "float64"})
    pyogrio.write_dataframe(schools, data, layer="schools")
    got = store.open(data).read_layer("schools")
    assert got["has_pool"].dtype == bool and got["has_pool"].tolist() == [True, False]
    assert got["students"].dtype == "int64"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "no such file"),
        ("random bytes", "not a GeoPackage"),
        ("truncated", "truncated"),
        ("header overwritten", "not a GeoPackage"),
    ],
)
def test_unreadable_file_is_refused_with_a_message_naming_it(data, damage, message):
    damage_file(data, damage)
    with pytest.raises(store.StoreError, match=message) as caught:
        store.open(data).read_layers()
    assert str(data) in str(caught.value)


def test_missing_layer_is_refused_with_its_name(data):
    with pytest.raises(store.StoreError, match=r"data\.gpkg: no layer 'rivers'"):
        store.open(data).read_layers(["hazard_points", "rivers"])


def test_validate_on_read_raises_on_errors_of_the_layers_read(data):
    villages = tiny_dataset()["villages"]
    villages.loc[0, "population"] = -1
    pyogrio.write_dataframe(villages, data, layer="villages")
    with pytest.raises(SchemaError, match=r"villages\[V1\] range"):
        store.open(data).read_layers(validate=True)
    # hazard_points alone is valid: its shelter references are resolved against the file's shelters.
    assert len(store.open(data).read_layers(["hazard_points"], validate=True)["hazard_points"]) == 3


def damage_file(path: Path, damage: str) -> None:
    raw = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "random bytes":
        path.write_bytes(bytes(range(256)) * 64)
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "header overwritten":
        path.write_bytes(b"\0" * 100 + raw[100:])
    elif damage == "page garbled":
        # Page 3 onwards holds table b-trees: garbage there passes the header checks, not SQLite's quick_check.
        page = int.from_bytes(raw[16:18], "big")
        path.write_bytes(raw[: 2 * page] + b"\xa5" * page + raw[3 * page :])


# --------------------------------------------------------------------------------------------------
# Atomic, locked writes


@pytest.mark.parametrize("failing", ["_write_layer", "_write_metadata"])
@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_crash_during_a_write_leaves_the_file_byte_for_byte(data, monkeypatch, failing, error):
    before = sha256(data)
    real = getattr(gpkg, failing)
    calls = []

    def fail(*args, **kwargs):
        # _write_layer fails on the second layer, when the working copy is half written.
        calls.append(args)
        if len(calls) == 2 or failing == "_write_metadata":
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(gpkg, failing, fail)
    layers = tiny_dataset()
    with pytest.raises(type(error)):
        store.open(data).write_layers({"villages": layers["villages"], "shelters": layers["shelters"]}, user="test")
    assert sha256(data) == before
    assert leftovers(data) == []
    monkeypatch.undo()
    store.open(data).update_hazard_point("H1", {"monitor_name": "after the crash"}, user="test")  # lock was released


def test_working_files_left_by_a_killed_writer_are_cleared_by_the_next_one(data):
    stale = data.parent / f".{data.name}.0123abcd.tmp.gpkg"
    stale.write_bytes(b"half a copy")
    store.open(data).update_hazard_point("H1", {"monitor_name": "x"}, user="test")
    assert leftovers(data) == []


@pytest.mark.parametrize("damage", ["truncated", "header overwritten", "page garbled"])
def test_damaged_file_is_refused_and_never_replaced(data, damage):
    damage_file(data, damage)
    before = sha256(data)
    with pytest.raises(store.StoreError, match=r"damaged|not a GeoPackage"):
        store.open(data).write_layers({"villages": tiny_dataset()["villages"]}, user="test")
    with pytest.raises(store.StoreError, match=r"damaged|not a GeoPackage|cannot"):
        store.open(data).update_hazard_point("H1", {"monitor_name": "x"}, user="test")
    assert sha256(data) == before
    assert leftovers(data) == []


def test_write_layers_replaces_layers_and_logs_each(data):
    villages = tiny_dataset()["villages"].iloc[:2].copy()
    villages.loc[0, "population"] = 999
    store.open(data).write_layers({"villages": villages}, user="planner")
    assert_geodataframe_equal(store.open(data).read_layer("villages"), villages, check_dtype=False, check_crs=False)
    last = store.open(data).read_audit().iloc[-1]
    assert (last["user"], last["layer"], last["action"]) == ("planner", "villages", "replace_layer")
    assert json.loads(last["changes"]) == {"features": [3, 2]}


def test_write_that_breaks_a_reference_is_refused(data):
    before = sha256(data)
    zones = tiny_dataset()["danger_zones"]
    zones.loc[0, "hazard_id"] = "NO-SUCH-POINT"
    with pytest.raises(SchemaError, match="dangling_reference"):
        store.open(data).write_layers({"danger_zones": zones}, user="test")
    # Dropping the shelters that hazard points name breaks the data set as a whole.
    with pytest.raises(SchemaError, match=r"hazard_points\[H1\] dangling_reference"):
        store.open(data).write_layers({"shelters": tiny_dataset()["shelters"].iloc[:0]}, user="test")
    assert sha256(data) == before
    assert leftovers(data) == []


def _edit_many(path: str, user: str, column: str, count: int, barrier) -> None:
    barrier.wait()
    for i in range(count):
        store.open(path).update_hazard_point("H1", {column: f"{user}{i}"}, user=user)


def test_two_writer_processes_lose_no_edit(data):
    count = 10
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [
        ctx.Process(target=_edit_many, args=(str(data), user, column, count, barrier), daemon=True)
        for user, column in (("a", "monitor_name"), ("b", "responsible_name"))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    row = hazard(data, "H1")
    assert (row["monitor_name"], row["responsible_name"], row["version"]) == ("a9", "b9", 1 + 2 * count)
    edits = store.open(data).read_audit().query("feature_id == 'H1'")
    assert sorted(edits["user"]) == ["a"] * count + ["b"] * count
    # Each edit started from the version the previous one left: no read-modify-write interleaved.
    assert edits["version_before"].tolist() == list(range(1, 1 + 2 * count))
    assert leftovers(data) == []


@pytest.fixture
def linked(data) -> Path:
    """A symbolic link to the data set, in another directory, as a user's shortcut to a shared file is."""
    link = data.parent / "shortcut" / "link.gpkg"
    link.parent.mkdir()
    link.symlink_to(data)
    return link


def test_symlinked_data_path_stays_a_link_to_the_edited_file(data, linked):
    store.open(linked).update_hazard_point("H1", {"monitor_name": "through the link"}, user="test")
    assert linked.is_symlink() and linked.resolve() == data.resolve()
    assert hazard(data, "H1")["monitor_name"] == hazard(linked, "H1")["monitor_name"] == "through the link"
    # The lock and the working files are those of the real file: nothing is left beside the link.
    assert leftovers(data) == ["shortcut"]
    assert sorted(p.name for p in linked.parent.iterdir()) == ["link.gpkg"]


def _edit_through(path: str, hazard_id: str, user: str, count: int, barrier) -> None:
    barrier.wait()
    for i in range(count):
        store.open(path).update_hazard_point(hazard_id, {"monitor_name": f"{user}{i}"}, user=user)


def test_symlinked_data_path_and_real_path_writers_share_one_lock(data, linked):
    count = 8
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [
        ctx.Process(target=_edit_through, args=(str(path), hazard_id, user, count, barrier), daemon=True)
        for path, hazard_id, user in ((linked, "H1", "link"), (data, "H2", "real"))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert linked.is_symlink()
    for path in (data, linked):
        assert (hazard(path, "H1")["monitor_name"], hazard(path, "H1")["version"]) == (f"link{count - 1}", 1 + count)
        assert (hazard(path, "H2")["monitor_name"], hazard(path, "H2")["version"]) == (f"real{count - 1}", 1 + count)
    edits = store.open(data).read_audit().query("action == 'update'")
    assert sorted(edits["user"]) == ["link"] * count + ["real"] * count
    assert edits["feature_id"].tolist().count("H1") == edits["feature_id"].tolist().count("H2") == count


@pytest.mark.parametrize("damage", ["missing", "truncated", "page garbled"])
def test_symlinked_data_path_is_named_as_given_in_messages(data, linked, damage):
    damage_file(data, damage)
    for attempt in (
        lambda: store.open(linked).read_layers(),
        lambda: store.open(linked).update_hazard_point("H1", {"monitor_name": "x"}, user="test"),
    ):
        with pytest.raises(store.StoreError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"{linked}: ") and str(data) not in message
    assert store.open(linked).label == str(linked)


# --------------------------------------------------------------------------------------------------
# Editing hazard points


def test_edit_bumps_version_stamps_time_and_derives_danger_grade(data):
    # Plan 3.2: 500 threatened people (under 1000) is a large danger.
    start = datetime.now(UTC).replace(microsecond=0)
    new = store.open(data).update_hazard_point("H1", {"threatened_people": 500}, user="monitor", expected_version=1)
    assert (new["threatened_people"], new["danger_grade"], new["version"]) == (500, "large", 2)
    assert ISO_SECONDS.fullmatch(new["updated_at"])
    stamped = datetime.strptime(new["updated_at"], "%Y-%m-%dT%H:%M:%S%z")
    assert start <= stamped <= datetime.now(UTC) + timedelta(seconds=1)
    stored = hazard(data, "H1")
    assert {k: stored[k] for k in ("threatened_people", "danger_grade", "version", "updated_at")} == {
        k: new[k] for k in ("threatened_people", "danger_grade", "version", "updated_at")
    }


def test_audit_row_records_who_when_and_what(data):
    moved = Point(117.251, 29.301)
    new = store.open(data).update_hazard_point("H1", {"threatened_people": 1200, "geometry": moved}, user="王工")
    row = store.open(data).read_audit().iloc[-1]
    assert (row["user"], row["layer"], row["feature_id"], row["action"]) == ("王工", "hazard_points", "H1", "update")
    assert (row["version_before"], row["version_after"], row["at"]) == (1, 2, new["updated_at"])
    assert json.loads(row["changes"]) == {
        "threatened_people": [150, 1200],
        "danger_grade": ["medium", "giant"],
        "geometry": ["POINT (117.25 29.3)", "POINT (117.251 29.301)"],
    }
    assert hazard(data, "H1")["geometry"].equals(moved)


def test_stale_expected_version_is_a_conflict_and_writes_nothing(data):
    store.open(data).update_hazard_point("H1", {"monitor_name": "甲"}, user="a", expected_version=1)
    before = sha256(data)
    with pytest.raises(store.ConflictError, match="version 2") as caught:
        store.open(data).update_hazard_point("H1", {"monitor_name": "乙"}, user="b", expected_version=1)
    assert caught.value.current_version == 2
    assert caught.value.current["monitor_name"] == "甲"
    assert sha256(data) == before


def test_status_replaces_deletion_and_is_validated(data):
    new = store.open(data).set_hazard_status("H2", "treated", user="planner", expected_version=1)
    assert (new["status"], new["version"]) == ("treated", 2)
    assert len(store.open(data).read_layer("hazard_points")) == 3
    row = store.open(data).read_audit().iloc[-1]
    assert (row["action"], json.loads(row["changes"])) == ("status", {"status": ["active", "treated"]})
    before = sha256(data)
    with pytest.raises(SchemaError, match=r"hazard_points\[H2\] enum"):
        store.open(data).set_hazard_status("H2", "deleted", user="planner")
    assert sha256(data) == before


def test_edit_that_changes_nothing_writes_nothing(data):
    before = sha256(data)
    assert store.open(data).set_hazard_status("H1", "active", user="planner")["version"] == 1
    assert sha256(data) == before


def test_edit_refuses_store_owned_columns_and_unknown_points(data):
    with pytest.raises(ValueError, match="danger_grade"):
        store.open(data).update_hazard_point("H1", {"danger_grade": "small"}, user="x")
    with pytest.raises(ValueError, match="hazard_id"):
        store.open(data).update_hazard_point("H1", {"hazard_id": "H7"}, user="x")
    with pytest.raises(store.StoreError, match="no hazard_id 'H404'"):
        store.open(data).update_hazard_point("H404", {"name": "x"}, user="x")


def test_add_hazard_point_derives_its_columns_and_refuses_a_taken_id(data):
    row = {
        "hazard_id": "H4",
        "name": "新滑坡",
        "hazard_type": "landslide",
        "scale_class": "small",
        "threatened_households": 3,
        "threatened_people": 9,
        "threatened_property_10k_yuan": 600.0,
        "shelter_id": "SH1",
    }
    new = store.open(data).add_hazard_point(row, Point(117.26, 29.31), user="surveyor")
    assert (new["danger_grade"], new["version"], new["status"]) == ("medium", 1, "active")
    assert hazard(data, "H4")["danger_grade"] == "medium"
    audit = store.open(data).read_audit().iloc[-1]
    assert (audit["action"], audit["version_after"]) == ("insert", 1)
    assert pd.isna(audit["version_before"])
    assert json.loads(audit["changes"])["geometry"] == [None, "POINT (117.26 29.31)"]
    with pytest.raises(store.ConflictError, match="exists") as caught:
        store.open(data).add_hazard_point(row, Point(117.26, 29.31), user="surveyor")
    assert caught.value.current["name"] == "新滑坡"


# --------------------------------------------------------------------------------------------------
# What QGIS and other GeoPackage readers see


def test_created_and_edited_file_passes_gdal_validate_gpkg(data):
    assert validate_gpkg(str(data), extra_checks=True, warning_as_error=True) == []
    store.open(data).update_hazard_point("H1", {"threatened_people": 500}, user="x")
    assert validate_gpkg(str(data), extra_checks=True, warning_as_error=True) == []


def test_columns_carry_chinese_titles_in_gpkg_data_columns(data):
    titles = {
        (t, c): title for t, c, title in sql(data, "SELECT table_name, column_name, title FROM gpkg_data_columns")
    }
    extension = sql(data, "SELECT extension_name FROM gpkg_extensions WHERE table_name = 'gpkg_data_columns'")
    assert extension == [("gpkg_schema",)]
    assert titles == {(layer.name, f.name): f.title_zh for layer in LAYERS.values() for f in layer.fields}


def test_every_layer_has_a_default_qgis_style_with_aliases(data):
    styles = sql(data, "SELECT f_table_name, f_geometry_column, styleQML FROM layer_styles WHERE useAsDefault = 1")
    assert sql(data, "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'") == [("attributes",)]
    assert sorted(name for name, _, _ in styles) == sorted(LAYERS)
    for name, geometry_column, qml in styles:
        assert geometry_column == pyogrio.read_info(data, layer=name)["geometry_name"]
        root = ET.fromstring(qml.split("\n", 1)[1])
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias") if a.get("field") != "fid"}
        assert aliases == {f.name: f.title_zh for f in LAYERS[name].fields}
    hazard_qml = {n: q for n, _, q in styles}["hazard_points"]
    renderer = ET.fromstring(hazard_qml.split("\n", 1)[1]).find("renderer-v2")
    assert (renderer.get("type"), renderer.get("attr")) == ("categorizedSymbol", "danger_grade")


def test_a_user_default_style_survives_a_rewrite(data):
    # As QGIS does when a user saves a style of their own as the default.
    sql(data, "UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = 'villages'")
    sql(
        data,
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
        "styleQML, useAsDefault) VALUES ('', '', 'villages', 'geom', 'mine', '<qgis/>', 1)",
    )
    store.open(data).write_layers({"villages": tiny_dataset()["villages"]}, user="test")
    defaults = sql(data, "SELECT styleName FROM layer_styles WHERE f_table_name = 'villages' AND useAsDefault")
    assert defaults == [("mine",)]


def test_geometry_of_mixed_single_and_multi_parts_is_stored_multi(data):
    zones = tiny_dataset()["danger_zones"]
    zones.loc[0, "geometry"] = shapely.MultiPolygon([zones.geometry.iloc[0]])
    store.open(data).write_layers({"danger_zones": zones}, user="test")
    assert pyogrio.read_info(data, layer="danger_zones")["geometry_type"] == "MultiPolygon"
    assert set(store.open(data).read_layer("danger_zones").geom_type) == {"MultiPolygon"}
    assert validate_gpkg(str(data), extra_checks=True, warning_as_error=True) == []


def test_a_file_without_audit_log_has_an_empty_one(tmp_path):
    path = tmp_path / "plain.gpkg"
    pyogrio.write_dataframe(tiny_dataset()["villages"], path, layer="villages")
    log = store.open(path).read_audit()
    assert log.empty and list(log.columns) == store.AUDIT_COLUMNS
    assert isinstance(store.open(path).read_layer("villages"), gpd.GeoDataFrame)


# --------------------------------------------------------------------------------------------------
# GeoPackage version


def _gpkg_version(path: Path) -> int:
    return sql(path, "PRAGMA user_version")[0][0]


def _ogrinfo_warnings(path: Path) -> str:
    # Debian's own GDAL (3.6 on Debian 12), not the one bundled with pyogrio: the one county offices have.
    done = subprocess.run(["ogrinfo", "-ro", "-so", str(path)], capture_output=True, text=True, check=True)
    return done.stderr


def test_written_files_are_geopackage_1_2_and_open_in_debian_gdal_without_a_warning(data):
    assert _gpkg_version(data) == 10200
    assert _ogrinfo_warnings(data) == ""


def test_a_geopackage_1_4_made_elsewhere_is_written_back_as_1_2(tmp_path):
    # A file GDAL saved at its default 1.4 (QGIS does the same) draws "may only be partially supported" in
    # Debian's GDAL 3.6; its first write through hazmap makes it a valid 1.2 file, every row kept.
    path = tmp_path / "qgis.gpkg"
    write_gpkg_layers(path, tiny_dataset())
    assert _gpkg_version(path) == 10400 and "partially supported" in _ogrinfo_warnings(path)
    assert sql(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%update6'")[0][0]
    store.open(path).update_hazard_point("H2", {"village": "新村"}, user="test")
    assert _gpkg_version(path) == 10200 and _ogrinfo_warnings(path) == ""
    assert validate_gpkg(str(path), extra_checks=True, warning_as_error=True) == []
    layers = store.open(path).read_layers()
    assert {name: len(gdf) for name, gdf in layers.items()} == {name: len(gdf) for name, gdf in tiny_dataset().items()}
    assert layers["hazard_points"].set_index("hazard_id").loc["H2", "village"] == "新村"
