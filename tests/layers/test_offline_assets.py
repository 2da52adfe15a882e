"""The map loads nothing from the internet: every script, stylesheet, image and font comes from static/vendor.

hazmap runs on intranets with no internet, so a map that names a CDN shows a blank page there.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from urllib.parse import urljoin

import branca.colormap
import folium
import folium.plugins as plugins
import pytest
import streamlit_folium
from folium.elements import JSCSSMixin

import layers
from geo.settings import ROOT
from layers import assets
from layers.assets import CDN_TO_LOCAL, DEFAULT_BASE_URL, VENDOR_DIR, OfflineAssetError, vendored_path
from tests.layers.test_layers import all_layers, hostile
from tests.support.browser import Guarded, streamlit_app
from tests.support.fixtures import tiny_dataset
from ui import widgets

#: Every folium element class hazmap may put on a map; their assets must all be vendored.
SUPPORTED = (
    folium.Map,
    plugins.MarkerCluster,
    plugins.Fullscreen,
    plugins.MeasureControl,
    plugins.MiniMap,
    plugins.MousePosition,
    plugins.Draw,
    plugins.PolyLineTextPath,
    plugins.AntPath,
)
TAG_URLS = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"')


def full_map(basemap: str = "none", data: dict | None = None, **kwargs) -> folium.Map:
    """A map with every layer and every supported plugin, offline; of the tiny data set unless ``data``."""
    data = data or tiny_dataset()
    m = layers.base_map(data["district"].total_bounds, basemap=basemap, outline=data["district"], **kwargs)
    for layer in all_layers(data):
        layer.add_to(m)
    line = folium.PolyLine([[29.2, 117.1], [29.3, 117.3]]).add_to(m)
    plugins.PolyLineTextPath(line, "►", repeat=True).add_to(m)
    plugins.AntPath([[29.2, 117.1], [29.25, 117.2]]).add_to(m)
    plugins.Draw().add_to(m)
    cluster = plugins.MarkerCluster().add_to(m)
    folium.Marker([29.3, 117.2], icon=folium.DivIcon(html="<b>H</b>")).add_to(cluster)
    return layers.finish_map(m)


def vendored_file(url: str, base: str = DEFAULT_BASE_URL) -> Path:
    assert url.startswith(base + "/"), url
    return VENDOR_DIR / url.removeprefix(base + "/")


def test_every_asset_of_the_supported_elements_is_vendored():
    for cls in SUPPORTED:
        for name, url in [*cls.default_js, *cls.default_css]:
            assert url in CDN_TO_LOCAL, f"{cls.__name__} {name} {url}: run scripts/vendor_assets.sh and map it"


def test_every_vendored_file_exists_with_its_licence():
    for rel in CDN_TO_LOCAL.values():
        assert (VENDOR_DIR / rel).is_file(), rel
    for package in VENDOR_DIR.iterdir():
        if package.is_dir() and package.name != "folium":  # folium/ holds our own rotate rules
            assert list(package.glob("*LICEN[CS]E*")), f"{package.name} has no licence file"


def test_vendored_stylesheets_reference_only_vendored_files():
    for sheet in VENDOR_DIR.rglob("*.css"):
        for target in re.findall(r"""url\(\s*['"]?([^'")]+)""", sheet.read_text(encoding="utf-8")):
            if target.startswith(("data:", "#")):
                continue
            assert (sheet.parent / re.split(r"[?#]", target)[0]).is_file(), f"{sheet.name}: {target}"


def test_vendored_assets_stay_small():
    size = sum(f.stat().st_size for f in VENDOR_DIR.rglob("*") if f.is_file())
    assert size < 5 * 1024 * 1024


def test_rendered_map_names_only_local_assets():
    page = full_map().get_root().render()
    assert assets.remote_references(page) == []
    urls = TAG_URLS.findall(page)
    assert len(urls) >= 15  # Leaflet and the eight plugins, each a script and mostly a stylesheet
    for url in urls:
        assert vendored_file(url).is_file(), url


def test_streamlit_folium_receives_only_local_assets(monkeypatch):
    # The page hands streamlit-folium's component the frame, the data and the lists of scripts and stylesheets
    # its iframe loads (ui.widgets.show_map).  Capture what it would send to the browser.
    sent = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kwargs: sent.update(kwargs))
    widgets.show_map(full_map(), "map")
    assert len(sent["js_links"]) >= 3 and len(sent["css_links"]) >= 8  # the bundle, Leaflet.draw, AntPath
    for url in [*sent["js_links"], *sent["css_links"]]:
        assert vendored_file(url).is_file(), url
    for part in ("header", "html", "script", "feature_group"):
        assert assets.remote_references(sent[part]) == [], part
    assert not re.search(r"https?://", sent["header"])


def test_asset_urls_resolve_to_the_static_route_under_any_base_path():
    # The component iframe lives at <base>/component/<name>/index.html; Streamlit serves ./static at
    # <base>/app/static/.  A relative URL climbs from the one to the other whatever the base path.
    name = streamlit_folium._component_func.name
    assert name == "streamlit_folium.st_folium"
    for base in ("http://host:8501/", "http://host/hazmap/"):
        frame = urljoin(base, f"component/{name}/index.html?streamlitUrl=x")
        assert urljoin(frame, f"{DEFAULT_BASE_URL}/leaflet/leaflet.js") == base + "app/static/vendor/leaflet/leaflet.js"


def test_a_configured_basemap_is_the_only_remote_access():
    page = full_map("osm").get_root().render()
    assert assets.remote_references(page) == []
    # URLs in string literals (comments of plugin templates cite issues; those are not loaded).
    remote = set(re.findall(r"""["'](https?://[^"']+)["']""", page))
    assert remote == {"https://tile.openstreetmap.org/{z}/{x}/{y}.png"}


def test_standalone_html_needs_no_network():
    m = full_map()
    page = layers.standalone_html(m)
    assert assets.remote_references(page) == []
    assert not TAG_URLS.findall(page)  # every script and stylesheet is inline
    assert "url(../" not in page and "url(images/" not in page
    assert "Leaflet 1.9.3" in page  # Leaflet itself is in the page
    assert "data:image/png;base64," in page  # the layer switcher's icon
    assert len(page) < 3 * 1024 * 1024
    # The map itself still points at the served copies afterwards.
    assert m.default_js[0][1] == f"{DEFAULT_BASE_URL}/leaflet/leaflet.js"


def test_standalone_html_can_embed_the_icon_fonts():
    # A plain folium map (not base_map) keeps folium's Font Awesome, which folium.Icon draws with.
    m = folium.Map(tiles=None)
    folium.Marker([29.3, 117.2], icon=folium.Icon(icon="home")).add_to(m)
    page = layers.standalone_html(m, embed_fonts=True)
    assert "data:font/woff2;base64," in page
    assert assets.remote_references(page) == []


def test_a_hazmap_map_loads_only_leaflet_of_folium_defaults():
    m = full_map()
    assert [name for name, _ in m.default_js] == ["leaflet"]
    assert [name for name, _ in m.default_css] == ["leaflet_css"]


@pytest.mark.parametrize(
    "marker",
    [
        lambda: folium.Marker([29.3, 117.2], icon=folium.Icon(icon="home")),  # Font Awesome + awesome-markers
        lambda: folium.Marker([29.3, 117.2], popup="<b>text</b>"),  # folium.Popup wraps its HTML with jQuery
    ],
    ids=["Icon", "Popup"],
)
def test_elements_needing_jquery_are_refused_on_a_hazmap_map_without_changes(marker):
    data = tiny_dataset()
    m = layers.base_map(data["district"].total_bounds, outline=data["district"])
    marker().add_to(m)

    def assets_of() -> list:
        return [(e.default_js, e.default_css) for e in layers.common.walk(m) if isinstance(e, JSCSSMixin)]

    before = assets_of()
    with pytest.raises(OfflineAssetError, match="jQuery"):
        layers.make_offline(m)
    assert assets_of() == before


def test_an_element_with_unvendored_assets_is_refused_without_changes():
    m = folium.Map(tiles=None)
    plugins.LocateControl().add_to(m)
    with pytest.raises(OfflineAssetError, match=re.escape("L.Control.Locate.min.js")) as error:
        assets.make_offline(m)
    assert len(error.value.problems) == 2  # its script and its stylesheet
    assert "default_js" not in vars(m)  # nothing was rewritten


def test_a_colormap_is_refused_because_streamlit_folium_adds_d3_from_a_cdn():
    m = folium.Map(tiles=None)
    branca.colormap.LinearColormap(["white", "red"]).add_to(m)
    with pytest.raises(OfflineAssetError, match=r"(?i)colormap"):
        assets.make_offline(m)


def test_make_offline_can_move_assets_to_another_base():
    m = assets.make_offline(folium.Map(tiles=None), "/one/vendor")
    assets.make_offline(m, "/two/vendor/")
    assert {url.rsplit("/vendor/", 1)[0] for _, url in [*m.default_js, *m.default_css]} == {"/two"}


# --------------------------------------------------------------------------------------------------
# In a real browser, cut off from the internet

#: Evaluated in the page until it reports ``ready``: what of the map rendered, in the map's own document.
MAP_STATE = """
(() => {
    const frame = [...document.querySelectorAll("iframe")].find(f => (f.src || "").includes("st_folium"));
    const doc = frame ? frame.contentDocument : document;
    const win = frame ? frame.contentWindow : window;
    if (!doc || !win.L || !doc.querySelector(".hazmap-legend")) return {ready: false};
    return {ready: true, badges: doc.querySelectorAll(".hazmap-badge").length,
            labels: doc.querySelectorAll(".hazmap-label").length,
            arrows: doc.querySelectorAll("textPath").length,
            controls: doc.querySelectorAll(".leaflet-control").length,
            pictures: [...doc.images].filter(i => i.getAttribute("src") === "x").length};
})()
"""


def browse(guarded: Guarded, url: str) -> tuple[dict, list[str], list[str]]:
    """Open ``url`` on a page cut off from the internet; return the map state, every URL asked for, dialogs shown."""
    requested: list[str] = []
    dialogs: list[str] = []
    page = guarded.page
    page.on("request", lambda request: requested.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.wait_for_function(f"{MAP_STATE.strip()}.ready", timeout=60_000)
    return page.evaluate(MAP_STATE), requested, dialogs


def assert_map_drawn_offline(guarded: Guarded, state: dict, dialogs: list[str]) -> None:
    assert state["badges"] > 5 and state["labels"] == 2 and state["arrows"] >= 1 and state["controls"] >= 6
    assert state["pictures"] == 0 and dialogs == []  # the hostile name rendered as text
    assert guarded.outside == []


@pytest.mark.browser
def test_standalone_page_draws_the_map_with_no_network(tmp_path, guarded):
    page = tmp_path / "map.html"
    page.write_text(layers.standalone_html(full_map(data=hostile(tiny_dataset()))), encoding="utf-8")
    state, _, dialogs = browse(guarded, page.as_uri())
    assert_map_drawn_offline(guarded, state, dialogs)


@pytest.mark.browser
@pytest.mark.slow
def test_streamlit_app_draws_the_map_from_its_static_route_with_no_network(tmp_path, guarded):
    # The app's directory decides where Streamlit's static route points: give it ours, and its config.
    (tmp_path / "static").symlink_to(ROOT / "static")
    (tmp_path / ".streamlit").symlink_to(ROOT / ".streamlit")
    (tmp_path / "app.py").write_text(textwrap.dedent(APP.format(root=str(ROOT))), encoding="utf-8")
    with streamlit_app(cwd=tmp_path) as url:
        state, requested, dialogs = browse(guarded, url)
    assert_map_drawn_offline(guarded, state, dialogs)
    assert any(u.endswith(f"/app/static/vendor/{assets.BUNDLE}") for u in requested)


APP = """
import sys
sys.path[:0] = [{root!r}]
from tests.support.fixtures import tiny_dataset
from tests.layers.test_layers import hostile
from tests.layers.test_offline_assets import full_map
from ui import widgets
# The path the pages take: the map cut into frame and data (layers.frame), the data evaluated by streamlit-folium.
widgets.show_map(full_map(data=hostile(tiny_dataset())), "map", height=600)
"""


def test_the_committed_bundle_is_the_join_of_its_parts():
    # A stale bundle would serve old plugin code: scripts/vendor_assets.sh rewrites it; this catches forgetting to.
    assert (VENDOR_DIR / assets.BUNDLE).read_text(encoding="utf-8") == assets.bundle_text()
    assert all(rel in CDN_TO_LOCAL.values() for rel in assets.BUNDLED)
    assert assets.BUNDLED[0] == "leaflet/leaflet.js"  # the plugins extend L


def test_bundled_links_load_leaflet_and_its_plugins_as_one_file_first():
    base = DEFAULT_BASE_URL
    links = [
        f"{base}/leaflet/leaflet.js",
        f"{base}/leaflet-draw/leaflet.draw.js",
        f"{base}/leaflet-textpath/leaflet.textpath.js",
    ]
    assert assets.bundled(links) == [f"{base}/{assets.BUNDLE}", f"{base}/leaflet-draw/leaflet.draw.js"]
    assert assets.bundled([f"{base}/leaflet-draw/leaflet.draw.js"]) == [f"{base}/leaflet-draw/leaflet.draw.js"]
    # What the page sends for a map with every supported plugin: one bundle, then the unbundled plugins.
    payload = layers.split(full_map())
    assert payload.js_links[0] == f"{base}/{assets.BUNDLE}"
    assert not any(vendored_path(url) in assets.BUNDLED for url in payload.js_links)
