"""Swimming pools with their service radius, and the links from schools without a pool to their nearest pools.

The links and radii are drawn from the result of :func:`geo.analysis.pools.pool_coverage` (its ``nearest`` table):
this module measures nothing, it only joins that table to the points it names.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.model.crs import STORAGE_CRS
from geo.model.schema import POOL_STATUS
from geo.settings import AnalysisSettings
from layers import i18n
from layers.common import HazmapLayer, LegendSection, Symbol, badge_marker, geojson, lonlat

_COLUMNS = ("pool_id", "name", "township", "kind", "status", "school_id", "lanes")
_MARK = {"zh": "泳", "en": "P"}
#: Pool status -> colour: open pools serve schools now, the others are shown paler.
STATUS_COLOURS = dict(zip(POOL_STATUS, ("#0277bd", "#4fc3f7", "#b0bec5"), strict=True))
_DEFAULTS = AnalysisSettings()


def _metres(value: float) -> str:
    return f"{value / 1000:g} km" if value >= 1000 else f"{value:g} m"


def _circles(points: gpd.GeoDataFrame, radii: np.ndarray, symbol: Symbol, lang: str) -> folium.GeoJson:
    """Circles of ``radii`` metres around ``points``; they take no clicks, so what lies under them stays usable."""
    styles = [{**symbol.path_style(), "radius": float(r), "interactive": False} for r in radii]
    return geojson(
        points, layer="pools", columns=[], styles=styles, lang=lang, tooltip_column=None, marker=folium.Circle()
    )


def pool_layer(
    pools: gpd.GeoDataFrame,
    *,
    service_radius_m: float | None = _DEFAULTS.service_radius_m,
    lang: str = "zh",
    show: bool = True,
) -> HazmapLayer:
    """Draw the ``pools`` layer and, around each open pool, its service radius.

    Parameters
    ----------
    pools
        The ``pools`` layer.
    service_radius_m
        Radius of the circles in metres (the coverage setting); None draws no circles.
    """
    mark = _MARK[i18n.check_lang(lang)]
    labels = i18n.enum_labels("pools", "status", lang)
    symbols = {s: Symbol(labels[s], "badge", colour, size=18.0, text=mark) for s, colour in STATUS_COLOURS.items()}
    sections = [LegendSection(i18n.column_title("pools", "status", lang), tuple(symbols.values()))]
    open_pools = pools[pools["status"] == "open"]
    if service_radius_m is not None:
        ring = Symbol(
            i18n.ui("service_radius", lang, radius=_metres(service_radius_m)),
            "circle",
            STATUS_COLOURS["open"],
            size=8.0,
            weight=1.0,
            dash="4 4",
            fill_opacity=0.05,
        )
        sections.append(LegendSection("", (ring,)))
    layer = HazmapLayer(i18n.layer_title("pools", lang), sections, show=show)
    if service_radius_m is not None and len(open_pools):
        _circles(open_pools, np.full(len(open_pools), service_radius_m), ring, lang).add_to(layer)
    geojson(
        pools,
        layer="pools",
        columns=_COLUMNS,
        styles=[symbols[status].icon_options() for status in pools["status"]],
        lang=lang,
        marker=badge_marker(),
    ).add_to(layer)
    return layer


def coverage_layer(
    schools: gpd.GeoDataFrame,
    pools: gpd.GeoDataFrame,
    nearest: pd.DataFrame,
    *,
    k: int = _DEFAULTS.k_pools,
    lang: str = "zh",
    show: bool = True,
) -> HazmapLayer:
    """Draw a line from each school without a pool to each of its k nearest pools, and its k-pool radius.

    Parameters
    ----------
    schools, pools
        The ``schools`` and ``pools`` layers (any frames with ``school_id``/``pool_id``, ``name``, points).
    nearest
        One row per school and near pool: ``school_id``, ``pool_id``, ``distance_m`` (and ``metric``, as
        :func:`geo.analysis.pools.pool_coverage` gives it in ``PoolCoverage.nearest``).
    k
        The k of the k-pool radius: a circle of the distance to the k-th nearest pool is drawn around
        schools with at least k pools in ``nearest`` (docs/data-model.md, pool coverage).
    """
    school_at = pd.DataFrame(
        {"school_name": schools["name"].to_numpy(), "school_point": lonlat(schools).to_numpy()},
        index=schools["school_id"].to_numpy(),
    )
    pool_at = pd.DataFrame(
        {"pool_name": pools["name"].to_numpy(), "pool_point": lonlat(pools).to_numpy()},
        index=pools["pool_id"].to_numpy(),
    )
    links = nearest.join(school_at, on="school_id", how="inner").join(pool_at, on="pool_id", how="inner")
    school_names = links["school_name"].fillna(links["school_id"])
    links["link"] = school_names + " → " + links["pool_name"].fillna(links["pool_id"])
    # The shortest line between two points is the segment joining them.
    segments = shapely.shortest_line(links["school_point"].to_numpy(), links["pool_point"].to_numpy())
    lines = gpd.GeoDataFrame(links.drop(columns=["school_point", "pool_point"]), geometry=segments, crs=STORAGE_CRS)

    line = Symbol(i18n.ui("coverage_line", lang), "line", "#6a1b9a", weight=1.5, dash="5 4", opacity=0.8)
    ring = Symbol(i18n.ui("k_radius", lang, k=k), "circle", "#6a1b9a", size=8.0, weight=1.0, dash="2 4", fill_opacity=0)
    layer = HazmapLayer(i18n.ui("coverage", lang), [LegendSection("", (line, ring))], show=show)

    kth = nearest.sort_values("distance_m").groupby("school_id").nth(k - 1).set_index("school_id")["distance_m"]
    ringed = schools[schools["school_id"].isin(kth.index)]
    if len(ringed):
        _circles(ringed, kth.loc[ringed["school_id"]].to_numpy(), ring, lang).add_to(layer)
    geojson(
        lines,
        layer="pool_coverage",
        columns=["school_name", "pool_name", "distance_m", "metric"],
        styles=[line.path_style()] * len(lines),
        lang=lang,
        tooltip_column="link",
        highlight=True,
    ).add_to(layer)
    return layer
