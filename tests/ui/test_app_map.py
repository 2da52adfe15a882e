"""The Map page: its filters, search, thinning, map, click handling and hazard-point details; and the whole app
under Streamlit's AppTest, in Chinese and English, on good and broken data files."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo import store
from geo.analysis import evacuation, exposure
from geo.settings import DEMO_DATA, ROOT
from layers.assets import remote_references
from layers.common import HazmapLayer, walk
from tests.support.fixtures import tiny_dataset
from ui import common, map_page
from ui.map_page import Filters

APP = ROOT / "app.py"


@pytest.fixture(scope="module")
def demo() -> dict[str, gpd.GeoDataFrame]:
    """The demo data set, read once; tests only read it."""
    return store.open(DEMO_DATA).read_layers()


@pytest.fixture(scope="module")
def demo_levels(demo) -> pd.Series:
    return map_page.warning_levels(exposure.analyse(demo))


@pytest.fixture(scope="module")
def tiny() -> dict[str, gpd.GeoDataFrame]:
    return tiny_dataset()


@pytest.fixture(scope="module")
def tiny_exposure(tiny) -> exposure.ExposureResult:
    return exposure.analyse(tiny)


# --------------------------------------------------------------------------------------------------
# Filters and search


def test_default_filter_shows_only_active_points(demo, demo_levels):
    shown = map_page.filter_hazards(demo["hazard_points"], Filters(), demo_levels)
    assert set(shown["status"]) == {"active"}
    assert len(shown) == int((demo["hazard_points"]["status"] == "active").sum())


def test_every_filter_narrows_the_hazard_points(demo, demo_levels):
    hazards = demo["hazard_points"]
    chosen = Filters(townships=("丽阳镇",), hazard_types=("landslide",), grades=("small",), statuses=("active",))
    shown = map_page.filter_hazards(hazards, chosen, demo_levels)
    assert len(shown) > 0
    assert set(shown["township"]) == {"丽阳镇"}
    assert set(shown["hazard_type"]) == {"landslide"}
    assert set(shown["danger_grade"]) == {"small"}
    everything = map_page.filter_hazards(hazards, Filters(statuses=()), demo_levels)
    assert len(everything) == len(hazards)


def test_warning_level_filter_uses_the_highest_level_and_none_for_the_unwarned(tiny, tiny_exposure):
    levels = map_page.warning_levels(tiny_exposure)
    hazards = tiny["hazard_points"]
    red = map_page.filter_hazards(hazards, Filters(warning_levels=("red",)), levels)
    assert set(red["hazard_id"]) == {"H1", "H2"}  # inside W2 (red) and W1 (blue): the highest counts
    assert map_page.filter_hazards(hazards, Filters(warning_levels=("blue",)), levels).empty
    unwarned = map_page.filter_hazards(hazards, Filters(statuses=(), warning_levels=(map_page.NOT_WARNED,)), levels)
    assert list(unwarned["hazard_id"]) == ["H3"]  # treated: no analysis counts it, so no warning covers it


def test_search_puts_the_exact_id_first_then_ids_then_names(tiny):
    hazards = tiny["hazard_points"]
    assert list(map_page.search_hazards(hazards, " h2 ")["hazard_id"]) == ["H2"]
    assert list(map_page.search_hazards(hazards, "滑坡")["hazard_id"]) == ["H1"]
    assert list(map_page.search_hazards(hazards, "村")["hazard_id"]) == ["H1", "H2"]
    assert map_page.search_hazards(hazards, "  ").empty
    assert map_page.search_hazards(hazards, "nothing like it").empty


def test_search_ranks_an_exact_id_above_ids_containing_it(demo):
    hazards = demo["hazard_points"]
    target = hazards["hazard_id"].iloc[7]
    found = map_page.search_hazards(hazards, target[:-1], limit=5)
    assert len(found) == 5
    assert all(hazard_id.startswith(target[:-1]) for hazard_id in found["hazard_id"])
    assert map_page.search_hazards(hazards, target)["hazard_id"].iloc[0] == target


# --------------------------------------------------------------------------------------------------
# What the map draws


def test_township_filter_restricts_every_layer(demo, demo_levels):
    view = map_page.map_view(demo, Filters(townships=("荷塘乡",)), demo_levels)
    frames = view.frames
    for name in ("hazard_points", "villages", "schools", "pools", "shelters"):
        assert set(frames[name]["township"]) <= {"荷塘乡"}, name
    assert set(frames["danger_zones"]["hazard_id"]) <= set(frames["hazard_points"]["hazard_id"])
    assert 0 < len(frames["roads"]) < len(demo["roads"])
    assert len(frames["townships"]) == len(demo["townships"])  # boundaries stay whole, for orientation
    township = demo["townships"].set_index("name").loc["荷塘乡"].geometry
    assert view.bounds == pytest.approx(township.bounds)
    assert view.thinned == []


def test_whole_district_view_draws_the_main_roads_and_says_so(demo, demo_levels):
    view = map_page.map_view(demo, Filters(), demo_levels)
    assert set(view.frames["roads"]["road_class"]) == set(map_page.MAIN_ROADS)
    (note,) = view.thinned
    assert (note.layer, note.total) == ("roads", len(demo["roads"]))
    assert not view.large
    picked = map_page.map_view(demo, Filters(townships=tuple(demo["townships"]["name"])), demo_levels)
    assert set(picked.frames["roads"]["road_class"]) == set(demo["roads"]["road_class"])  # every class


def test_routes_and_danger_zones_follow_the_filtered_hazard_points(tiny, tiny_exposure):
    routes = evacuation.evacuation_routes(tiny)
    levels = map_page.warning_levels(tiny_exposure)
    view = map_page.map_view(tiny, Filters(hazard_types=("collapse",)), levels, routes)
    assert set(view.frames["hazard_points"]["hazard_id"]) == {"H2"}
    assert set(view.frames["danger_zones"]["hazard_id"]) == {"H2"}
    assert set(view.frames["routes"]["hazard_id"]) == {"H2"}


def test_large_layers_are_thinned_to_what_matters_most_and_say_so(demo, demo_levels, monkeypatch):
    monkeypatch.setitem(map_page.LIMITS, "villages", (10, "population"))
    monkeypatch.setattr(map_page, "ROAD_LIMIT", 300)
    view = map_page.map_view(demo, Filters(), demo_levels)
    villages = view.frames["villages"]
    assert len(villages) == 10
    assert villages["population"].min() >= demo["villages"]["population"].nlargest(10).min()
    roads = view.frames["roads"]
    assert set(roads["road_class"]) == {"highway"}  # 117 highways fit in 300, with the 236 primary roads they would not
    notes = {note.layer: note for note in view.thinned}
    assert notes["villages"] == map_page.Thinned("villages", 10, len(demo["villages"]), "population")
    assert notes["roads"].kept == "highway"
    assert "人口" in map_page.thinning_note(notes["villages"], "zh")
    assert "高速" in map_page.thinning_note(notes["roads"], "zh")
    assert "main roads" in map_page.thinning_note(notes["roads"], "en")


def test_fit_zoom_fits_the_district_in_the_map(demo):
    bounds = demo["district"].total_bounds
    zoom = map_page.fit_zoom(bounds, map_page.MAP_HEIGHT)
    assert zoom == 11
    assert map_page.fit_zoom(bounds, map_page.MAP_HEIGHT * 2) == zoom + 1


def test_map_has_one_switch_per_layer_and_loads_nothing_remote(tiny, tiny_exposure):
    routes = evacuation.evacuation_routes(tiny)
    view = map_page.map_view(tiny, Filters(), map_page.warning_levels(tiny_exposure), routes)
    m = map_page.build_map(view, lang="en")
    layers = [child for child in m._children.values() if isinstance(child, HazmapLayer)]
    # warnings, townships, district, roads, zones, pools, routes, villages, schools, shelters, points
    assert len(layers) == 11
    assert all(layer.control for layer in layers)
    shown = {layer.title for layer in layers if layer.show}
    assert "Schools" not in shown and "Evacuation routes" in shown
    assert remote_references(m.get_root().render()) == []


def test_a_thinned_map_opens_on_the_hazard_picture_with_short_popups(demo, demo_levels, monkeypatch):
    monkeypatch.setitem(map_page.LIMITS, "shelters", (5, "capacity"))
    view = map_page.map_view(demo, Filters(), demo_levels)
    m = map_page.build_map(view, lang="en")
    layers = {child.title: child for child in m._children.values() if isinstance(child, HazmapLayer)}
    assert {title for title, layer in layers.items() if layer.show} == {
        "Warning areas",
        "District",
        "Township boundaries",
        "Roads",
        "Danger zones",
        "Hazard points",
    }
    (points,) = [e for e in walk(layers["Hazard points"]) if isinstance(e, folium.GeoJson)]
    assert set(points.data["features"][0]["properties"]) == set(map_page.POPUP_SUMMARY)


def test_user_text_reaches_the_map_escaped(tiny, tiny_exposure):
    data = dict(tiny)
    hazards = data["hazard_points"].copy()
    hazards.loc[0, "name"] = "<img src=x onerror=alert(1)>"
    data["hazard_points"] = hazards
    view = map_page.map_view(data, Filters(), map_page.warning_levels(tiny_exposure))
    page = map_page.build_map(view).get_root().render()
    assert "<img src=x" not in page
    # HTML-escaped by layers.escape, then written into the script by Jinja's tojson (& as \u0026).
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page


# --------------------------------------------------------------------------------------------------
# Clicks and details


def test_a_click_on_a_point_zone_or_route_names_its_hazard_point():
    known = pd.Index(["H1", "A&B"])
    feature = {"type": "Feature", "properties": {"hazard_id": "A&amp;B"}, "geometry": {"type": "Polygon"}}
    assert map_page.clicked_hazard_id({"last_active_drawing": feature}, known) == "A&B"
    assert map_page.clicked_hazard_id({"last_active_drawing": {"properties": {"hazard_id": "H1"}}}, known) == "H1"
    assert map_page.clicked_hazard_id({"last_active_drawing": {"properties": {"hazard_id": "H9"}}}, known) is None
    assert map_page.clicked_hazard_id({"last_active_drawing": {"properties": {"village_id": "V1"}}}, known) is None
    assert map_page.clicked_hazard_id({"last_active_drawing": None}, known) is None
    assert map_page.clicked_hazard_id(None, known) is None


def test_a_second_click_on_the_same_point_is_a_new_click():
    first = map_page.click_token({"last_object_clicked_count": 1}, "frame-a")
    again = map_page.click_token({"last_object_clicked_count": 2}, "frame-a")
    assert first != again
    assert map_page.click_token({"last_object_clicked_count": 2}, "frame-a") == again  # a rerun, not a click
    # A new map frame counts from zero again: its first click differs from the old frame's first.
    assert map_page.click_token({"last_object_clicked_count": 1}, "frame-b") != first
    assert map_page.click_token(None, "frame-a") == ("frame-a", 0)


def test_inventory_table_shows_titles_and_words_in_the_language(tiny):
    record = tiny["hazard_points"].iloc[0]
    zh = map_page.inventory_table(record, "zh")
    assert dict(zip(zh.iloc[:, 0], zh.iloc[:, 1], strict=True))["灾害类型"] == "滑坡"
    en = map_page.inventory_table(record, "en")
    assert "Landslide" in set(en.iloc[:, 1])


def test_basemaps_are_offered_only_when_configured(monkeypatch):
    monkeypatch.delenv("HAZMAP_TIANDITU_KEY", raising=False)
    monkeypatch.delenv("HAZMAP_ALLOW_OSM", raising=False)
    assert common.basemaps() == ["none"]
    assert common.tianditu_key() is None
    monkeypatch.setenv("HAZMAP_TIANDITU_KEY", "k3y")
    monkeypatch.setenv("HAZMAP_ALLOW_OSM", "1")
    assert common.basemaps() == ["none", "tianditu", "osm"]
    assert common.tianditu_key() == "k3y"


# --------------------------------------------------------------------------------------------------
# The app


def _app(monkeypatch, data: str | None = None) -> AppTest:
    if data is None:
        monkeypatch.delenv("HAZMAP_DATA", raising=False)
    else:
        monkeypatch.setenv("HAZMAP_DATA", data)
    return AppTest.from_file(str(APP), default_timeout=120)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_app_opens_on_the_map_and_shows_a_searched_point(monkeypatch, demo, lang):
    at = _app(monkeypatch)
    at.run()
    assert not at.exception
    if lang == "en":
        at.sidebar.radio(key="lang").set_value("en").run()
    assert any(("隐患点" if lang == "zh" else "hazard points") in c.value for c in at.caption)
    hazard_id = demo["hazard_points"]["hazard_id"].iloc[0]
    at.sidebar.text_input(key="map_search").input(hazard_id).run()
    assert not at.exception
    heading = "隐患点" if lang == "zh" else "Hazard point"
    assert f"{heading} {hazard_id}" in [s.value for s in at.subheader]
    assert len(at.dataframe) >= 3  # inventory, routes, shelter


@pytest.mark.parametrize("content", [None, b"not a geopackage"])
def test_a_missing_or_broken_data_file_shows_the_error_page(monkeypatch, tmp_path, content):
    path = tmp_path / "data.gpkg"
    if content is not None:
        path.write_bytes(content)
    at = _app(monkeypatch, str(path))
    at.run()
    assert not at.exception
    assert at.error and "无法打开数据文件" in at.error[0].value


def test_filters_survive_a_language_switch(monkeypatch, demo):
    at = _app(monkeypatch)
    at.run()
    at.sidebar.multiselect(key="map_status_zh").set_value(["active", "treated"]).run()
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert at.sidebar.multiselect(key="map_status_en").value == ["active", "treated"]
    shown = int(demo["hazard_points"]["status"].isin(["active", "treated"]).sum())
    assert any(c.value.startswith(f"{shown} of ") for c in at.caption)
