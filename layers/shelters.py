"""Shelters (避灾场所), sized by capacity; red when the evacuation plan sends more people than they hold."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd

from layers import i18n
from layers.common import HazmapLayer, LegendSection, Symbol, badge_marker, geojson, size_legend, sized

#: The shelter's own columns, then the load columns of an evacuation result's shelter table, when present.
_COLUMNS = ("shelter_id", "name", "township", "capacity", "assigned_people", "load_ratio", "over_capacity")
_MARK = {"zh": "避", "en": "E"}
#: (smallest, reference, largest) badge edge in pixels; the reference capacity gets the reference edge.  A
#: township's centres hold thousands: the largest edge stays small enough not to cover the hazard points around.
SIZES = (14.0, 20.0, 28.0)
REFERENCE_CAPACITY = 1000.0
LEGEND_CAPACITIES = (200.0, 1000.0, 3000.0)
OVER_CAPACITY_COLOUR = "#d32f2f"


def shelter_layer(shelters: gpd.GeoDataFrame, *, lang: str = "zh", show: bool = True) -> HazmapLayer:
    """Draw shelters sized by ``capacity``.

    Parameters
    ----------
    shelters
        The ``shelters`` layer, or the shelter table of :func:`geo.analysis.evacuation.evacuation_routes`, whose
        ``assigned_people``, ``load_ratio`` and ``over_capacity`` then show in the popup and colour.
    """
    base = Symbol(
        i18n.layer_title("shelters", lang), "badge", "#2e7d32", text=_MARK[i18n.check_lang(lang)], shape="square"
    )
    smallest, reference, largest = SIZES
    sizes = sized(shelters["capacity"], REFERENCE_CAPACITY, reference, smallest, largest)
    over = shelters["over_capacity"].fillna(False).astype(bool) if "over_capacity" in shelters else [False] * len(sizes)
    styles = [
        replace(base, size=float(size), color=OVER_CAPACITY_COLOUR if full else base.color).icon_options()
        for size, full in zip(sizes, over, strict=True)
    ]
    symbols = size_legend(LEGEND_CAPACITIES, REFERENCE_CAPACITY, base, SIZES, lang)
    if "over_capacity" in shelters:
        symbols += (replace(base, label=i18n.ui("over_capacity", lang), color=OVER_CAPACITY_COLOUR),)
    layer = HazmapLayer(base.label, [LegendSection(i18n.column_title("shelters", "capacity", lang), symbols)], show)
    geojson(shelters, layer="shelters", columns=_COLUMNS, styles=styles, lang=lang, marker=badge_marker()).add_to(layer)
    return layer
