-- The road network for pgRouting, built by pgRouting itself from the roads layer.
-- Parameters: tolerance (metres: road ends closer than this become one vertex).
-- Works in the metric projection (geom_m) that PostGIS made of the roads; edge costs are the roads' own lengths.

DROP TABLE IF EXISTS net_edge, net_edge_vertices_pgr;
CREATE TABLE net_edge AS
SELECT (row_number() OVER (ORDER BY r.fid, d.path))::bigint AS id, r.road_id, d.geom, NULL::bigint AS source,
       NULL::bigint AS target
FROM roads r
CROSS JOIN LATERAL ST_Dump(r.geom_m) d
WHERE ST_Length(d.geom) > 0;
ALTER TABLE net_edge ADD PRIMARY KEY (id);
CREATE INDEX ON net_edge USING gist (geom);

SELECT pgr_createTopology('net_edge', %(tolerance)s, 'geom', 'id', clean := true);

-- Vertices where pgRouting may have joined roads differently from hazmap, which joins every chain of road ends within
-- the tolerance at their mean, splits a road where another ends within the tolerance of it, and re-measures the
-- moved roads: here pgRouting joined ends that do not coincide (keeping the roads' drawn lengths), or left the
-- vertex apart from a road within the tolerance.
DROP TABLE IF EXISTS near_miss;
CREATE TABLE near_miss AS
WITH road_end AS (
    SELECT source AS vertex, ST_StartPoint(geom) AS geom FROM net_edge
    UNION ALL
    SELECT target, ST_EndPoint(geom) FROM net_edge
)
SELECT DISTINCT e.vertex
FROM road_end e
JOIN net_edge_vertices_pgr v ON v.id = e.vertex
WHERE NOT ST_Equals(e.geom, v.the_geom)
   OR EXISTS (
       SELECT 1 FROM net_edge n
       WHERE n.source <> v.id AND n.target <> v.id AND ST_DWithin(n.geom, v.the_geom, %(tolerance)s)
   );
