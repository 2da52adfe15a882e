"""GCJ-02 ("Mars coordinates" of Gaode/AutoNavi, Tencent and most Chinese web maps) to WGS84 and back.

GCJ-02 is WGS84 plus a deliberate, smooth offset of a few hundred metres inside China.  The forward
transform (WGS84 -> GCJ-02) is the widely published formula; it has no closed-form inverse, so
:func:`gcj02_to_wgs84` solves ``wgs84_to_gcj02(w) = g`` by fixed-point iteration.  The usual one-step
inverse (``2 g - f(g)``) leaves an error of about a metre; the iteration reaches a tenth of a millimetre.

Outside the rough rectangle around China that the published formula uses, both directions are the
identity.  CGCS2000 (EPSG:4490) coincides with WGS84 to centimetres, so a GCJ-02 source converted here
can be stored as CGCS2000 directly.

>>> lon, lat = wgs84_to_gcj02(117.2, 29.3)
>>> back = gcj02_to_wgs84(lon, lat)
>>> [round(float(v), 9) for v in back]
[117.2, 29.3]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

__all__ = [
    "gcj02_to_wgs84",
    "gcj02_to_wgs84_geometry",
    "gcj02_to_wgs84_series",
    "in_china",
    "wgs84_to_gcj02",
]

#: Semi-major axis and first eccentricity squared of the Krasovsky 1940 ellipsoid the formula uses.
_A = 6378245.0
_EE = 0.00669342162296594323
#: The rectangle (lon_min, lat_min, lon_max, lat_max) inside which the published formula applies an offset.
CHINA_RECT = (72.004, 0.8293, 137.8347, 55.8271)
#: Stop iterating the inverse once the forward transform reproduces the input to this many degrees (~0.1 mm).
_INVERSE_TOLERANCE_DEG = 1e-9
#: The inverse converges by roughly two orders of magnitude per step; this bound is never reached in China.
_INVERSE_MAX_STEPS = 20

ArrayLike = npt.ArrayLike


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Return a boolean array: True where the GCJ-02 offset applies (the published rectangle around China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    lon_min, lat_min, lon_max, lat_max = CHINA_RECT
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _offset_deg(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to a WGS84 position, ignoring the China test."""
    x = lon - 105.0
    y = lat - 35.0
    shared = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    north = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + shared
    north += (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * 2.0 / 3.0
    north += (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0
    east = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + shared
    east += (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * 2.0 / 3.0
    east += (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0
    # The formula yields metres on the Krasovsky ellipsoid; convert to degrees at this latitude.
    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = north * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = east * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 (or CGCS2000) longitude/latitude to GCJ-02.

    Parameters
    ----------
    lon, lat
        Degrees; scalars or arrays of the same shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude; unchanged outside China.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset_deg(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude to WGS84 (or CGCS2000) to a tenth of a millimetre.

    Solves ``wgs84_to_gcj02(w) == (lon, lat)`` by fixed-point iteration ``w <- w - (f(w) - g)``, which
    converges quickly because the offset changes by only millimetres over a few hundred metres.

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees; scalars or arrays of the same shape.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitude and latitude; unchanged outside China.
    """
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        err_lon, err_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - err_lon, w_lat - err_lat
        if max(np.max(np.abs(err_lon), initial=0.0), np.max(np.abs(err_lat), initial=0.0)) < _INVERSE_TOLERANCE_DEG:
            break
    return w_lon, w_lat


def _gcj02_to_wgs84_coords(coords: np.ndarray) -> np.ndarray:
    out = coords.copy()
    out[:, 0], out[:, 1] = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return out


def gcj02_to_wgs84_geometry(geom):
    """Convert a shapely geometry (or an array of them) from GCJ-02 to WGS84 coordinates.

    Z values, where present, are kept unchanged.
    """
    return shapely.transform(geom, _gcj02_to_wgs84_coords, include_z=None)


def gcj02_to_wgs84_series(series: gpd.GeoSeries) -> gpd.GeoSeries:
    """Convert a GeoSeries of GCJ-02 longitude/latitude to CGCS2000 (EPSG:4490).

    The GCJ-02 source carries no CRS of its own (it is usually labelled WGS84); whatever CRS the series
    claims is replaced, because GCJ-02 is not a CRS that pyproj knows.
    """
    converted = gcj02_to_wgs84_geometry(series.to_numpy())
    return gpd.GeoSeries(converted, index=series.index, crs="EPSG:4490", name=series.name)
