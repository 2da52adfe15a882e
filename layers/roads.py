"""Roads, drawn by class: wide and warm for highways, thin and grey for village roads and paths."""

from __future__ import annotations

import geopandas as gpd

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
    frame = roads.copy()
    # Unnamed roads still tell their class on hover.
    frame["label"] = frame["name"].fillna(frame["road_class"].map(i18n.enum_labels("roads", "road_class", lang)))
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
