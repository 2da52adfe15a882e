-- The counts of each exposure group (exposure_groups.sql), literally as SCHEMA.md defines them: the villages and
-- schools in or on the ST_Union of the group's danger zones, each once.  Slow on large groups (a province-wide
-- union is tested against every village); exposure_tally.sql gives the same numbers faster.

WITH counted AS (
    SELECT g.kind, g.grp, count(*) AS hazard_points,
           sum(h.threatened_people) AS threatened_people, sum(h.threatened_households) AS threatened_households
    FROM exposure_group g
    JOIN hazard_points h ON h.fid = g.hazard
    GROUP BY g.kind, g.grp
), zone_union AS (
    SELECT g.kind, g.grp, ST_Union(z.geom) AS geom
    FROM exposure_group g
    JOIN hazard_points h ON h.fid = g.hazard
    JOIN danger_zones z ON z.hazard_id = h.hazard_id
    GROUP BY g.kind, g.grp
)
SELECT c.kind, c.grp, c.hazard_points, c.threatened_people, c.threatened_households,
       v.villages AS villages_in_danger_zones,
       coalesce(v.people, 0) AS people_in_danger_zones,
       coalesce(v.households, 0) AS households_in_danger_zones,
       s.schools AS schools_in_danger_zones,
       coalesce(s.students, 0) AS students_in_danger_zones
FROM counted c
LEFT JOIN zone_union u USING (kind, grp)
CROSS JOIN LATERAL (
    SELECT count(*) AS villages, sum(population) AS people, sum(households) AS households
    FROM villages WHERE ST_Intersects(u.geom, villages.geom)
) v
CROSS JOIN LATERAL (
    SELECT count(*) AS schools, sum(students) AS students FROM schools WHERE ST_Intersects(u.geom, schools.geom)
) s
ORDER BY c.kind, c.grp;
