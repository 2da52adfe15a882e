"""Primary and junior schools, told apart by whether they have a swimming pool of their own."""

from __future__ import annotations

import geopandas as gpd

from layers import i18n
from layers.common import HazmapLayer, LegendSection, Symbol, badge_marker, geojson

_COLUMNS = (
    "school_id",
    "name",
    "township",
    "stage",
    "area_type",
    "is_teaching_point",
    "students",
    "teachers",
    "grade4_students",
    "has_pool",
    "swim_instructors",
    "redcross_trainers",
)
_MARK = {"zh": "校", "en": "S"}


def school_symbols(lang: str = "zh") -> dict[bool, Symbol]:
    """Return has_pool -> symbol: teal with a pool, orange without (those need a nearby pool)."""
    mark = _MARK[i18n.check_lang(lang)]
    return {
        True: Symbol(i18n.ui("school_with_pool", lang), "badge", "#00897b", size=20.0, text=mark, shape="square"),
        False: Symbol(i18n.ui("school_without_pool", lang), "badge", "#ef6c00", size=20.0, text=mark, shape="square"),
    }


def school_layer(schools: gpd.GeoDataFrame, *, lang: str = "zh", show: bool = True) -> HazmapLayer:
    """Draw the ``schools`` layer with a popup of its pupils, staff and pool.

    Parameters
    ----------
    schools
        The ``schools`` layer.
    """
    symbols = school_symbols(lang)
    layer = HazmapLayer(i18n.layer_title("schools", lang), [LegendSection("", tuple(symbols.values()))], show=show)
    geojson(
        schools,
        layer="schools",
        columns=_COLUMNS,
        styles=[symbols[bool(has)].icon_options() for has in schools["has_pool"]],
        lang=lang,
        marker=badge_marker(),
    ).add_to(layer)
    return layer
