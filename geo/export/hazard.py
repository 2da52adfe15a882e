"""What the printed exports say about one hazard point, gathered once from the layers and the routes analysis.

:class:`ExportData` projects the layers to the district's metric CRS and runs the evacuation routes analysis
once, for every active hazard point; a batch of a hundred drill maps and cards then only looks up.
:meth:`ExportData.facts` gives one hazard point's :class:`HazardFacts`: its zones, the villages and schools in
them, its routes with the roads they follow, the shelters, and the assembly points.

Assembly point (集合点)
-----------------------
Where a route first leaves the hazard point's danger zones: the first safe spot on the way out, where a drill
counts the evacuees before they walk on to the shelter.  A route that starts outside the zones (a hazard point
whose own location lies outside its zones) assembles at its start.  Points closer together than
:data:`ASSEMBLY_MERGE_M` are one assembly point.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from geo.analysis import evacuation
from geo.export.page import BLANK, display
from geo.model import crs as model_crs
from geo.model import schema
from geo.settings import AnalysisSettings

#: Layers the hazard-point exports read (``schools`` and ``warning_areas`` are used when present).
INPUT_LAYERS = ("hazard_points", "danger_zones", "villages", "shelters", "roads", "district", "townships")
OPTIONAL_LAYERS = ("schools", "warning_areas")
ASSEMBLY_MERGE_M = 30.0
#: Shelters shown for a hazard point none of whose routes reaches a shelter: the nearest, in a straight line.
NEAREST_SHELTERS = 2
#: A road counts as followed by a route when this much of it (metres) lies within ``_ALONG_M`` of the route.
_FOLLOWED_M = 20.0
_ALONG_M = 2.0
_DIRECTIONS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")


def direction_zh(dx: float, dy: float) -> str:
    """The Chinese compass direction (八方位) of a vector in grid coordinates: 北, 东北, 东 ...

    >>> direction_zh(1.0, -1.0)
    '东南'
    """
    bearing = math.degrees(math.atan2(dx, dy)) % 360.0
    return _DIRECTIONS[int((bearing + 22.5) // 45.0) % 8]


def relative_position_zh(origin: Point, target: Point) -> str:
    """Where ``target`` lies seen from the hazard point ``origin`` (metric CRS): 位于隐患点东南约120米.

    The distance is rounded to 10 m; within 20 m the target is at the hazard point itself.
    """
    dx, dy = target.x - origin.x, target.y - origin.y
    distance = math.hypot(dx, dy)
    if distance < 20.0:
        return "位于隐患点处"
    return f"位于隐患点{direction_zh(dx, dy)}约{round(distance, -1):.0f}米"


def length_zh(metres: float) -> str:
    """A route length as printed, to the nearest 10 m: ``1230 米``; missing: :data:`BLANK`."""
    return BLANK if not np.isfinite(metres) else f"{round(metres, -1):.0f} 米"


def minutes_zh(minutes: float) -> str:
    """A walking time as printed, whole minutes, at least 1: ``约 21 分钟``."""
    return BLANK if not np.isfinite(minutes) else f"约 {max(1, round(minutes))} 分钟"


@dataclass
class HazardFacts:
    """One active hazard point, as the drill map and the cards print it (geometries in the metric CRS).

    Attributes
    ----------
    hazard : dict
        The inventory row (column -> value).
    point : shapely.Point
        The hazard point.
    lonlat : tuple of float
        Its CGCS2000 longitude and latitude.
    zones : geopandas.GeoSeries
        Its danger zones.
    villages : geopandas.GeoDataFrame
        Villages in or on its zones, with ``position_zh`` (where each lies seen from the hazard point).
    schools : geopandas.GeoDataFrame
        Schools in or on its zones.
    routes : geopandas.GeoDataFrame
        Its routes (:data:`geo.analysis.evacuation.ROUTE_COLUMNS`) plus ``shelter_name``, ``shelter_capacity``,
        ``roads_zh`` (named roads followed, in order) and ``assembly`` (the assembly point number, 0 for none).
    shelters : geopandas.GeoDataFrame
        The shelters its routes reach, its assigned shelter, and where no route reaches one the nearest
        :data:`NEAREST_SHELTERS`; with ``used`` (a route ends there) and ``role``: ``used``, ``assigned`` (assigned
        but not reached) or ``nearest``.
    assembly : geopandas.GeoSeries
        Assembly points, numbered from 1 in the order of ``routes``.
    """

    hazard: dict
    point: Point
    lonlat: tuple[float, float]
    zones: gpd.GeoSeries
    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    shelters: gpd.GeoDataFrame
    assembly: gpd.GeoSeries

    @property
    def hazard_id(self) -> str:
        return str(self.hazard["hazard_id"])

    @property
    def name(self) -> str:
        return display(self.hazard.get("name"))

    @property
    def type_zh(self) -> str:
        return schema.HAZARD_TYPES.get(self.hazard.get("hazard_type"), BLANK)

    @property
    def scale_zh(self) -> str:
        return schema.GRADES.get(self.hazard.get("scale_class"), BLANK)

    @property
    def grade_zh(self) -> str:
        return schema.GRADES.get(self.hazard.get("danger_grade"), BLANK)

    @property
    def place_zh(self) -> str:
        """乡镇 and 村, as far as the inventory knows them."""
        parts = [display(self.hazard.get(c)) for c in ("township", "village")]
        return " ".join(parts)

    @property
    def coordinates_zh(self) -> str:
        lon, lat = self.lonlat
        return f"东经 {lon:.5f}°  北纬 {lat:.5f}°"

    @staticmethod
    def origin_zh(route: pd.Series) -> str:
        """Where a route starts: its village, or 隐患点处 for a route from the hazard point itself."""
        return "隐患点处" if route["origin_kind"] == "hazard_point" else str(route["origin_name"])

    def route_zh(self, route: pd.Series) -> str:
        """One route in a sentence: from where, along which roads, to which shelter, how long."""
        start = f"{self.origin_zh(route)}（{int(route['people'])}人）"
        if not route["reachable"]:
            # Always the Chinese wording: the cards and drill maps go to village cadres and residents (plan 4.1.3).
            why = evacuation.reason_text(route.get("reason_parts"), "zh")
            return f"{start}：未找到可通行的撤离路线，须现场确定" + (f"（{why}）" if why else "")
        roads = f"沿{route['roads_zh']}" if route["roads_zh"] else "沿道路"
        text = (
            f"{start}{roads}至{route['shelter_name']}，全长 {length_zh(route['length_m'])}，"
            f"步行{minutes_zh(route['walk_minutes'])}"
        )
        if route["reason"]:
            text += "；预定避灾场所不能安全到达，已改往最近的安全避灾场所"
        return text


@dataclass
class ExportData:
    """The layers in the metric CRS and the evacuation routes of every active hazard point, computed once.

    Build with :meth:`prepare`.
    """

    crs: str
    layers: dict[str, gpd.GeoDataFrame]
    evacuation: evacuation.EvacuationResult
    routes: gpd.GeoDataFrame
    settings: AnalysisSettings
    _road_tree: shapely.STRtree = field(init=False, repr=False)
    _facts: dict[str, HazardFacts] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._road_tree = shapely.STRtree(self.layers["roads"].geometry.to_numpy())
        self._facts = {}

    def __getstate__(self) -> dict:
        # A batch sends the data to its worker processes: the road index and the facts are rebuilt there.
        return {k: v for k, v in self.__dict__.items() if k not in ("_road_tree", "_facts")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @classmethod
    def prepare(
        cls,
        layers: Mapping[str, gpd.GeoDataFrame],
        settings: AnalysisSettings | None = None,
        routes: evacuation.EvacuationResult | None = None,
    ) -> ExportData:
        """Project the layers and run the routes analysis (unless ``routes`` is given, e.g. the app's cached one).

        Parameters
        ----------
        layers
            Layer name -> frame with :data:`INPUT_LAYERS` (and :data:`OPTIONAL_LAYERS` where present).
        settings
            Walking speed and snapping limits of the routes analysis.
        routes
            The routes of every active hazard point, computed from the same layers and settings.

        Raises
        ------
        ValueError
            A layer the exports need is missing.
        """
        missing = [name for name in INPUT_LAYERS if name not in layers]
        if missing:
            raise ValueError(f"the exports need the layer(s) {', '.join(missing)}")
        settings = settings or AnalysisSettings()
        routes = routes or evacuation.evacuation_routes(layers, settings)
        crs = routes.network["crs"]
        names = [*INPUT_LAYERS, *(n for n in OPTIONAL_LAYERS if n in layers)]
        projected = {name: layers[name].to_crs(crs).reset_index(drop=True) for name in names}
        return cls(crs, projected, routes, routes.routes.to_crs(crs), settings)

    @functools.cached_property
    def characters(self) -> str:
        """Every character in the text columns of the layers, once: what the font must be able to draw."""
        chars: set[str] = set()
        for gdf in self.layers.values():
            for column in gdf.columns.drop(gdf.geometry.name):
                if pd.api.types.is_object_dtype(gdf[column]) or pd.api.types.is_string_dtype(gdf[column]):
                    chars.update(*(v for v in gdf[column].dropna().unique() if isinstance(v, str)))
        return "".join(sorted(chars))

    def active_ids(self) -> list[str]:
        """Every active hazard point, in layer order."""
        points = self.layers["hazard_points"]
        return points.loc[points["status"] == "active", "hazard_id"].astype(str).tolist()

    def select(self, *, township: str | None = None, warning_id: str | None = None) -> list[str]:
        """The active hazard points of a township (by the inventory's ``township``) or in a warning area.

        Raises
        ------
        ValueError
            Neither or both given, an unknown township, or a warning id not in ``warning_areas``.
        """
        if (township is None) == (warning_id is None):
            raise ValueError("choose the hazard points by a township or by a warning area, not both or neither")
        points = self.layers["hazard_points"]
        active = points[points["status"] == "active"]
        if township is not None:
            known = set(points["township"].dropna()) | set(self.layers["townships"]["name"])
            if township not in known:
                raise ValueError(f"unknown township {township!r} (townships: {', '.join(sorted(known))})")
            return active.loc[active["township"] == township, "hazard_id"].astype(str).tolist()
        areas = self.layers.get("warning_areas")
        if areas is None or warning_id not in set(areas["warning_id"]):
            known = [] if areas is None else sorted(areas["warning_id"])
            raise ValueError(f"unknown warning area {warning_id!r} (warning areas: {', '.join(known) or 'none'})")
        area = areas.loc[areas["warning_id"] == warning_id].geometry.union_all()
        return active.loc[active.intersects(area), "hazard_id"].astype(str).tolist()

    def check(self, hazard_ids: list[str]) -> None:
        """Refuse unknown and inactive hazard points, naming them all.

        Raises
        ------
        ValueError
            Some hazard point is not in the layer, or not active (only active points are routed).
        """
        points = self.layers["hazard_points"]
        status = dict(zip(points["hazard_id"].astype(str), points["status"], strict=True))
        unknown = [h for h in hazard_ids if h not in status]
        inactive = [f"{h} ({status[h]})" for h in hazard_ids if h in status and status[h] != "active"]
        problems = [f"unknown hazard_id: {', '.join(unknown)}"] if unknown else []
        if inactive:
            problems.append(f"not active, so without evacuation routes: {', '.join(inactive)}")
        if problems:
            raise ValueError("; ".join(problems))

    def facts(self, hazard_id: str) -> HazardFacts:
        """Everything the drill map and the cards print about one active hazard point (worked out once).

        Raises
        ------
        ValueError
            Unknown or inactive hazard point (only active points are routed).
        """
        if hazard_id not in self._facts:
            self.check([hazard_id])
            self._facts[hazard_id] = self._gather(hazard_id)
        return self._facts[hazard_id]

    def _gather(self, hazard_id: str) -> HazardFacts:
        points = self.layers["hazard_points"]
        row = points[points["hazard_id"] == hazard_id].iloc[0]
        point = row.geometry
        zones = self.layers["danger_zones"]
        zones = zones.loc[zones["hazard_id"] == hazard_id].geometry
        lonlat = gpd.GeoSeries([point], crs=self.crs).to_crs(model_crs.STORAGE_CRS).iloc[0]
        villages = _inside(self.layers["villages"], zones)
        villages["position_zh"] = [relative_position_zh(point, v) for v in villages.geometry]
        schools = _inside(self.layers.get("schools", _empty(self.crs)), zones)
        routes = self.routes.loc[self.routes["hazard_id"] == hazard_id].reset_index(drop=True)
        shelters = self._shelters(routes, row.get("shelter_id"), point)
        routes = routes.merge(
            shelters[["shelter_id", "name", "capacity"]].rename(
                columns={"name": "shelter_name", "capacity": "shelter_capacity"}
            ),
            on="shelter_id",
            how="left",
        )
        routes["roads_zh"] = [self._roads_along(line) for line in routes.geometry]
        assembly, numbers = _assembly(routes, zones)
        routes["assembly"] = numbers
        return HazardFacts(
            hazard=row.drop(labels=points.geometry.name).to_dict(),
            point=point,
            lonlat=(lonlat.x, lonlat.y),
            zones=zones.reset_index(drop=True),
            villages=villages,
            schools=schools,
            routes=gpd.GeoDataFrame(routes, geometry="geometry", crs=self.crs),
            shelters=shelters,
            assembly=assembly,
        )

    def _shelters(self, routes: pd.DataFrame, assigned: object, point: Point) -> gpd.GeoDataFrame:
        """The shelters the routes reach, the assigned one, and where no route reaches any, the nearest ones."""
        shelters = self.layers["shelters"]
        used = set(routes["shelter_id"].dropna())
        wanted = used | ({assigned} if isinstance(assigned, str) else set())
        if not used:
            # A drill still needs to know where the shelters are, to settle the way there on the ground.
            wanted |= set(shelters.iloc[np.argsort(shelters.distance(point))[:NEAREST_SHELTERS]]["shelter_id"])
        chosen = shelters[shelters["shelter_id"].isin(wanted)].copy()
        chosen["used"] = chosen["shelter_id"].isin(used)
        chosen["role"] = np.select(
            [chosen["used"], chosen["shelter_id"] == assigned], ["used", "assigned"], default="nearest"
        )
        return chosen.reset_index(drop=True)

    def _roads_along(self, line: LineString | None) -> str:
        """The named roads a route follows, in the order it meets them, joined by 、."""
        if line is None or line.is_empty:
            return ""
        roads = self.layers["roads"]
        corridor = line.buffer(_ALONG_M)
        hits = self._road_tree.query(corridor, predicate="intersects")
        names, where = [], []
        for i in hits:
            name = roads["name"].iat[i]
            geom = roads.geometry.iat[i]
            if isinstance(name, str) and name.strip() and geom.intersection(corridor).length >= _FOLLOWED_M:
                names.append(name.strip())
                where.append(line.project(geom.interpolate(0.5, normalized=True)))
        ordered = [names[i] for i in np.argsort(where, kind="stable")]
        return "、".join(dict.fromkeys(ordered))


def _empty(crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[], crs=crs)


def _inside(points: gpd.GeoDataFrame, zones: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """The points in or on any of the zones, as a copy in layer order."""
    if zones.empty or points.empty:
        return points.iloc[:0].copy()
    return points[points.intersects(zones.union_all())].copy().reset_index(drop=True)


def _assembly(routes: gpd.GeoDataFrame, zones: gpd.GeoSeries) -> tuple[gpd.GeoSeries, list[int]]:
    """Assembly points (module docstring) and, per route, the number of its point (0: unreachable route)."""
    area = zones.union_all() if len(zones) else None
    points: list[Point] = []
    numbers: list[int] = []
    for line in routes.geometry:
        if line is None or line.is_empty:
            numbers.append(0)
            continue
        spot = _exit_point(line, area)
        near = [n for n, p in enumerate(points, start=1) if p.distance(spot) < ASSEMBLY_MERGE_M]
        if near:
            numbers.append(near[0])
        else:
            points.append(spot)
            numbers.append(len(points))
    return gpd.GeoSeries(points, crs=routes.crs), numbers


def _exit_point(line: LineString, area: BaseGeometry | None) -> Point:
    """The first point of ``line`` outside ``area``: its start if it starts outside, its end if it never leaves."""
    start = Point(line.coords[0])
    if area is None or not area.intersects(start):
        return start
    outside = line.difference(area)
    if outside.is_empty:
        return Point(line.coords[-1])
    firsts = [Point(part.coords[0]) for part in getattr(outside, "geoms", [outside])]
    return min(firsts, key=line.project)
