"""Attribute tables declared once in the data model work in both backends with no code of their own.

The audit log and the history of warnings (plan 4.4 levels; 4.5.5 a warning ends when its time runs out) are
declared in ``geo.model.schema.TABLES``.  Every test here runs against a GeoPackage and a PostGIS database
through the same store front, and both must give the same answer.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import psycopg
import psycopg.errors
import pytest
from osgeo_utils.samples.validate_gpkg import check as validate_gpkg
from psycopg import sql

from geo import store
from geo.model import schema
from geo.model.schema import TABLES, WARNING_HISTORY_TABLE, SchemaError
from geo.settings import ROOT
from geo.store import postgis
from tests.support.fixtures import tiny_dataset
from tests.support.pgcluster import new_database

ISSUED = {
    "warning_id": "YJ2024-07",
    "action": "issue",
    "level": "orange",
    "at": "2024-07-01T08:00:00Z",
    "valid_until": "2024-07-02T08:00:00Z",
    "issuer": "昌江区自然资源和规划局",
    "note": None,
}
RAISED = {**ISSUED, "action": "raise", "level": "red", "at": "2024-07-01T20:00:00Z", "note": "雨量加大"}


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def data(request, tmp_path) -> store.Store:
    """A fresh copy of the tiny data set in the backend of the parameter."""
    gpkg = request.param == "gpkg"
    where = str(tmp_path / "data.gpkg") if gpkg else new_database(request.getfixturevalue("cluster"))
    target = store.open(where)
    target.create(tiny_dataset(), user="fixture")
    return target


def test_a_new_data_set_has_every_declared_table_empty(data):
    for name, table in TABLES.items():
        rows = data.read_table(name)
        if name == schema.AUDIT_TABLE:
            continue  # create() logged itself
        assert rows.empty and list(rows.columns) == [table.id_field, *table.columns]


def test_appended_rows_get_keys_and_read_back_in_their_declared_types(data):
    assert data.append(WARNING_HISTORY_TABLE, [ISSUED, RAISED], user="王工") == [1, 2]
    rows = data.read_table(WARNING_HISTORY_TABLE)
    assert rows["event_id"].tolist() == [1, 2]
    assert rows["level"].tolist() == ["orange", "red"]
    # Times come back as the ISO-8601 UTC text they were given, whatever the backend stores.
    assert rows["at"].tolist() == [ISSUED["at"], RAISED["at"]]
    assert rows["note"].isna().tolist() == [True, False]
    assert rows.iloc[1]["issuer"] == "昌江区自然资源和规划局"


def test_an_append_is_audited_with_the_keys_it_added(data):
    data.append(WARNING_HISTORY_TABLE, [ISSUED, RAISED], user="王工")
    last = data.read_audit().iloc[-1]
    assert (last["user"], last["layer"], last["action"]) == ("王工", WARNING_HISTORY_TABLE, "append")
    assert json.loads(last["changes"]) == {"keys": [1, 2]}


@pytest.mark.parametrize(
    ("row", "rule"),
    [
        ({**ISSUED, "level": "purple"}, "enum"),
        ({**ISSUED, "action": None}, "not_null"),
        ({**ISSUED, "at": "昨天"}, "type"),
    ],
)
def test_rows_that_break_the_declaration_are_refused_and_nothing_is_written(data, row, rule):
    before = data.stamp()
    with pytest.raises(SchemaError) as refused:
        data.append(WARNING_HISTORY_TABLE, [ISSUED, row], user="王工")
    assert rule in refused.value.report.rules()
    assert data.stamp() == before and data.read_table(WARNING_HISTORY_TABLE).empty


def test_a_column_the_table_does_not_declare_is_refused(data):
    with pytest.raises(ValueError, match="no column"):
        data.append(WARNING_HISTORY_TABLE, [{**ISSUED, "phone": "13800000000"}], user="王工")
    with pytest.raises(ValueError, match="not a table"):
        data.append("patrols", [ISSUED], user="王工")


def test_an_edit_changes_one_row_and_is_audited_with_old_and_new_values(data):
    data.append(WARNING_HISTORY_TABLE, [ISSUED, RAISED], user="王工")
    edited = data.edit(WARNING_HISTORY_TABLE, 1, {"note": "更正：发布单位"}, user="李工")
    assert edited["note"] == "更正：发布单位"
    rows = data.read_table(WARNING_HISTORY_TABLE)
    assert rows["note"].tolist() == ["更正：发布单位", "雨量加大"]
    last = data.read_audit().iloc[-1]
    assert (last["user"], last["action"], last["feature_id"]) == ("李工", "edit", "1")
    assert json.loads(last["changes"]) == {"note": [None, "更正：发布单位"]}


def test_an_edit_is_checked_and_cannot_change_the_key(data):
    data.append(WARNING_HISTORY_TABLE, [ISSUED], user="王工")
    before = data.stamp()
    with pytest.raises(SchemaError):
        data.edit(WARNING_HISTORY_TABLE, 1, {"level": "purple"}, user="李工")
    with pytest.raises(ValueError, match="cannot be changed"):
        data.edit(WARNING_HISTORY_TABLE, 1, {"event_id": 5}, user="李工")
    with pytest.raises(store.StoreError, match="no row"):
        data.edit(WARNING_HISTORY_TABLE, 9, {"note": "x"}, user="李工")
    assert data.edit(WARNING_HISTORY_TABLE, 1, {"level": "orange"}, user="李工")["level"] == "orange"
    assert data.stamp() == before  # nothing changed, nothing written


@pytest.mark.postgis
def test_both_backends_read_back_the_same_rows(tmp_path, cluster):
    frames = []
    for where in (str(tmp_path / "data.gpkg"), new_database(cluster)):
        target = store.open(where)
        target.create(tiny_dataset(), user="fixture")
        target.append(WARNING_HISTORY_TABLE, [ISSUED, RAISED], user="王工")
        target.edit(WARNING_HISTORY_TABLE, 2, {"valid_until": "2024-07-03T08:00:00Z"}, user="李工")
        frames.append(target.read_table(WARNING_HISTORY_TABLE))
    pd.testing.assert_frame_equal(*frames)


def test_the_backends_name_no_table_of_the_model():
    # "Tables declared once": a backend derives every table from the declarations, so none names one.
    for backend in ("gpkg.py", "postgis.py"):
        source = (ROOT / "geo" / "store" / backend).read_text(encoding="utf-8")
        assert WARNING_HISTORY_TABLE not in source
        assert '"audit_log"' not in source


def test_the_geopackage_registers_the_tables_and_passes_gdal_validation(tmp_path):
    path = tmp_path / "data.gpkg"
    target = store.open(path)
    target.create(tiny_dataset(), user="fixture")
    target.append(WARNING_HISTORY_TABLE, [ISSUED], user="王工")
    with closing(sqlite3.connect(path)) as conn:
        kinds = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    assert kinds[WARNING_HISTORY_TABLE] == kinds[schema.AUDIT_TABLE] == "attributes"
    assert validate_gpkg(str(path), extra_checks=True, warning_as_error=True) == []


@pytest.mark.postgis
def test_the_database_enforces_the_declaration_and_keeps_only_the_audit_log_on_create(cluster):
    url = new_database(cluster)
    target = store.open(url)
    target.create(tiny_dataset(), user="fixture")
    target.append(WARNING_HISTORY_TABLE, [ISSUED], user="王工")
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            sql.SQL("INSERT INTO {} (warning_id, action, at) VALUES ('x', 'explode', now())").format(
                sql.Identifier(postgis.SCHEMA, WARNING_HISTORY_TABLE)
            )
        )
    logged = len(target.read_audit())
    target.create(tiny_dataset(), user="again")
    assert target.read_table(WARNING_HISTORY_TABLE).empty
    assert len(target.read_audit()) > logged


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_refused_append_leaves_the_geopackage_byte_for_byte(tmp_path):
    path = tmp_path / "data.gpkg"
    store.open(path).create(tiny_dataset(), user="fixture")
    before = _sha256(path)
    with pytest.raises(SchemaError):
        store.open(path).append(WARNING_HISTORY_TABLE, [{**ISSUED, "level": "purple"}], user="王工")
    assert _sha256(path) == before


def test_only_the_source_tells_a_database_from_a_file():
    # One module decides GeoPackage or PostGIS: no other code compares a data set's name with a URL scheme.
    offenders = []
    for path in [*ROOT.glob("geo/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("layers/*.py"), ROOT / "app.py"]:
        if path == ROOT / "geo" / "store" / "source.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in ("postgresql://", "postgres://")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "is_database_url":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
    assert (
        store.Source.of("postgresql://u:secret@db:5432/hazmap?sslmode=require").label == "postgresql://u@db:5432/hazmap"
    )
    assert store.Source.of("postgres://db/hazmap").kind == "postgis"
    assert store.Source.of("data/台账.gpkg").kind == "gpkg"
