"""The committed demo GeoPackage is what `python -m geo demo-data` makes, and GDAL reads it as the model says."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal

from geo import demo, settings, store
from geo.model import schema


@pytest.fixture(scope="module")
def committed():
    return store.open(settings.DEMO_DATA).read_layers()


def test_committed_demo_file_is_valid(committed):
    report = schema.validate_frames(committed)
    assert report.ok, report.summary()
    assert set(committed) == set(schema.LAYERS)


def _attributes(gdf) -> pd.DataFrame:
    """Attribute values with one spelling of "missing", whatever the column's dtype."""
    frame = pd.DataFrame(gdf.drop(columns="geometry")).astype(object)
    return frame.where(frame.notna(), None)


def test_committed_demo_file_matches_the_generator(committed):
    # Regenerate with `python -m geo demo-data` whenever geo/demo.py changes.  The store writes a layer that
    # mixes Polygon and MultiPolygon as all multi, so geometries are compared topologically.
    for name, built in demo.build().items():
        stored = committed[name].reset_index(drop=True)
        built = built.reset_index(drop=True)
        assert_frame_equal(_attributes(stored), _attributes(built), check_dtype=False)
        assert shapely.equals(stored.geometry.values, built.geometry.values).all(), name


def test_ogrinfo_lists_every_layer_in_cgcs2000():
    # GDAL's own ogrinfo (Debian gdal-bin, installed by `make test`), independent of the pyogrio build.
    assert shutil.which("ogrinfo"), "ogrinfo missing: run `make test`, which installs gdal-bin"
    out = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(settings.DEMO_DATA)], capture_output=True, text=True, check=True
    ).stdout
    for name in schema.LAYERS:
        assert f"Layer name: {name}" in out
    # Every layer's SRS block carries the CGCS2000 authority code.
    assert out.count('ID["EPSG",4490]]') == len(schema.LAYERS), out
