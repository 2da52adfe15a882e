"""The app on a PostGIS database: the cache key of the data, and an error page that never shows the password."""

from __future__ import annotations

import pytest

from geo import store
from tests import pgcluster
from tests.fixtures import tiny_dataset
from tests.users import app, problems, rendered
from ui import common

SECRET = "s3cret-pw"


def test_the_error_page_names_the_database_without_its_password(monkeypatch):
    monkeypatch.setenv("HAZMAP_DATA", f"postgresql://hazmap:{SECRET}@127.0.0.1:1/nowhere")  # port 1: refused
    at = app()
    assert [e.value for e in at.exception] == []
    assert at.error[0].value == "无法打开数据文件"
    assert "hazmap@127.0.0.1:1/nowhere" in at.markdown[0].value
    assert SECRET.encode() not in rendered(at)


@pytest.fixture(scope="module")
def database() -> str:
    """URL of a throwaway database holding the tiny data set; fails, never skips, without PostgreSQL/PostGIS."""
    missing = pgcluster.missing_binaries()
    if missing:
        pytest.fail(f"PostgreSQL 15/PostGIS missing ({', '.join(missing)}): run `make test`", pytrace=False)
    with pgcluster.throwaway_cluster() as url:
        store.open(url).create(tiny_dataset(), user="fixture")
        yield url


@pytest.mark.postgis
def test_the_data_version_of_a_database_is_its_url_and_newest_audit_row(database, monkeypatch):
    monkeypatch.setenv("HAZMAP_DATA", database)
    version = common.data_version()
    assert (
        version.source.location == database and version.stamp == (store.open(database).stamp()[0],) and version.masked
    )
    store.open(database).update_hazard_point("H1", {"village": "新村"}, user="test")
    assert common.data_version().stamp == (version.stamp[0] + 1,)


@pytest.mark.postgis
def test_the_app_runs_on_the_database_with_phone_numbers_masked(database, monkeypatch):
    monkeypatch.setenv("HAZMAP_DATA", database)
    at = app()
    assert problems(at) == []
    sent = rendered(at)
    assert b"138****0001" in sent and b"13800000001" not in sent  # the tiny data set's monitor of H1
