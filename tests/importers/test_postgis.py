"""Importing into the PostGIS backend: the same preview and the same write as into a GeoPackage — one transaction,
versions, an audit row per feature — and an edit made since the preview stops the write.

Runs on a throwaway PostgreSQL 15 + PostGIS cluster (``tests/support/pgcluster.py``); fails, never skips, without one.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from geo import importers, store
from tests.support.fixtures import tiny_dataset
from tests.support.pgcluster import new_database

pytestmark = pytest.mark.postgis


@pytest.fixture
def data(cluster) -> str:
    url = new_database(cluster)
    store.open(url).create(tiny_dataset(), user="fixture")
    return url


@pytest.fixture
def inventory(tmp_path) -> Path:
    path = tmp_path / "台账.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(
            [
                ["统一编号", "名称", "灾害类型", "规模等级", "经度", "纬度", "威胁户数", "威胁人数", "威胁财产(万元)"],
                ["H1", "枫林村滑坡", "滑坡", "小型", "117.25", "29.30", "40", "600", "80"],
                ["N9", "<img src=x onerror=alert(1)>", "泥石流", "中型", "117°16′", "29°19′", "3", "10", "600"],
            ]
        )
    return path


def test_import_into_postgis_versions_and_audits_each_feature(data, inventory):
    plan = importers.preview_import(inventory, data, importers.ImportOptions("hazard_points"))
    password = urlsplit(data).password
    assert password and password not in plan.to_text() and password not in json.dumps(plan.to_dict())
    assert [e.feature_id for e in plan.added] == ["N9"]
    importers.apply_plan(plan, user="王工")
    points = store.open(data).read_layer("hazard_points").set_index("hazard_id")
    assert points.loc["N9", "name"] == "<img src=x onerror=alert(1)>"
    assert (points.loc["N9", "version"], points.loc["H1", "version"]) == (1, 2)
    assert points.loc["H1", "danger_grade"] == "large"
    log = store.open(data).read_audit().tail(3)
    assert log["action"].tolist() == ["insert", "update", "import"] and set(log["user"]) == {"王工"}
    changes = log.iloc[1]["changes"]
    assert (changes if isinstance(changes, dict) else json.loads(changes))["threatened_people"] == [150, 600]


def test_an_edit_since_the_preview_stops_a_postgis_import(data, inventory):
    plan = importers.preview_import(inventory, data, importers.ImportOptions("hazard_points"))
    store.open(data).update_hazard_point("H1", {"monitor_name": "别人"}, user="someone")
    with pytest.raises(store.ConflictError, match="since the preview"):
        importers.apply_plan(plan, user="王工")
    assert "N9" not in set(store.open(data).read_layer("hazard_points")["hazard_id"])
