"""Pool coverage of schools, and what the swimming plan asks of each township, school and budget.

《泳动昌江》游泳教育实施方案 (the swimming plan): a school without a pool takes its grade-4 pupils to a nearby
pool (二(三)1); each township builds at least one swimming facility or shares one with a neighbour (二(二)1);
the district funds the free training per grade-4 pupil (三(四)); every school needs swimming instructors and
Red Cross trainers (二(一)2-3).  docs/data-model.md "Pool coverage" defines the distances and the k-pool radius.

Distances are measured in metres in the CGCS2000 Gauss-Krueger zone of the data, either along ``roads`` (a route
is the straight snap leg from the point to the nearest point of the nearest road, the shortest path along the roads
to where the other point meets them, and that point's snap leg) or as the straight line.  A point farther from the roads
than ``max_snap_distance_m``, or a pair on road pieces that do not connect, falls back to the straight line, and
every distance says which metric it used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from geo.analysis import network
from geo.model import crs as model_crs
from geo.model import rules
from geo.settings import AnalysisSettings

METRICS = ("network", "straight")
#: Township polygons closer than this count as neighbours: digitised boundaries leave slivers and gaps.
NEIGHBOUR_TOLERANCE_M = 10.0

__all__ = [
    "METRICS",
    "CoverageSummary",
    "DistanceMeasure",
    "Distances",
    "PoolCoverage",
    "coverage_with",
    "open_pools",
    "pool_coverage",
    "require_layers",
    "schools_without_pool",
    "township_of_points",
]


# --------------------------------------------------------------------------------------------------
# Distances


@dataclass(frozen=True)
class Distances:
    """Origin x destination distances in metres and, per pair, whether they follow the roads."""

    metres: np.ndarray
    by_network: np.ndarray

    def metric_names(self) -> np.ndarray:
        """``'network'`` or ``'straight'`` for every pair."""
        return np.where(self.by_network, "network", "straight")


class DistanceMeasure:
    """Measure distances between point sets by one metric, building the road graph once.

    Parameters
    ----------
    roads
        The ``roads`` layer; ignored for the straight metric.  Missing or empty roads turn every network
        distance into a straight one (noted in ``notes``).
    metric
        ``'network'`` (route length along roads) or ``'straight'``.
    crs
        Metric CRS in which straight lines and snap legs are measured.
    settings
        Supplies ``snap_tolerance_m`` (graph building) and ``max_snap_distance_m`` (how far a point may lie
        from the roads and still reach them).
    """

    def __init__(self, roads: gpd.GeoDataFrame | None, metric: str, crs: str, settings: AnalysisSettings):
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {'|'.join(METRICS)}, not {metric!r}")
        self.metric = metric
        self.crs = crs
        self.settings = settings
        self.notes: list[str] = []
        self.graph = None
        if metric == "network":
            if roads is None or roads.empty:
                self.notes.append("network metric asked for, but there are no roads: every distance is straight-line")
            else:
                self.graph = network.build_graph(roads, tolerance_m=settings.snap_tolerance_m, crs=crs)

    def between(self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries, *, limit: float = np.inf) -> Distances:
        """Distances from every origin to every destination (both point series, any CRS).

        Parameters
        ----------
        origins, destinations
            Points with a CRS.
        limit
            Route searches stop at this many metres along the roads, so a route longer than ``limit`` may come
            back as ``inf``; pass the service radius when only "within the radius or not" matters.
        """
        o_xy, d_xy = self._xy(origins), self._xy(destinations)
        straight = cdist(o_xy, d_xy)
        if self.graph is None or straight.size == 0:
            return Distances(straight, np.zeros(straight.shape, dtype=bool))
        routed = self._routes(_Snapped.of(self, o_xy, d_xy), slice(None), limit)
        by_network = ~np.isnan(routed)
        return Distances(np.where(by_network, routed, straight), by_network)

    def within(
        self, origins: gpd.GeoSeries, destinations: gpd.GeoSeries, radius: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Index pairs (origin, destination) at most ``radius`` apart, without an origins x destinations matrix.

        Only pairs within the radius in a straight line are routed: a route is never shorter than the straight
        line (up to the snap tolerance by which road ends are merged, added as slack), so a province of
        candidate sites costs memory and searches for the nearby pairs only.
        """
        o_xy, d_xy = self._xy(origins), self._xy(destinations)
        if not len(o_xy) or not len(d_xy):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        slack = 2.0 * self.settings.snap_tolerance_m if self.graph is not None else 0.0
        near = cKDTree(o_xy).sparse_distance_matrix(cKDTree(d_xy), radius + slack, output_type="ndarray")
        if self.graph is None:
            near = near[near["v"] <= radius]
            return near["i"].astype(np.int64), near["j"].astype(np.int64)
        rows, cols = np.unique(near["i"]), np.unique(near["j"])
        snapped = _Snapped.of(self, o_xy[rows], d_xy[cols])
        found_rows, found_cols = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
        # Each block searches from its own origins once; blocks bound the dense block of route lengths.
        step = max(1, _BLOCK_CELLS // len(cols))
        for start in range(0, len(rows), step):
            block = slice(start, start + step)
            routed = self._routes(snapped, block, radius)
            metres = np.where(np.isnan(routed), cdist(o_xy[rows[block]], d_xy[cols]), routed)
            r, c = np.nonzero(metres <= radius)
            found_rows.append(rows[block][r])
            found_cols.append(cols[c])
        return np.concatenate(found_rows), np.concatenate(found_cols)

    def _xy(self, points: gpd.GeoSeries) -> np.ndarray:
        return shapely.get_coordinates(points.to_crs(self.crs).values).reshape(-1, 2)

    @staticmethod
    def _routes(snapped: _Snapped, rows: slice, limit: float) -> np.ndarray:
        """Snap leg + shortest path + snap leg from ``rows`` of the origins to every destination; NaN where a point
        misses the roads or no road joins the two."""
        node_o, node_d = snapped.node_o[rows], snapped.node_d
        joined = (node_o >= 0)[:, None] & (node_d >= 0)[None, :]
        labels = snapped.graph.labels
        joined &= labels[node_o][:, None] == labels[node_d][None, :]
        along = network.distance_matrix(snapped.graph, node_o, node_d, limit=limit)
        legs = snapped.leg_o[rows][:, None] + snapped.leg_d[None, :]
        return np.where(joined, along + legs, np.nan)


#: Cells of one block of route lengths in :meth:`DistanceMeasure.within` (float64: 32 MB).
_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class _Snapped:
    """Origins and destinations joined to one road graph: their nodes (-1 off the roads) and snap legs."""

    graph: network.RoadGraph
    node_o: np.ndarray
    node_d: np.ndarray
    leg_o: np.ndarray
    leg_d: np.ndarray

    @classmethod
    def of(cls, measure: DistanceMeasure, o_xy: np.ndarray, d_xy: np.ndarray) -> _Snapped:
        limit = measure.settings.max_snap_distance_m
        snap_o = network.snap_points(measure.graph, shapely.points(o_xy), max_distance_m=limit)
        # Snapping splits roads and appends nodes; the second snap builds on the first so that both sets of
        # nodes live in one graph.
        snap_d = network.snap_points(snap_o.graph, shapely.points(d_xy), max_distance_m=limit)
        legs = (np.nan_to_num(s.distance_m) for s in (snap_o, snap_d))
        return cls(snap_d.graph, snap_o.node, snap_d.node, *legs)


def open_pools(pools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The pools with ``status = 'open'``; building and planned pools serve nobody yet."""
    return pools[pools["status"] == "open"].reset_index(drop=True)


def township_of_points(points: gpd.GeoSeries, townships: gpd.GeoDataFrame) -> pd.Series:
    """Name of the township polygon each point lies in or on (the first one on a shared boundary), else None."""
    points = points.to_crs(townships.crs)
    point_pos, poly_pos = townships.sindex.query(points.values, predicate="intersects")
    first = pd.Series(poly_pos, index=point_pos).groupby(level=0).first()
    names = np.full(len(points), None, dtype=object)
    names[first.index.to_numpy()] = townships["name"].to_numpy()[first.to_numpy()]
    return pd.Series(names, index=points.index, dtype=object)


# --------------------------------------------------------------------------------------------------
# Coverage


#: Columns of :attr:`PoolCoverage.townships`, in order.
TOWNSHIP_COLUMNS = (
    "township",
    "area_type",
    "open_facilities",
    "meets_requirement",
    "how",
    "shared_pools",
    "schools",
    "schools_without_pool",
    "grade4_students",
    "grade4_out_of_reach",
    "budget_yuan",
    "schools_short_instructors",
    "schools_short_redcross",
)
#: Columns of :attr:`PoolCoverage.staffing`, in order.
STAFFING_COLUMNS = (
    "school_id",
    "name",
    "township",
    "swim_instructors",
    "instructors_short",
    "redcross_trainers",
    "redcross_required",
    "redcross_short",
)


@dataclass(frozen=True)
class CoverageSummary:
    """The district's figures of a :class:`PoolCoverage` (:meth:`PoolCoverage.summary`).

    Attributes
    ----------
    schools_without_pool, schools_covered
        Schools without a pool of their own, and those of them whose nearest open pool is within the service radius.
    grade4_without_pool, grade4_covered, grade4_out_of_reach
        Grade-4 pupils of the schools without a pool (二(三)1: they are taken to a pool), of those covered, and of
        the others.
    townships, townships_short
        Townships, and those meeting the facility requirement (二(二)1) neither on their own nor by sharing.
    schools_short_instructors, instructors_short
        Schools short of swimming instructors or lifeguards (二(一)2), and how many they lack in all.
    schools_short_redcross, redcross_short
        Schools short of Red Cross trainers (二(一)3), and how many they lack in all.
    """

    schools_without_pool: int
    schools_covered: int
    grade4_without_pool: int
    grade4_covered: int
    grade4_out_of_reach: int
    townships: int
    townships_short: int
    schools_short_instructors: int
    instructors_short: int
    schools_short_redcross: int
    redcross_short: int


@dataclass
class PoolCoverage:
    """Result of :func:`pool_coverage`; ``to_dict`` gives the JSON contract.

    Attributes
    ----------
    schools
        One row per school without a pool: ``school_id``, ``name``, ``township``, ``grade4_students``,
        ``nearest_pool_id``, ``nearest_distance_m``, ``nearest_metric``, ``k_radius_m`` (NaN when fewer than k
        open pools exist), ``covered``, ``note``; the school's point geometry.
    nearest
        Long table of the k nearest open pools: ``school_id``, ``rank`` (1 = nearest), ``pool_id``,
        ``distance_m``, ``metric``.
    townships
        One row per township: facilities, compliance with 二(二)1, pupils out of reach, budget, staffing.
    pools
        One row per open pool: the schools without a pool for which it is the nearest, and their grade-4 pupils.
    staffing
        One row per school: instructors and Red Cross trainers held, required and short (二(一)2-3).
    budget_yuan
        Minimum district budget for the free grade-4 training (三(四)).
    """

    k: int
    radius_m: float
    metric: str
    schools: gpd.GeoDataFrame
    nearest: pd.DataFrame
    townships: pd.DataFrame
    pools: gpd.GeoDataFrame
    staffing: pd.DataFrame
    budget_yuan: int
    assumptions: list[str] = field(default_factory=list)

    def short_of_staff(self) -> pd.DataFrame:
        """Schools short of swimming instructors (二(一)2) or Red Cross trainers (二(一)3), most short first."""
        staff = self.staffing
        short = staff[(staff["instructors_short"] > 0) | (staff["redcross_short"] > 0)]
        order = short["instructors_short"] + short["redcross_short"]
        return short.loc[order.sort_values(ascending=False, kind="stable").index].reset_index(drop=True)

    def summary(self) -> CoverageSummary:
        """Schools and pupils covered, townships short of a facility, and staff short, over the district."""
        schools, staff = self.schools, self.staffing
        pupils = int(schools["grade4_students"].sum())
        covered = int(schools.loc[schools["covered"], "grade4_students"].sum())
        return CoverageSummary(
            schools_without_pool=len(schools),
            schools_covered=int(schools["covered"].sum()),
            grade4_without_pool=pupils,
            grade4_covered=covered,
            grade4_out_of_reach=pupils - covered,
            townships=len(self.townships),
            townships_short=int((~self.townships["meets_requirement"]).sum()),
            schools_short_instructors=int((staff["instructors_short"] > 0).sum()),
            instructors_short=int(staff["instructors_short"].sum()),
            schools_short_redcross=int((staff["redcross_short"] > 0).sum()),
            redcross_short=int(staff["redcross_short"].sum()),
        )

    def to_dict(self) -> dict:
        """The JSON contract of ``python -m geo pools --json``."""
        nearest = {
            sid: [
                {"pool_id": r.pool_id, "distance_m": round(float(r.distance_m), 1), "metric": r.metric}
                for r in rows.itertuples()
            ]
            for sid, rows in self.nearest.groupby("school_id", sort=False)
        }
        schools = [
            {
                "school_id": r.school_id,
                "name": r.name,
                "township": r.township,
                "grade4_students": int(r.grade4_students),
                "nearest": nearest.get(r.school_id, []),
                "k_radius_m": _number(r.k_radius_m),
                "covered": bool(r.covered),
                "note": r.note,
            }
            for r in self.schools.itertuples()
        ]
        return {
            "settings": {"k": self.k, "service_radius_m": self.radius_m, "metric": self.metric},
            "schools": schools,
            "townships": _records(self.townships),
            "pools": _records(self.pools.drop(columns="geometry")),
            "budget_yuan": _number(self.budget_yuan),
            "staffing": _records(self.staffing),
            "summary": asdict(self.summary()),
            "assumptions": list(self.assumptions),
        }

    def to_text(self, max_rows: int = 40) -> str:
        """Readable tables for the terminal: schools, townships, pools, budget, staffing, assumptions.

        Parameters
        ----------
        max_rows
            Schools and staffing rows listed before a table is cut (the JSON has them all).
        """
        table = self.schools
        summary = self.summary()
        schools = table.drop(columns="geometry").assign(k_radius_m=table["k_radius_m"].round(0))
        schools["nearest_distance_m"] = schools["nearest_distance_m"].round(0)
        sections = [
            f"游泳池覆盖 Pool coverage: metric {self.metric}, k = {self.k}, service radius {self.radius_m:g} m",
            f"无泳池学校 Schools without a pool: {summary.schools_without_pool}, covered {summary.schools_covered}; "
            f"grade-4 pupils out of reach {summary.grade4_out_of_reach} of {summary.grade4_without_pool}",
            _text_table(schools.drop(columns=["note"]), max_rows),
            "乡镇 Townships (二(二)1)",
            _text_table(self.townships.drop(columns=["area_type"]), max_rows),
            "泳池使用 Pools and the schools that would use them",
            _text_table(self.pools.drop(columns=["geometry", "name", "kind"]), max_rows),
            f"培训经费 Training budget (三(四)): at least {self.budget_yuan:,.0f} yuan",
            f"师资 Staffing (二(一)2-3): {summary.schools_short_instructors} school(s) short of swimming instructors "
            f"({summary.instructors_short} in all), {summary.schools_short_redcross} short of Red Cross trainers "
            f"({summary.redcross_short} in all)",
            _text_table(self.short_of_staff().drop(columns=["name"]), max_rows),
            "说明 Assumptions\n" + "\n".join(f"- {a}" for a in self.assumptions),
        ]
        return "\n\n".join(s for s in sections if s)


def _text_table(frame: pd.DataFrame, max_rows: int) -> str:
    """A frame as plain text, cut after ``max_rows`` rows with a line saying how many more there are."""
    if frame.empty:
        return ""
    text = frame.head(max_rows).to_string(index=False)
    return text if len(frame) <= max_rows else f"{text}\n... {len(frame) - max_rows} more"


def _number(value) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    value = float(value)
    return int(value) if value.is_integer() else round(value, 1)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: numpy scalars to Python, NaN to None."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, (bool, np.bool_)):
                clean[key] = bool(value)
            elif isinstance(value, (int, float, np.integer, np.floating)):
                clean[key] = _number(value)
            else:
                clean[key] = value
            if isinstance(clean[key], float) and math.isnan(clean[key]):
                clean[key] = None
        out.append(clean)
    return out


def require_layers(layers: Mapping[str, gpd.GeoDataFrame], *names: str) -> None:
    missing = [n for n in names if n not in layers]
    if missing:
        raise ValueError(f"pool coverage needs the layer(s) {', '.join(missing)}")


def schools_without_pool(schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Schools with ``has_pool`` false, re-indexed 0..n-1, with ``grade4_students`` as int."""
    out = schools[~schools["has_pool"].fillna(False).astype(bool)].reset_index(drop=True)
    out["grade4_students"] = out["grade4_students"].fillna(0).astype(int)
    return out


def pool_coverage(
    layers: Mapping[str, gpd.GeoDataFrame],
    settings: AnalysisSettings | None = None,
    *,
    metric: str = "network",
) -> PoolCoverage:
    """Coverage of every school without a pool by the open pools, and the plan's township requirements.

    Parameters
    ----------
    layers
        Layer name -> GeoDataFrame; needs ``schools``, ``pools`` and ``townships``, and ``roads`` for the
        network metric.
    settings
        ``k_pools`` and ``service_radius_m`` (defaults 3 and 3000 m), and the snapping limits.
    metric
        ``'network'`` (route length along roads, straight-line fallback) or ``'straight'``.

    Returns
    -------
    PoolCoverage
    """
    settings = settings or AnalysisSettings()
    require_layers(layers, "schools", "pools", "townships")
    measure = DistanceMeasure(layers.get("roads"), metric, model_crs.data_metric_crs(layers), settings)
    return coverage_with(layers, settings, measure)


def coverage_with(
    layers: Mapping[str, gpd.GeoDataFrame], settings: AnalysisSettings, measure: DistanceMeasure
) -> PoolCoverage:
    """:func:`pool_coverage` with a ready :class:`DistanceMeasure`, so that siting reuses its road graph."""
    k, radius = int(settings.k_pools), float(settings.service_radius_m)
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    schools = layers["schools"]
    pools = layers["pools"]
    townships = layers["townships"]
    open_ = open_pools(pools)
    needy = schools_without_pool(schools)
    dist = measure.between(needy.geometry, open_.geometry)

    assumptions = [
        f"Distances are {_metric_text(measure.metric)}, in metres in {measure.crs}.",
        f"Only pools with status 'open' count ({len(open_)} of {len(pools)}); "
        f"{int((pools['status'] != 'open').sum())} building or planned pools are ignored.",
        f"A school is covered when its nearest open pool is at most {radius:g} m away; the k-pool radius is "
        f"the distance to its {_ordinal(k)} nearest open pool (k = {k}).",
        *measure.notes,
    ]
    assumptions += _fallback_notes(measure.metric, dist, needy, open_)
    table, nearest = _nearest(needy, open_, dist, k, radius)
    if len(open_) < k:
        assumptions.append(f"Only {len(open_)} open pool(s) in the data, fewer than k = {k}: no k-pool radius.")

    staffing = _staffing(schools)
    budget = _budget(schools)
    town = _townships(townships, schools, table, open_, dist, staffing, budget, measure, radius)
    assumptions += town.attrs.pop("notes")
    assumptions += [
        f"{rules.cite('swim.2.2.1')}: a township meets the facility requirement on its own with at least "
        f"{rules.MIN_FACILITIES_PER_TOWNSHIP} open pool whose township attribute names it; otherwise it shares "
        f"one when every school of it without a pool lies within {radius:g} m of an open pool of a neighbouring "
        "township (polygons touching or less than "
        f"{NEIGHBOUR_TOLERANCE_M:g} m apart); a township with no such school is judged by its seat (the "
        "representative point of its polygon, since the data holds no seat).",
        f"{rules.cite('swim.3.4')}: the training budget is the minimum the plan sets, "
        f"{rules.TRAINING_RATE_RURAL_YUAN} yuan per grade-4 pupil of a rural school and "
        f"{rules.TRAINING_RATE_URBAN_YUAN} per pupil of an urban school (by the school's area_type), over every "
        "grade-4 pupil.",
        f"{rules.cite('swim.2.1.2')}: every school needs {rules.MIN_SWIM_INSTRUCTORS} swimming instructors or "
        f"lifeguards. {rules.cite('swim.2.1.3')}: {rules.REDCROSS_TRAINERS_SMALL_SCHOOL} Red Cross trainer under "
        f"{rules.REDCROSS_LARGE_SCHOOL} teachers and pupils, {rules.REDCROSS_TRAINERS_LARGE_SCHOOL} from "
        f"{rules.REDCROSS_LARGE_SCHOOL} on; rural teaching points are exempt.",
        "Each school without a pool uses its nearest open pool (pools table), whatever the distance.",
    ]
    return PoolCoverage(
        k=k,
        radius_m=radius,
        metric=measure.metric,
        schools=table,
        nearest=nearest,
        townships=town,
        pools=_pool_use(open_, table),
        staffing=staffing,
        budget_yuan=int(budget.sum()),
        assumptions=assumptions,
    )


def _metric_text(metric: str) -> str:
    if metric == "straight":
        return "straight lines"
    return (
        "route lengths along roads: the straight snap leg from a point to the nearest point of the nearest road, "
        "the shortest path along the roads, and the snap leg to the other point"
    )


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _fallback_notes(metric: str, dist: Distances, needy: gpd.GeoDataFrame, open_: gpd.GeoDataFrame) -> list[str]:
    """Say which schools and pools could not use the roads, so a straight distance is never taken for a route."""
    if metric != "network" or dist.metres.size == 0 or dist.by_network.all():
        return []
    straight = ~dist.by_network
    off_schools = needy["school_id"][straight.all(axis=1)].tolist()
    off_pools = open_["pool_id"][straight.all(axis=0)].tolist()
    notes = [
        f"{int(straight.sum())} of {straight.size} school-pool distances fell back to the straight line "
        "(metric 'straight'): a point lies too far from the roads or the roads between them do not connect."
    ]
    if off_schools and len(off_schools) < len(needy):
        notes.append(f"Schools reaching no pool by road: {', '.join(map(str, off_schools))}.")
    if off_pools and len(off_pools) < len(open_):
        notes.append(f"Pools reachable by road from no school: {', '.join(map(str, off_pools))}.")
    return notes


def _nearest(
    needy: gpd.GeoDataFrame, open_: gpd.GeoDataFrame, dist: Distances, k: int, radius: float
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Per school the k nearest open pools (ties broken by pool order), its k-pool radius and coverage."""
    n_schools, n_pools = dist.metres.shape
    order = np.argsort(dist.metres, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(n_schools), order.shape[1])
    cols = order.ravel()
    nearest = pd.DataFrame(
        {
            "school_id": needy["school_id"].to_numpy()[rows],
            "rank": np.tile(np.arange(1, order.shape[1] + 1), n_schools),
            "pool_id": open_["pool_id"].to_numpy()[cols],
            "distance_m": dist.metres[rows, cols],
            "metric": dist.metric_names()[rows, cols],
        }
    )
    table = needy[["school_id", "name", "township", "grade4_students", "geometry"]].copy()
    if n_pools:
        first = order[:, 0]
        table["nearest_pool_id"] = open_["pool_id"].to_numpy()[first]
        table["nearest_distance_m"] = dist.metres[np.arange(n_schools), first]
        table["nearest_metric"] = dist.metric_names()[np.arange(n_schools), first]
    else:
        table["nearest_pool_id"] = None
        table["nearest_distance_m"] = np.nan
        table["nearest_metric"] = None
    table["k_radius_m"] = dist.metres[np.arange(n_schools), order[:, k - 1]] if n_pools >= k else np.nan
    table["covered"] = table["nearest_distance_m"].le(radius)
    if not n_pools:
        table["note"] = "no open pool in the data"
    else:
        table["note"] = None if n_pools >= k else f"only {n_pools} open pool(s), fewer than k = {k}: no k-pool radius"
    return table, nearest


def _staffing(schools: gpd.GeoDataFrame) -> pd.DataFrame:
    """Instructors and Red Cross trainers held, required and short per school (二(一)2-3)."""
    rows = []
    for s in schools.itertuples():
        required = rules.redcross_trainers_required(int(s.students), int(s.teachers), bool(s.is_teaching_point))
        rows.append(
            {
                "school_id": s.school_id,
                "name": s.name,
                "township": s.township,
                "swim_instructors": int(s.swim_instructors),
                "instructors_short": rules.swim_instructors_short(int(s.swim_instructors)),
                "redcross_trainers": int(s.redcross_trainers),
                "redcross_required": required,
                "redcross_short": rules.redcross_trainers_short(
                    int(s.students), int(s.teachers), bool(s.is_teaching_point), int(s.redcross_trainers)
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(STAFFING_COLUMNS))


def _budget(schools: gpd.GeoDataFrame) -> pd.Series:
    """Minimum training budget per school (三(四)), on the schools' index."""
    return pd.Series(
        [
            rules.training_budget_yuan(int(g), a)
            for g, a in zip(schools["grade4_students"].fillna(0), schools["area_type"], strict=True)
        ],
        index=schools.index,
        dtype=np.int64,
    )


def _neighbours(townships: gpd.GeoDataFrame, crs: str) -> dict[str, set[str]]:
    metric = townships.to_crs(crs)
    grown = metric.geometry.buffer(NEIGHBOUR_TOLERANCE_M / 2.0)
    left, right = grown.sindex.query(grown.values, predicate="intersects")
    names = metric["name"].to_numpy()
    out: dict[str, set[str]] = {name: set() for name in names}
    for a, b in zip(left, right, strict=True):
        if a != b:
            out[names[a]].add(names[b])
    return out


def _townships(
    townships: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    table: gpd.GeoDataFrame,
    open_: gpd.GeoDataFrame,
    dist: Distances,
    staffing: pd.DataFrame,
    budget: pd.Series,
    measure: DistanceMeasure,
    radius: float,
) -> pd.DataFrame:
    """Facilities, 二(二)1 compliance (own | shared | none), pupils out of reach, budget and staffing per township.

    ``table`` holds the schools without a pool in the row order of ``dist`` (schools x open pools).
    """
    names = townships["name"].tolist()
    known = set(names)
    notes = []
    for layer, frame in (("schools", schools), ("pools", open_)):
        stray = sorted(set(frame["township"].dropna()) - known)
        if stray:
            notes.append(f"{layer} name townships missing from the townships layer: {', '.join(stray)}.")

    own = open_.groupby("township").size()
    neighbours = _neighbours(townships, measure.crs)
    lacking = [n for n in names if own.get(n, 0) < rules.MIN_FACILITIES_PER_TOWNSHIP]
    seats = townships.set_index("name").geometry.representative_point()
    seat_dist = measure.between(gpd.GeoSeries(seats.loc[lacking], crs=townships.crs), open_.geometry)

    pool_town = open_["township"].to_numpy()
    out_of_reach = (~table["covered"]) * table["grade4_students"]
    rows = []
    for name, area_type in zip(townships["name"], townships["area_type"], strict=True):
        in_town = schools["township"] == name
        needy_rows = np.flatnonzero(table["township"].to_numpy() == name)
        how, via = "own", []
        if own.get(name, 0) < rules.MIN_FACILITIES_PER_TOWNSHIP:
            how, via = _shared(name, needy_rows, lacking, neighbours, pool_town, dist, seat_dist, open_, radius)
        short = staffing[in_town.to_numpy()]
        rows.append(
            {
                "township": name,
                "area_type": area_type,
                "open_facilities": int(own.get(name, 0)),
                "meets_requirement": how != "none",
                "how": how,
                "shared_pools": via,
                "schools": int(in_town.sum()),
                "schools_without_pool": len(needy_rows),
                "grade4_students": int(schools.loc[in_town, "grade4_students"].fillna(0).sum()),
                "grade4_out_of_reach": int(out_of_reach.to_numpy()[needy_rows].sum()),
                "budget_yuan": int(budget[in_town].sum()),
                "schools_short_instructors": int((short["instructors_short"] > 0).sum()),
                "schools_short_redcross": int((short["redcross_short"] > 0).sum()),
            }
        )
    frame = pd.DataFrame(rows, columns=list(TOWNSHIP_COLUMNS))
    frame.attrs["notes"] = notes
    return frame


def _shared(
    name: str,
    needy_rows: np.ndarray,
    lacking: list[str],
    neighbours: dict[str, set[str]],
    pool_town: np.ndarray,
    dist: Distances,
    seat_dist: Distances,
    open_: gpd.GeoDataFrame,
    radius: float,
) -> tuple[str, list[str]]:
    """``('shared', pool ids)`` when the township's schools without a pool (else its seat) all reach a
    neighbouring township's open pool within the radius, else ``('none', [])``."""
    cols = np.flatnonzero(np.isin(pool_town, list(neighbours[name])))
    if not len(cols):
        return "none", []
    metres = dist.metres[needy_rows] if len(needy_rows) else seat_dist.metres[[lacking.index(name)]]
    sub = metres[:, cols]
    if not (sub.min(axis=1) <= radius).all():
        return "none", []
    used = open_["pool_id"].to_numpy()[cols[sub.argmin(axis=1)]]
    return "shared", sorted(set(used))


def _pool_use(open_: gpd.GeoDataFrame, table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Per open pool, the schools without a pool for which it is the nearest, and their grade-4 pupils."""
    groups = table.groupby("nearest_pool_id", sort=False)
    schools = groups["school_id"].agg(list)
    pupils = groups["grade4_students"].sum()
    covered = table[table["covered"]].groupby("nearest_pool_id")["grade4_students"].sum()
    out = open_[["pool_id", "name", "township", "kind", "lanes", "geometry"]].copy()
    ids = out["pool_id"]
    out["schools"] = [schools.get(i, []) for i in ids]
    out["n_schools"] = out["schools"].map(len)
    out["grade4_students"] = ids.map(pupils).fillna(0).astype(int)
    out["grade4_within_radius"] = ids.map(covered).fillna(0).astype(int)
    return out
