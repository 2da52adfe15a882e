"""Villages (居民点), as circles whose area grows with the population."""

from __future__ import annotations

from dataclasses import replace

import folium
import geopandas as gpd

from layers import i18n
from layers.common import HazmapLayer, LegendSection, Symbol, geojson, size_legend, sized

_COLUMNS = ("village_id", "name", "township", "population", "households")
#: (smallest, reference, largest) radius in pixels; the reference population gets the reference radius.
RADII = (3.0, 8.0, 22.0)
REFERENCE_POPULATION = 500.0
#: Populations the legend shows.
LEGEND_POPULATIONS = (100.0, 500.0, 2000.0)


def village_layer(villages: gpd.GeoDataFrame, *, lang: str = "zh", show: bool = True) -> HazmapLayer:
    """Draw the ``villages`` layer: one circle per village, sized by ``population``.

    Parameters
    ----------
    villages
        The ``villages`` layer.
    """
    base = Symbol(i18n.layer_title("villages", lang), "circle", "#8d5a2b", weight=1.0, fill_opacity=0.45)
    smallest, reference, largest = RADII
    radii = sized(villages["population"], REFERENCE_POPULATION, reference, smallest, largest)
    layer = HazmapLayer(
        base.label, [LegendSection("", size_legend(LEGEND_POPULATIONS, REFERENCE_POPULATION, base, RADII, lang))], show
    )
    geojson(
        villages,
        layer="villages",
        columns=_COLUMNS,
        styles=[replace(base, size=float(r)).path_style() for r in radii],
        lang=lang,
        marker=folium.CircleMarker(),
    ).add_to(layer)
    return layer
