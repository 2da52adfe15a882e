"""One hazard point as the analyses see it: warning, danger zones, the villages in them, routes and shelters.

Plan 4.5: the details of a point are what its monitor and the township need under a warning (who is at risk, where
they go).  The tiny data set (tests/support/fixtures.py) puts village V1 (320 people) inside both danger zones of
H1, which lies in warning areas W1 and W2 (red).
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.analysis import evacuation, exposure, hazard
from geo.model import crs as model_crs
from tests.support.fixtures import tiny_dataset


@pytest.fixture(scope="module")
def tiny() -> dict[str, gpd.GeoDataFrame]:
    return tiny_dataset()


@pytest.fixture(scope="module")
def tiny_exposure(tiny) -> exposure.ExposureResult:
    return exposure.analyse(tiny)


def test_details_gather_zones_villages_routes_shelter_and_warning(tiny, tiny_exposure):
    routes = evacuation.evacuation_routes(tiny)
    details = hazard.hazard_details("H1", tiny, tiny_exposure, routes)
    assert details.record["name"] == "枫林村滑坡"
    assert details.level == "red"
    assert set(details.warning_ids) == {"W1", "W2"}
    assert details.zones == 2
    assert details.zone_area_m2 > 0
    assert list(details.villages["village_id"]) == ["V1"]
    assert details.people == 320
    assert set(details.routes["hazard_id"]) == {"H1"}
    assert "SH1" in set(details.shelters["shelter_id"])
    assert {"assigned_people", "load_ratio"} <= set(details.shelters.columns)


def test_details_of_a_treated_point_without_routes(tiny, tiny_exposure):
    details = hazard.hazard_details("H3", tiny, tiny_exposure)
    assert details.level is None and details.warning_ids == []
    assert details.zones == 0 and details.villages.empty
    assert details.routes is None
    assert list(details.shelters["shelter_id"]) == ["SH2"]  # its assigned shelter, without load figures
    with pytest.raises(KeyError):
        hazard.hazard_details("nope", tiny, tiny_exposure)


def test_a_village_in_two_zones_of_the_point_counts_once_and_the_area_is_of_their_union(tiny, tiny_exposure):
    # docs/data-model.md "People in danger zones": the union of the zones, each village once.
    details = hazard.hazard_details("H1", tiny, tiny_exposure)
    zones = tiny["danger_zones"][tiny["danger_zones"]["hazard_id"] == "H1"]
    union = shapely.union_all(zones.geometry.to_numpy())
    inside = tiny["villages"][tiny["villages"].intersects(union)]
    assert details.people == int(inside["population"].sum()) == 320
    metric = gpd.GeoSeries([union], crs=zones.crs).to_crs(model_crs.metric_crs(zones))
    assert details.zone_area_m2 == pytest.approx(float(metric.area.iloc[0]))
    assert details.zone_area_m2 < float(zones.to_crs(model_crs.metric_crs(zones)).area.sum())  # they overlap
