"""Where to build the next pools: maximal covering (MCLP) and set covering (LSCP) of grade-4 pupils.

The swimming plan asks each township to build a facility (《泳动昌江》二(二)1) so that the grade-4 pupils of schools
without a pool have one in reach (二(三)1).  The demand here is those pupils, school by school; a school counts as
covered when a pool lies within the service radius, measured as in :mod:`geo.analysis.pools`.  Existing open pools stay:
pupils they already cover are never counted as gained by a new site.

- :func:`site_pools` chooses ``p`` new sites among candidates to cover the most pupils (MCLP, PySAL ``spopt``
  solved by PuLP's bundled CBC), optionally with one site in every township that lacks an open pool (a PuLP model
  of the same objective plus that constraint, which ``spopt`` cannot express), and counts the fewest sites that
  would cover every coverable school (LSCP).
- :func:`what_if` tells what one proposed site would gain.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import shapely
from scipy import sparse

from geo.analysis import pools
from geo.model import crs as model_crs
from geo.model import rules
from geo.settings import AnalysisSettings

#: Candidate sites the product generates; anything else is a GeoDataFrame (or, in the CLI, a file) of points.
CANDIDATE_KINDS = ("schools", "township-seats", "grid")
#: CBC stops after this long and keeps the best sites found; the result then says it may not be optimal.
SOLVER_TIME_LIMIT_S = 120

__all__ = [
    "CANDIDATE_KINDS",
    "SitingResult",
    "Solution",
    "WhatIf",
    "candidate_sites",
    "maximal_cover",
    "minimal_cover",
    "site_pools",
    "what_if",
]


# --------------------------------------------------------------------------------------------------
# The optimisation problems, on a coverage matrix (demand rows x candidate columns)


@dataclass(frozen=True)
class Solution:
    """Chosen candidate columns, the model that chose them, and whether CBC proved them optimal."""

    sites: list[int]
    method: str
    optimal: bool


@dataclass(frozen=True)
class _Reduced:
    """A covering problem shrunk without changing its optimum (see :func:`_reduce`)."""

    cover: sparse.csr_matrix
    weights: np.ndarray
    cols: np.ndarray

    @property
    def cells(self) -> int:
        return self.cover.shape[0] * self.cover.shape[1]


def _reduce(cover, weights) -> _Reduced:
    """Drop demand of zero weight or out of every candidate's reach (no choice changes what it adds), merge
    demand rows that the same candidates cover (their weights add up), and keep only the candidates that cover
    some remaining demand."""
    cover = sparse.csr_matrix(cover, dtype=bool)
    cover.eliminate_zeros()
    cover.sort_indices()
    weights = np.asarray(weights, dtype=float)
    merged: dict[bytes, float] = {}
    patterns: dict[bytes, np.ndarray] = {}
    for i in np.flatnonzero((weights > 0) & (np.diff(cover.indptr) > 0)):
        sites = cover.indices[cover.indptr[i] : cover.indptr[i + 1]]
        key = sites.tobytes()
        merged[key] = merged.get(key, 0.0) + weights[i]
        patterns.setdefault(key, sites)
    rows = list(patterns.values())
    flat = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
    cols = np.unique(flat)
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    reduced = sparse.csr_matrix(
        (np.ones(len(flat), dtype=bool), np.searchsorted(cols, flat), indptr), shape=(len(rows), len(cols))
    )
    return _Reduced(reduced, np.fromiter(merged.values(), dtype=float, count=len(merged)), cols)


#: spopt builds every coverage constraint over every candidate in Python, so its model grows with demand x
#: candidates (about 4 s per million cells); above this size the same model is built sparsely with PuLP.
SPOPT_MAX_CELLS = 1_000_000


@contextmanager
def _pulp_3() -> Iterator[None]:
    """Silence PuLP 3.3's notices about its 4.0 API: spopt 0.7 builds its models with the 3.x API, and the CBC
    that PuLP 3 bundles is only reached through ``PULP_CBC_CMD`` (the project pins ``pulp<4``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulp(\.|$)")
        yield


def _solve(problem: pulp.LpProblem) -> bool:
    """Solve with PuLP's bundled CBC; True when the solution is proven optimal (not cut short by the time limit)."""
    with _pulp_3():
        problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=SOLVER_TIME_LIMIT_S))
    if problem.status != pulp.LpStatusOptimal:
        raise ValueError(f"the siting model could not be solved: {pulp.LpStatus[problem.status]}")
    return problem.sol_status == pulp.LpSolutionOptimal


def _as_cost(cover: sparse.csr_matrix) -> np.ndarray:
    """spopt takes costs and a radius: 0 where a site covers, 1 elsewhere, with radius 0.5."""
    return np.where(cover.toarray(), 0.0, 1.0)


def _chosen(variables: Sequence[pulp.LpVariable]) -> list[int]:
    return [j for j, var in enumerate(variables) if (var.value() or 0) > 0.5]


def _row_sites(cover: sparse.csr_matrix, i: int) -> np.ndarray:
    return cover.indices[cover.indptr[i] : cover.indptr[i + 1]]


def maximal_cover(cover, weights, p: int, groups: Sequence[Sequence[int]] = ()) -> Solution:
    """Choose ``p`` candidates that cover the most weight: the maximal covering location problem (MCLP).

    Without ``groups`` the model is ``spopt.locate.MCLP``; with them, or above :data:`SPOPT_MAX_CELLS`, the same
    model (maximise the covered weight, a demand point counts when a chosen site covers it, exactly ``p`` sites)
    is built directly in PuLP, sparsely, plus "at least one chosen site in each group" (the candidates inside a
    township that lacks a facility), which spopt's MCLP cannot express.

    Parameters
    ----------
    cover
        Boolean matrix (dense or scipy sparse), demand x candidate sites: True where the site covers the demand.
    weights
        Weight of each demand point (grade-4 pupils).
    p
        Number of sites to choose.
    groups
        Column indexes of which at least one must be chosen, per group.

    Returns
    -------
    Solution
        ``sites`` sorted; fewer than ``p`` when, without groups, fewer candidates add any weight at all.

    Raises
    ------
    ValueError
        If there are more groups than ``p``, or a group is empty: no choice satisfies them.
    """
    if len(groups) > p:
        raise ValueError(f"{len(groups)} townships each need a site but only p = {p} sites are to be chosen")
    if any(len(g) == 0 for g in groups):
        raise ValueError("a township that needs a site has no candidate site inside it")
    red = _reduce(cover, weights)
    if not groups and len(red.cols) <= p:
        return Solution(red.cols.tolist(), "no model needed, as at most p candidates add any pupils", True)
    if not groups and red.cells <= SPOPT_MAX_CELLS:
        # Imported here: spopt pulls in scikit-learn and libpysal (2 s), which a what-if never needs.
        from spopt.locate import MCLP

        with _pulp_3():
            model = MCLP.from_cost_matrix(_as_cost(red.cover), red.weights, service_radius=0.5, p_facilities=p)
        optimal = _solve(model.problem)
        return Solution(sorted(red.cols[_chosen(model.fac_vars)].tolist()), "spopt.locate.MCLP with CBC", optimal)

    required = [np.asarray(g, dtype=np.int64) for g in groups]
    cols = np.unique(np.concatenate([red.cols, *required]))
    position = np.searchsorted(cols, red.cols)
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [problem.add_variable(f"x_{j}", cat=pulp.LpBinary) for j in range(len(cols))]
    # y may stay continuous: with x binary, maximising drives each y to 1 exactly when a chosen site covers it.
    y = [problem.add_variable(f"y_{i}", lowBound=0, upBound=1) for i in range(red.cover.shape[0])]
    problem += pulp.lpSum(float(w) * y_i for w, y_i in zip(red.weights, y, strict=True))
    for i, y_i in enumerate(y):
        problem += y_i <= pulp.lpSum(x[j] for j in position[_row_sites(red.cover, i)])
    problem += pulp.lpSum(x) == min(p, len(cols))
    for g in required:
        problem += pulp.lpSum(x[j] for j in np.searchsorted(cols, g)) >= 1
    optimal = _solve(problem)
    method = "the model plus the township constraint" if groups else "the model, too large for spopt, built sparsely"
    return Solution(sorted(cols[_chosen(x)].tolist()), f"{method} in PuLP with CBC", optimal)


def minimal_cover(cover) -> Solution:
    """The fewest candidates that cover every coverable demand point: the location set covering problem (LSCP).

    ``spopt.locate.LSCP`` up to :data:`SPOPT_MAX_CELLS`, the same model built sparsely in PuLP above.  Demand no
    candidate covers is left out (no choice covers it); the caller reports it.
    """
    cover = sparse.csr_matrix(cover, dtype=bool)
    red = _reduce(cover, np.ones(cover.shape[0]))
    if not len(red.cols):
        return Solution([], "nothing to cover", True)
    if red.cells <= SPOPT_MAX_CELLS:
        from spopt.locate import LSCP

        with _pulp_3():
            model = LSCP.from_cost_matrix(_as_cost(red.cover), service_radius=0.5)
        optimal = _solve(model.problem)
        return Solution(sorted(red.cols[_chosen(model.fac_vars)].tolist()), "spopt.locate.LSCP with CBC", optimal)
    problem = pulp.LpProblem("lscp", pulp.LpMinimize)
    x = [problem.add_variable(f"x_{j}", cat=pulp.LpBinary) for j in range(len(red.cols))]
    problem += pulp.lpSum(x)
    for i in range(red.cover.shape[0]):
        problem += pulp.lpSum(x[j] for j in _row_sites(red.cover, i)) >= 1
    optimal = _solve(problem)
    method = "the model, too large for spopt, built sparsely in PuLP with CBC"
    return Solution(sorted(red.cols[_chosen(x)].tolist()), method, optimal)


# --------------------------------------------------------------------------------------------------
# Candidate sites


def candidate_sites(
    layers: Mapping[str, gpd.GeoDataFrame],
    source: str | gpd.GeoDataFrame = "schools",
    *,
    grid_spacing_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Candidate sites for new pools: ``site_id``, ``township`` and a point, in EPSG:4490.

    Parameters
    ----------
    layers
        The data set; ``townships`` gives each site its township.
    source
        ``'schools'`` (every school without a pool, where a 拼装式 pool could go, 二(二)1), ``'township-seats'``
        (a representative point of each township polygon), ``'grid'`` (a regular grid inside the district) or a
        GeoDataFrame of points (its ``site_id`` or ``name`` column names them; other geometries use their
        representative point).
    grid_spacing_m
        Spacing of the grid, in metres.
    """
    townships = layers["townships"].to_crs(model_crs.STORAGE_CRS)
    if isinstance(source, gpd.GeoDataFrame):
        sites = _given_sites(source)
    elif source == "schools":
        needy = pools.schools_without_pool(layers["schools"])
        sites = gpd.GeoDataFrame(
            {"site_id": "school:" + needy["school_id"].astype(str)}, geometry=needy.geometry.values, crs=needy.crs
        )
    elif source == "township-seats":
        sites = gpd.GeoDataFrame(
            {"site_id": "seat:" + townships["name"].astype(str)},
            geometry=townships.geometry.representative_point().values,
            crs=townships.crs,
        )
    elif source == "grid":
        sites = _grid(layers, grid_spacing_m)
    else:
        raise ValueError(f"candidates must be one of {'|'.join(CANDIDATE_KINDS)} or a layer of points, not {source!r}")
    sites = sites.to_crs(model_crs.STORAGE_CRS).reset_index(drop=True)
    sites["township"] = pools.township_of_points(sites.geometry, townships).to_numpy()
    return sites[["site_id", "township", "geometry"]]


def _given_sites(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError("the candidate sites have no CRS; expected EPSG:4490 (CGCS2000)")
    if "site_id" in frame.columns:
        ids = frame["site_id"].astype(str)
    elif "name" in frame.columns:
        ids = frame["name"].astype(str)
    else:
        ids = pd.Series([f"site:{i + 1}" for i in range(len(frame))])
    points = frame.geometry.where(frame.geom_type == "Point", frame.geometry.representative_point())
    return gpd.GeoDataFrame({"site_id": ids.to_numpy()}, geometry=points.values, crs=frame.crs)


def _grid(layers: Mapping[str, gpd.GeoDataFrame], spacing: float) -> gpd.GeoDataFrame:
    """Grid points ``spacing`` apart inside the district (the union of the townships without a district)."""
    if spacing <= 0:
        raise ValueError(f"grid spacing must be positive, not {spacing}")
    area = layers["district"] if "district" in layers and not layers["district"].empty else layers["townships"]
    crs = model_crs.data_metric_crs(layers)
    outline = shapely.union_all(area.to_crs(crs).geometry.values)
    x0, y0, x1, y1 = outline.bounds
    # Start half a step in so the grid sits symmetric in the bounding box rather than on its edge.
    xs = np.arange(x0 + spacing / 2.0, x1, spacing)
    ys = np.arange(y0 + spacing / 2.0, y1, spacing)
    gx, gy = np.meshgrid(xs, ys)
    points = shapely.points(gx.ravel(), gy.ravel())
    inside = points[shapely.contains(outline, points)] if len(points) else points
    ids = [f"grid:{i + 1}" for i in range(len(inside))]
    return gpd.GeoDataFrame({"site_id": ids}, geometry=inside, crs=crs)


# --------------------------------------------------------------------------------------------------
# Siting


@dataclass
class _Demand:
    """Schools without a pool and grade-4 pupils, split by whether an open pool already covers them."""

    measure: pools.DistanceMeasure
    coverage: pools.PoolCoverage
    uncovered: gpd.GeoDataFrame
    before: int
    total: int


def _demand(layers: Mapping[str, gpd.GeoDataFrame], settings: AnalysisSettings, metric: str) -> _Demand:
    pools.require_layers(layers, "schools", "pools", "townships")
    measure = pools.DistanceMeasure(layers.get("roads"), metric, model_crs.data_metric_crs(layers), settings)
    coverage = pools.coverage_with(layers, settings, measure)
    table = coverage.schools
    uncovered = table[~table["covered"] & (table["grade4_students"] > 0)].reset_index(drop=True)
    return _Demand(
        measure=measure,
        coverage=coverage,
        uncovered=uncovered,
        before=int(table.loc[table["covered"], "grade4_students"].sum()),
        total=int(table["grade4_students"].sum()),
    )


def _base_assumptions(demand: _Demand, radius: float) -> list[str]:
    return [
        f"Demand: the grade-4 pupils of schools without a pool ({demand.total}); {demand.before} of them already "
        f"have an open pool within {radius:g} m, which stays and is not counted again.",
        demand.coverage.assumptions[0],
        "A site covers a school when the school lies within the service radius of it; new pupils covered by "
        "several chosen sites count once, for the nearest of them.",
        *demand.measure.notes,
    ]


@dataclass
class SitingResult:
    """Result of :func:`site_pools`; ``to_dict`` gives the JSON contract of ``python -m geo site-pools``."""

    p: int
    radius_m: float
    metric: str
    candidates: str
    n_candidates: int
    chosen: gpd.GeoDataFrame
    covered_grade4_before: int
    covered_grade4_after: int
    total_grade4_without_pool: int
    lscp_min_pools: int
    lscp_sites: list[str]
    uncoverable_schools: list[str]
    required_townships: list[str]
    assumptions: list[str] = field(default_factory=list)

    @property
    def covered_grade4_gain(self) -> int:
        """Grade-4 pupils the chosen sites bring within reach: covered after, less covered before."""
        return self.covered_grade4_after - self.covered_grade4_before

    def to_dict(self) -> dict:
        return {
            "settings": {
                "p": self.p,
                "service_radius_m": self.radius_m,
                "metric": self.metric,
                "candidates": self.candidates,
                "n_candidates": self.n_candidates,
            },
            "chosen": [
                {
                    "site_id": r.site_id,
                    "x": round(r.geometry.x, 6),
                    "y": round(r.geometry.y, 6),
                    "township": r.township,
                    "covered_grade4": int(r.covered_grade4),
                    "schools": list(r.schools),
                }
                for r in self.chosen.itertuples()
            ],
            "covered_grade4_before": self.covered_grade4_before,
            "covered_grade4_after": self.covered_grade4_after,
            "total_grade4_without_pool": self.total_grade4_without_pool,
            "lscp_min_pools": self.lscp_min_pools,
            "lscp_sites": self.lscp_sites,
            "uncoverable_schools": self.uncoverable_schools,
            "required_townships": self.required_townships,
            "assumptions": list(self.assumptions),
        }

    def to_text(self) -> str:
        """Readable summary for the terminal."""
        chosen = self.chosen.assign(x=self.chosen.geometry.x.round(6), y=self.chosen.geometry.y.round(6))
        lines = [
            f"泳池选址 Pool siting: p = {self.p}, {self.n_candidates} candidate sites ({self.candidates}), "
            f"metric {self.metric}, service radius {self.radius_m:g} m",
            f"四年级学生 Grade-4 pupils of schools without a pool: {self.total_grade4_without_pool}; within reach "
            f"of an open pool now {self.covered_grade4_before}, with the chosen sites {self.covered_grade4_after}",
            chosen[["site_id", "township", "x", "y", "covered_grade4", "schools"]].to_string(index=False)
            if len(chosen)
            else "(no site adds any pupils)",
            f"LSCP: {self.lscp_min_pools} new site(s) would cover every school a candidate can reach"
            + (f" ({', '.join(self.lscp_sites)})" if self.lscp_sites else ""),
            "说明 Assumptions\n" + "\n".join(f"- {a}" for a in self.assumptions),
        ]
        return "\n\n".join(lines)


def site_pools(
    layers: Mapping[str, gpd.GeoDataFrame],
    settings: AnalysisSettings | None = None,
    *,
    p: int = 2,
    candidates: str | gpd.GeoDataFrame = "schools",
    grid_spacing_m: float = 1000.0,
    metric: str = "network",
    require_each_township: bool = False,
) -> SitingResult:
    """Choose ``p`` new pool sites that bring the most grade-4 pupils within the service radius.

    Parameters
    ----------
    layers
        Needs ``schools``, ``pools``, ``townships`` (and ``roads`` for the network metric; ``district`` for
        the grid, else the townships' union).
    settings
        ``service_radius_m`` and the snapping limits.
    p
        Number of new sites.
    candidates
        See :func:`candidate_sites`.
    grid_spacing_m
        Spacing of the ``'grid'`` candidates.
    metric
        ``'network'`` or ``'straight'``, as in :func:`geo.analysis.pools.pool_coverage`.
    require_each_township
        Put at least one new site in every township with no open pool of its own (二(二)1), where it has a
        candidate.

    Returns
    -------
    SitingResult

    Raises
    ------
    ValueError
        If ``p`` is below 1, or more townships need a site than ``p`` allows.
    """
    if p < 1:
        raise ValueError(f"p must be at least 1, not {p}")
    settings = settings or AnalysisSettings()
    radius = float(settings.service_radius_m)
    demand = _demand(layers, settings, metric)
    sites = candidate_sites(layers, candidates, grid_spacing_m=grid_spacing_m)
    rows, cols = demand.measure.within(demand.uncovered.geometry, sites.geometry, radius)
    cover = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(demand.uncovered), len(sites)))
    weights = demand.uncovered["grade4_students"].to_numpy()
    assumptions = _base_assumptions(demand, radius)

    required: list[str] = []
    groups: list[np.ndarray] = []
    if require_each_township:
        town = demand.coverage.townships
        lacking = town.loc[town["open_facilities"] < rules.MIN_FACILITIES_PER_TOWNSHIP, "township"].tolist()
        required = [t for t in lacking if (sites["township"] == t).any()]
        groups = [np.flatnonzero(sites["township"].to_numpy() == t) for t in required]
        assumptions.append(
            f"{rules.cite('swim.2.2.1')}: at least one new site in each township without an open pool of its own, "
            f"even where it shares a neighbour's: {', '.join(required) or 'none'}."
        )
        if len(required) < len(lacking):
            missing = ", ".join(t for t in lacking if t not in required)
            assumptions.append(f"Townships without an open pool but with no candidate site inside: {missing}.")
    mclp = maximal_cover(cover, weights, p, groups)
    chosen = mclp.sites
    assumptions.append(f"Sites chosen as a maximal covering location problem (MCLP): {mclp.method}.")
    if len(chosen) < p:
        assumptions.append(f"Only {len(chosen)} candidate site(s) add any pupils: fewer than p = {p} are proposed.")

    table = _assign(sites.iloc[chosen].reset_index(drop=True), demand, radius)
    if (table["covered_grade4"] == 0).any():
        assumptions.append("A chosen site with 0 pupils adds none beyond the other chosen sites.")
    lscp = minimal_cover(cover)
    uncoverable = demand.uncovered.loc[np.diff(cover.indptr) == 0, "school_id"].tolist()
    assumptions.append(
        f"Location set covering (LSCP, {lscp.method}): {len(lscp.sites)} new site(s) among the candidates would "
        "cover every school with grade-4 pupils that a candidate can reach; "
        f"{len(uncoverable)} school(s) lie beyond the radius of every candidate."
    )
    assumptions += [
        f"CBC stopped at its {SOLVER_TIME_LIMIT_S} s limit: {name} is the best found, not proven optimal."
        for name, solution in (("the choice of sites", mclp), ("the LSCP count", lscp))
        if not solution.optimal
    ]
    gained = int(table["covered_grade4"].sum())
    return SitingResult(
        p=p,
        radius_m=radius,
        metric=demand.measure.metric,
        candidates=candidates if isinstance(candidates, str) else "layer",
        n_candidates=len(sites),
        chosen=table,
        covered_grade4_before=demand.before,
        covered_grade4_after=demand.before + gained,
        total_grade4_without_pool=demand.total,
        lscp_min_pools=len(lscp.sites),
        lscp_sites=sites["site_id"].to_numpy()[lscp.sites].tolist(),
        uncoverable_schools=uncoverable,
        required_townships=required,
        assumptions=assumptions,
    )


def _assign(chosen: gpd.GeoDataFrame, demand: _Demand, radius: float) -> gpd.GeoDataFrame:
    """Give every newly covered school to its nearest chosen site; per site its schools and grade-4 pupils."""
    chosen = chosen.copy()
    metres = demand.measure.between(demand.uncovered.geometry, chosen.geometry, limit=radius).metres
    reach = metres <= radius
    gained = reach.any(axis=1)
    nearest = np.where(reach, metres, np.inf).argmin(axis=1) if len(chosen) else np.zeros(len(metres), dtype=int)
    ids = demand.uncovered["school_id"].to_numpy()
    pupils = demand.uncovered["grade4_students"].to_numpy()
    chosen["schools"] = [ids[gained & (nearest == j)].tolist() for j in range(len(chosen))]
    chosen["covered_grade4"] = [int(pupils[gained & (nearest == j)].sum()) for j in range(len(chosen))]
    return chosen


@dataclass
class WhatIf:
    """Grade-4 pupils one proposed site would bring within reach, given the open pools (:func:`what_if`)."""

    x: float
    y: float
    township: str | None
    covered_grade4_gain: int
    schools: list[str]
    covered_grade4_before: int
    total_grade4_without_pool: int
    metric: str
    radius_m: float
    assumptions: list[str] = field(default_factory=list)

    @property
    def covered_grade4_after(self) -> int:
        """Grade-4 pupils within reach once the pool is built: those covered now and those it adds."""
        return self.covered_grade4_before + self.covered_grade4_gain

    def to_dict(self) -> dict:
        return {
            "what_if": {
                "x": self.x,
                "y": self.y,
                "township": self.township,
                "covered_grade4_gain": self.covered_grade4_gain,
                "schools": self.schools,
            },
            "settings": {"service_radius_m": self.radius_m, "metric": self.metric},
            "covered_grade4_before": self.covered_grade4_before,
            "covered_grade4_after": self.covered_grade4_after,
            "total_grade4_without_pool": self.total_grade4_without_pool,
            "assumptions": list(self.assumptions),
        }

    def to_text(self) -> str:
        """Readable summary for the terminal."""
        where = f"({self.x:.6f}, {self.y:.6f})" + (f" in {self.township}" if self.township else "")
        return "\n\n".join(
            [
                f"假设新建泳池 What if a pool opened at {where}: metric {self.metric}, radius {self.radius_m:g} m",
                f"+{self.covered_grade4_gain} grade-4 pupils within reach "
                f"({self.covered_grade4_before} -> {self.covered_grade4_after} of "
                f"{self.total_grade4_without_pool}); schools: {', '.join(self.schools) or 'none'}",
                "说明 Assumptions\n" + "\n".join(f"- {a}" for a in self.assumptions),
            ]
        )


def what_if(
    layers: Mapping[str, gpd.GeoDataFrame],
    site: tuple[float, float],
    settings: AnalysisSettings | None = None,
    *,
    metric: str = "network",
) -> WhatIf:
    """Grade-4 pupils a new pool at ``site`` (lon, lat in EPSG:4490) would bring within the service radius.

    Only pupils of schools without a pool and beyond the radius of every open pool count.
    """
    settings = settings or AnalysisSettings()
    radius = float(settings.service_radius_m)
    lon, lat = map(float, site)
    x0, y0, x1, y1 = model_crs.CHINA_BOUNDS
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        raise ValueError(f"site ({lon}, {lat}) is not a longitude, latitude in China (EPSG:4490)")
    demand = _demand(layers, settings, metric)
    point = gpd.GeoSeries(shapely.points([lon], [lat]), crs=model_crs.STORAGE_CRS)
    reach = demand.measure.between(demand.uncovered.geometry, point, limit=radius).metres[:, 0] <= radius
    township = pools.township_of_points(point, layers["townships"].to_crs(model_crs.STORAGE_CRS)).iloc[0]
    return WhatIf(
        x=lon,
        y=lat,
        township=township,
        covered_grade4_gain=int(demand.uncovered.loc[reach, "grade4_students"].sum()),
        schools=demand.uncovered.loc[reach, "school_id"].tolist(),
        covered_grade4_before=demand.before,
        total_grade4_without_pool=demand.total,
        metric=demand.measure.metric,
        radius_m=radius,
        assumptions=_base_assumptions(demand, radius),
    )
