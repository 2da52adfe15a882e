-- Each route's shelter and length: the assigned shelter where it is safe and reachable, else the nearest safe
-- shelter by route length: leg to the road + way along the roads + leg to the shelter, as geo.analysis.evacuation weighs it (a
-- shelter a short way along the roads but far off them loses to one farther along beside the road); of equal lengths
-- (shelters on one spot), the first in the layer.  NULL where none is reachable.
-- near_miss_junctions: how many near-miss vertices (network.sql) lie on the chosen path or at an end of the roads the
-- origin and the shelter meet; there the two engines' road lengths may differ.

CREATE INDEX ON group_path (grp, start_node, end_node);

WITH reach AS (
    SELECT r.route, s.fid AS shelter, s.node, r.leg + g.agg_cost + s.leg AS length_m
    FROM route r
    JOIN group_path g ON g.grp = r.grp AND g.start_node = r.node AND g.node = g.end_node
    JOIN safe_shelter s ON s.node = g.end_node
    UNION ALL
    -- pgRouting returns no path from a vertex to itself.
    SELECT r.route, s.fid, s.node, r.leg + s.leg
    FROM route r
    JOIN safe_shelter s ON s.node = r.node
), best AS (
    SELECT DISTINCT ON (r.route) r.route, r.grp, r.node AS start_node, reach.node AS end_node, reach.shelter,
           reach.length_m
    FROM route r
    JOIN reach USING (route)
    ORDER BY r.route, (reach.shelter = r.assigned) IS TRUE DESC, reach.length_m, reach.shelter
)
SELECT r.hazard_id, r.kind AS origin_kind, r.origin_id, r.assigned_shelter_id, s.shelter_id, b.length_m,
       b.route IS NOT NULL AS reachable, r.node IS NOT NULL AS on_network,
       coalesce(j.junctions, 0) AS near_miss_junctions
FROM route r
LEFT JOIN best b USING (route)
LEFT JOIN LATERAL (
    SELECT count(*) AS junctions
    FROM near_miss m
    WHERE m.vertex IN (
        SELECT g.node FROM group_path g
        WHERE g.grp = b.grp AND g.start_node = b.start_node AND g.end_node = b.end_node
        UNION
        SELECT unnest(ARRAY[o.source, o.target, e.source, e.target])
        FROM snap o, snap e
        WHERE o.kind = r.kind AND o.fid = r.fid AND e.kind = 'shelter' AND e.fid = b.shelter
    )
) j ON true
LEFT JOIN shelters s ON s.fid = b.shelter
ORDER BY r.route;
