-- Evacuation routes (SCHEMA.md "Evacuation route") for pgRouting: one route per village in the danger zones of an
-- active hazard point (from the point itself where no village is), to its assigned shelter, else to the nearest
-- shelter outside every danger zone, never through another hazard point's danger zone.
-- Parameters: hazard_ids (text[] of the points to route; NULL routes every active point).
-- This script prepares the routes and their search groups; route_search.sql searches one group,
-- route_result.sql picks each route's shelter.

DROP TABLE IF EXISTS active_zone;
CREATE TABLE active_zone AS
SELECT h.fid AS hazard, z.geom_m AS geom
FROM danger_zones z
JOIN hazard_points h ON h.hazard_id = z.hazard_id
WHERE h.status = 'active';
CREATE INDEX ON active_zone USING gist (geom);

-- A shelter in or on an active danger zone is no refuge.
DROP TABLE IF EXISTS safe_shelter;
CREATE TABLE safe_shelter AS
SELECT s.fid, s.shelter_id, n.node, n.leg
FROM shelters s
JOIN snap_node n ON n.kind = 'shelter' AND n.fid = s.fid
WHERE NOT EXISTS (SELECT 1 FROM active_zone z WHERE ST_Intersects(z.geom, s.geom_m));

-- allowed: the hazard points whose zones the route may pass (its own, and every one holding its origin).
-- Routes with the same allowed set share one road graph, so one search (grp) serves them all.
DROP TABLE IF EXISTS route;
CREATE TABLE route AS
WITH chosen AS (
    SELECT fid, hazard_id, shelter_id
    FROM hazard_points
    WHERE status = 'active' AND (%(hazard_ids)s::text[] IS NULL OR hazard_id = ANY (%(hazard_ids)s::text[]))
), village_origin AS (
    SELECT DISTINCT c.fid AS hazard, v.fid
    FROM chosen c
    JOIN active_zone z ON z.hazard = c.fid
    JOIN villages v ON ST_Intersects(z.geom, v.geom_m)
), origin AS (
    SELECT o.hazard, 'village' AS kind, v.village_id AS origin_id, v.fid, v.geom_m AS geom
    FROM village_origin o
    JOIN villages v ON v.fid = o.fid
    UNION ALL
    SELECT c.fid, 'hazard_point', c.hazard_id, h.fid, h.geom_m
    FROM chosen c
    JOIN hazard_points h ON h.fid = c.fid
    WHERE NOT EXISTS (SELECT 1 FROM village_origin o WHERE o.hazard = c.fid)
), located AS (
    SELECT (row_number() OVER (ORDER BY o.hazard, o.kind, o.fid))::bigint AS route, c.hazard_id, o.kind, o.fid,
           o.origin_id, c.shelter_id AS assigned_shelter_id, n.node, n.leg,
           ARRAY(
               SELECT o.hazard UNION SELECT z.hazard FROM active_zone z WHERE ST_Intersects(z.geom, o.geom) ORDER BY 1
           ) AS allowed,
           (SELECT s.fid FROM safe_shelter s WHERE s.shelter_id = c.shelter_id ORDER BY s.fid LIMIT 1) AS assigned
    FROM origin o
    JOIN chosen c ON c.fid = o.hazard
    LEFT JOIN snap_node n ON n.kind = o.kind AND n.fid = o.fid
)
SELECT *, dense_rank() OVER (ORDER BY allowed) AS grp FROM located;

DROP TABLE IF EXISTS group_allowed;
CREATE TABLE group_allowed AS SELECT DISTINCT grp, unnest(allowed) AS hazard FROM route;
CREATE INDEX ON group_allowed (grp, hazard);

-- The group being searched; the constant edge query of route_search.sql reads it.
DROP TABLE IF EXISTS current_group;
CREATE TABLE current_group (grp bigint);
INSERT INTO current_group VALUES (NULL);

-- Every vertex of every path found, with the length so far; the row of a path's end vertex holds its length.
DROP TABLE IF EXISTS group_path;
CREATE TABLE group_path (grp bigint, start_node bigint, end_node bigint, node bigint, agg_cost double precision);

-- The searches to run: per group, the origins' vertices and the safe shelters' vertices.
SELECT r.grp, array_agg(DISTINCT r.node) AS starts, (SELECT array_agg(DISTINCT node) FROM safe_shelter) AS ends
FROM route r
WHERE r.node IS NOT NULL
GROUP BY r.grp
ORDER BY r.grp;
