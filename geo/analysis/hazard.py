"""One hazard point as the analyses see it: its warning, danger zones, the villages in them, routes and shelters.

The map page's details panel formats :class:`HazardDetails`; every figure in it comes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis.evacuation import EvacuationResult
from geo.analysis.exposure import ExposureResult
from geo.model import crs as model_crs

#: Columns of :attr:`HazardDetails.villages`, and of the shelters (with their load when routes were computed).
VILLAGE_COLUMNS = ["village_id", "name", "township", "population", "households"]
SHELTER_COLUMNS = ["shelter_id", "name", "township", "capacity"]
LOAD_COLUMNS = ["assigned_people", "load_ratio", "over_capacity"]


@dataclass
class HazardDetails:
    """What the analyses say about one hazard point: the map page's details panel shows it.

    Attributes
    ----------
    record
        The point's row of ``hazard_points``.
    level
        The highest warning level covering it, or None (not warned, or not active).
    warning_ids
        The warning areas covering it.
    zones, zone_area_m2
        Its danger zones: how many, and the area of their union in square metres.
    villages
        Villages in or on its danger zones, each once, most people first: ``village_id``, ``name``, ``township``,
        ``population``, ``households``.
    people
        The people of those villages (docs/data-model.md, "People in danger zones").
    routes
        Its evacuation routes (``geo.analysis.evacuation.ROUTE_COLUMNS``); None when routes were not computed.
    shelters
        Its assigned shelter and the shelters its routes reach: ``shelter_id``, ``name``, ``township``,
        ``capacity``, and the load columns when routes were computed.
    """

    record: pd.Series
    level: str | None
    warning_ids: list[str]
    zones: int
    zone_area_m2: float
    villages: pd.DataFrame
    people: int
    routes: pd.DataFrame | None
    shelters: pd.DataFrame


def hazard_details(
    hazard_id: str,
    data: Mapping[str, gpd.GeoDataFrame],
    exposure: ExposureResult,
    routes: EvacuationResult | None = None,
) -> HazardDetails:
    """Gather the inventory, warning, danger zones, threatened villages, routes and shelters of a hazard point.

    The warning level is the highest over the warning areas of ``exposure`` that cover the point; the page shows
    the actions the plan sets for it.

    Raises
    ------
    KeyError
        If no hazard point has ``hazard_id``.
    """
    hazards = data["hazard_points"]
    rows = hazards[hazards["hazard_id"] == hazard_id]
    if rows.empty:
        raise KeyError(hazard_id)
    record = rows.iloc[0]
    warned = exposure.hazard_points[exposure.hazard_points["hazard_id"] == hazard_id]
    level = str(warned["level"].iloc[0]) if len(warned) else None
    warning_ids = list(warned["warning_ids"].iloc[0]) if len(warned) else []

    zones = data["danger_zones"][data["danger_zones"]["hazard_id"] == hazard_id]
    area = float(zones.to_crs(model_crs.metric_crs(zones)).union_all().area) if len(zones) else 0.0
    villages = data["villages"]
    if len(zones):
        inside = np.unique(villages.sindex.query(zones.to_crs(villages.crs).geometry.to_numpy(), "intersects")[1])
        villages = villages.iloc[inside]
    else:
        villages = villages.iloc[:0]

    shelter_ids = [record["shelter_id"]] if isinstance(record["shelter_id"], str) else []
    own_routes = None
    shelters = data["shelters"][SHELTER_COLUMNS]
    if routes is not None:
        own_routes = pd.DataFrame(routes.routes[routes.routes["hazard_id"] == hazard_id].drop(columns="geometry"))
        shelter_ids += own_routes["shelter_id"].dropna().tolist()
        shelters = pd.DataFrame(routes.shelters[SHELTER_COLUMNS + LOAD_COLUMNS])
    chosen = shelters[shelters["shelter_id"].isin(shelter_ids)]
    return HazardDetails(
        record=record,
        level=level,
        warning_ids=warning_ids,
        zones=len(zones),
        zone_area_m2=area,
        villages=pd.DataFrame(villages[VILLAGE_COLUMNS]).sort_values("population", ascending=False),
        people=int(villages["population"].sum()),
        routes=own_routes,
        shelters=pd.DataFrame(chosen).reset_index(drop=True),
    )
