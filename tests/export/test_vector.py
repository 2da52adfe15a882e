"""KML, GPX and GeoJSON of routes, zones and shelters, read back through GDAL as QGIS and the phone apps would."""

from __future__ import annotations

import pyogrio
import pytest

from geo.analysis import evacuation
from geo.export import files, vector
from geo.export.hazard import ExportData
from tests.support.fixtures import tiny_dataset


@pytest.fixture(scope="module")
def layers():
    layers = tiny_dataset()
    points = layers["hazard_points"]
    # A name with XML's special characters must round-trip, escaped, through every format.
    points.loc[points["hazard_id"] == "H2", "name"] = "新安村<崩塌> & “危岩”"
    return layers


@pytest.fixture(scope="module")
def data(layers) -> ExportData:
    return ExportData.prepare(layers)


@pytest.fixture(scope="module")
def reachable(layers):
    routes = evacuation.evacuation_routes(layers).routes
    return routes[routes["reachable"]]


def _in_district(frame) -> bool:
    x0, y0, x1, y1 = frame.total_bounds
    return 117.0 <= x0 <= x1 <= 117.4 and 29.1 <= y0 <= y1 <= 29.5


def test_kml_has_every_route_with_chinese_names_and_the_zones_shelters_and_points(data, reachable, tmp_path):
    path = tmp_path / "routes.kml"
    assert vector.write_vector(data, "routes", path) == len(reachable)
    assert [name for name, _ in pyogrio.list_layers(path)] == ["危险区", "撤离路线", "避灾场所", "隐患点"]
    routes = pyogrio.read_dataframe(path, layer="撤离路线")
    assert len(routes) == len(reachable)
    assert routes["Name"].str.contains("撤离路线").all()
    assert any("新安村<崩塌> & “危岩”" in name for name in routes["Name"])
    assert _in_district(routes)
    assert len(pyogrio.read_dataframe(path, layer="危险区")) == 3
    text = path.read_text(encoding="utf-8")
    assert "<styleUrl>#route</styleUrl>" in text and "&lt;崩塌&gt; &amp;" in text


def test_gpx_has_every_route_as_a_named_track_and_shelters_as_waypoints(data, reachable, tmp_path):
    path = tmp_path / "routes.gpx"
    vector.write_vector(data, "routes", path)
    tracks = pyogrio.read_dataframe(path, layer="tracks")
    assert len(tracks) == len(reachable)
    assert sorted(tracks["name"].str.split("：").str[0]) == ["新安村<崩塌> & “危岩” 撤离路线1", "枫林村滑坡 撤离路线1"]
    assert _in_district(tracks)
    waypoints = pyogrio.read_dataframe(path, layer="waypoints")
    assert set(waypoints["name"]) >= {"枫林村委会"}
    assert set(waypoints["sym"]) == {"Shelter", "Danger Area"}


def test_geojson_is_wgs84_with_every_route(data, reachable, tmp_path):
    path = tmp_path / "routes.geojson"
    vector.write_vector(data, "routes", path, hazard_ids=["H1"])
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == 4326
    assert list(frame["hazard_id"]) == ["H1"]
    assert frame["length_m"].iloc[0] == pytest.approx(reachable.set_index("hazard_id").loc["H1", "length_m"], abs=0.1)
    assert _in_district(frame)


@pytest.mark.parametrize(
    ("kind", "fmt", "count"), [("zones", "geojson", 3), ("shelters", "gpx", 2), ("shelters", "kml", 2)]
)
def test_zones_and_shelters(data, tmp_path, kind, fmt, count):
    path = tmp_path / f"{kind}.{fmt}"
    assert vector.write_vector(data, kind, path) == count
    layer = "waypoints" if fmt == "gpx" else None
    assert len(pyogrio.read_dataframe(path, layer=layer)) == count


def test_zones_have_no_gpx_form_and_formats_are_checked(data, tmp_path):
    with pytest.raises(ValueError, match="zones cannot be written as gpx"):
        vector.write_vector(data, "zones", tmp_path / "z.gpx")
    with pytest.raises(ValueError, match="choose a format"):
        vector.write_vector(data, "routes", tmp_path / "r.shp")
    assert not list(tmp_path.iterdir())


def test_writes_are_atomic(tmp_path):
    path = tmp_path / "routes.kml"
    path.write_text("old")
    with pytest.raises(RuntimeError), files.opened(path) as stream:
        stream.write(b"half a file")
        raise RuntimeError("the export failed half way")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["routes.kml"]  # no temporary file left behind
