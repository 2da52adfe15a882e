"""Map layers: each function takes a layer of the data model (or an analysis result) and returns a
:class:`~layers.common.HazmapLayer` (a folium FeatureGroup) with its style, popups and legend entry.

Nothing here analyses: the layers draw what ``geo`` computed.  A map is built as::

    m = base_map(district.total_bounds, outline=district)
    district_layer(district, townships).add_to(m)
    hazard_layer(hazard_points).add_to(m)
    finish_map(m)            # legend, layer control, assets served from static/vendor

and shown with ``streamlit_folium.st_folium(m)`` or saved with :func:`layers.assets.standalone_html`.
"""

from layers.assets import make_offline, standalone_html
from layers.base import base_map, finish_map
from layers.danger_zones import danger_zone_layer
from layers.district import district_layer
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
    "add_legend",
    "base_map",
    "coverage_layer",
    "danger_zone_layer",
    "district_layer",
    "finish_map",
    "hazard_layer",
    "make_offline",
    "pool_layer",
    "road_layer",
    "route_layer",
    "school_layer",
    "shelter_layer",
    "standalone_html",
    "village_layer",
    "warning_layer",
]
