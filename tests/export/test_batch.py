"""A township's or warning area's drill maps and cards in one zip, with an index, drawn here or by a process pool."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from geo.export import batch
from geo.export.hazard import ExportData
from tests.support.exporting import SETTINGS, pdf_text
from tests.support.fixtures import tiny_dataset


@pytest.fixture(scope="module")
def data() -> ExportData:
    return ExportData.prepare(tiny_dataset())


@pytest.fixture(scope="module")
def drawn_here(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("batch") / "here.zip"
    calls = []
    result = batch.write_batch(data, ["H1", "H2"], path, SETTINGS, progress=lambda *a: calls.append(a), workers=1)
    return path, result, calls


def test_the_zip_holds_maps_cards_and_an_index(drawn_here):
    path, result, _ = drawn_here
    expected = [
        "index.csv",
        "index.html",
        "演练图/H1_枫林村滑坡.pdf",
        "明白卡/H1_枫林村滑坡.pdf",
        "演练图/H2_新安村崩塌.pdf",
        "明白卡/H2_新安村崩塌.pdf",
    ]
    assert result.points == 2 and result.files == expected
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(expected)
        assert "新安村崩塌 地质灾害应急避险演练图" in pdf_text(archive.read("演练图/H2_新安村崩塌.pdf"))[0]
        assert "防灾工作明白卡" in pdf_text(archive.read("明白卡/H1_枫林村滑坡.pdf"))[0]
        index = archive.read("index.csv")
        html = archive.read("index.html").decode("utf-8")
    assert index.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the Chinese as UTF-8
    rows = list(csv.DictReader(io.StringIO(index.decode("utf-8-sig"))))
    assert [r["统一编号"] for r in rows] == ["H1", "H2"]
    assert rows[0]["避灾场所"] == "枫林村委会" and rows[0]["演练图"] == "演练图/H1_枫林村滑坡.pdf"
    assert '<a href="明白卡/H2_新安村崩塌.pdf">' in html


def test_progress_is_reported_after_each_point(drawn_here):
    _, _, calls = drawn_here
    assert calls == [(1, 2, "H1"), (2, 2, "H2")]


def test_a_process_pool_draws_the_same_files(data, drawn_here, tmp_path):
    here, _, _ = drawn_here
    pooled = tmp_path / "pool.zip"
    result = batch.write_batch(data, ["H1", "H2"], pooled, SETTINGS, workers=2)
    assert result.workers == 2
    with zipfile.ZipFile(here) as a, zipfile.ZipFile(pooled) as b:
        assert {n: a.read(n) for n in a.namelist()} == {n: b.read(n) for n in b.namelist()}


def test_points_are_chosen_by_township_or_warning_area(data):
    assert data.select(township="鲇鱼山镇") == ["H1", "H2"]
    assert data.select(township="西郊街道") == []  # H3 there is treated: no drill for it
    assert data.select(warning_id="W2") == ["H1", "H2"]
    with pytest.raises(ValueError, match="unknown township '丽阳镇'"):
        data.select(township="丽阳镇")
    with pytest.raises(ValueError, match="unknown warning area 'W9'"):
        data.select(warning_id="W9")


def test_unknown_or_inactive_points_are_refused_before_any_work(data, tmp_path):
    with pytest.raises(ValueError, match=r"unknown hazard_id: NOPE; not active.*H3 \(treated\)"):
        batch.write_batch(data, ["H1", "NOPE", "H3"], tmp_path / "b.zip", SETTINGS)
    assert not list(tmp_path.iterdir())
