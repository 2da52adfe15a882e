"""The peer engine: hazmap's analyses written the way a PostGIS + pgRouting shop would write them.

The agreement test (``tests/analysis/test_postgis_agreement.py``) checks hazmap's figures against these, and the
benchmark (``bench.pipeline``) times both on the same data.  The SQL lives in ``bench/peer_sql/*.sql``, one file
per step, readable and runnable on its own in psql; this module only feeds it parameters and, for the evacuation
routes, runs one pgRouting search per group of routes that share a road graph.

Every value reaches the SQL as a bound parameter; the only text composed here is which file to run.  The layers
must have been loaded with :func:`tests.support.pgcluster.load_layers` (tables named after the layers, ``geom`` in
EPSG:4490, ``geom_m`` in the metric CRS).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import pandas as pd
from psycopg import Connection

from geo.analysis import exposure
from geo.model import rules

SQL_DIR = Path(__file__).resolve().parent / "peer_sql"
#: Two positions along a road closer than this are one vertex (geo.analysis.network uses the same 1 cm).
SAME_POINT_M = 0.01


@cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of ``peer_sql/<name>.sql``: each ends with ``;`` at the end of a line."""
    text = (SQL_DIR / f"{name}.sql").read_text()
    parts = (part.strip() for part in text.split(";\n"))
    return tuple(p for p in parts if p and not all(line.startswith("--") for line in p.splitlines()))


def run(conn: Connection, name: str, params: Mapping[str, object] | None = None) -> pd.DataFrame | None:
    """Run every statement of ``peer_sql/<name>.sql``; return what the last one selects, if it selects.

    Parameters
    ----------
    conn
        A connection in autocommit mode (the scripts create and drop their own tables).
    name
        The file's name without ``.sql``.
    params
        Values for the ``%(name)s`` placeholders; each statement takes the ones it names.
    """
    frame = None
    with conn.cursor() as cur:
        for statement in statements(name):
            cur.execute(statement, params or {})
            frame = (
                pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])
                if cur.description is not None
                else None
            )
    return frame


def exposure_counts(conn: Connection, *, union: bool = False) -> pd.DataFrame:
    """Hazard points, threatened people and what the danger zones hold, per warning area, level, township and in all.

    Parameters
    ----------
    conn
        The connection.
    union
        Count the villages and schools in the ST_Union of each group's zones (``exposure_union.sql``, literally
        docs/data-model.md's definition) instead of zone by zone (``exposure_tally.sql``, the same numbers, faster).

    Returns
    -------
    pandas.DataFrame
        ``kind`` (``area`` | ``level`` | ``township`` | ``district``), ``grp`` (warning_id, level code, township
        name, ``total``) and the counts, named as in :data:`geo.analysis.exposure.COUNT_COLUMNS`; only groups with a
        point.
    """
    levels = sorted(rules.WARNING_LEVELS, key=rules.level_rank)
    run(conn, "exposure_groups", {"levels": levels, "unknown": exposure.UNKNOWN_TOWNSHIP})
    counts = run(conn, "exposure_union" if union else "exposure_tally")
    number_columns = counts.columns.drop(["kind", "grp"])
    counts[number_columns] = counts[number_columns].astype("int64")
    return counts


def prepare_network(conn: Connection, tolerance_m: float) -> int:
    """Build the pgRouting topology of the roads (``net_edge``); return the number of vertices."""
    run(conn, "network", {"tolerance": tolerance_m})
    return conn.execute("SELECT count(*) FROM net_edge_vertices_pgr").fetchone()[0]


def snap(conn: Connection, max_snap_m: float) -> int:
    """Join the analysed points to the roads and split the roads there (``net_piece``); return the pieces."""
    run(conn, "snap", {"max_snap": max_snap_m, "same_point": SAME_POINT_M})
    return conn.execute("SELECT count(*) FROM net_piece").fetchone()[0]


def route_groups(conn: Connection, hazard_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Prepare the routes of every active hazard point, or of those in ``hazard_ids``; needs :func:`snap`.

    Returns
    -------
    pandas.DataFrame
        The searches to run, one per set of danger zones that routes may pass: ``grp``, ``starts`` (origin
        vertices) and ``ends`` (the safe shelters' vertices).
    """
    return run(conn, "routes", {"hazard_ids": None if hazard_ids is None else list(hazard_ids)})


def evacuation_routes(conn: Connection, hazard_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Route every active hazard point (or those in ``hazard_ids``) with pgr_dijkstra; needs :func:`snap`.

    Returns
    -------
    pandas.DataFrame
        One row per route: ``hazard_id``, ``origin_kind``, ``origin_id``, ``assigned_shelter_id``, ``shelter_id``,
        ``length_m`` (NaN when unreachable), ``reachable``, ``on_network`` and ``near_miss_junctions`` (see
        ``route_result.sql``).  ``attrs`` holds ``searches`` (pgRouting calls) and the seconds spent preparing
        (``prepare_s``), searching (``search_s``) and choosing shelters (``result_s``).
    """
    started = time.perf_counter()
    groups = route_groups(conn, hazard_ids)
    prepared = time.perf_counter()
    for group in groups.itertuples(index=False):
        if group.ends:
            run(conn, "route_search", {"grp": group.grp, "starts": group.starts, "ends": group.ends})
    searched = time.perf_counter()
    routes = run(conn, "route_result")
    routes = routes.astype({"length_m": float, "reachable": bool, "on_network": bool, "near_miss_junctions": "int64"})
    routes.attrs = {
        "searches": len(groups),
        "prepare_s": prepared - started,
        "search_s": searched - prepared,
        "result_s": time.perf_counter() - searched,
    }
    return routes


def pool_coverage(conn: Connection, k: int, candidates: int) -> pd.DataFrame:
    """The k nearest open pools of every school without a pool; needs :func:`snap`.

    Parameters
    ----------
    conn
        The connection.
    k
        Pools kept per school.
    candidates
        Pools routed per school: the nearest in a straight line, found with the KNN operator ``<->``.

    Returns
    -------
    pandas.DataFrame
        ``school_id``, ``rank`` (1 = nearest), ``pool_id``, ``distance_m``, ``metric`` (``network`` | ``straight``).
    """
    nearest = run(conn, "pools", {"k": k, "candidates": max(k, candidates)})
    nearest["distance_m"] = nearest["distance_m"].astype(float)
    return nearest


# --------------------------------------------------------------------------------------------------
# Comparing with hazmap

#: The exposure counts compared between the engines.
EXPOSURE_COUNTS = exposure.HEADLINE_COUNTS
ROUTE_KEY = ["hazard_id", "origin_kind", "origin_id"]
#: Route lengths that should be the same number agree to this many metres.
SAME_LENGTH_M = 1e-3


def hazmap_exposure_counts(result: exposure.ExposureResult) -> pd.DataFrame:
    """hazmap's exposure in the long form of :func:`exposure_counts`: the groups with a hazard point, sorted."""
    district = result.district
    levels = pd.DataFrame.from_dict(district["by_level"], orient="index")
    parts = [
        result.areas.assign(kind="area", grp=result.areas["warning_id"]),
        levels.assign(kind="level", grp=levels.index),
        pd.DataFrame([district]).assign(kind="district", grp="total"),
        result.townships.assign(kind="township", grp=result.townships["township"]),
    ]
    counts = pd.concat([p[["kind", "grp", *EXPOSURE_COUNTS]] for p in parts], ignore_index=True)
    counts = counts[counts["hazard_points"] > 0].astype({c: "int64" for c in EXPOSURE_COUNTS})
    return counts.sort_values(["kind", "grp"]).reset_index(drop=True)


def sorted_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`exposure_counts` sorted and indexed as :func:`hazmap_exposure_counts`, to compare the two."""
    return counts[["kind", "grp", *EXPOSURE_COUNTS]].sort_values(["kind", "grp"]).reset_index(drop=True)


def route_agreement(ours: pd.DataFrame, theirs: pd.DataFrame, tolerance_m: float) -> pd.DataFrame:
    """hazmap's routes and pgRouting's side by side, with how far their lengths may differ.

    Parameters
    ----------
    ours
        ``EvacuationResult.routes``.
    theirs
        :func:`evacuation_routes`, whose columns get the suffix ``_pg``.
    tolerance_m
        The snap tolerance both engines built their networks with.

    Returns
    -------
    pandas.DataFrame
        Outer join on :data:`ROUTE_KEY` (``_merge`` tells routes in one engine only), with ``difference`` (metres,
        NaN unless both reached a shelter) and ``allowed``: 1 mm, plus 2 x tolerance at every near-miss vertex
        of the route, where the two engines join road ends differently by design (``network.sql``).
    """
    both = pd.DataFrame(ours).drop(columns="geometry", errors="ignore")
    both = both.merge(theirs, on=ROUTE_KEY, how="outer", suffixes=("", "_pg"), indicator=True)
    both["difference"] = (both["length_m"] - both["length_m_pg"]).abs()
    both["allowed"] = SAME_LENGTH_M + 2 * tolerance_m * both["near_miss_junctions"]
    return both


def route_disagreements(both: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The routes of :func:`route_agreement` on which the engines disagree, by what they disagree about."""
    return {
        "in one engine only": both[both["_merge"] != "both"],
        "reachable in one engine only": both[both["reachable"] != both["reachable_pg"]],
        "different shelters": both[both["shelter_id"].fillna("") != both["shelter_id_pg"].fillna("")],
        "lengths differ": both[both["difference"] > both["allowed"]],
    }
