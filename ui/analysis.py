"""The analyses every page shows, computed once per data version and settings and shared by all sessions.

Each function is keyed on :class:`ui.common.DataVersion` (the file's path, modification time and size) plus the
settings the user chose, so a saved edit recomputes at once while a rerun (panning, filtering, switching pages)
reuses the result.  ``st.cache_resource`` rather than ``st.cache_data``: the results hold GeoDataFrames that
would otherwise be pickled and copied on every rerun, which at province scale costs more than the page itself.
Callers therefore treat a result as read-only and copy before changing it.
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from geo.analysis import evacuation, pools, siting
from geo.analysis import exposure as exposure_analysis
from geo.settings import AnalysisSettings
from ui import common

__all__ = ["coverage", "exposure", "exposure_of_areas", "routes", "sites", "what_if"]

#: Results kept per function: a few settings tried in turn stay cached without holding every variant.
_MAX_ENTRIES = 8


@st.cache_resource(show_spinner=False, max_entries=_MAX_ENTRIES)
def exposure(version: common.DataVersion, warning_spec: tuple = ()) -> exposure_analysis.ExposureResult:
    """At-risk population under the current warnings.

    Parameters
    ----------
    version
        The data set to analyse.
    warning_spec
        ``()`` analyses the file's ``warning_areas`` layer; otherwise a tuple of ``(township, level)`` pairs puts
        those whole townships under a warning instead (a quick warning typed on the Warning page).  A tuple, not a
        dict, so Streamlit can hash it as the cache key.

    Returns
    -------
    geo.analysis.exposure.ExposureResult
    """
    layers = common.layers(version)
    if not warning_spec:
        return exposure_analysis.analyse(layers)
    areas = exposure_analysis.township_warnings(dict(warning_spec), layers["townships"])
    return exposure_analysis.analyse(layers, areas)


@st.cache_resource(show_spinner=False, max_entries=_MAX_ENTRIES)
def routes(
    version: common.DataVersion, speed_kmh: float = AnalysisSettings.walk_speed_kmh
) -> evacuation.EvacuationResult:
    """Evacuation routes of every active hazard point at the given walking speed (km/h)."""
    settings = AnalysisSettings(walk_speed_kmh=float(speed_kmh))
    return evacuation.evacuation_routes(common.layers(version), settings)


@st.cache_resource(show_spinner=False, max_entries=_MAX_ENTRIES)
def coverage(
    version: common.DataVersion,
    k: int = AnalysisSettings.k_pools,
    radius_m: float = AnalysisSettings.service_radius_m,
    metric: str = "network",
) -> pools.PoolCoverage:
    """Pool coverage of the schools without a pool: ``k`` nearest open pools, service radius, ``metric``."""
    settings = AnalysisSettings(k_pools=int(k), service_radius_m=float(radius_m))
    return pools.pool_coverage(common.layers(version), settings, metric=metric)


# --------------------------------------------------------------------------------------------------
# Added for the Warning and Pools pages: warnings from an uploaded file or a drawing, pool siting, what-if.


@st.cache_resource(show_spinner=False, max_entries=_MAX_ENTRIES)
def exposure_of_areas(
    version: common.DataVersion, areas_key: str, _areas: gpd.GeoDataFrame
) -> exposure_analysis.ExposureResult:
    """At-risk population under warning areas the user supplied (an uploaded file, polygons drawn on the map).

    Parameters
    ----------
    version
        The data set to analyse.
    areas_key
        Identifies ``_areas`` (e.g. a SHA-256 of the uploaded bytes): Streamlit hashes it, not the frame, which
        the leading underscore keeps out of the cache key.
    _areas
        The warning areas, checked by :func:`geo.importers.warning_areas.check_warning_areas`.
    """
    return exposure_analysis.analyse(common.layers(version), _areas)


@st.cache_resource(show_spinner=False, max_entries=_MAX_ENTRIES)
def sites(
    version: common.DataVersion,
    p: int,
    radius_m: float,
    candidates: str,
    metric: str = "network",
    require_each_township: bool = False,
    grid_spacing_m: float = 1000.0,
) -> siting.SitingResult:
    """``p`` new pool sites among ``candidates`` that bring the most grade-4 pupils within ``radius_m`` (MCLP)."""
    return siting.site_pools(
        common.layers(version),
        AnalysisSettings(service_radius_m=float(radius_m)),
        p=int(p),
        candidates=candidates,
        grid_spacing_m=float(grid_spacing_m),
        metric=metric,
        require_each_township=bool(require_each_township),
    )


@st.cache_resource(show_spinner=False, max_entries=_MAX_ENTRIES)
def what_if(
    version: common.DataVersion, lon: float, lat: float, radius_m: float, metric: str = "network"
) -> siting.WhatIf:
    """Grade-4 pupils a new pool at (``lon``, ``lat``) would bring within ``radius_m``."""
    settings = AnalysisSettings(service_radius_m=float(radius_m))
    return siting.what_if(common.layers(version), (lon, lat), settings, metric=metric)
