"""The PostGIS backend: the data model as database constraints, the store's API on a URL, push and pull, and the
analyses that run in SQL agreeing with the in-process ones.

Every test runs on a throwaway PostgreSQL 15 + PostGIS cluster (``tests/support/pgcluster.py``), each in a
database of its own; without the binaries these tests fail, never skip.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import psycopg
import psycopg.errors
import pytest
from geopandas.testing import assert_geodataframe_equal
from psycopg import sql
from shapely.geometry import Point

from geo import cli, settings, store
from geo.analysis import exposure, in_database, pools
from geo.model.schema import LAYERS, SchemaError
from geo.store import postgis, transfer
from tests.support.fixtures import tiny_dataset
from tests.support.fixtures import write_layers as write_gpkg_layers
from tests.support.pgcluster import new_database

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def tiny_database(cluster) -> str:
    """Name of a database holding the tiny data set, created through the store (PostGIS included)."""
    url = new_database(cluster)
    store.open(url).create(tiny_dataset(), user="fixture")
    return urlsplit(url).path.removeprefix("/")


@pytest.fixture
def data(cluster, tiny_database) -> str:
    """A fresh copy of the tiny data set's database: copying a template is much faster than creating PostGIS."""
    return new_database(cluster, template=tiny_database)


@pytest.fixture(scope="module")
def untouched(cluster, tiny_database) -> str:
    """A copy of the tiny data set shared by tests whose every write fails."""
    return new_database(cluster, template=tiny_database)


@pytest.fixture(scope="module")
def demo(cluster) -> str:
    """A database holding the demo district, pushed from the embedded GeoPackage."""
    url = new_database(cluster)
    transfer.push(settings.DEMO_DATA, url, user="fixture")
    return url


#: A hazard point to add: 600 万元 of threatened property makes it a medium danger (plan 3.2).
NEW_POINT = {"hazard_id": "H9", "name": "新滑坡", "hazard_type": "landslide", "scale_class": "small",
             "threatened_households": 3, "threatened_people": 9, "threatened_property_10k_yuan": 600.0}  # fmt: skip


def hazard(url: str, hazard_id: str) -> dict:
    points = store.open(url).read_layer("hazard_points")
    return points[points["hazard_id"] == hazard_id].iloc[0].to_dict()


# --------------------------------------------------------------------------------------------------
# The tables


def catalog(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, {"schema": postgis.SCHEMA}).fetchall()


def test_tables_carry_the_data_model_types_titles_and_indexes(data):
    columns = {
        (table, column): (kind, nullable, comment)
        for table, column, kind, nullable, comment in catalog(
            data,
            "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES', "
            "col_description(format('%%I.%%I', c.table_schema, c.table_name)::regclass, c.ordinal_position) "
            "FROM information_schema.columns c WHERE c.table_schema = %(schema)s",
        )
    }
    types = {"text": "text", "int": "bigint", "real": "double precision", "bool": "boolean"}
    for layer in LAYERS.values():
        for f in layer.fields:
            assert columns[layer.name, f.name] == (types[f.kind], f.nullable, f"{f.title_zh} {f.title_en}")
        assert columns[layer.name, "geom"][0] == "USER-DEFINED"
    srids = dict(catalog(data, "SELECT f_table_name, srid FROM geometry_columns WHERE f_table_schema = %(schema)s"))
    assert srids == dict.fromkeys(LAYERS, 4490)
    indexes = catalog(data, "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %(schema)s")
    gist = {table for table, definition in indexes if "USING gist (geom)" in definition}
    assert gist == set(LAYERS)
    foreign_keys = {
        name
        for (name,) in catalog(
            data,
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND connamespace = %(schema)s::regnamespace",
        )
    }
    assert foreign_keys == {"danger_zones_hazard_id_fkey", "hazard_points_shelter_id_fkey", "pools_school_id_fkey"}


@pytest.mark.parametrize(
    ("statement", "error", "constraint"),
    [
        ("UPDATE {}.hazard_points SET hazard_type = 'flood'", psycopg.errors.CheckViolation, "hazard_type_enum"),
        ("UPDATE {}.hazard_points SET threatened_people = -1", psycopg.errors.CheckViolation, "threatened_people_min"),
        ("UPDATE {}.hazard_points SET version = 0", psycopg.errors.CheckViolation, "version_min"),
        ("UPDATE {}.hazard_points SET name = NULL", psycopg.errors.NotNullViolation, None),
        ("UPDATE {}.hazard_points SET hazard_id = 'H1'", psycopg.errors.UniqueViolation, "hazard_id_key"),
        ("UPDATE {}.district SET adcode = '36020'", psycopg.errors.CheckViolation, "adcode_pattern"),
        ("UPDATE {}.danger_zones SET hazard_id = 'NO-SUCH'", psycopg.errors.ForeignKeyViolation, "hazard_id_fkey"),
        ("UPDATE {}.pools SET school_id = 'NO-SUCH'", psycopg.errors.ForeignKeyViolation, "school_id_fkey"),
        ("DELETE FROM {}.shelters", psycopg.errors.ForeignKeyViolation, "shelter_id_fkey"),
        ("UPDATE {}.villages SET geom = ST_Buffer(geom, 0.001)", psycopg.errors.CheckViolation, "geom_type"),
        (
            "UPDATE {}.villages SET geom = ST_SetSRID(geom, 4326)",
            psycopg.errors.InvalidParameterValue,
            None,
        ),
    ],
)
def test_the_database_itself_refuses_what_the_data_model_forbids(untouched, statement, error, constraint):
    # A client that bypasses hazmap (psql, QGIS editing the tables) meets the same rules (docs/data-model.md "Layers").
    with psycopg.connect(untouched, autocommit=True) as conn, pytest.raises(error) as caught:
        conn.execute(sql.SQL(statement).format(sql.Identifier(postgis.SCHEMA)))
    if constraint:
        assert caught.value.diag.constraint_name.endswith(constraint)


# --------------------------------------------------------------------------------------------------
# Moving data sets


def test_push_then_pull_gives_back_the_demo_layers_unchanged(cluster, tmp_path, capsys):
    url = new_database(cluster)
    pulled = tmp_path / "pulled.gpkg"
    assert cli.main(["db", "push", "--from", str(settings.DEMO_DATA), "--to", url, "--user", "admin"]) == 0
    assert cli.main(["db", "pull", "--from", url, "--to", str(pulled), "--user", "admin"]) == 0
    out = capsys.readouterr().out
    original, back = store.open(settings.DEMO_DATA).read_layers(), store.open(pulled).read_layers()
    assert f"roads {len(original['roads'])}" in out
    assert urlsplit(url).password not in out
    assert list(back) == list(original) == list(LAYERS)
    for name in LAYERS:
        assert_geodataframe_equal(back[name], original[name])
    assert store.open(url).validate().ok
    pushed = store.open(url).read_audit()
    assert (pushed["user"] == "admin").all() and set(pushed["action"]) == {"replace_layer"}


def test_push_refuses_an_invalid_file_and_leaves_the_database_alone(data, tmp_path, capsys):
    before = store.open(data).stamp()[0]
    layers = tiny_dataset()
    layers["pools"].loc[0, "status"] = "closed"
    broken = write_gpkg_layers(tmp_path / "broken.gpkg", layers)
    assert cli.main(["db", "push", "--from", broken, "--to", data]) == cli.EXIT_INVALID
    assert "pools[P1] enum" in capsys.readouterr().err
    assert store.open(data).stamp()[0] == before
    assert_geodataframe_equal(store.open(data).read_layer("pools"), tiny_dataset()["pools"], check_dtype=False)


def test_push_and_pull_insist_on_their_direction(data, tmp_path):
    with pytest.raises(ValueError, match="db push"):
        transfer.push(data, data, user="admin")
    with pytest.raises(ValueError, match="db pull"):
        transfer.pull(tmp_path / "a.gpkg", tmp_path / "b.gpkg", user="admin")


# --------------------------------------------------------------------------------------------------
# The store's API on a URL


def test_reads_the_layers_asked_for_in_that_order_from_one_snapshot(data):
    got = store.open(data).read_layers(["pools", "schools"], validate=True)
    assert list(got) == ["pools", "schools"]
    expected = tiny_dataset()
    for name, gdf in got.items():
        assert_geodataframe_equal(gdf, expected[name], check_dtype=False)
        assert gdf.crs.to_epsg() == 4490
    with pytest.raises(store.StoreError, match="no layer 'rivers'"):
        store.open(data).read_layers(["rivers"])


def test_a_database_without_a_data_set_is_named_without_its_password(cluster):
    url = new_database(cluster)
    assert store.open(url).read_layers() == {}
    assert store.open(url).read_audit().empty and store.open(url).stamp()[0] == 0
    with pytest.raises(store.StoreError, match="load a data set") as caught:
        store.open(url).update_hazard_point("H1", {"name": "x"}, user="test")
    password = urlsplit(url).password
    assert password not in str(caught.value)
    wrong = url.replace(password, "wrong-password")
    with pytest.raises(store.StoreError, match="password authentication failed") as caught:
        store.open(wrong).read_layers()
    assert "wrong-password" not in str(caught.value)


def test_edit_bumps_version_derives_danger_grade_and_audits_in_one_go(data):
    # Plan 3.2: 500 threatened people (under 1000) is a large danger.
    new = store.open(data).update_hazard_point("H1", {"threatened_people": 500}, user="监测员", expected_version=1)
    assert (new["threatened_people"], new["danger_grade"], new["version"]) == (500, "large", 2)
    stored = hazard(data, "H1")
    assert {k: stored[k] for k in ("threatened_people", "danger_grade", "version", "updated_at")} == {
        k: new[k] for k in ("threatened_people", "danger_grade", "version", "updated_at")
    }
    row = store.open(data).read_audit().iloc[-1]
    assert (row["user"], row["layer"], row["feature_id"], row["action"]) == ("监测员", "hazard_points", "H1", "update")
    assert (row["version_before"], row["version_after"], row["at"]) == (1, 2, new["updated_at"])
    assert json.loads(row["changes"]) == {"threatened_people": [150, 500], "danger_grade": ["medium", "large"]}


def test_moving_a_point_stores_the_new_location(data):
    moved = Point(117.251, 29.301)
    store.open(data).update_hazard_point("H2", {"geometry": moved}, user="test")
    assert hazard(data, "H2")["geometry"].equals(moved)
    assert json.loads(store.open(data).read_audit().iloc[-1]["changes"]) == {
        "geometry": ["POINT (117.3 29.35)", "POINT (117.251 29.301)"]
    }


def test_stale_expected_version_is_a_conflict_carrying_the_newer_values(data):
    store.open(data).update_hazard_point("H1", {"threatened_people": 300}, user="a", expected_version=1)
    logged = len(store.open(data).read_audit())
    with pytest.raises(store.ConflictError, match="version 2") as caught:
        store.open(data).update_hazard_point("H1", {"threatened_people": 20}, user="b", expected_version=1)
    assert (caught.value.current_version, caught.value.current["threatened_people"]) == (2, 300)
    assert caught.value.current["geometry"].equals(Point(117.25, 29.30))
    assert hazard(data, "H1")["threatened_people"] == 300
    assert len(store.open(data).read_audit()) == logged


def _wait_until_blocked(url: str, timeout_s: float = 10.0) -> None:
    """Return once a session of the database waits for a lock."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            query = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if conn.execute(query).fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the edit never waited for the row lock")


def overtaken(url: str, statement: str, method: str, *args, **kwargs) -> store.ConflictError:
    """Run a store method while another session holds ``statement`` uncommitted, and commit that only once the call
    waits for it; return the conflict the call must then raise."""
    with psycopg.connect(url) as other, ThreadPoolExecutor(1) as pool:
        other.execute(statement)
        future = pool.submit(getattr(store.open(url), method), *args, **kwargs)
        _wait_until_blocked(url)
        other.commit()
        with pytest.raises(store.ConflictError) as caught:
            future.result(timeout=30)
    return caught.value


def test_an_edit_overtaken_between_its_read_and_its_update_is_a_conflict(data):
    # Our edit reads version 1 and passes the version check while the other session's change is uncommitted, then
    # waits at its UPDATE. Once the other commits, the UPDATE (WHERE version = 1) matches nothing: a conflict that
    # carries the newer values, never a silent overwrite.
    conflict = overtaken(
        data,
        "UPDATE hazmap.hazard_points SET threatened_people = 151, version = version + 1 WHERE hazard_id = 'H1'",
        "update_hazard_point",
        "H1",
        {"threatened_people": 160},
        user="late",
        expected_version=1,
    )
    assert (conflict.current_version, conflict.current["threatened_people"]) == (2, 151)
    assert hazard(data, "H1")["threatened_people"] == 151


def test_adding_a_point_another_user_adds_at_the_same_moment_is_a_conflict(data):
    conflict = overtaken(
        data,
        "INSERT INTO hazmap.hazard_points (hazard_id, name, hazard_type, scale_class, threatened_households, "
        "threatened_people, threatened_property_10k_yuan, danger_grade, status, version, updated_at, geom) VALUES "
        "('H9', '抢先', 'collapse', 'small', 0, 0, 0, 'small', 'active', 1, '2024-06-01T00:00:00Z', "
        "ST_SetSRID(ST_Point(117.3, 29.4), 4490))",
        "add_hazard_point",
        NEW_POINT,
        Point(117.31, 29.41),
        user="late",
    )
    assert conflict.current["name"] == "抢先"
    assert store.open(data).read_audit().iloc[-1]["feature_id"] != "H9"


def test_edit_without_a_version_applies_to_the_stored_one(data):
    store.open(data).update_hazard_point("H3", {"monitor_name": "周工"}, user="a")
    new = store.open(data).set_hazard_status("H3", "active", user="b")
    assert (new["status"], new["version"], new["monitor_name"]) == ("active", 4, "周工")
    assert store.open(data).read_audit().iloc[-1][["action", "version_before", "version_after"]].tolist() == [
        "status",
        3,
        4,
    ]


def test_edit_that_changes_nothing_writes_nothing(data):
    logged = store.open(data).stamp()[0]
    same = store.open(data).update_hazard_point("H1", {"threatened_people": 150}, user="test", expected_version=1)
    assert same["version"] == 1 and store.open(data).stamp()[0] == logged


@pytest.mark.parametrize(
    ("changes", "rule"),
    [({"shelter_id": "SH-NONE"}, r"hazard_points\[H1\] dangling_reference"), ({"status": "gone"}, "enum")],
)
def test_edit_breaking_the_model_is_refused_and_writes_nothing(data, changes, rule):
    logged = store.open(data).stamp()[0]
    with pytest.raises(SchemaError, match=rule):
        store.open(data).update_hazard_point("H1", changes, user="test")
    assert hazard(data, "H1")["version"] == 1 and store.open(data).stamp()[0] == logged


def test_added_point_gets_version_one_and_a_second_add_is_a_conflict(data):
    new = store.open(data).add_hazard_point(NEW_POINT, Point(117.3, 29.4), user="巡查员")
    assert (new["version"], new["status"], new["danger_grade"]) == (1, "active", "medium")
    points = store.open(data).read_layer("hazard_points")
    assert points["hazard_id"].tolist() == ["H1", "H2", "H3", "H9"]
    assert store.open(data).read_audit().iloc[-1][["action", "feature_id", "version_after"]].tolist() == [
        "insert",
        "H9",
        1,
    ]
    with pytest.raises(store.ConflictError, match="exists already") as caught:
        store.open(data).add_hazard_point(NEW_POINT, Point(117.3, 29.4), user="another")
    assert caught.value.current["name"] == "新滑坡"


def test_write_layers_replaces_layers_and_logs_each(data):
    villages = tiny_dataset()["villages"].iloc[:2].copy()
    villages.loc[0, "population"] = 999
    store.open(data).write_layers({"villages": villages}, user="planner")
    assert_geodataframe_equal(store.open(data).read_layer("villages"), villages, check_dtype=False)
    last = store.open(data).read_audit().iloc[-1]
    assert (last["user"], last["layer"], last["action"]) == ("planner", "villages", "replace_layer")
    assert json.loads(last["changes"]) == {"features": [3, 2]}


def test_write_that_breaks_a_reference_is_refused_with_every_offender(data):
    logged = store.open(data).stamp()[0]
    zones = tiny_dataset()["danger_zones"]
    zones["hazard_id"] = "NO-SUCH-POINT"
    with pytest.raises(SchemaError) as caught:
        store.open(data).write_layers({"danger_zones": zones}, user="test")
    assert [p.feature for p in caught.value.report.problems] == ["row 1", "row 2", "row 3"]
    # Dropping the shelters that hazard points name breaks the data set as a whole.
    with pytest.raises(SchemaError, match=r"hazard_points\[H1\] dangling_reference"):
        store.open(data).write_layers({"shelters": tiny_dataset()["shelters"].iloc[:0]}, user="test")
    assert store.open(data).stamp()[0] == logged
    assert len(store.open(data).read_layer("shelters")) == 2


def test_columns_outside_the_data_model_are_named_when_dropped(data):
    villages = tiny_dataset()["villages"].assign(remark="新建")
    with pytest.warns(UserWarning, match="remark"):
        store.open(data).write_layers({"villages": villages}, user="test")
    assert "remark" not in store.open(data).read_layer("villages").columns


# --------------------------------------------------------------------------------------------------
# Analyses in the database


def test_exposure_by_warning_area_in_postgis_equals_the_in_process_analysis(demo):
    ours = exposure.analyse(store.open(settings.DEMO_DATA).read_layers()).areas
    theirs = in_database.exposure_counts(store.open(demo))
    # The comparison means something only if areas hold points and people, at more than one level.
    assert (theirs["people_in_danger_zones"] > 0).sum() >= 2 and theirs["level"].nunique() >= 2
    pd.testing.assert_frame_equal(theirs, ours[["warning_id", "level", *in_database.EXPOSURE_COUNTS]])


def test_nearest_pools_in_postgis_equal_the_straight_line_coverage(demo):
    k = 3
    ours = pools.pool_coverage(store.open(settings.DEMO_DATA).read_layers(), metric="straight").nearest
    theirs = in_database.nearest_pools_straight(store.open(demo), k)
    assert len(theirs) == k * len(ours["school_id"].unique()) > 0
    key = ["school_id", "rank", "pool_id", "metric"]
    pd.testing.assert_frame_equal(theirs[key], ours[key])
    assert np.allclose(theirs["distance_m"], ours["distance_m"], rtol=0, atol=0.5)
