"""Warning areas, coloured by level: 四级蓝色, 三级黄色, 二级橙色, 一级红色 (plan 4.4)."""

from __future__ import annotations

import geopandas as gpd

from geo.model.schema import WARNING_LEVEL_LABELS, WARNING_RANK
from layers import i18n
from layers.common import DEFAULT_SIMPLIFY_M, FOUR_COLOURS, HazmapLayer, LegendSection, Symbol, geojson

#: Level -> the colour the plan names it by.
WARNING_COLOURS = dict(zip(WARNING_LEVEL_LABELS, FOUR_COLOURS, strict=True))

_COLUMNS = ("warning_id", "level", "issued_at", "valid_until")


def warning_symbols(lang: str = "zh") -> dict[str, Symbol]:
    """Return level -> symbol, low to high."""
    labels = i18n.enum_labels("warning_areas", "level", lang)
    return {
        level: Symbol(labels[level], "fill", colour, weight=2.0, fill_opacity=0.3)
        for level, colour in WARNING_COLOURS.items()
    }


def warning_layer(
    warning_areas: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    simplify_m: float | None = DEFAULT_SIMPLIFY_M,
    show: bool = True,
) -> HazmapLayer:
    """Draw the ``warning_areas`` layer, higher levels on top of lower ones where areas overlap.

    Parameters
    ----------
    warning_areas
        The ``warning_areas`` layer.
    simplify_m
        Simplification tolerance in metres.
    """
    symbols = warning_symbols(lang)
    # Later features are drawn over earlier ones: red must stay visible over a blue area around it.
    ordered = warning_areas.iloc[warning_areas["level"].map(WARNING_RANK).fillna(0).argsort(kind="stable")]
    layer = HazmapLayer(
        i18n.layer_title("warning_areas", lang), [LegendSection("", tuple(symbols.values()))], show=show
    )
    geojson(
        ordered,
        layer="warning_areas",
        columns=_COLUMNS,
        styles=[symbols[level].path_style() for level in ordered["level"]],
        lang=lang,
        tooltip_column="level",
        simplify_m=simplify_m,
        highlight=True,
    ).add_to(layer)
    return layer
