"""Hazard points: a badge coloured by danger grade (险情等级) with a character for the hazard type.

Many points are clustered: a few thousand badges each with a popup make the map slow to pan, and at district
scale they overlap into a blot anyway.  Clusters break up from zoom 15 on, where single points are apart.
"""

from __future__ import annotations

import geopandas as gpd
from folium.plugins import MarkerCluster

from geo.model.schema import GRADES, HAZARD_TYPES
from layers import i18n
from layers.common import FOUR_COLOURS, HazmapLayer, LegendSection, Symbol, badge_marker, geojson

#: Danger grade -> colour, low to high, on the same scale as the warning levels.
GRADE_COLOURS = dict(zip(GRADES, FOUR_COLOURS, strict=True))
#: Danger grade -> badge edge in pixels: the size repeats the grade for readers who cannot tell the colours.
GRADE_SIZES = {"small": 18.0, "medium": 20.0, "large": 23.0, "giant": 26.0}
#: Hazard type -> the character in its badge, per language.
TYPE_MARKS = {
    "zh": {
        "landslide": "滑",
        "collapse": "崩",
        "debris_flow": "泥",
        "ground_collapse": "陷",
        "ground_fissure": "裂",
        "ground_subsidence": "沉",
        "unstable_slope": "坡",
    },
    "en": {
        "landslide": "L",
        "collapse": "C",
        "debris_flow": "D",
        "ground_collapse": "G",
        "ground_fissure": "F",
        "ground_subsidence": "S",
        "unstable_slope": "U",
    },
}
#: Treated and cancelled points stay in the data and may be shown; they are greyed out.
INACTIVE_COLOUR = "#9e9e9e"
#: Above this many points the layer clusters.
CLUSTER_THRESHOLD = 300

#: The inventory (隐患点台账) fields of the popup, in the order of the inventory form.
POPUP_COLUMNS = (
    "hazard_id",
    "name",
    "hazard_type",
    "scale_class",
    "danger_grade",
    "township",
    "village",
    "threatened_households",
    "threatened_people",
    "threatened_property_10k_yuan",
    "monitor_name",
    "monitor_phone",
    "responsible_name",
    "responsible_phone",
    "monitoring_method",
    "warning_signal",
    "shelter_id",
    "status",
    "updated_at",
)

# Clusters are grey with a count: coloured clusters would read as a danger grade.
_CLUSTER_ICON = """
    function (cluster) {
        var n = cluster.getChildCount();
        var size = n < 100 ? 32 : 40;
        return L.divIcon({html: '<div class="hazmap-cluster">' + n + '</div>',
                          className: 'hazmap-cluster-icon', iconSize: L.point(size, size)});
    }
"""


def hazard_symbol(grade: str, hazard_type: str, active: bool = True, lang: str = "zh") -> Symbol:
    """Return the badge of one hazard point."""
    return Symbol(
        label="",
        kind="badge",
        color=GRADE_COLOURS[grade] if active else INACTIVE_COLOUR,
        size=GRADE_SIZES[grade],
        text=TYPE_MARKS[i18n.check_lang(lang)][hazard_type],
        opacity=1.0 if active else 0.7,
    )


def hazard_legend(lang: str = "zh", include_inactive: bool = False) -> tuple[LegendSection, ...]:
    """Legend of the hazard points: grades by colour and size, types by character."""
    grade_labels = i18n.enum_labels("hazard_points", "danger_grade", lang)
    type_labels = i18n.enum_labels("hazard_points", "hazard_type", lang)
    grades = tuple(
        Symbol(grade_labels[g], "badge", GRADE_COLOURS[g], size=GRADE_SIZES[g]) for g in reversed(list(GRADES))
    )
    if include_inactive:
        grades += (Symbol(i18n.ui("inactive", lang), "badge", INACTIVE_COLOUR, opacity=0.7),)
    types = tuple(Symbol(type_labels[t], "badge", "#616161", text=TYPE_MARKS[lang][t]) for t in HAZARD_TYPES)
    return (LegendSection(i18n.ui("danger_grade", lang), grades), LegendSection(i18n.ui("hazard_type", lang), types))


def hazard_layer(
    hazard_points: gpd.GeoDataFrame,
    *,
    include_inactive: bool = False,
    cluster: bool | None = None,
    lang: str = "zh",
    show: bool = True,
) -> HazmapLayer:
    """Draw the ``hazard_points`` layer with inventory popups.

    Parameters
    ----------
    hazard_points
        The ``hazard_points`` layer.
    include_inactive
        Also draw treated and cancelled points (greyed); by default only active points are drawn.
    cluster
        Cluster the points; by default when there are more than ``CLUSTER_THRESHOLD``.
    """
    points = hazard_points if include_inactive else hazard_points[hazard_points["status"] == "active"]
    active = points["status"] == "active"
    styles = [
        hazard_symbol(grade, kind, is_active, lang).icon_options()
        for grade, kind, is_active in zip(points["danger_grade"], points["hazard_type"], active, strict=True)
    ]
    layer = HazmapLayer(i18n.layer_title("hazard_points", lang), hazard_legend(lang, include_inactive), show=show)
    parent = layer
    if cluster if cluster is not None else len(points) > CLUSTER_THRESHOLD:
        parent = MarkerCluster(
            icon_create_function=_CLUSTER_ICON,
            control=False,
            disable_clustering_at_zoom=15,
            show_coverage_on_hover=False,
        ).add_to(layer)
    geojson(
        points,
        layer="hazard_points",
        columns=POPUP_COLUMNS,
        styles=styles,
        lang=lang,
        marker=badge_marker(),
    ).add_to(parent)
    return layer
