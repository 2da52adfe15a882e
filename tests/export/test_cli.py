"""``python -m geo export ...``: each sub-command on a real GeoPackage, its messages and its exit codes."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import openpyxl
import pyogrio
import pytest

from geo import cli, store
from geo.export import fonts
from tests.support.exporting import page_sizes_mm, pdf_text
from tests.support.fixtures import tiny_dataset


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "tiny.gpkg"
    store.open(path).create(tiny_dataset(), user="test")
    return str(path)


def run(*argv: str) -> int:
    return cli.main(["export", *argv])


def test_export_is_a_command_of_python_m_geo():
    out = subprocess.run(
        [sys.executable, "-m", "geo", "export", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("drill-map", "cards", "batch", "routes", "zones", "shelters", "warning-report", "pools-report"):
        assert command in out


def test_drill_map(gpkg, tmp_path, capsys):
    out = tmp_path / "map.pdf"
    assert (
        run("drill-map", "--data", gpkg, "--hazard", "H1", "--out", str(out), "--paper", "A3", "--date", "2024-06-01")
        == 0
    )
    assert page_sizes_mm(out) == [(420, 297)]
    assert "2024年6月1日" in pdf_text(out)[0]
    assert f"wrote {out}" in capsys.readouterr().out


def test_cards_of_a_township_with_the_units_to_call(gpkg, tmp_path):
    out = tmp_path / "cards.pdf"
    units = ["--duty-phone", "0798-8888888", "--rescue-unit", "区消防救援大队", "--issuer", "鲇鱼山镇人民政府"]
    assert run("cards", "--data", gpkg, "--township", "鲇鱼山镇", "--out", str(out), *units) == 0
    work = pdf_text(out)[0]
    assert "0798-8888888" in work and "区消防救援大队" in work and "鲇鱼山镇人民政府" in work


def test_cards_zip(gpkg, tmp_path):
    out = tmp_path / "cards.zip"
    assert run("cards", "--data", gpkg, "--hazard", "H1", "H2", "--out", str(out)) == 0
    assert len(zipfile.ZipFile(out).namelist()) == 2


def test_batch_reports_progress_on_stderr(gpkg, tmp_path, capsys):
    out = tmp_path / "pack.zip"
    assert run("batch", "--data", gpkg, "--warning-id", "W2", "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert "[2/2] H2" in captured.err
    assert "wrote 2 hazard point(s), 6 files" in captured.out


@pytest.mark.parametrize(("kind", "name", "layer"), [("routes", "r.gpx", "tracks"), ("zones", "z.kml", "危险区")])
def test_vector_files(gpkg, tmp_path, kind, name, layer):
    out = tmp_path / name
    assert run(kind, "--data", gpkg, "--out", str(out)) == 0
    assert len(pyogrio.read_dataframe(out, layer=layer)) >= 2


def test_reports(gpkg, tmp_path):
    warning = tmp_path / "w.xlsx"
    assert run("warning-report", "--data", gpkg, "--out", str(warning), "--warning", "西郊街道=黄色") == 0
    assert openpyxl.load_workbook(warning)["预警区"]["B2"].value == "三级（黄色）"
    summary = tmp_path / "w.pdf"
    assert run("warning-report", "--data", gpkg, "--out", str(summary)) == 0
    assert "一级（红色）" in pdf_text(summary)[0]
    pools = tmp_path / "p.xlsx"
    assert run("pools-report", "--data", gpkg, "--out", str(pools), "--metric", "straight") == 0
    assert "学校覆盖" in openpyxl.load_workbook(pools).sheetnames


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["drill-map", "--hazard", "H1", "--out", "map.svg"], "use a .pdf or .png file"),
        (["drill-map", "--hazard", "H3", "--out", "map.pdf"], "not active"),
        (["batch", "--township", "丽阳镇", "--out", "b.zip"], "unknown township"),
        (["routes", "--out", "r.shp"], "choose a format"),
    ],
)
def test_usage_errors(gpkg, tmp_path, capsys, argv, message):
    argv = [a if not a.endswith((".svg", ".pdf", ".zip", ".shp")) else str(tmp_path / a) for a in argv]
    assert run(*argv[:1], "--data", gpkg, *argv[1:]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_missing_cjk_font_is_a_clear_error(gpkg, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setenv(fonts.FONT_DIRS_ENV, str(empty))
    assert run("drill-map", "--data", gpkg, "--hazard", "H1", "--out", str(tmp_path / "m.pdf")) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: no Chinese font with TrueType outlines") and "fonts-wqy-microhei" in err
    assert not (tmp_path / "m.pdf").exists()
