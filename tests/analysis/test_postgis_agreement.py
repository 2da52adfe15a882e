"""hazmap agrees with PostGIS and pgRouting on the demo district (docs/data-model.md "Definitions the analyses use").

The same figures are computed a second way, in SQL on a throwaway PostgreSQL cluster (``tests/support/pgcluster.py``),
by the queries in ``bench/peer_sql`` that the benchmark also times.  What is compared, and why:

Exposure (plan 4.4-4.5): PostGIS' ST_Intersects on the stored CGCS2000 coordinates decides which active hazard
points lie in or on each warning area; the people, households, schools and students counted are those of the
villages and schools in or on the union of the counted points' danger zones, each once -- both as the benchmark
counts them (zone by zone, each village once per group) and literally, in or on the ST_Union of the zones.  Per
warning area, per level (each point once, at its highest level), per township and for the district, every count
must be *equal*.

Evacuation routes: pgRouting builds its own topology from the roads (``pgr_createTopology`` with the snap
tolerance); PostGIS snaps each origin and shelter to the nearest point of its nearest road (KNN ``<->``,
ST_LineLocatePoint) and splits that road there with ST_LineSubstring; the pieces that touch a danger zone of an
active hazard point other than those the route may pass are left out of the edge query, and ``pgr_dijkstra``
finds the paths.  Splitting, rather than ``pgr_withPoints``, is what lets the zone test see the part of a road
between a point and a junction, as hazmap does.  The route length is leg + path + leg in both engines.

- On the network as drawn (tolerance 0 in both engines, so both graphs are exactly the roads' shared end points)
  every route must reach the same shelter, the same routes must be unreachable, and lengths must agree to 1 mm.
- At the default tolerance (5 m) the engines join near-miss road ends differently, by design: pgRouting snaps an
  end to the first vertex within the tolerance and keeps each road's drawn length; hazmap joins every chain of
  ends at its mean, splits a road where another ends beside it, and re-measures the moved roads.  Reachability and
  shelters must still agree, and a route's length may differ by at most 2 x tolerance at each vertex where the two
  may differ (``near_miss`` in ``network.sql``) on pgRouting's path or at the ends of the roads the origin and
  shelter snap to; elsewhere by 1 mm.
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest
from psycopg import sql
from pyproj import CRS

from bench import peer
from geo import settings, store
from geo.analysis import evacuation, exposure
from geo.model import crs as model_crs
from geo.settings import AnalysisSettings
from tests.analysis.test_evacuation import FAR, NEAR, ROAD, VA, ZA, scene
from tests.support import pgcluster
from tests.support.fixtures import tiny_dataset

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="session")
def postgis_url():
    """A throwaway PostgreSQL 15 + PostGIS + pgRouting cluster; these tests fail, never skip, without one."""
    missing = pgcluster.missing_binaries()
    if missing:
        pytest.fail(
            f"PostgreSQL 15/PostGIS/pgRouting missing ({', '.join(missing)}): run `make test`, which installs them",
            pytrace=False,
        )
    with pgcluster.throwaway_cluster() as url:
        yield url


@pytest.fixture(scope="module")
def demo_layers():
    return store.open(settings.DEMO_DATA).read_layers()


@pytest.fixture(scope="module")
def conn(postgis_url, demo_layers):
    """The demo district loaded into PostGIS."""
    srid = CRS(model_crs.metric_crs(demo_layers["roads"])).to_epsg()
    with psycopg.connect(postgis_url, autocommit=True) as connection:
        pgcluster.load_layers(connection, demo_layers, srid)
        yield connection


@pytest.fixture(scope="module")
def hazmap_counts(demo_layers):
    return peer.hazmap_exposure_counts(exposure.analyse(demo_layers))


@pytest.fixture(scope="module", params=[False, True], ids=["zone-by-zone", "st_union"])
def postgis_counts(conn, request):
    return peer.sorted_counts(peer.exposure_counts(conn, union=request.param))


def _kind(counts: pd.DataFrame, kind: str) -> pd.DataFrame:
    return counts[counts["kind"] == kind].set_index("grp").drop(columns="kind")


def test_exposure_by_warning_area_equals_postgis(hazmap_counts, postgis_counts):
    ours = _kind(hazmap_counts, "area")
    # The demo warning tests something only if its areas hold points and people.
    assert len(ours) >= 3 and (ours["people_in_danger_zones"] > 0).sum() >= 2
    pd.testing.assert_frame_equal(ours, _kind(postgis_counts, "area"))


def test_district_totals_by_level_equal_postgis(hazmap_counts, postgis_counts):
    ours = _kind(hazmap_counts, "level")
    assert len(ours) >= 2, "the demo warning should cover points at several levels"
    pd.testing.assert_frame_equal(ours, _kind(postgis_counts, "level"))
    pd.testing.assert_frame_equal(_kind(hazmap_counts, "district"), _kind(postgis_counts, "district"))


def test_township_totals_equal_postgis(hazmap_counts, postgis_counts):
    pd.testing.assert_frame_equal(_kind(hazmap_counts, "township"), _kind(postgis_counts, "township"))


def _routes_in_both(conn, layers, tolerance_m: float) -> pd.DataFrame:
    """hazmap's and pgRouting's routes side by side, both on networks built with ``tolerance_m``."""
    analysis = AnalysisSettings(snap_tolerance_m=tolerance_m)
    peer.prepare_network(conn, tolerance_m)
    peer.snap(conn, analysis.max_snap_distance_m)
    both = peer.route_agreement(
        evacuation.evacuation_routes(layers, analysis).routes, peer.evacuation_routes(conn), tolerance_m
    )
    # Enough of every case that the comparison means something: routes to assigned and to other shelters, and
    # routes from which no shelter can be reached.
    assert len(both) >= 50
    assert both["reachable"].sum() >= 40 and (~both["reachable"].astype(bool)).sum() >= 5
    assert (both["shelter_id"] != both["assigned_shelter_id"]).sum() >= 5
    for problem, routes in peer.route_disagreements(both).items():
        shown = [*peer.ROUTE_KEY, "shelter_id", "shelter_id_pg", "length_m", "length_m_pg", "allowed", "reason"]
        assert routes.empty, f"{problem}:\n{routes[shown].to_string()}"
    return both


def test_routes_equal_pgrouting_on_the_network_as_drawn(conn, demo_layers):
    both = _routes_in_both(conn, demo_layers, tolerance_m=0.0)
    # With nothing to join, no vertex is a near miss: every length agrees to the millimetre.
    assert (both["near_miss_junctions"] == 0).all()


def test_routes_agree_with_pgrouting_up_to_near_miss_joins_at_the_default_tolerance(conn, demo_layers):
    both = _routes_in_both(conn, demo_layers, tolerance_m=AnalysisSettings().snap_tolerance_m)
    reached = both[both["reachable"].astype(bool)]
    # Most routes meet no near-miss join and agree to the millimetre; some meet one, or the slack is untested.
    assert (reached["near_miss_junctions"] == 0).mean() > 0.5
    assert (reached["difference"] > peer.SAME_LENGTH_M).any()


# The nearest safe shelter is the one with the shortest route, the straight legs included: the demo district has no
# route where the legs overturn the order along the roads, so two hand-made scenes of
# tests/analysis/test_evacuation.py check that both engines weigh them.  Each goes into a database of its own on
# the same cluster.


def _scene_legs():
    # V -> MID (10 + 400 + 10 = 420 m), not FAR, whose road point is nearer but which stands 900 m off the road
    # (970 m), nor NEAR (315 m) behind HB's zone; HB -> NEAR (30 + 125 + 5 = 160 m).
    return scene(
        ROAD,
        [("HA", 0, 30, 50, None), ("HB", 175, 30, 20, "GONE")],
        [ZA, ("HB", 150, -50, 200, 50)],
        [VA],
        [FAR, NEAR, ("MID", -400, -10, 500)],
    ), {"V": ("MID", 420.0), "HB": ("NEAR", 160.0)}


def _scene_one_spot():
    # A, C and B meet the road at one point, A 40 m off it, C and B on one spot 20 m off: C, first of the two.
    return scene(
        ROAD,
        [("HA", 0, 30, 50, None)],
        [ZA],
        [VA],
        [("A", 300, 40, 500), ("C", 300, -20, 500), ("B", 300, -20, 500)],
    ), {"V": ("C", 330.0)}


@pytest.mark.parametrize("make", [_scene_legs, _scene_one_spot], ids=["legs", "one-spot"])
def test_both_engines_choose_the_nearest_shelter_by_the_whole_route_legs_included(postgis_url, make):
    layers, expected = make()
    empty = tiny_dataset()
    layers |= {"schools": empty["schools"].iloc[:0], "pools": empty["pools"].iloc[:0]}
    name = f"scene_{make.__name__.strip('_')}"
    with psycopg.connect(postgis_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(postgis_url.rsplit("/", 1)[0] + f"/{name}", autocommit=True) as connection:
        for extension in ("postgis", "pgrouting"):
            connection.execute(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(extension)))
        pgcluster.load_layers(connection, layers, CRS(model_crs.metric_crs(layers["roads"])).to_epsg())
        analysis = AnalysisSettings()
        peer.prepare_network(connection, analysis.snap_tolerance_m)
        peer.snap(connection, analysis.max_snap_distance_m)
        ours = evacuation.evacuation_routes(layers, analysis).routes
        both = peer.route_agreement(ours, peer.evacuation_routes(connection), analysis.snap_tolerance_m)
    for problem, routes in peer.route_disagreements(both).items():
        assert routes.empty, f"{problem}:\n{routes.to_string()}"
    chosen = {r.origin_id: (r.shelter_id_pg, round(r.length_m_pg, 6)) for r in both.itertuples()}
    assert chosen == expected
