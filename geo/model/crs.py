"""Every coordinate reference system hazmap uses, and the choice of a metric one, declared once.

Data are stored in CGCS2000 geographic coordinates (EPSG:4490).  Distances and areas are measured in the
CGCS2000 3-degree Gauss-Krueger zone (no zone prefix) of the data's centre: for Changjiang District, whose
centre lies near 117.2E, that is EPSG:4548 (central meridian 117E).  See docs/data-model.md, "Coordinates".
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np

#: Stored CRS of every layer: CGCS2000 geographic.
STORAGE_CRS = "EPSG:4490"
#: EPSG codes read as CGCS2000: EPSG:4326 differs from it by centimetres, so the data model accepts it on read.
ACCEPTED_CRS = {4490, 4326}
#: Metric CRS for Changjiang District (CGCS2000 3-degree Gauss-Krueger, CM 117E, no zone prefix).
DISTRICT_METRIC_CRS = "EPSG:4548"
#: A generous bounding box of China (lon/lat), used to catch swapped or projected coordinates.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)


def metric_crs_for(lon: float) -> str:
    """Return the CGCS2000 3-degree Gauss-Krueger CRS (no zone prefix) whose zone holds ``lon``.

    EPSG:4534 is the zone with central meridian 75E; each following code moves 3 degrees east.

    >>> metric_crs_for(117.2)
    'EPSG:4548'
    """
    zone = round(lon / 3.0)
    zone = min(max(zone, 25), 45)
    return f"EPSG:{4534 + zone - 25}"


def metric_crs(gdf: gpd.GeoDataFrame) -> str:
    """Return the CGCS2000 Gauss-Krueger CRS of the zone holding the centre of ``gdf``.

    Parameters
    ----------
    gdf
        Any layer with a CRS; with no finite geometry the district's zone is used.

    >>> import shapely
    >>> metric_crs(gpd.GeoDataFrame(geometry=[shapely.Point(117.2, 29.3)], crs=STORAGE_CRS))
    'EPSG:4548'
    """
    if gdf.crs is None:
        raise ValueError("layer has no CRS; cannot choose a metric CRS")
    xmin, _, xmax, _ = gdf.to_crs(STORAGE_CRS).total_bounds
    if not np.isfinite([xmin, xmax]).all():
        return DISTRICT_METRIC_CRS
    return metric_crs_for((xmin + xmax) / 2)


def data_metric_crs(layers: Mapping[str, gpd.GeoDataFrame]) -> str:
    """The metric zone of a data set: that of the district's centre, else of its schools.

    Every analysis that measures a whole data set (pool coverage, siting, the nearest pools in the database)
    uses this one, so their distances agree.
    """
    frame = layers["district"] if "district" in layers and not layers["district"].empty else layers["schools"]
    return metric_crs(frame)


def in_storage_crs(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Bring a layer to EPSG:4490; EPSG:4326 is relabelled, not transformed (they differ by centimetres).

    Raises
    ------
    ValueError
        The layer has no CRS to transform from.
    """
    if gdf.crs is None:
        raise ValueError(f"{name} has no CRS; expected {STORAGE_CRS} (CGCS2000)")
    epsg = gdf.crs.to_epsg()
    if epsg == 4490:
        return gdf
    if epsg in ACCEPTED_CRS:
        return gdf.set_crs(STORAGE_CRS, allow_override=True)
    return gdf.to_crs(STORAGE_CRS)
