"""Each map layer draws one feature per row with its style, escaped popups and its legend entry."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import layers
from geo.analysis import evacuation, pools
from layers import assets, common, i18n
from layers.base import OutlineMiniMap
from layers.common import HazmapLayer
from layers.district import RelabelWhenStyled
from layers.escape import escape_text
from layers.hazards import CLUSTER_THRESHOLD, GRADE_COLOURS, TYPE_MARKS
from layers.legend import legend_html
from layers.routes import TextPathScript
from layers.warnings import WARNING_COLOURS
from tests.support.fixtures import tiny_dataset

HOSTILE = "<img src=x onerror=alert(1)>${alert(1)}`HOSTILE\\`"
HOSTILE_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;&#36;&#123;alert(1)&#125;&#96;HOSTILE&#92;&#96;"


def analysis_results(data: dict[str, gpd.GeoDataFrame]) -> dict[str, pd.DataFrame]:
    """The evacuation routes (plus one unreachable, lineless route) and pool coverage of ``data``."""
    routes = evacuation.evacuation_routes(data)
    unreachable = routes.routes.iloc[[0]].assign(reachable=False, reason="no road", geometry=None)
    coverage = pools.pool_coverage(data)
    return {
        "routes": pd.concat([routes.routes, unreachable], ignore_index=True),
        "shelter_load": routes.shelters,
        "nearest": coverage.nearest,
    }


def all_layers(data: dict[str, gpd.GeoDataFrame], lang: str = "zh") -> list[HazmapLayer]:
    """One of every layer, built from ``data`` (a whole data set) and its analysis results."""
    results = analysis_results(data)
    return [
        layers.township_layer(data["townships"], lang=lang),
        layers.district_layer(data["district"], lang=lang),
        layers.warning_layer(data["warning_areas"], lang=lang),
        layers.road_layer(data["roads"], lang=lang),
        layers.danger_zone_layer(data["danger_zones"], data["hazard_points"], lang=lang),
        layers.village_layer(data["villages"], lang=lang),
        layers.hazard_layer(data["hazard_points"], include_inactive=True, lang=lang),
        layers.school_layer(data["schools"], lang=lang),
        layers.pool_layer(data["pools"], lang=lang),
        layers.coverage_layer(data["schools"], data["pools"], results["nearest"], k=2, lang=lang),
        layers.shelter_layer(results["shelter_load"], lang=lang),
        layers.route_layer(results["routes"], lang=lang),
    ]


def geojsons(layer: folium.Element) -> list[folium.GeoJson]:
    return [e for e in common.walk(layer) if isinstance(e, folium.GeoJson)]


def features(layer: folium.Element) -> list[dict]:
    return [f for g in geojsons(layer) for f in g.data["features"]]


def styles(layer: folium.Element) -> list[dict]:
    """The Leaflet style of every feature, as folium computes it."""
    return [g.style_function(f) for g in geojsons(layer) for f in g.data["features"]]


@pytest.fixture(scope="module")
def data() -> dict[str, gpd.GeoDataFrame]:
    return tiny_dataset()


# --------------------------------------------------------------------------------------------------
# Features and styles

LAYER_COUNTS: list[tuple[str, Callable[[dict], HazmapLayer], int]] = [
    ("district", lambda d: layers.district_layer(d["district"]), 1),
    ("2 townships", lambda d: layers.township_layer(d["townships"]), 2),
    ("warning areas", lambda d: layers.warning_layer(d["warning_areas"]), 2),
    ("roads", lambda d: layers.road_layer(d["roads"]), 2),
    ("danger zones", lambda d: layers.danger_zone_layer(d["danger_zones"]), 3),
    ("villages", lambda d: layers.village_layer(d["villages"]), 3),
    ("active hazard points", lambda d: layers.hazard_layer(d["hazard_points"]), 2),
    ("all hazard points", lambda d: layers.hazard_layer(d["hazard_points"], include_inactive=True), 3),
    ("schools", lambda d: layers.school_layer(d["schools"]), 2),
    ("pools and 2 open-pool circles", lambda d: layers.pool_layer(d["pools"]), 4),
    ("pools without circles", lambda d: layers.pool_layer(d["pools"], service_radius_m=None), 2),
    ("shelters", lambda d: layers.shelter_layer(d["shelters"]), 2),
]


@pytest.mark.parametrize(("what", "build", "count"), LAYER_COUNTS, ids=[c[0] for c in LAYER_COUNTS])
def test_layer_draws_one_feature_per_row(data, what, build, count):
    layer = build(data)
    assert isinstance(layer, folium.FeatureGroup)
    assert layer.feature_count() == count
    assert layer.legend, f"{what} has no legend entry"


def test_every_layer_renders_and_reports_its_title(data):
    m = folium.Map(tiles=None)
    titles = []
    for layer in all_layers(data):
        layer.add_to(m)
        titles.append(layer.layer_name)
    m.get_root().render()
    assert len(set(titles)) == len(titles)


def test_routes_draw_reachable_routes_with_direction_arrows(data):
    routes = analysis_results(data)["routes"]
    layer = layers.route_layer(routes)
    assert layer.feature_count() == routes.geometry.notna().sum() == len(routes) - 1
    assert any(isinstance(e, TextPathScript) for e in common.walk(layer))
    script = _render(layer)
    assert "setText" in script and "►" in script


def _render(layer: folium.Element) -> str:
    m = folium.Map(tiles=None)
    layer.add_to(m)
    return m.get_root().render()


def test_coverage_links_each_school_to_its_nearest_pools_and_rings_the_kth(data):
    nearest = analysis_results(data)["nearest"]
    layer = layers.coverage_layer(data["schools"], data["pools"], nearest, k=2)
    lines = [f for f in features(layer) if f["geometry"]["type"] == "LineString"]
    rings = [s for s in styles(layer) if "radius" in s]
    assert len(lines) == len(nearest)
    # docs/data-model.md pool coverage: the k-pool radius is the distance to the k-th nearest pool.
    assert [r["radius"] for r in rings] == [pytest.approx(nearest["distance_m"].nlargest(1).iloc[0])]
    assert layers.coverage_layer(data["schools"], data["pools"], nearest, k=3).feature_count() == len(nearest)


def test_warning_areas_take_the_colour_of_their_level_and_red_is_drawn_last(data):
    # Plan 4.4: 四级（蓝色）< 三级（黄色）< 二级（橙色）< 一级（红色）.
    layer = layers.warning_layer(data["warning_areas"])
    levels = i18n.enum_labels("warning_areas", "level", "zh")
    drawn = [(f["properties"]["level"], s["fillColor"]) for f, s in zip(features(layer), styles(layer), strict=True)]
    assert drawn == [(levels["blue"], WARNING_COLOURS["blue"]), (levels["red"], WARNING_COLOURS["red"])]
    assert list(WARNING_COLOURS.values()) == ["#1e6fd9", "#f5c800", "#ff8000", "#dc0000"]


def test_hazard_badges_are_coloured_by_grade_and_marked_by_type(data):
    # Plan 3.2: the danger grade (险情等级) is what the badge colour tells.
    points = data["hazard_points"]
    layer = layers.hazard_layer(points, include_inactive=True)
    for (_, row), style in zip(points.iterrows(), styles(layer), strict=True):
        expected = GRADE_COLOURS[row["danger_grade"]] if row["status"] == "active" else "#9e9e9e"
        assert f"background:{expected}" in style["html"]
        assert f">{TYPE_MARKS['zh'][row['hazard_type']]}</div>" in style["html"]


def test_many_hazard_points_are_clustered(data):
    point = data["hazard_points"].iloc[[0]]
    many = pd.concat([point] * (CLUSTER_THRESHOLD + 1), ignore_index=True)
    many["hazard_id"] = [f"H{i}" for i in range(len(many))]
    clustered = layers.hazard_layer(gpd.GeoDataFrame(many, crs=point.crs))
    assert any(isinstance(e, folium.plugins.MarkerCluster) for e in common.walk(clustered))
    assert clustered.feature_count() == CLUSTER_THRESHOLD + 1
    assert not any(isinstance(e, folium.plugins.MarkerCluster) for e in common.walk(layers.hazard_layer(point)))


def test_villages_and_shelters_grow_with_population_and_capacity(data):
    village_radii = [s["radius"] for s in styles(layers.village_layer(data["villages"]))]
    populations = data["villages"]["population"].tolist()
    assert np.argsort(village_radii).tolist() == np.argsort(populations).tolist()
    shelters = data["shelters"].assign(over_capacity=[True, False])
    shelter_styles = styles(layers.shelter_layer(shelters))
    assert shelter_styles[0]["iconSize"][0] < shelter_styles[1]["iconSize"][0]  # 300 < 2000 places
    assert "background:#d32f2f" in shelter_styles[0]["html"]


def test_schools_are_told_apart_by_their_pool(data):
    layer = layers.school_layer(data["schools"])
    colours = [re.search(r"background:(#\w+)", s["html"]).group(1) for s in styles(layer)]
    assert colours == ["#00897b", "#ef6c00"]  # SC1 has a pool, SC2 has none


def test_payload_keeps_popup_columns_only_and_six_decimals(data):
    hazards = data["hazard_points"].copy()
    hazards["geometry"] = [Point(117.123456789, 29.3), Point(117.3, 29.35), Point(117.1, 29.2)]
    feature = features(layers.hazard_layer(hazards))[0]
    assert feature["geometry"]["coordinates"] == (117.123457, 29.3)
    assert "version" not in feature["properties"]
    assert feature["properties"]["danger_grade"] == "中型"


def test_polygons_are_simplified_by_the_tolerance(data):
    circle = data["danger_zones"].iloc[[0]]  # a buffered point: 65 vertices
    fine = features(layers.danger_zone_layer(circle, simplify_m=None))[0]["geometry"]["coordinates"][0]
    coarse = features(layers.danger_zone_layer(circle, simplify_m=100.0))[0]["geometry"]["coordinates"][0]
    assert len(coarse) < len(fine) == 65


def test_projected_layers_are_drawn_in_longitude_latitude(data):
    projected = data["villages"].to_crs("EPSG:4548")
    lon, lat = features(layers.village_layer(projected))[0]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((117.252, 29.301), abs=1e-6)


def test_a_layer_without_crs_is_refused(data):
    with pytest.raises(ValueError, match="no CRS"):
        layers.village_layer(data["villages"].set_crs(None, allow_override=True))


def test_townships_are_labelled_with_their_names_and_the_district_is_not(data):
    townships = layers.township_layer(data["townships"])
    # One permanent tooltip per feature: bound to the whole GeoJSON, Leaflet would label the first only.
    assert 'layer.bindTooltip(feature.properties["name"]' in _render(townships)
    assert [f["properties"].get("name") for f in features(townships)] == ["西郊街道", "鲇鱼山镇"]
    district = layers.district_layer(data["district"])
    assert [f["properties"] for f in features(district)] == [{}]
    assert "bindTooltip" not in _render(district)


def test_township_labels_can_be_left_out(data):
    layer = layers.township_layer(data["townships"], labels=False)
    assert layer.feature_count() == 2
    assert [f["properties"] for f in features(layer)] == [{}, {}]
    assert "bindTooltip" not in _render(layers.township_layer(data["townships"], labels=False))
    assert not any(isinstance(e, RelabelWhenStyled) for e in common.walk(layer))


def test_district_and_townships_are_two_entries_of_the_layer_control_and_the_legend(data):
    # The web-map issue: the district outline and the township boundaries are switched on and off apart.
    m = layers.base_map(data["district"].total_bounds, outline=data["district"])
    townships = layers.township_layer(data["townships"], show=False)
    district = layers.district_layer(data["district"])
    townships.add_to(m)
    district.add_to(m)
    layers.finish_map(m)
    m.get_root().render()
    (control,) = [e for e in common.walk(m) if isinstance(e, folium.LayerControl)]
    assert control.overlays == {"乡镇（街道）界": townships.get_name(), "行政区": district.get_name()}
    assert (townships.show, district.show) == (False, True)
    # Each entry draws only its own features: the township layer no district, the district layer no township.
    assert features(townships) == features(layers.township_layer(data["townships"]))
    assert [f["properties"].get("name") for f in features(townships)] == ["西郊街道", "鲇鱼山镇"]
    assert district.feature_count() == 1
    html = legend_html([townships, district])
    township_entry, district_entry = html.split('class="hazmap-legend-layer"')[1:]
    assert 'data-layer="乡镇（街道）界" style="display:none"' in township_entry
    assert "<span>乡镇（街道）界</span>" in township_entry and 'stroke-dasharray="6 4"' in township_entry
    assert 'data-layer="行政区"' in district_entry and "<span>行政区界</span>" in district_entry
    assert "乡镇" not in district_entry


def test_every_township_layer_carries_one_relabel_element_and_no_other_layer_does(data):
    for layer in all_layers(data):
        relabels = [e for e in common.walk(layer) if isinstance(e, RelabelWhenStyled)]
        assert len(relabels) == (layer.title == "乡镇（街道）界"), layer.title
        # A child of the layer itself, so its script names the layer and comes with the layer's own script.
        assert all(e._parent is layer for e in relabels)


def _relabel_script(layer: HazmapLayer) -> str:
    """The relabel script of ``layer`` as the page runs it."""
    m = folium.Map(tiles=None)
    layer.add_to(m)
    figure = m.get_root()
    figure.render()
    (relabel,) = [e for e in common.walk(layer) if isinstance(e, RelabelWhenStyled)]
    return figure.script._children[relabel.get_name()]._template_str


# A stand-in for the page: the layer (a group holding a GeoJSON of two labelled townships, one of them with its
# label closed) and two stylesheet links, Leaflet's still loading.  Prints the tooltip updates after each step.
_RELABEL_HARNESS = """
var updates = [];
function label(name, open) {
    return { getTooltip: function () { return { isOpen: function () { return open; },
                                                 update: function () { updates.push(name); } }; } };
}
function group(children) {
    return { getTooltip: function () {}, eachLayer: function (f) { children.forEach(f); } };
}
function link(loaded) {
    return { sheet: loaded ? {} : null, handlers: {},
             addEventListener: function (type, f) { (this.handlers[type] = this.handlers[type] || []).push(f); },
             fire: function (type) { (this.handlers[type] || []).forEach(function (f) { f(); }); } };
}
var links = [link(true), link(false)];
global.document = { querySelectorAll: function () { return links; } };
var LAYER = group([group([label("west", true), label("east", false)])]);
var script = new Function("LAYER", SCRIPT.split(NAME).join("LAYER"));
script(LAYER);
script(LAYER);                         // the page evaluates the layer's script again while the styles load
console.log(JSON.stringify(updates));  // nothing yet
links[1].fire("load");
console.log(JSON.stringify(updates));  // each evaluation updates the open label once
links[1].fire("error");
console.log(JSON.stringify(updates));  // a stray second event changes nothing
links[1].sheet = {};
updates = [];
script(LAYER);                         // evaluated once the styles are in: nothing pending, nothing to do
links[1].fire("load");
console.log(JSON.stringify(updates));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the relabel script")
def test_relabel_script_updates_the_open_labels_of_its_layer_once_the_stylesheets_are_in(data, tmp_path):
    layer = layers.township_layer(data["townships"])
    script = _relabel_script(layer)
    assert layer.get_name() in script and "map_div" not in script
    harness = tmp_path / "relabel.js"
    preamble = f"var SCRIPT = {json.dumps(script)};\nvar NAME = {json.dumps(layer.get_name())};\n"
    harness.write_text(preamble + _RELABEL_HARNESS, encoding="utf-8")
    out = subprocess.run(["node", str(harness)], check=True, capture_output=True, text=True).stdout.split()
    assert out == ["[]", '["west","west"]', '["west","west"]', "[]"]


# --------------------------------------------------------------------------------------------------
# Escaping


def hostile(data: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """``data`` with every name, and a few other free-text fields, replaced by an attack."""
    out = {}
    for name, gdf in data.items():
        gdf = gdf.copy()
        for column in ("name", "monitor_name", "village", "township"):
            if column in gdf.columns:
                gdf[column] = HOSTILE
        out[name] = gdf
    return out


def script_blocks(page: str) -> str:
    return "\n;\n".join(re.findall(r"<script>(.*?)</script>", page, re.S))


def test_hostile_names_are_inert_in_every_layer(data):
    m = layers.base_map(data["district"].total_bounds, outline=data["district"])
    bad = hostile(data)
    for layer in all_layers(bad):
        layer.add_to(m)
    layers.finish_map(m)
    page = m.get_root().render()
    assert "<img src=x onerror" not in page
    assert "${alert(1)}" not in page
    assert "`HOSTILE" not in page
    shown = [v for f in features(m) for v in f["properties"].values() if "HOSTILE" in v]
    assert shown and all(HOSTILE_ESCAPED in v for v in shown)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to parse the page's JavaScript")
def test_page_script_with_hostile_names_is_valid_javascript(data, tmp_path):
    m = folium.Map(tiles=None)
    for layer in all_layers(hostile(data)):
        layer.add_to(m)
    folium.Marker([29.3, 117.2], popup=folium.Popup(escape_text(HOSTILE)), tooltip=escape_text(HOSTILE)).add_to(m)
    script = tmp_path / "page.js"
    script.write_text(script_blocks(m.get_root().render()), encoding="utf-8")
    subprocess.run(["node", "--check", str(script)], check=True, capture_output=True)


def test_escaped_text_is_inert_in_folium_template_literals():
    # folium writes Popup and Tooltip HTML into `...` template literals and escapes only bare backticks.
    m = folium.Map(tiles=None)
    folium.Marker([29.3, 117.2], popup=folium.Popup(escape_text(HOSTILE)), tooltip=escape_text(HOSTILE)).add_to(m)
    literals = re.findall(r"`(.*?)`", script_blocks(m.get_root().render()), re.S)
    assert literals and not any("${" in text or "<img" in text for text in literals)
    assert sum(HOSTILE_ESCAPED in text for text in literals) == 2


# --------------------------------------------------------------------------------------------------
# Legend and language


def test_legend_lists_the_warning_levels_low_to_high_and_the_danger_grades(data):
    html = legend_html([layers.warning_layer(data["warning_areas"]), layers.hazard_layer(data["hazard_points"])])
    levels = [html.index(label) for label in i18n.enum_labels("warning_areas", "level", "zh").values()]
    assert levels == sorted(levels)
    for label in ("特大型", "大型", "中型", "小型", "滑坡", "不稳定斜坡"):
        assert f"<span>{label}</span>" in html


def test_legend_hides_layers_that_start_switched_off(data):
    html = legend_html([layers.road_layer(data["roads"], show=False)])
    assert 'data-layer="道路" style="display:none"' in html


def test_legend_control_is_added_after_the_layers(data):
    m = folium.Map(tiles=None)
    assert layers.add_legend(m) is None
    layers.village_layer(data["villages"]).add_to(m)
    legend = layers.add_legend(m)
    assert "村庄（居民点）" in legend.html


def test_english_labels(data):
    html = legend_html([layers.warning_layer(data["warning_areas"], lang="en")], lang="en")
    assert "Level IV (blue)" in html and "Level I (red)" in html and "Legend" in html
    style = styles(layers.hazard_layer(data["hazard_points"], lang="en"))[0]
    assert ">L</div>" in style["html"]
    feature = features(layers.hazard_layer(data["hazard_points"], lang="en"))[0]
    assert feature["properties"]["hazard_type"] == "Landslide"
    townships = layers.township_layer(data["townships"], lang="en")
    district = layers.district_layer(data["district"], lang="en")
    assert (townships.title, district.title) == ("Township boundaries", "District")
    boundaries = legend_html([townships, district], lang="en")
    assert "<span>Township boundary</span>" in boundaries and "<span>District boundary</span>" in boundaries


def test_unknown_language_is_refused(data):
    with pytest.raises(ValueError, match="lang"):
        layers.warning_layer(data["warning_areas"], lang="fr")


# --------------------------------------------------------------------------------------------------
# The map


def tile_urls(m: folium.Map) -> list[str]:
    return [e.tiles for e in common.walk(m) if isinstance(e, folium.TileLayer)]


def test_base_map_has_no_tiles_unless_configured(data):
    m = layers.base_map(data["district"].total_bounds, outline=data["district"])
    assert tile_urls(m) == []
    assert m.options["maxZoom"] == 18  # without tiles to give it one, MarkerCluster would refuse the map
    assert any(isinstance(e, OutlineMiniMap) for e in common.walk(m))
    controls = {type(e).__name__ for e in common.walk(m)}
    assert {"Fullscreen", "MeasureControl", "MousePosition", "MetricScale"} <= controls


def test_tianditu_needs_a_key_and_gets_annotation_in_the_map_language(data):
    bounds = data["district"].total_bounds
    with pytest.raises(ValueError, match="key"):
        layers.base_map(bounds, basemap="tianditu")
    urls = tile_urls(layers.base_map(bounds, basemap="tianditu", tianditu_key="k&y", lang="en"))
    assert [re.search(r"T=(\w+)", u).group(1) for u in urls] == ["vec_w", "eva_w"]
    assert all(u.endswith("tk=k%26y") for u in urls)


def test_osm_basemap_gets_an_overview_map(data):
    m = layers.base_map(data["district"].total_bounds, basemap="osm")
    assert tile_urls(m) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert any(isinstance(e, folium.plugins.MiniMap) for e in common.walk(m))


def test_unknown_basemap_is_refused(data):
    with pytest.raises(ValueError, match="basemap"):
        layers.base_map(data["district"].total_bounds, basemap="google")


def test_finish_map_adds_legend_and_layer_control_and_goes_offline(data):
    m = layers.base_map(data["district"].total_bounds)
    layers.warning_layer(data["warning_areas"]).add_to(m)
    layers.finish_map(m, base_url="/x/vendor")
    kinds = [type(e).__name__ for e in m._children.values()]
    assert kinds.index("LayerControl") < kinds.index("Legend")
    assert m.default_js[0] == ("leaflet", "/x/vendor/leaflet/leaflet.js")
    assert assets.remote_references(m.get_root().render()) == []


def test_every_layer_draws_an_empty_selection():
    # A filter matching nothing, or a selection whose routes are all unreachable, must still render.
    data = tiny_dataset()
    empty = {name: gdf.iloc[0:0] for name, gdf in data.items()}
    groups = [
        layers.hazard_layer(empty["hazard_points"]),
        layers.village_layer(empty["villages"]),
        layers.shelter_layer(empty["shelters"]),
        layers.danger_zone_layer(empty["danger_zones"]),
        layers.school_layer(empty["schools"]),
        layers.warning_layer(empty["warning_areas"]),
        layers.road_layer(empty["roads"]),
        layers.pool_layer(empty["pools"]),
    ]
    m = folium.Map(tiles=None)
    for group in groups:
        assert group.feature_count() == 0
        group.add_to(m)
    m.get_root().render()
