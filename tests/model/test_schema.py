"""The validator reports every broken rule of docs/data-model.md at once, naming layer, feature and rule."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geo import store
from geo.model import crs as model_crs
from geo.model import schema
from geo.settings import ROOT
from tests.support.fixtures import tiny_dataset


def problems(report: schema.Report) -> set[tuple[str, str | None, str]]:
    return {(p.layer, p.feature, p.rule) for p in report.errors}


def test_tiny_dataset_is_valid():
    report = schema.validate_frames(tiny_dataset())
    assert report.ok, report.summary()
    assert set(report.layers_checked) == set(schema.LAYERS)


def test_metric_crs_is_the_gauss_krueger_zone_of_the_longitude():
    # 117E is the central meridian of zone 39 -> EPSG:4548 (docs/data-model.md "Coordinates").
    assert model_crs.metric_crs_for(117.2) == "EPSG:4548"
    assert model_crs.metric_crs_for(115.6) == "EPSG:4548"  # 115.5-118.5 is zone 39
    assert model_crs.metric_crs_for(115.4) == "EPSG:4547"
    assert model_crs.metric_crs_for(75.0) == "EPSG:4534"
    assert model_crs.metric_crs_for(135.0) == "EPSG:4554"


def test_missing_layer_and_column_are_reported():
    gdfs = tiny_dataset()
    del gdfs["shelters"]
    gdfs["villages"] = gdfs["villages"].drop(columns=["population"])
    found = problems(schema.validate_frames(gdfs))
    assert ("shelters", None, "missing_layer") in found
    assert ("villages", None, "missing_column") in found


def test_wrong_type_enum_range_and_pattern_name_the_feature():
    gdfs = tiny_dataset()
    hp = gdfs["hazard_points"].astype({"threatened_people": object, "hazard_type": object})
    first, second = hp["hazard_id"].iloc[0], hp["hazard_id"].iloc[1]
    hp.loc[hp.index[0], "threatened_people"] = "many"
    hp.loc[hp.index[1], "hazard_type"] = "earthquake"
    gdfs["hazard_points"] = hp
    villages = gdfs["villages"].copy()
    villages.loc[villages.index[0], "population"] = -5
    gdfs["villages"] = villages
    district = gdfs["district"].copy()
    district.loc[district.index[0], "adcode"] = "3602"
    gdfs["district"] = district
    found = problems(schema.validate_frames(gdfs))
    assert ("hazard_points", first, "type") in found
    assert ("hazard_points", second, "enum") in found
    assert ("villages", villages["village_id"].iloc[0], "range") in found
    assert ("district", "3602", "pattern") in found


def test_all_problems_are_collected_in_one_pass():
    gdfs = tiny_dataset()
    hp = gdfs["hazard_points"].copy()
    hp["status"] = "lost"
    gdfs["hazard_points"] = hp
    report = schema.validate_frames(gdfs)
    assert sum(p.rule == "enum" for p in report.errors) == len(hp)


def test_problems_are_counted_per_layer_errors_and_warnings_together():
    # docs/data-model.md: the validator lists every problem at once; the Data page shows how many each layer has.
    gdfs = tiny_dataset()
    del gdfs["roads"]
    gdfs["hazard_points"] = gdfs["hazard_points"].assign(status="lost")  # 3 points, 3 enum errors
    villages = gdfs["villages"].copy()
    villages.loc[villages.index[0], "population"] = -5
    gdfs["villages"] = villages
    report = schema.validate_frames(gdfs)
    report.add("villages", "V2", "check", "a warning counts too", severity="warning")
    counts = report.counts_by_layer()
    assert dict(counts) == {"roads": 1, "hazard_points": 3, "villages": 2}
    assert counts["schools"] == 0 and sum(counts.values()) == len(report.problems)


def test_duplicate_and_missing_ids():
    gdfs = tiny_dataset()
    shelters = gdfs["shelters"]
    shelters = gpd.GeoDataFrame(gpd.pd.concat([shelters, shelters.iloc[[0]]], ignore_index=True), crs=shelters.crs)
    gdfs["shelters"] = shelters
    villages = gdfs["villages"].copy()
    villages.loc[villages.index[0], "village_id"] = None
    gdfs["villages"] = villages
    found = problems(schema.validate_frames(gdfs))
    assert ("shelters", shelters["shelter_id"].iloc[0], "duplicate_id") in found
    assert ("villages", "row 1", "not_null") in found


def test_dangling_references():
    gdfs = tiny_dataset()
    zones = gdfs["danger_zones"].copy()
    zones.loc[zones.index[0], "hazard_id"] = "NO-SUCH-POINT"
    gdfs["danger_zones"] = zones
    hp = gdfs["hazard_points"].copy()
    hp.loc[hp.index[0], "shelter_id"] = "NO-SUCH-SHELTER"
    gdfs["hazard_points"] = hp
    report = schema.validate_frames(gdfs)
    dangling = [p for p in report.errors if p.rule == "dangling_reference"]
    assert {p.layer for p in dangling} == {"danger_zones", "hazard_points"}
    assert any("NO-SUCH-SHELTER" in p.message and p.feature == hp["hazard_id"].iloc[0] for p in dangling)


def test_stored_danger_grade_must_follow_plan_3_2():
    gdfs = tiny_dataset()
    hp = gdfs["hazard_points"].copy()
    # 500 threatened people is a large danger (plan 3.2: 500 or more, under 1000).
    hp.loc[hp.index[0], ["threatened_people", "threatened_property_10k_yuan", "danger_grade"]] = [500, 0.0, "small"]
    gdfs["hazard_points"] = hp
    found = problems(schema.validate_frames(gdfs))
    assert ("hazard_points", hp["hazard_id"].iloc[0], "danger_grade_mismatch") in found


@pytest.mark.parametrize(
    ("layer", "geometry", "rule"),
    [
        ("villages", None, "geometry_missing"),
        ("villages", Point(), "geometry_empty"),
        ("villages", Point(np.nan, 29.3), "geometry_nan"),
        ("villages", LineString([(117.2, 29.3), (117.3, 29.3)]), "geometry_type"),
        ("villages", Point(29.3, 117.2), "outside_china"),
        ("danger_zones", Polygon([(117.2, 29.3), (117.21, 29.31), (117.21, 29.3), (117.2, 29.31)]), "geometry_invalid"),
    ],
)
def test_geometry_problems(layer, geometry, rule):
    gdfs = tiny_dataset()
    gdf = gdfs[layer].copy()
    gdf.loc[gdf.index[0], gdf.geometry.name] = geometry
    gdfs[layer] = gdf
    report = schema.validate_frames(gdfs)
    assert rule in {p.rule for p in report.errors if p.layer == layer}, report.summary()


def test_crs_rules():
    gdfs = tiny_dataset()
    gdfs["roads"] = gdfs["roads"].set_crs(None, allow_override=True)
    gdfs["villages"] = gdfs["villages"].to_crs("EPSG:4548")
    gdfs["schools"] = gdfs["schools"].set_crs("EPSG:4326", allow_override=True)
    report = schema.validate_frames(gdfs)
    assert ("roads", None, "crs_missing") in problems(report)
    assert ("villages", None, "crs_wrong") in problems(report)
    assert "schools" not in {p.layer for p in report.errors}
    assert ("schools", "crs_wgs84") in {(p.layer, p.rule) for p in report.warnings}


def test_multi_geometries_are_accepted():
    gdfs = tiny_dataset()
    zones = gdfs["danger_zones"].copy()
    zones["geometry"] = zones.geometry.apply(lambda g: shapely.MultiPolygon([g]))
    gdfs["danger_zones"] = zones
    assert schema.validate_frames(gdfs).ok


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path):
    bad = tmp_path / "broken.gpkg"
    bad.write_bytes(b"this is not a geopackage" * 100)
    report = store.open(bad).validate()
    assert not report.ok
    assert report.errors[0].rule == "unreadable"


def test_docs_data_model_shows_the_current_schema():
    doc = (ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert schema.markdown_tables().strip() in doc
    for rule in ("missing_layer", "dangling_reference", "danger_grade_mismatch", "outside_china", "crs_wrong"):
        assert f"`{rule}`" in doc


def _cli(*args: str, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_cli_validate_fails_on_a_broken_file_and_names_what(tmp_path):
    gdfs = tiny_dataset()
    path = tmp_path / "ok.gpkg"
    store.open(path).create(gdfs, user="test")
    ok = _cli("validate", "--data", str(path), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True

    # Break a copy behind the store's back, as a hand edit in QGIS could.
    villages = gdfs["villages"].copy()
    villages.loc[villages.index[0], "population"] = -1
    pyogrio.write_dataframe(villages, path, layer="villages")
    bad = _cli("validate", "--data", str(path), "--json")
    assert bad.returncode == 1
    out = json.loads(bad.stdout)
    assert {"layer": "villages", "feature": villages["village_id"].iloc[0], "rule": "range"}.items() <= next(
        p for p in out["problems"] if p["rule"] == "range"
    ).items()
