"""The map itself: background, optional basemap tiles, controls; and the last step that makes it offline.

By default the map has **no tile layer**: hazmap runs on intranets that reach no tile server, and the
district outline, townships and roads drawn from the data set locate the reader well enough.  A basemap is
added only when configured:

- ``osm``: OpenStreetMap's standard tiles;
- ``tianditu``: 天地图 (the national basemap), vector map ``vec_w`` with Chinese (``cva_w``) or English
  (``eva_w``) annotation, in Web Mercator (the ``_w`` tile sets; ``_c`` ones are in geographic coordinates,
  which Leaflet's default CRS cannot show).  Tianditu needs a key (``tk``).  Its coordinates are CGCS2000,
  which Leaflet's WGS84 data meets within centimetres, so unlike GCJ-02 basemaps no offset is applied.

Controls: layer switcher, scale bar, full screen, distance/area measurement, the coordinates under the
cursor, and an overview map (a MiniMap of the basemap, or of the district outline when there is no basemap;
none when there is neither).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import folium
import geopandas as gpd
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MeasureControl, MiniMap, MousePosition
from folium.template import Template

from layers import i18n
from layers.assets import DEFAULT_BASE_URL, make_offline
from layers.common import HazmapStyles, feature_collection, lonlat, pixel_metres
from layers.legend import add_legend

BASEMAPS = ("none", "osm", "tianditu")
_OSM = ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "&copy; OpenStreetMap contributors", "abc")
_TIANDITU = "https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}&x={{x}}&y={{y}}&l={{z}}&tk={key}"
_TIANDITU_ATTR = "&copy; 天地图 (国家地理信息公共服务平台)"
_TIANDITU_NOTES = {"zh": "cva_w", "en": "eva_w"}
#: Deepest zoom of the map: Tianditu's last level, about 0.5 m per pixel.
MAX_ZOOM = 18
#: Zoom of an overview map of the district outline: its outline is simplified to a pixel at that zoom.
_OVERVIEW_ZOOM = 9


class OutlineMiniMap(JSCSSMixin, MacroElement):
    """An overview map (leaflet-minimap) showing a GeoJSON outline instead of tiles.

    folium's MiniMap needs a tile layer; Leaflet's MiniMap control takes any layer, so with no basemap the
    overview shows the district outline.
    """

    default_js = MiniMap.default_js
    default_css = MiniMap.default_css
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.MiniMap(
                L.geoJson({{ this.data|tojavascript }}, {style: {{ this.style|tojavascript }}}),
                {{ this.options|tojavascript }}
            );
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, outline: gpd.GeoDataFrame, position: str = "bottomleft"):
        super().__init__()
        self._name = "OutlineMiniMap"
        lat = float(lonlat(outline).union_all().centroid.y)
        self.data, _ = feature_collection(
            outline[[outline.geometry.name]], outline.iloc[:, :0], simplify_m=pixel_metres(_OVERVIEW_ZOOM, lat)
        )
        self.style = {"color": "#333333", "weight": 1.5, "fillColor": "#9e9e9e", "fillOpacity": 0.2}
        self.options = {"position": position, "width": 150, "height": 150, "zoomLevelOffset": -4, "toggleDisplay": True}


class MetricScale(MacroElement):
    """A metric-only scale bar: folium's ``control_scale`` adds miles too, of no use here."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({imperial: false, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


def _tiles(basemap: str, tianditu_key: str | None, lang: str) -> list[folium.TileLayer]:
    """The tile layers of ``basemap``: the base map first, then overlays drawn with it."""
    if basemap == "osm":
        url, attr, subdomains = _OSM
        return [folium.TileLayer(url, attr=attr, name="OpenStreetMap", subdomains=subdomains, max_zoom=MAX_ZOOM)]
    if not tianditu_key:
        raise ValueError("the tianditu basemap needs a key (tk): pass tianditu_key")
    key = quote(tianditu_key, safe="")

    def tianditu(layer: str, name: str, **options) -> folium.TileLayer:
        url = _TIANDITU.format(layer=layer, key=key)
        options.update(attr=_TIANDITU_ATTR, name=name, subdomains="01234567", max_zoom=MAX_ZOOM)
        return folium.TileLayer(url, **options)

    base = tianditu("vec_w", "天地图")
    notes = tianditu(_TIANDITU_NOTES[lang], "天地图注记", overlay=True, control=False)
    return [base, notes]


def base_map(
    bounds: Sequence[float],
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    *,
    outline: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Return an empty map fitted to ``bounds``, with its controls; add layers, then call :func:`finish_map`.

    Parameters
    ----------
    bounds
        (min lon, min lat, max lon, max lat), e.g. ``district.total_bounds``.
    basemap
        ``none`` (default: no tiles, light background), ``osm`` or ``tianditu``.
    tianditu_key
        天地图 key (``tk``); required for ``tianditu``.
    lang
        ``zh`` or ``en`` for the controls' words (and Tianditu's annotation).
    outline
        The district layer, drawn in the overview map when there is no basemap.

    Raises
    ------
    ValueError
        For an unknown ``basemap`` or ``lang``, or ``tianditu`` without a key.
    """
    i18n.check_lang(lang)
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {'|'.join(BASEMAPS)}, not {basemap!r}")
    min_lon, min_lat, max_lon, max_lat = map(float, bounds)
    m = folium.Map(
        location=[(min_lat + max_lat) / 2, (min_lon + max_lon) / 2],
        tiles=None,
        zoom_start=11,
        # Leaflet takes the zoom range from the tile layers, and MarkerCluster refuses a map without one: set
        # it on the map itself (folium's max_zoom would only go to a default tile layer).
        maxZoom=MAX_ZOOM,
    )
    # hazmap draws its own symbols (layers.common badges) and uses GeoJSON popups: folium's jQuery, Bootstrap,
    # Font Awesome, Glyphicons and awesome-markers would be nine requests and ~400 kB loaded for nothing.
    # layers.assets.make_offline refuses the folium elements that need them.
    m.default_js = [(name, url) for name, url in m.default_js if name == "leaflet"]
    m.default_css = [(name, url) for name, url in m.default_css if name == "leaflet_css"]
    m.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]])
    m.add_child(HazmapStyles())
    m.add_child(MetricScale())
    tiles = _tiles(basemap, tianditu_key, lang) if basemap != "none" else []
    for tile in tiles:
        tile.add_to(m)
    Fullscreen(
        position="topleft",
        title=i18n.ui("fullscreen", lang),
        title_cancel=i18n.ui("exit_fullscreen", lang),
        force_separate_button=True,
    ).add_to(m)
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization="cn" if lang == "zh" else "en",
    ).add_to(m)
    MousePosition(
        position="bottomleft", separator=", ", empty_string="", lng_first=True, prefix=i18n.ui("lon_lat", lang)
    ).add_to(m)
    if tiles:
        # A fresh copy of the basemap: the MiniMap declares its tile layer under that layer's own name.
        overview = _tiles(basemap, tianditu_key, lang)[0]
        MiniMap(overview, position="bottomleft", toggle_display=True, zoom_level_offset=-4).add_to(m)
    elif outline is not None:
        OutlineMiniMap(outline).add_to(m)
    return m


def finish_map(m: folium.Map, *, lang: str = "zh", base_url: str = DEFAULT_BASE_URL) -> folium.Map:
    """Add the layer control and the legend, then point every asset at the local copies; returns ``m``.

    Call it once, after the last layer: the layer control lists the layers present when it is added, and
    :func:`layers.assets.make_offline` rewrites the assets of the elements present when it runs.

    Parameters
    ----------
    base_url
        Where the page finds ``static/vendor``; see :mod:`layers.assets`.
    """
    # Controls in one corner stack: the legend goes under the layer switcher instead of overlapping it.
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    add_legend(m, lang=lang, position="topright")
    return make_offline(m, base_url)
