"""GCJ-02 <-> WGS84: the published forward formula and its iterated inverse (geo/model/gcj02.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.model.gcj02 import gcj02_to_wgs84, gcj02_to_wgs84_geometry, gcj02_to_wgs84_series, wgs84_to_gcj02

#: Metres per degree of latitude, close enough to turn a degree error into centimetres.
M_PER_DEG = 111_320.0

#: (wgs_lon, wgs_lat, gcj_lon, gcj_lat): reference pairs from the test suite of googollee/eviltransform.
REFERENCE = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


def _error_m(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
    dx = (np.asarray(lon_a) - lon_b) * M_PER_DEG * np.cos(np.radians(lat_b))
    dy = (np.asarray(lat_a) - lat_b) * M_PER_DEG
    return np.hypot(dx, dy)


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), REFERENCE)
def test_forward_matches_reference_pairs(wgs_lon, wgs_lat, gcj_lon, gcj_lat):
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert _error_m(lon, lat, gcj_lon, gcj_lat) < 1e-3


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), REFERENCE)
def test_inverse_recovers_reference_pairs_to_a_centimetre(wgs_lon, wgs_lat, gcj_lon, gcj_lat):
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert _error_m(lon, lat, wgs_lon, wgs_lat) < 0.01


def test_changjiang_offset_is_a_few_hundred_metres_and_reverses():
    lon, lat = wgs84_to_gcj02(117.2, 29.3)
    assert 300 < _error_m(lon, lat, 117.2, 29.3) < 800
    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    assert _error_m(back_lon, back_lat, 117.2, 29.3) < 0.01


def test_iterated_inverse_beats_the_one_step_approximation():
    gcj_lon, gcj_lat = wgs84_to_gcj02(117.2, 29.3)
    f_lon, f_lat = wgs84_to_gcj02(gcj_lon, gcj_lat)
    one_step_error = _error_m(2 * gcj_lon - f_lon, 2 * gcj_lat - f_lat, 117.2, 29.3)
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert _error_m(lon, lat, 117.2, 29.3) < one_step_error / 100


def test_round_trip_over_a_grid_around_china_is_below_a_centimetre():
    lon, lat = np.meshgrid(np.linspace(73.0, 135.0, 125), np.linspace(18.0, 54.0, 73))
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert back_lon.shape == lon.shape
    assert _error_m(back_lon, back_lat, lon, lat).max() < 0.01


@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.86), (-74.0, 40.7), (151.2, -33.9), (140.0, 35.7)])
def test_outside_china_both_directions_are_the_identity(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_geometry_conversion_moves_every_vertex_and_keeps_z():
    gcj = shapely.LineString([(117.2, 29.3, 10.0), (117.25, 29.35, 20.0)])
    wgs = gcj02_to_wgs84_geometry(gcj)
    coords = shapely.get_coordinates(wgs, include_z=True)
    lon, lat = gcj02_to_wgs84([117.2, 117.25], [29.3, 29.35])
    np.testing.assert_allclose(coords[:, 0], lon)
    np.testing.assert_allclose(coords[:, 1], lat)
    np.testing.assert_array_equal(coords[:, 2], [10.0, 20.0])


def test_series_conversion_keeps_the_index_and_labels_cgcs2000():
    series = gpd.GeoSeries([shapely.Point(117.2, 29.3), None], index=[7, 9], crs="EPSG:4326")
    converted = gcj02_to_wgs84_series(series)
    assert converted.crs.to_epsg() == 4490
    assert list(converted.index) == [7, 9]
    assert converted.iloc[1] is None
    assert converted.iloc[0].x == pytest.approx(float(gcj02_to_wgs84(117.2, 29.3)[0]))
