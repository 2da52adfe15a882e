"""Danger zones (危险区) of the hazard points."""

from __future__ import annotations

import geopandas as gpd

from layers import i18n
from layers.common import DEFAULT_SIMPLIFY_M, HazmapLayer, LegendSection, Symbol, geojson

_HAZARD_COLUMNS = ("hazard_id", "name", "hazard_type", "danger_grade")


def danger_zone_symbol(lang: str = "zh") -> Symbol:
    """The one symbol of the danger zones: red hatch-like dashed outline over a light red fill."""
    return Symbol(i18n.layer_title("danger_zones", lang), "fill", "#b71c1c", weight=1.5, dash="4 3", fill_opacity=0.25)


def danger_zone_layer(
    danger_zones: gpd.GeoDataFrame,
    hazard_points: gpd.GeoDataFrame | None = None,
    *,
    lang: str = "zh",
    simplify_m: float | None = DEFAULT_SIMPLIFY_M,
    show: bool = True,
) -> HazmapLayer:
    """Draw the ``danger_zones`` layer; with ``hazard_points``, popups also name each zone's hazard point.

    Parameters
    ----------
    danger_zones
        The ``danger_zones`` layer.
    hazard_points
        The ``hazard_points`` layer, to show the name, type and grade of the point a zone belongs to.
    simplify_m
        Simplification tolerance in metres.
    """
    zones = danger_zones[["hazard_id", danger_zones.geometry.name]]
    if hazard_points is not None:
        zones = zones.merge(hazard_points[list(_HAZARD_COLUMNS)], on="hazard_id", how="left")
    symbol = danger_zone_symbol(lang)
    layer = HazmapLayer(symbol.label, [LegendSection("", (symbol,))], show=show)
    geojson(
        zones,
        layer="hazard_points",
        columns=_HAZARD_COLUMNS,
        styles=[symbol.path_style()] * len(zones),
        lang=lang,
        tooltip_column="name" if hazard_points is not None else "hazard_id",
        simplify_m=simplify_m,
        highlight=True,
    ).add_to(layer)
    return layer
