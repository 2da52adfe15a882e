"""Roads, drawn by class: wide and warm for highways, thin and grey for village roads and paths."""

from __future__ import annotations

import geopandas as gpd
import shapely

from layers import i18n
from layers.common import DEFAULT_SIMPLIFY_M, HazmapLayer, LegendSection, Symbol, geojson

#: Road class -> (colour, width in px, dash pattern).
ROAD_STYLES = {
    "highway": ("#e65100", 4.0, None),
    "primary": ("#f9a825", 3.0, None),
    "secondary": ("#8d8d8d", 2.2, None),
    "rural": ("#a8a8a8", 1.5, None),
    "path": ("#a8a8a8", 1.0, "3 3"),
}


def road_symbols(lang: str = "zh") -> dict[str, Symbol]:
    """Return road class -> symbol, major to minor."""
    labels = i18n.enum_labels("roads", "road_class", lang)
    return {cls: Symbol(labels[cls], "line", c, weight=w, dash=d) for cls, (c, w, d) in ROAD_STYLES.items()}


def merge_roads(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one feature per road class and ``label``: its segments as one (multi)line.

    A road network is stored as thousands of short segments; drawn one feature each, they are most of the map
    page (a style entry, a tooltip binding and an SVG path per segment: 400 kB and 2,000 paths for the demo
    district's main roads).  Merged, the map draws the same lines with one feature per named road, and hovering
    highlights the whole road.
    """
    if frame.empty:
        return frame
    merged = frame.dissolve(by=["road_class", "label"], as_index=False, sort=False)
    merged[merged.geometry.name] = shapely.line_merge(merged.geometry.values)
    return merged


def road_layer(
    roads: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    simplify_m: float | None = DEFAULT_SIMPLIFY_M,
    show: bool = True,
) -> HazmapLayer:
    """Draw the ``roads`` layer styled by ``road_class``, its name on hover.

    Parameters
    ----------
    roads
        The ``roads`` layer.
    simplify_m
        Simplification tolerance in metres; road networks are the largest payload of the map, so pass a
        coarser one (e.g. ``pixel_metres(13, lat)``) when the map opens at district scale.
    """
    symbols = road_symbols(lang)
    frame = roads[["road_class", roads.geometry.name]].copy()
    # Unnamed roads still tell their class on hover.
    frame["label"] = roads["name"].fillna(roads["road_class"].map(i18n.enum_labels("roads", "road_class", lang)))
    frame = merge_roads(frame)
    layer = HazmapLayer(i18n.layer_title("roads", lang), [LegendSection("", tuple(symbols.values()))], show=show)
    geojson(
        frame,
        layer="roads",
        columns=[],
        styles=[symbols[cls].path_style() for cls in frame["road_class"]],
        lang=lang,
        tooltip_column="label",
        simplify_m=simplify_m,
        highlight=True,
    ).add_to(layer)
    return layer
