-- Exposure by warning area, level, township and district in PostGIS (SCHEMA.md "Definitions the analyses use"):
-- which active hazard points each group counts.  exposure_tally.sql (or exposure_union.sql) counts them.
-- Parameters: levels (the level codes from lowest to highest), unknown (township name for a point with none).
-- Predicates run on the stored CGCS2000 longitude/latitude (geom), as in geo.analysis.exposure.

-- A hazard point in or on a warning area counts in it; overlapping areas each count it.
DROP TABLE IF EXISTS pg_temp.area_member;
CREATE TEMP TABLE area_member AS
SELECT a.warning_id, a.level, h.fid AS hazard
FROM warning_areas a
JOIN hazard_points h ON ST_Intersects(a.geom, h.geom)
WHERE h.status = 'active';

-- Totals count each warned point once, at the highest level that covers it.
DROP TABLE IF EXISTS pg_temp.warned;
CREATE TEMP TABLE warned AS
SELECT DISTINCT ON (hazard) hazard, level
FROM area_member
ORDER BY hazard, array_position(%(levels)s::text[], level) DESC;

-- Which points each row of the result counts: kind 'area' | 'level' | 'township' | 'district', and the group.
DROP TABLE IF EXISTS pg_temp.exposure_group;
CREATE TEMP TABLE exposure_group AS
SELECT 'area' AS kind, warning_id AS grp, hazard FROM area_member
UNION ALL
SELECT 'level', level, hazard FROM warned
UNION ALL
SELECT 'district', 'total', hazard FROM warned
UNION ALL
-- A township total takes the township polygon holding the point (the lowest code on a border), else the
-- point's township attribute.
SELECT 'township', coalesce(t.name, nullif(h.township, ''), %(unknown)s), w.hazard
FROM warned w
JOIN hazard_points h ON h.fid = w.hazard
LEFT JOIN LATERAL (
    SELECT name FROM townships t WHERE ST_Intersects(t.geom, h.geom) ORDER BY t.township_code LIMIT 1
) t ON true;
