-- Join the analysed points to the network: each point meets its nearest road at the nearest point on it, and
-- that road is split there (as geo.analysis.network.snap_points does), so a route starts where the point meets the road.
-- Parameters: max_snap (metres; farther points stay off the network), same_point (metres: two positions along a
-- road closer than this are one vertex, and a position this close to a road's end is that end).

-- The points: villages in an active danger zone, active hazard points and every shelter (evacuation routes),
-- schools without a pool and open pools (pool coverage).
DROP TABLE IF EXISTS snap_input;
CREATE TABLE snap_input AS
SELECT 'village' AS kind, v.fid, v.geom_m AS geom
FROM villages v
WHERE EXISTS (
    SELECT 1 FROM danger_zones z JOIN hazard_points h ON h.hazard_id = z.hazard_id
    WHERE h.status = 'active' AND ST_Intersects(z.geom_m, v.geom_m)
)
UNION ALL
SELECT 'hazard_point', fid, geom_m FROM hazard_points WHERE status = 'active'
UNION ALL
SELECT 'shelter', fid, geom_m FROM shelters
UNION ALL
SELECT 'school', fid, geom_m FROM schools WHERE NOT coalesce(has_pool, false)
UNION ALL
SELECT 'pool', fid, geom_m FROM pools WHERE status = 'open';

DROP TABLE IF EXISTS snap;
CREATE TABLE snap AS
SELECT p.kind, p.fid, e.id AS edge, e.source, e.target, ST_Length(e.geom) AS len,
       ST_LineLocatePoint(e.geom, p.geom) * ST_Length(e.geom) AS along, ST_Distance(e.geom, p.geom) AS leg
FROM snap_input p
CROSS JOIN LATERAL (
    SELECT id, source, target, geom FROM net_edge
    WHERE ST_DWithin(geom, p.geom, %(max_snap)s)
    ORDER BY geom <-> p.geom
    LIMIT 1
) e;

-- Cuts inside roads: positions within same_point of the previous one on the road share its vertex.
DROP TABLE IF EXISTS cut;
CREATE TABLE cut AS
WITH inside AS (
    SELECT kind, fid, edge, along,
           CASE WHEN along - lag(along) OVER w <= %(same_point)s THEN 0 ELSE 1 END AS starts_cut
    FROM snap
    WHERE along > %(same_point)s AND along < len - %(same_point)s
    WINDOW w AS (PARTITION BY edge ORDER BY along, kind, fid)
), numbered AS (
    SELECT *, sum(starts_cut) OVER (PARTITION BY edge ORDER BY along, kind, fid ROWS UNBOUNDED PRECEDING) AS cut_no
    FROM inside
)
SELECT kind, fid, edge, cut_no,
       min(along) OVER (PARTITION BY edge, cut_no) AS along,
       (SELECT max(id) FROM net_edge_vertices_pgr) + dense_rank() OVER (ORDER BY edge, cut_no) AS node
FROM numbered;

-- Where each point joins the network: its vertex and the straight leg to it.
DROP TABLE IF EXISTS snap_node;
CREATE TABLE snap_node AS
SELECT s.kind, s.fid, s.leg,
       CASE WHEN s.along <= %(same_point)s THEN s.source
            WHEN s.along >= s.len - %(same_point)s THEN s.target
            ELSE c.node END AS node
FROM snap s
LEFT JOIN cut c USING (kind, fid);
CREATE INDEX ON snap_node (kind, fid);

-- The routable pieces: roads without a cut as they are, roads with cuts in pieces from vertex to vertex.
DROP TABLE IF EXISTS net_piece;
CREATE TABLE net_piece AS
WITH stop AS (
    SELECT DISTINCT c.edge, c.along, c.node FROM cut c
    UNION ALL
    SELECT e.id, 0, e.source FROM net_edge e WHERE e.id IN (SELECT edge FROM cut)
    UNION ALL
    SELECT e.id, ST_Length(e.geom), e.target FROM net_edge e WHERE e.id IN (SELECT edge FROM cut)
), span AS (
    SELECT edge, along AS a, node AS source,
           lead(along) OVER (PARTITION BY edge ORDER BY along) AS b,
           lead(node) OVER (PARTITION BY edge ORDER BY along) AS target
    FROM stop
), piece AS (
    SELECT e.id AS edge, e.source, e.target, e.geom FROM net_edge e WHERE e.id NOT IN (SELECT edge FROM cut)
    UNION ALL
    SELECT s.edge, s.source, s.target, ST_LineSubstring(e.geom, s.a / ST_Length(e.geom), s.b / ST_Length(e.geom))
    FROM span s
    JOIN net_edge e ON e.id = s.edge
    WHERE s.b IS NOT NULL
)
SELECT (row_number() OVER (ORDER BY edge, source))::bigint AS id, edge, source, target, geom, ST_Length(geom) AS cost
FROM piece;
ALTER TABLE net_piece ADD PRIMARY KEY (id);

-- Which active hazard points' danger zones each piece crosses or touches.
DROP TABLE IF EXISTS piece_zone;
CREATE TABLE piece_zone AS
SELECT DISTINCT p.id AS piece, h.fid AS hazard
FROM net_piece p
JOIN danger_zones z ON ST_Intersects(p.geom, z.geom_m)
JOIN hazard_points h ON h.hazard_id = z.hazard_id
WHERE h.status = 'active';
CREATE INDEX ON piece_zone (piece);
ANALYZE snap_node;
ANALYZE net_piece;
ANALYZE piece_zone;
