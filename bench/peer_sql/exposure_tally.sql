-- The counts of each exposure group (exposure_groups.sql).  A village lies in the union of the group's danger
-- zones exactly when it lies in or on one of them, so the villages are found zone by zone (a spatial join on the
-- index) and counted once per group; schools likewise.  exposure_union.sql spells out the union instead.

WITH counted AS (
    SELECT g.kind, g.grp, count(*) AS hazard_points,
           sum(h.threatened_people) AS threatened_people, sum(h.threatened_households) AS threatened_households
    FROM exposure_group g
    JOIN hazard_points h ON h.fid = g.hazard
    GROUP BY g.kind, g.grp
), hazard_zone AS (
    SELECT DISTINCT g.hazard, z.geom
    FROM exposure_group g
    JOIN hazard_points h ON h.fid = g.hazard
    JOIN danger_zones z ON z.hazard_id = h.hazard_id
), hazard_village AS (
    SELECT DISTINCT z.hazard, v.fid FROM hazard_zone z JOIN villages v ON ST_Intersects(z.geom, v.geom)
), hazard_school AS (
    SELECT DISTINCT z.hazard, s.fid FROM hazard_zone z JOIN schools s ON ST_Intersects(z.geom, s.geom)
), people AS (
    SELECT e.kind, e.grp, count(*) AS villages, sum(v.population) AS people, sum(v.households) AS households
    FROM (SELECT DISTINCT g.kind, g.grp, hv.fid FROM exposure_group g JOIN hazard_village hv USING (hazard)) e
    JOIN villages v ON v.fid = e.fid
    GROUP BY e.kind, e.grp
), pupils AS (
    SELECT e.kind, e.grp, count(*) AS schools, sum(s.students) AS students
    FROM (SELECT DISTINCT g.kind, g.grp, hs.fid FROM exposure_group g JOIN hazard_school hs USING (hazard)) e
    JOIN schools s ON s.fid = e.fid
    GROUP BY e.kind, e.grp
)
SELECT c.kind, c.grp, c.hazard_points, c.threatened_people, c.threatened_households,
       coalesce(p.villages, 0) AS villages_in_danger_zones,
       coalesce(p.people, 0) AS people_in_danger_zones,
       coalesce(p.households, 0) AS households_in_danger_zones,
       coalesce(s.schools, 0) AS schools_in_danger_zones,
       coalesce(s.students, 0) AS students_in_danger_zones
FROM counted c
LEFT JOIN people p USING (kind, grp)
LEFT JOIN pupils s USING (kind, grp)
ORDER BY c.kind, c.grp;
