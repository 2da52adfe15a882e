"""The analyses that run inside PostGIS, where the data already are and their spatial indexes answer.

Each is the in-database twin of a frame-based analysis and returns the same columns, so a test can hold one
against the other on the same data: exposure by warning area (:func:`exposure_counts`, the headline counts of
:func:`geo.analysis.exposure.analyse`) and the nearest open pools by straight-line distance
(:func:`nearest_pools_straight`, the ``nearest`` table of :func:`geo.analysis.pools.pool_coverage`), a KNN
search on an index of the pools' metric projection.  They take a :class:`geo.store.postgis.PostGISStore`, as
:func:`geo.store.open` returns for a database source.
"""

from __future__ import annotations

import pandas as pd
from psycopg import sql

from geo.analysis import exposure
from geo.model import crs as model_crs
from geo.model import rules
from geo.store.postgis import PostGISStore, read_layer, table

#: Counts of :func:`exposure_counts`: those of :data:`geo.analysis.exposure.COUNT_COLUMNS` but the breakdowns by grade
#: and type.
EXPOSURE_COUNTS = exposure.HEADLINE_COUNTS

_EXPOSURE_SQL = """
WITH member AS (
    SELECT a.fid AS area, h.hazard_id, h.threatened_people, h.threatened_households
    FROM {areas} a JOIN {points} h ON h.status = 'active' AND ST_Intersects(a.geom, h.geom)
), zone AS (
    SELECT m.area, z.geom FROM member m JOIN {zones} z USING (hazard_id)
), village AS (
    -- DISTINCT: a village in several zones of an area's points is one village (the union of the zones).
    SELECT DISTINCT zone.area, v.fid, v.population, v.households
    FROM zone JOIN {villages} v ON ST_Intersects(zone.geom, v.geom)
), school AS (
    SELECT DISTINCT zone.area, s.fid, s.students FROM zone JOIN {schools} s ON ST_Intersects(zone.geom, s.geom)
)
SELECT a.warning_id, a.level,
    coalesce(m.points, 0), coalesce(m.people, 0), coalesce(m.households, 0),
    coalesce(v.villages, 0), coalesce(v.people, 0), coalesce(v.households, 0),
    coalesce(s.schools, 0), coalesce(s.students, 0)
FROM {areas} a
LEFT JOIN (
    SELECT area, count(*) AS points, sum(threatened_people)::bigint AS people,
        sum(threatened_households)::bigint AS households
    FROM member GROUP BY area
) m ON m.area = a.fid
LEFT JOIN (
    SELECT area, count(*) AS villages, sum(population)::bigint AS people, sum(households)::bigint AS households
    FROM village GROUP BY area
) v ON v.area = a.fid
LEFT JOIN (SELECT area, count(*) AS schools, sum(students)::bigint AS students FROM school GROUP BY area) s
    ON s.area = a.fid
ORDER BY array_position(%(levels)s::text[], a.level) DESC, a.warning_id
"""


def exposure_counts(store: PostGISStore) -> pd.DataFrame:
    """Hazard points and what their danger zones threaten, per stored warning area, computed in PostGIS.

    The figures of :func:`geo.analysis.exposure.analyse` for the same areas (docs/data-model.md, "Definitions
    the analyses use"): an active hazard point counts in every area it lies in or on; the villages and schools
    counted are those in or on any danger zone of the area's points, each once.  Predicates run on the stored
    CGCS2000 coordinates.

    Returns
    -------
    pandas.DataFrame
        ``warning_id``, ``level`` and :data:`EXPOSURE_COUNTS` (int64), one row per area, highest level first.
    """
    tables = {name: table(name) for name in ("warning_areas", "danger_zones", "villages", "schools")}
    statement = sql.SQL(_EXPOSURE_SQL).format(
        areas=tables["warning_areas"],
        points=table("hazard_points"),
        zones=tables["danger_zones"],
        villages=tables["villages"],
        schools=tables["schools"],
    )
    levels = sorted(rules.WARNING_LEVELS, key=rules.level_rank)
    with store.connect(read_only=True) as conn:
        store.require(conn, ["hazard_points", *tables])
        rows = conn.execute(statement, {"levels": levels}).fetchall()
    counts = pd.DataFrame(rows, columns=["warning_id", "level", *EXPOSURE_COUNTS])
    return counts.astype(dict.fromkeys(EXPOSURE_COUNTS, "int64"))


_NEAREST_SQL = """
SELECT s.school_id, n.rank, n.pool_id, n.distance_m
FROM {schools} s
CROSS JOIN LATERAL (
    SELECT knn.pool_id, knn.distance_m, row_number() OVER (ORDER BY knn.distance_m, knn.fid) AS rank
    FROM (
        -- KNN: the index on the pools' projection hands out pools nearest first, so only k are measured.
        SELECT p.fid, p.pool_id,
            ST_Distance(ST_Transform(p.geom, %(srid)s), ST_Transform(s.geom, %(srid)s)) AS distance_m
        FROM {pools} p
        WHERE p.status = 'open'
        ORDER BY ST_Transform(p.geom, %(srid)s) <-> ST_Transform(s.geom, %(srid)s), p.fid
        LIMIT %(k)s
    ) knn
) n
WHERE NOT s.has_pool
ORDER BY s.fid, n.rank
"""


def nearest_pools_straight(store: PostGISStore, k: int = 3) -> pd.DataFrame:
    """The k nearest open pools of every school without a pool, by straight-line distance, computed in PostGIS.

    The ``nearest`` table of :func:`geo.analysis.pools.pool_coverage` with ``metric="straight"``: distances in metres in
    the Gauss-Krueger zone of the district's centre (docs/data-model.md "Coordinates"), ties broken by pool order.

    Returns
    -------
    pandas.DataFrame
        ``school_id``, ``rank`` (1 = nearest), ``pool_id``, ``distance_m``, ``metric`` (``straight``).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    statement = sql.SQL(_NEAREST_SQL).format(schools=table("schools"), pools=table("pools"))
    with store.connect(read_only=True) as conn:
        store.require(conn, ["district", "schools", "pools"])
        layers = {name: read_layer(conn, name) for name in ("district", "schools")}
        srid = int(model_crs.data_metric_crs(layers).removeprefix("EPSG:"))
        rows = conn.execute(statement, {"srid": srid, "k": k}).fetchall()
    nearest = pd.DataFrame(rows, columns=["school_id", "rank", "pool_id", "distance_m"])
    return nearest.astype({"rank": "int64", "distance_m": "float64"}).assign(metric="straight")
