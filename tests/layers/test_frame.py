"""layers.frame: a map cut into the frame the browser keeps and the data it swaps (issue 4: a filter change within
a second, the reader's view kept).  The browser side is exercised in tests/ui/test_browser.py."""

from __future__ import annotations

import re

import folium
import pytest
from folium.plugins import Draw

import layers
from layers.assets import BUNDLE
from layers.frame import MAP_ID, render_layer, split
from tests.layers.test_layers import all_layers
from tests.support.fixtures import tiny_dataset


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()


def _map(data, *, lang: str = "zh", hazards=None, fit=None) -> folium.Map:
    m = layers.base_map(data["district"].total_bounds, lang=lang, outline=data["district"])
    if fit is not None:
        m.fit_bounds(fit)
    layers.township_layer(data["townships"], lang=lang).add_to(m)
    layers.hazard_layer(data["hazard_points"] if hazards is None else hazards, lang=lang).add_to(m)
    return layers.finish_map(m, lang=lang)


def test_the_frame_is_the_same_text_whatever_the_data(data):
    whole = split(_map(data))
    fewer = split(_map(data, hazards=data["hazard_points"].iloc[:1]))
    assert (whole.script, whole.header, whole.js_links, whole.css_links) == (
        fewer.script,
        fewer.header,
        fewer.js_links,
        fewer.css_links,
    )
    assert whole.frame_key == fewer.frame_key
    assert whole.data != fewer.data
    # Another language is another frame (its controls speak it): the browser loads it anew.
    assert split(_map(data, lang="en")).frame_key != whole.frame_key


def test_frame_holds_the_map_and_its_controls_and_data_holds_the_layers(data):
    payload = split(_map(data))
    assert f'var map_{MAP_ID} = L.map(\n                "map_{MAP_ID}"' in payload.script
    for control in ("L.control.scale", "L.control.fullscreen", "L.Control.Measure", "L.Control.MousePosition"):
        assert control in payload.script and control not in payload.data
    assert "L.Control.MiniMap" in payload.script  # the overview of the district outline
    for part in ("L.featureGroup", "L.control.layers", "hazmap-legend"):
        assert part in payload.data and part not in payload.script
    assert payload.html == ""  # streamlit-folium's page has the map's <div>
    assert all(url.startswith("../../app/static/vendor/") for url in payload.js_links + payload.css_links)

    routes = split(layers.finish_map(_frame_with(data, all_layers(data))))
    assert routes.js_links == (f"../../app/static/vendor/{BUNDLE}",)  # Leaflet and every plugin the layers use


def test_data_script_removes_what_the_last_one_added_and_records_its_own(data):
    payload = split(_map(data))
    removal = payload.data.index("(window.hazmapData || []).forEach(function (item) { item.remove(); });")
    assert removal < payload.data.index("L.featureGroup")  # the old layers go before the new ones come
    # The switches the reader set are read before the old layers go, and applied to the new ones by title.
    assert payload.data.index("hazmapWasOn[s[0]] = map_div.hasLayer(s[1])") < removal
    switches = re.search(r"window\.hazmapSwitches = \[(.*)\];", payload.data).group(1)
    titles = [_js_string(title) for title in ("乡镇（街道）界", "地质灾害隐患点")]
    assert re.findall(r'\["([^"]+)", feature_group_\w+\]', switches) == titles
    recorded = re.search(r"window\.hazmapData = \[([^\]]*)\];", payload.data).group(1).split(", ")
    # Both layers, the layer control and the legend: everything the script adds to the map.
    assert [name.split("_")[0] for name in recorded] == ["feature", "feature", "layer", "legend"]
    for name in recorded:
        assert re.search(rf"\b(var|let) {name}\b", payload.data), name


def test_the_view_is_fitted_only_when_the_extent_changes(data):
    fit = [[29.2, 117.1], [29.3, 117.2]]
    payload = split(_map(data, fit=fit))
    assert payload.bounds == ((29.2, 117.1), (29.3, 117.2))
    assert "window.hazmapFitted !== key" in payload.data
    assert "[[29.2, 117.1], [29.3, 117.2]]" in payload.data
    assert "fitBounds" not in payload.script  # the frame leaves the view to the data


def test_frame_element_names_are_positional_and_the_map_is_map_div(data):
    payload = split(_map(data))
    names = re.findall(r"var (\w+) = ", payload.script)
    assert names[0] == f"map_{MAP_ID}"
    assert all(re.fullmatch(r"[a-z_]+_f\d+|map_div", name) for name in names), names


def test_a_drawing_tool_belongs_to_the_frame_and_is_what_the_page_reads(data):
    m = layers.base_map(data["district"].total_bounds, outline=data["district"])
    Draw().add_to(m)
    payload = split(layers.finish_map(m))
    assert "new L.Control.Draw" in payload.script
    assert re.search(r"window\.drawnItems = drawnItems_draw_control_f\d+;", payload.script)


def test_a_map_is_split_once(data):
    m = _map(data)
    split(m)
    with pytest.raises(ValueError, match="freshly built"):
        split(m)


def test_layers_rendered_apart_make_the_same_map_as_one_map(data):
    whole = split(layers.finish_map(_frame_with(data, all_layers(data))))
    rendered = [render_layer(layer) for layer in all_layers(data)]
    apart = split(layers.frame_map(_frame_with(data, []), rendered), rendered)
    assert apart.frame_key == whole.frame_key
    # Each layer is listed once in the layer control, under its title, and has its legend entry.
    control = re.search(r"L\.control\.layers\(\{\}, \{(.*?)\}, ", apart.data).group(1)
    titles = [layer.title for layer in rendered]
    assert re.findall(r'"([^"]+)": feature_group_', control) == [_js_string(t) for t in titles]
    for layer in rendered:
        assert layer.script in apart.data
        assert f'data-layer=\\"{_js_string(layer.title)}\\"' in apart.data  # its legend entry
    assert set(apart.js_links) == set(whole.js_links) and set(apart.css_links) == set(whole.css_links)


def test_a_rendered_layer_keeps_its_name_switch_and_assets(data):
    layer = next(layer for layer in all_layers(data) if layer.title == "转移路线")
    layer.show = False
    rendered = render_layer(layer)
    assert rendered.name == layer.get_name() and rendered.show is False
    assert f"var {rendered.name} = L.featureGroup" in rendered.script
    assert f"{rendered.name}.addTo(map_div)" not in rendered.script  # off until switched on
    # ... and its features are built when it is first switched on, not when the map opens.
    opening, lazily = rendered.script.split(f"{rendered.name}.once('add', function () {{\n", 1)
    assert "L.featureGroup" in opening and "L.geoJson" not in opening
    assert "L.geoJson" in lazily and lazily.rstrip().endswith("});")
    shown = render_layer(next(layer for layer in all_layers(data) if layer.title == "转移路线"))
    assert ".once('add'" not in shown.script and f"{shown.name}.addTo(map_div)" in shown.script
    assert rendered.js_links == ("../../app/static/vendor/leaflet-textpath/leaflet.textpath.js",)
    assert 'style="display:none"' in rendered.legend


def _frame_with(data, drawn) -> folium.Map:
    m = layers.base_map(data["district"].total_bounds, outline=data["district"])
    for layer in drawn:
        layer.add_to(m)
    return m


def _js_string(text: str) -> str:
    """``text`` as json.dumps writes it inside a JavaScript string (non-ASCII escaped)."""
    return text.encode("ascii", "backslashreplace").decode("ascii")
