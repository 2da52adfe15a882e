-- Pool coverage (SCHEMA.md "Pool coverage"): for each school without a pool, its k nearest open pools by route
-- length, among the candidates nearest in a straight line (KNN); a pair the roads do not join falls back to the
-- straight line, as in geo.analysis.pools.
-- Parameters: candidates (pools tried per school), k.

DROP TABLE IF EXISTS pool_pair;
CREATE TABLE pool_pair AS
SELECT s.fid AS school, p.fid AS pool, ST_Distance(s.geom_m, p.geom_m) AS straight,
       sn.node AS school_node, sn.leg AS school_leg, pn.node AS pool_node, pn.leg AS pool_leg
FROM schools s
CROSS JOIN LATERAL (
    SELECT fid, geom_m FROM pools WHERE status = 'open' ORDER BY geom_m <-> s.geom_m LIMIT %(candidates)s
) p
LEFT JOIN snap_node sn ON sn.kind = 'school' AND sn.fid = s.fid
LEFT JOIN snap_node pn ON pn.kind = 'pool' AND pn.fid = p.fid
WHERE NOT coalesce(s.has_pool, false);

DROP TABLE IF EXISTS pool_cost;
CREATE TABLE pool_cost AS
SELECT start_vid, end_vid, agg_cost
FROM pgr_dijkstraCost(
    'SELECT id, source, target, cost FROM net_piece',
    'SELECT DISTINCT school_node AS source, pool_node AS target FROM pool_pair WHERE school_node <> pool_node',
    directed := false
);

WITH distance AS (
    SELECT p.school, p.pool,
           CASE WHEN p.school_node = p.pool_node THEN p.school_leg + p.pool_leg
                WHEN c.agg_cost IS NOT NULL THEN p.school_leg + c.agg_cost + p.pool_leg
                ELSE p.straight END AS distance_m,
           coalesce(p.school_node = p.pool_node OR c.agg_cost IS NOT NULL, false) AS by_network
    FROM pool_pair p
    LEFT JOIN pool_cost c ON c.start_vid = p.school_node AND c.end_vid = p.pool_node
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY school ORDER BY distance_m, pool) AS rank FROM distance
)
SELECT s.school_id, r.rank, p.pool_id, r.distance_m, CASE WHEN r.by_network THEN 'network' ELSE 'straight' END AS metric
FROM ranked r
JOIN schools s ON s.fid = r.school
JOIN pools p ON p.fid = r.pool
WHERE r.rank <= %(k)s
ORDER BY s.fid, r.rank;
