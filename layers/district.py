"""District and township boundaries, with township names as labels: two layers, each with its own switch."""

from __future__ import annotations

import geopandas as gpd
from branca.element import MacroElement
from folium.template import Template

from layers import i18n
from layers.common import DEFAULT_SIMPLIFY_M, HazmapLayer, LegendSection, Symbol, geojson


def district_layer(
    district: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    simplify_m: float | None = DEFAULT_SIMPLIFY_M,
    show: bool = True,
) -> HazmapLayer:
    """Draw the district outline.

    Parameters
    ----------
    district
        The ``district`` layer.
    simplify_m
        Simplification tolerance in metres (see :func:`layers.common.pixel_metres`).
    """
    outline = Symbol(i18n.ui("district", lang), "line", "#333333", weight=3.0)
    layer = HazmapLayer(i18n.layer_title("district", lang), [LegendSection("", (outline,))], show=show)
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


def township_layer(
    townships: gpd.GeoDataFrame,
    *,
    labels: bool = True,
    lang: str = "zh",
    simplify_m: float | None = DEFAULT_SIMPLIFY_M,
    show: bool = True,
) -> HazmapLayer:
    """Draw the township boundaries, labelled with the townships' names.

    Parameters
    ----------
    townships
        The ``townships`` layer.
    labels
        Write each township's name in its middle (a permanent tooltip, re-placed by :class:`RelabelWhenStyled`).
    simplify_m
        Simplification tolerance in metres (see :func:`layers.common.pixel_metres`).
    """
    boundary = Symbol(i18n.ui("township_boundary", lang), "line", "#777777", weight=1.2, dash="6 4")
    layer = HazmapLayer(i18n.ui("township_layer", lang), [LegendSection("", (boundary,))], show=show)
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
    if labels:
        layer.add_child(RelabelWhenStyled())
    return layer


class RelabelWhenStyled(MacroElement):
    """Re-place the labels (permanent tooltips) of its parent layer once the page's stylesheets have loaded.

    streamlit-folium may run the map script before Leaflet's stylesheet has loaded; a label opened then is measured
    as a full-width block and lands half a map width to the left of its feature, and Leaflet places it again only
    on a zoom.  Updating the layer's open tooltips once the pending stylesheets are in puts them right; a view reset
    would too, but it redraws every path and route arrow, seconds on a slow machine.

    The script names only its parent layer, never the map: it is part of the layer's own script, which the map page
    may render apart from any map and evaluate again whenever a filter changes.  Evaluated once the stylesheets
    are in, it finds nothing pending and does nothing (labels opened then are placed right).  A previous
    evaluation's layer, removed from the map since, has no open tooltips left to update.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (group) {
            var pending = Array.prototype.filter.call(
                document.querySelectorAll('link[rel="stylesheet"]'), function (link) { return !link.sheet; });
            var left = pending.length;
            // Only labels opened before the styles came are misplaced; a closed one (its layer switched off)
            // is placed afresh when it opens.  The labels sit on the features of the GeoJSON inside the group.
            function relabel(layer) {
                var tooltip = layer.getTooltip && layer.getTooltip();
                if (tooltip && tooltip.isOpen()) { tooltip.update(); }
                if (layer.eachLayer) { layer.eachLayer(relabel); }
            }
            pending.forEach(function (link) {
                var settled = false;
                function done() {
                    // A link fires load or error once; the guard keeps a stray second event from counting twice.
                    if (settled) { return; }
                    settled = true;
                    if (--left === 0) { relabel(group); }
                }
                link.addEventListener("load", done);
                link.addEventListener("error", done);
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "RelabelWhenStyled"
