"""Evacuation routes, with arrows along each line pointing from the village (or hazard point) to the shelter.

The arrows are text drawn along the line by leaflet-textpath (the plugin behind folium's PolyLineTextPath).
folium's element needs one PolyLine per route; here the routes stay one GeoJSON and each line gets its
arrows from the GeoJSON's onEachFeature, so only the plugin's script is added, by :class:`TextPathScript`.
"""

from __future__ import annotations

from typing import ClassVar

import geopandas as gpd
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import PolyLineTextPath
from folium.template import Template
from folium.utilities import JsCode

from geo.analysis.evacuation import ROUTES_LAYER, reason_texts
from layers import i18n
from layers.common import DEFAULT_SIMPLIFY_M, HazmapLayer, LegendSection, Symbol, geojson

_COLUMNS = (
    "hazard_id",
    "origin_name",
    "origin_kind",
    "shelter_id",
    "assigned_shelter_id",
    "length_m",
    "walk_minutes",
    "people",
)
ROUTE_COLOUR = "#1b5e20"
ARROW = "►"


class TextPathScript(JSCSSMixin, MacroElement):
    """Loads leaflet-textpath, whose ``setText`` the routes' onEachFeature calls; draws nothing itself."""

    default_js: ClassVar[list[tuple[str, str]]] = list(PolyLineTextPath.default_js)
    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")


def _arrows(color: str) -> JsCode:
    # Spaces around the arrow set the gap between repeats; offset 4 px centres a 12 px glyph on the line.
    return JsCode(
        f"""
        function (feature, layer) {{
            if (typeof layer.setText === "function") {{
                layer.setText("  {ARROW}  ", {{repeat: true, offset: 4,
                    attributes: {{fill: "{color}", "font-size": "12px", "font-weight": "bold"}}}});
            }}
        }}
        """
    )


def route_layer(
    routes: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    simplify_m: float | None = DEFAULT_SIMPLIFY_M,
    show: bool = True,
) -> HazmapLayer:
    """Draw evacuation routes with direction arrows; routes without a line (unreachable) are not drawn.

    Parameters
    ----------
    routes
        The routes of :func:`geo.analysis.evacuation.evacuation_routes`: lines from origin to shelter with at least
        ``origin_id``, ``origin_name`` and ``shelter_id``; its other columns of ``_COLUMNS`` show in the popup.
        A route sent to another shelter than its assigned one says why on hover, in ``lang``.
    simplify_m
        Simplification tolerance in metres.
    """
    symbol = Symbol(i18n.ui("route", lang), "line", ROUTE_COLOUR, weight=3.0, opacity=0.85, text=ARROW)
    frame = routes.copy()
    frame["link"] = frame["origin_name"].fillna(frame["origin_id"]) + " → " + frame["shelter_id"].fillna("")
    if "reason" in frame.columns:
        # The reader must see at once why a route ends elsewhere than the plan's 预定避灾地点.
        opening, closing = ("（", "）") if lang == "zh" else (" (", ")")
        why = reason_texts(frame, lang)
        frame["link"] += [opening + w + closing if isinstance(w, str) else "" for w in why]
    layer = HazmapLayer(i18n.ui("routes", lang), [LegendSection("", (symbol,))], show=show)
    layer.add_child(TextPathScript())
    geojson(
        frame,
        layer=ROUTES_LAYER,
        columns=_COLUMNS,
        styles=[symbol.path_style()] * len(frame),
        lang=lang,
        tooltip_column="link",
        simplify_m=simplify_m,
        highlight=True,
        on_each_feature=_arrows(ROUTE_COLOUR),
    ).add_to(layer)
    return layer
