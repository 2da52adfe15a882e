"""The import panel under Streamlit's AppTest: upload, preview, download of rejected rows, confirm — and an upload
that cannot be read shown as an error that changes nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo import store
from tests.support.importing import fresh_copy, make_template, sha256

CSV = (
    "统一编号,名称,灾害类型,规模等级,乡镇,村,经度,纬度,威胁户数,威胁人数,威胁财产(万元)\n"
    "H1,枫林村滑坡,滑坡,小型,鲇鱼山镇,枫林村,117.25,29.30,40,600,80\n"
    "N9,<img src=x onerror=alert(1)>,泥石流,中型,鲇鱼山镇,新村,117.21,29.31,3,10,5\n"
    "N10,坏行,火山,小型,鲇鱼山镇,新村,117.2,29.3,3,很多,5\n"
).encode("utf-8-sig")


@pytest.fixture(autouse=True)
def keep_main_module(monkeypatch):
    # AppTest leaves its script as sys.modules["__main__"]; a later test that spawns processes (test_store's two
    # writers) would re-run that script in each child.  Put the real one back after every test.
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def data(template, tmp_path) -> Path:
    return fresh_copy(template, tmp_path)


def _panel(path: str, name: str, role: str) -> None:
    from geo.access import auth
    from ui.import_panel import render_import

    render_import(path, user=auth.User(name, role))


def run_panel(
    data: Path, upload: tuple[str, bytes] | None, lang: str = "zh", user: tuple[str, str] = ("王工", "editor")
) -> AppTest:
    at = AppTest.from_function(_panel, args=(str(data), *user), default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    if upload is not None:
        at.file_uploader(key="import_files").set_value((upload[0], upload[1], "application/octet-stream")).run()
    return at


def test_panel_previews_and_imports_the_valid_rows_when_asked(data):
    before = sha256(data)
    at = run_panel(data, ("台账.csv", CSV))
    assert [e.value for e in at.exception] == []
    added, updated, rejected = (frame.value for frame in at.dataframe)
    assert added["id"].tolist() == ["N9"] and added["name"].tolist() == ["<img src=x onerror=alert(1)>"]
    assert updated[["id", "column", "old", "new"]].values.tolist()[0] == ["H1", "threatened_people", "150", "600"]
    assert rejected["row"].tolist() == [4] and "火山" in rejected["reasons"].iloc[0]
    assert len(at.get("download_button")) == 2
    confirm = at.button(key="import_go")
    assert confirm.disabled  # a rejected row blocks the write until a partial import is chosen
    at.checkbox(key="import_partial").check().run()
    at.button(key="import_go").click().run()
    assert [e.value for e in at.exception] == [] and at.success
    assert sha256(data) != before
    points = store.open(data).read_layer("hazard_points").set_index("hazard_id")
    assert points.loc["N9", "name"] == "<img src=x onerror=alert(1)>" and points.loc["H1", "version"] == 2
    assert store.open(data).read_audit()["user"].iloc[-1] == "王工"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_panel_shows_an_unreadable_upload_as_an_error(data, lang):
    before = sha256(data)
    at = run_panel(data, ("坏.gpkg", b"not a geopackage at all"), lang)
    assert [e.value for e in at.exception] == []
    assert at.error and "坏.gpkg" in at.code[0].value
    assert sha256(data) == before


def test_panel_without_upload_shows_only_the_uploader(data):
    at = run_panel(data, None)
    assert [e.value for e in at.exception] == [] and not at.dataframe and not at.button
    assert at.file_uploader(key="import_files")


def test_a_viewer_gets_no_panel(data):
    at = run_panel(data, None, user=("访客", "viewer"))
    assert [e.value for e in at.exception] == [] and not at.file_uploader and at.info
