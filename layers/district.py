"""District and township boundaries, with township names as labels."""

from __future__ import annotations

import geopandas as gpd

from layers import i18n
from layers.common import DEFAULT_SIMPLIFY_M, HazmapLayer, LegendSection, Symbol, geojson


def district_layer(
    district: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame | None = None,
    *,
    labels: bool = True,
    lang: str = "zh",
    simplify_m: float | None = DEFAULT_SIMPLIFY_M,
    show: bool = True,
) -> HazmapLayer:
    """Draw the district outline and, when given, the township boundaries labelled with their names.

    Parameters
    ----------
    district, townships
        The ``district`` and ``townships`` layers.
    labels
        Write each township's name in its middle.
    simplify_m
        Simplification tolerance in metres (see :func:`layers.common.pixel_metres`).
    """
    outline = Symbol(i18n.ui("district", lang), "line", "#333333", weight=3.0)
    boundary = Symbol(i18n.ui("township_boundary", lang), "line", "#777777", weight=1.2, dash="6 4")
    layer = HazmapLayer(
        i18n.layer_title("district", lang),
        [LegendSection("", (outline, boundary) if townships is not None else (outline,))],
        show=show,
    )
    if townships is not None:
        geojson(
            townships,
            layer="townships",
            columns=[],
            styles=[boundary.path_style()] * len(townships),
            lang=lang,
            tooltip_column="name" if labels else None,
            label=True,
            simplify_m=simplify_m,
        ).add_to(layer)
    geojson(
        district,
        layer="district",
        columns=[],
        styles=[outline.path_style()] * len(district),
        lang=lang,
        tooltip_column=None,
        simplify_m=simplify_m,
    ).add_to(layer)
    return layer
