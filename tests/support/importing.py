"""Helpers shared by the importer tests: a fresh data set per test, true positions, and checks against them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import geopandas as gpd
import pyproj

from geo import store
from tests.support.fixtures import tiny_dataset

#: Where the test features really are (CGCS2000 lon/lat), inside the tiny data set's district box.
TRUTH = {
    "N1": (117.2345678, 29.3456789),
    "N2": (117.1876543, 29.2765432),
    "N3": (117.3123456, 29.1987654),
}
_GEOD = pyproj.Geod(ellps="GRS80")


def make_template(folder: Path) -> Path:
    """The tiny data set written by the store, to copy for each test."""
    path = folder / "template.gpkg"
    store.open(path).create(tiny_dataset(), user="fixture")
    return path


def fresh_copy(template: Path, folder: Path) -> Path:
    path = folder / "data.gpkg"
    shutil.copyfile(template, path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def metres_apart(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on the CGCS2000 ellipsoid (GRS80)."""
    return abs(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def project(epsg: int, lon: float, lat: float) -> tuple[float, float]:
    """(easting, northing) of a CGCS2000 position in ``epsg``, computed by pyproj alone."""
    return pyproj.Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=True).transform(lon, lat)


def by_id(gdf: gpd.GeoDataFrame, id_field: str) -> dict[str, dict]:
    return {row[id_field]: row for row in gdf.to_dict("records")}


def assert_at(stored: dict, lon: float, lat: float, tolerance_m: float = 1.0) -> None:
    geom = stored["geometry"]
    distance = metres_apart(geom.x, geom.y, lon, lat)
    assert distance < tolerance_m, f"{stored}: {distance:.3f} m from ({lon}, {lat})"
