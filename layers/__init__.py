"""Map layers: each function takes a layer of the data model (or an analysis result) and returns a
:class:`~layers.common.HazmapLayer` (a folium FeatureGroup) with its style, popups and legend entry.

Nothing here analyses: the layers draw what ``geo`` computed.  A map is built as::

    m = base_map(district.total_bounds, outline=district)
    township_layer(townships).add_to(m)
    district_layer(district).add_to(m)
    hazard_layer(hazard_points).add_to(m)
    finish_map(m)            # legend, layer control, assets served from static/vendor

and saved with :func:`layers.assets.standalone_html`, or shown in Streamlit by ``ui.widgets.show_map``, which
sends it as :func:`layers.frame.split` cuts it: a frame the browser keeps and data layers it swaps.  The map page
renders each layer apart (:func:`layers.frame.render_layer`) so that a filter re-renders only what it changed.
"""

from layers.assets import make_offline, standalone_html
from layers.base import base_map, finish_map
from layers.danger_zones import danger_zone_layer
from layers.district import district_layer, township_layer
from layers.frame import MapPayload, RenderedLayer, frame_map, render_layer, split
from layers.hazards import hazard_layer
from layers.legend import add_legend
from layers.pools import coverage_layer, pool_layer
from layers.roads import road_layer
from layers.routes import route_layer
from layers.schools import school_layer
from layers.shelters import shelter_layer
from layers.villages import village_layer
from layers.warnings import warning_layer

__all__ = [
    "MapPayload",
    "RenderedLayer",
    "add_legend",
    "base_map",
    "coverage_layer",
    "danger_zone_layer",
    "district_layer",
    "finish_map",
    "frame_map",
    "hazard_layer",
    "make_offline",
    "pool_layer",
    "render_layer",
    "road_layer",
    "route_layer",
    "school_layer",
    "shelter_layer",
    "split",
    "standalone_html",
    "township_layer",
    "village_layer",
    "warning_layer",
]
