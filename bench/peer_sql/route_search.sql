-- One search of evacuation routes: the shortest paths from the origins of group grp to every safe shelter, on the
-- pieces of road that touch no danger zone but those of the hazard points the group may pass.
-- Parameters: grp, starts (bigint[] vertices), ends (bigint[] vertices).

UPDATE current_group SET grp = %(grp)s;

INSERT INTO group_path (grp, start_node, end_node, node, agg_cost)
SELECT %(grp)s, start_vid, end_vid, node, agg_cost
FROM pgr_dijkstra(
    'SELECT p.id, p.source, p.target, p.cost FROM net_piece p
     WHERE NOT EXISTS (
         SELECT 1 FROM piece_zone z WHERE z.piece = p.id AND z.hazard NOT IN (
             SELECT a.hazard FROM group_allowed a JOIN current_group c ON c.grp = a.grp))',
    %(starts)s::bigint[], %(ends)s::bigint[], directed := false
);
