"""What every layer module shares: symbols, the layer class that carries its legend, GeoJSON payloads, popups.

A :class:`Symbol` is the one definition of how a class of features looks; the layer styles its features from
it and the legend draws its swatch from it, so the two cannot disagree.  Features travel to the browser as one
GeoJSON per layer (not one folium element per feature): coordinates rounded to 6 decimals (~0.1 m), only the
columns a popup shows, polygons and lines simplified, and every shown value escaped by
:func:`layers.escape.escape_text` in Python, because GeoJsonPopup/GeoJsonTooltip insert property values into
the page as HTML.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template
from folium.utilities import JsCode

from geo.model.crs import ACCEPTED_CRS, STORAGE_CRS
from geo.model.schema import LAYERS
from layers import i18n
from layers.escape import escape_text, is_missing

#: Low to high: warning levels blue/yellow/orange/red (plan 4.4), and danger grades small..giant in the same
#: order; the same colours as the default QGIS styles of geo/store/qgis_style.py.
FOUR_COLOURS = ("#1e6fd9", "#f5c800", "#ff8000", "#dc0000")
#: Decimals kept in GeoJSON coordinates: 1e-6 degree is about 0.1 m, far below a screen pixel.
COORD_DECIMALS = 6
#: Metres per degree of latitude; simplification tolerances are given in metres and applied in degrees.
METRES_PER_DEGREE = 111_320.0
#: Default simplification of polygons and lines: invisible up to zoom 17 (about 1 m per pixel).
DEFAULT_SIMPLIFY_M = 2.0

Style = dict[str, object]


def pixel_metres(zoom: int, lat: float) -> float:
    """Return the ground size of one Web-Mercator screen pixel at ``zoom`` and latitude ``lat``.

    A simplification tolerance of about one pixel at the most detailed zoom a layer is read at removes
    nothing the eye can see: pass ``pixel_metres(zoom, lat)`` as a layer's ``simplify_m``.

    >>> round(pixel_metres(12, 29.3), 1)
    33.3
    """
    return 156_543.03392 * math.cos(math.radians(lat)) / 2**zoom


def _ink(color: str) -> str:
    """Return black or white, whichever reads better on ``color`` (#rrggbb)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#222" if 0.299 * r + 0.587 * g + 0.114 * b > 160 else "#fff"


@dataclass(frozen=True)
class Symbol:
    """How one class of features is drawn, and its legend entry.

    Attributes
    ----------
    label
        Legend text.
    kind
        ``badge`` (a DivIcon: coloured circle or square with a character), ``circle`` (CircleMarker of radius
        ``size`` px, or a Circle in metres when the layer says so), ``line``, ``fill`` (polygon).
    color
        Stroke colour, and fill colour unless ``fill_color`` is set.
    size
        Badge edge or circle radius in pixels.
    text
        Character of a badge, or the arrow drawn along a line.
    shape
        ``circle`` or ``square``: the outline of a badge.
    weight, dash, opacity
        Stroke width in pixels, SVG dash pattern, stroke opacity (for a badge: its opacity).
    fill_color, fill_opacity
        Fill of polygons and circles.
    """

    label: str
    kind: str
    color: str
    size: float = 18.0
    text: str = ""
    shape: str = "circle"
    weight: float = 2.0
    dash: str | None = None
    fill_color: str | None = None
    fill_opacity: float = 0.3
    opacity: float = 1.0

    def path_style(self) -> Style:
        """Leaflet path options of a polygon, line or circle drawn with this symbol."""
        style: Style = {
            "color": self.color,
            "weight": self.weight,
            "opacity": self.opacity,
            "fill": self.kind in ("fill", "circle"),
            "fillColor": self.fill_color or self.color,
            "fillOpacity": self.fill_opacity,
        }
        if self.dash:
            style["dashArray"] = self.dash
        if self.kind == "circle":
            style["radius"] = self.size
        return style

    def badge_html(self) -> str:
        """HTML of a badge; the map's DivIcons and the legend use the same markup."""
        fill = self.fill_color or self.color
        return (
            f'<div class="hazmap-badge hazmap-{self.shape}" style="width:{self.size:g}px;height:{self.size:g}px;'
            f'background:{fill};color:{_ink(fill)};opacity:{self.opacity:g};font-size:{self.size * 0.6:.0f}px">'
            f"{escape_text(self.text)}</div>"
        )

    def icon_options(self) -> Style:
        """DivIcon options of a badge, merged into each marker's icon by folium's GeoJson."""
        return {"html": self.badge_html(), "iconSize": [self.size, self.size], "className": "hazmap-icon"}

    def swatch_html(self) -> str:
        """The legend's picture of this symbol."""
        if self.kind == "badge":
            return self.badge_html()
        fill = self.fill_color or self.color
        dash = f' stroke-dasharray="{self.dash}"' if self.dash else ""
        stroke = f'stroke="{self.color}" stroke-width="{self.weight:g}" stroke-opacity="{self.opacity:g}"{dash}'
        if self.kind == "circle":
            edge = 2 * self.size + self.weight + 2
            shape = (
                f'<circle cx="{edge / 2:g}" cy="{edge / 2:g}" r="{self.size:g}" fill="{fill}" '
                f'fill-opacity="{self.fill_opacity:g}" {stroke}/>'
            )
            return f'<svg width="{edge:g}" height="{edge:g}">{shape}</svg>'
        if self.kind == "line":
            arrow = (
                f'<text x="14" y="10" font-size="10" fill="{self.color}" text-anchor="middle">'
                f"{escape_text(self.text)}</text>"
            )
            line = f'<line x1="1" y1="7" x2="27" y2="7" {stroke}/>'
            return f'<svg width="28" height="14">{line}{arrow if self.text else ""}</svg>'
        rect = f'<rect x="1" y="1" width="24" height="14" fill="{fill}" fill-opacity="{self.fill_opacity:g}" {stroke}/>'
        return f'<svg width="26" height="16">{rect}</svg>'


@dataclass(frozen=True)
class LegendSection:
    """A titled group of legend entries within one layer (e.g. the danger grades of the hazard points)."""

    title: str
    symbols: tuple[Symbol, ...]


_CSS = """
.leaflet-container { background: #f6f5f1; }
.hazmap-icon { background: none; border: none; }
.hazmap-badge { display: flex; align-items: center; justify-content: center; box-sizing: border-box;
  border-radius: 50%; border: 1.5px solid #fff; box-shadow: 0 0 0 1px rgba(0, 0, 0, .5);
  font-weight: bold; line-height: 1; font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif; }
.hazmap-badge.hazmap-square { border-radius: 3px; }
.hazmap-label { background: transparent; border: none; box-shadow: none; padding: 0; font-weight: bold;
  color: #333; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
.hazmap-label::before { display: none; }
.hazmap-popup th { color: #666; font-weight: normal; white-space: nowrap; }
.hazmap-popup td { font-weight: 600; }
.hazmap-cluster { width: 100%; height: 100%; border-radius: 50%; background: rgba(60, 60, 60, .8); color: #fff;
  display: flex; align-items: center; justify-content: center; font-weight: bold; border: 2px solid #fff; }
.hazmap-cluster-icon { background: none; border: none; }
.hazmap-legend { background: rgba(255, 255, 255, .92); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0, 0, 0, .4); max-height: 45vh; overflow-y: auto; font-size: 12px; line-height: 1.3; }
.hazmap-legend summary { font-weight: bold; cursor: pointer; }
.hazmap-legend-layer { margin-top: 6px; }
.hazmap-legend-name { font-weight: bold; }
.hazmap-legend-sub { color: #666; margin-top: 2px; }
.hazmap-legend-item { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.hazmap-legend-item > svg, .hazmap-legend-item > .hazmap-badge { flex: none; }
"""


class HazmapStyles(MacroElement):
    """The stylesheet of the symbols, labels, popups and legend; whatever adds it, the page gets it once."""

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")

    def render(self, **kwargs) -> None:
        # One fixed name in the page header: every layer adds this element, the header keeps one copy.
        self.get_root().header.add_child(Element(f"<style>{_CSS}</style>"), name="hazmap_styles")


class HazmapLayer(folium.FeatureGroup):
    """A layer of the map: a FeatureGroup shown in the layer control, with the legend sections it draws.

    Parameters
    ----------
    title
        Name in the layer control and heading of its legend entry (our own words, never user data).
    legend
        Legend sections, in the order the legend lists them.
    show
        Whether the layer is on when the map opens.
    """

    def __init__(self, title: str, legend: Iterable[LegendSection], show: bool = True):
        super().__init__(name=title, overlay=True, control=True, show=show)
        self.title = title
        self.legend = tuple(legend)
        self.add_child(HazmapStyles())

    def feature_count(self) -> int:
        """Number of GeoJSON features drawn, over every GeoJson in the layer (clusters included)."""
        return sum(len(e.data["features"]) for e in walk(self) if isinstance(e, folium.GeoJson))


def walk(element: Element) -> Iterable[Element]:
    """Yield ``element`` and its descendants, depth first."""
    yield element
    for child in element._children.values():
        yield from walk(child)


def lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return the geometries in CGCS2000 longitude/latitude, which Leaflet reads as WGS84 (centimetres apart).

    Raises
    ------
    ValueError
        If ``gdf`` has no CRS: coordinates of unknown meaning cannot be placed on the map.
    """
    if gdf.crs is None:
        raise ValueError("layer has no CRS; expected EPSG:4490 (CGCS2000) or a CRS to reproject from")
    if gdf.crs.to_epsg() in ACCEPTED_CRS:
        return gdf.geometry
    return gdf.geometry.to_crs(STORAGE_CRS)


def feature_collection(
    gdf: gpd.GeoDataFrame, properties: pd.DataFrame, *, simplify_m: float | None = None
) -> tuple[dict, list[int]]:
    """Return the GeoJSON of ``gdf`` with ``properties`` (same index), and the positions of the rows kept.

    Rows without a geometry (an unreachable route, say) cannot be drawn and are left out; the positions let
    the caller style exactly the rows that are drawn.  Feature ids are the kept rows' positions, as text.
    """
    geoms = lonlat(gdf).array
    if simplify_m:
        geoms = shapely.simplify(geoms, simplify_m / METRES_PER_DEGREE, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    keep = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    records = properties.to_dict("records")
    features = [
        {
            "type": "Feature",
            "id": str(pos),
            "properties": records[pos],
            "geometry": shapely.geometry.mapping(geoms[pos]),
        }
        for pos in keep
    ]
    return {"type": "FeatureCollection", "features": features}, keep.tolist()


def _number(value: float) -> str:
    """12345 -> '12,345'; 0.8333 -> '0.83' (two decimals at most, trailing zeros dropped)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _formatter(layer: str, column: str, lang: str) -> Callable[[object], str]:
    """Return the function that turns a value of ``column`` into the escaped text a popup shows."""
    labels = i18n.enum_labels(layer, column, lang)
    spec = LAYERS.get(layer)
    is_bool = spec is not None and column in spec.columns and spec.field(column).kind == "bool"
    yes, no = i18n.ui("yes", lang), i18n.ui("no", lang)

    def text(value: object) -> str:
        if is_missing(value):
            return ""
        if is_bool or isinstance(value, bool | np.bool_):
            return yes if bool(value) else no
        if isinstance(value, str):
            return labels.get(value, value)
        if isinstance(value, int | np.integer | float | np.floating):
            return _number(float(value))
        return str(value)

    return lambda value: escape_text(text(value))


def display_table(gdf: pd.DataFrame, layer: str, columns: Sequence[str], lang: str) -> pd.DataFrame:
    """Return the escaped text of ``columns`` (those present) for popups, on ``gdf``'s index.

    Enumerated values show their label, booleans 是/否 (yes/no), numbers with thousands separators.
    """
    present = [c for c in columns if c in gdf.columns]
    return pd.DataFrame({c: gdf[c].map(_formatter(layer, c, lang)) for c in present}, index=gdf.index)


def popup(layer: str, columns: Iterable[str], lang: str) -> folium.GeoJsonPopup:
    """A popup table of ``columns`` with their titles; values must come from :func:`display_table`."""
    columns = list(columns)
    titles = [escape_text(i18n.column_title(layer, c, lang)) for c in columns]
    return folium.GeoJsonPopup(
        fields=columns, aliases=titles, localize=False, class_name="hazmap-popup", max_width=360, style=""
    )


def tooltip(column: str) -> folium.GeoJsonTooltip:
    """A tooltip showing one escaped property on hover."""
    return folium.GeoJsonTooltip(fields=[column], labels=False, sticky=True, class_name="hazmap-tooltip")


def permanent_label(column: str) -> JsCode:
    """onEachFeature code writing the escaped property ``column`` as a permanent label in each feature's middle.

    A GeoJsonTooltip cannot do it: bound to the whole GeoJSON layer, Leaflet opens one permanent tooltip for
    the group, on its first feature only.
    """
    return JsCode(
        f"""
        function (feature, layer) {{
            layer.bindTooltip(feature.properties[{json.dumps(column)}],
                {{permanent: true, direction: "center", className: "hazmap-label"}});
        }}
        """
    )


def geojson(
    gdf: gpd.GeoDataFrame,
    *,
    layer: str,
    columns: Sequence[str],
    styles: Sequence[Style],
    lang: str,
    tooltip_column: str | None = "name",
    label: bool = False,
    marker: folium.Marker | folium.CircleMarker | folium.Circle | None = None,
    simplify_m: float | None = None,
    highlight: bool = False,
    on_each_feature: JsCode | None = None,
) -> folium.GeoJson:
    """Return one GeoJson of ``gdf``: each feature styled by its entry of ``styles``, with popup and tooltip.

    Parameters
    ----------
    layer
        Data-model layer name, for column titles and enum labels.
    columns
        Columns the popup shows (those present in ``gdf``), in order; none: no popup.
    styles
        One Leaflet style per row of ``gdf``: path options for polygons and lines; for points the options
        merged into ``marker`` (CircleMarker/Circle options, or DivIcon options of a badge Marker).
    tooltip_column
        Column shown on hover, or None.
    label
        Show ``tooltip_column`` permanently, as a label in the middle of each feature, instead of on hover
        (this takes the place of ``on_each_feature``).
    simplify_m
        Simplification tolerance of polygons and lines in metres; None keeps every vertex.
    highlight
        Thicken polygons and lines under the mouse (not for circles: Leaflet would reset their radius).
    on_each_feature
        JavaScript ``function (feature, layer)`` run on each feature's Leaflet layer.
    """
    props = display_table(gdf, layer, list(dict.fromkeys([*columns, *filter(None, [tooltip_column])])), lang)
    data, kept = feature_collection(gdf, props, simplify_m=simplify_m)
    by_id = {str(pos): styles[pos] for pos in kept}
    thicker = {key: {**style, "weight": float(style.get("weight", 2)) + 2} for key, style in by_id.items()}
    # folium checks popup and tooltip fields against the first feature, so a layer with nothing to draw (every
    # route of a selection unreachable, a filter matching nothing) carries neither.
    drawable = bool(data["features"])
    popup_fields = [c for c in columns if c in props.columns] if drawable else []
    shows_text = drawable and tooltip_column in props.columns
    return folium.GeoJson(
        data,
        style_function=lambda feature: by_id[feature["id"]],
        highlight_function=(lambda feature: thicker[feature["id"]]) if highlight else None,
        marker=marker,
        tooltip=tooltip(tooltip_column) if shows_text and not label else None,
        popup=popup(layer, popup_fields, lang) if popup_fields else None,
        on_each_feature=permanent_label(tooltip_column) if shows_text and label else on_each_feature,
        control=False,
    )


def badge_marker() -> folium.Marker:
    """The marker template of badge layers: each feature's DivIcon options come from its style."""
    return folium.Marker(icon=folium.DivIcon(class_name="hazmap-icon"))


def sized(values: pd.Series, reference: float, reference_size: float, smallest: float, largest: float) -> np.ndarray:
    """Return symbol sizes whose areas grow with ``values``: ``reference`` gets ``reference_size``.

    Sizes are clipped to [smallest, largest] and rounded to whole pixels, so features of similar value share
    one style (folium writes one style per distinct value).
    """
    ratio = np.sqrt(np.clip(pd.to_numeric(values, errors="coerce").fillna(0).to_numpy(float), 0, None) / reference)
    return np.round(np.clip(reference_size * ratio, smallest, largest))


def size_legend(
    values: Sequence[float], reference: float, base: Symbol, sizes: tuple[float, float, float], lang: str
) -> tuple[Symbol, ...]:
    """Legend entries of a sized symbol, one per value in ``values`` (people or capacity)."""
    smallest, reference_size, largest = sizes
    pixel = sized(pd.Series(values), reference, reference_size, smallest, largest)
    return tuple(
        replace(base, label=i18n.ui("people_unit", lang, n=f"{v:,.0f}"), size=float(p))
        for v, p in zip(values, pixel, strict=True)
    )
