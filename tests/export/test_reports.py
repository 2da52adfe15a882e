"""Excel reports of the warning (plan 4.5) and of pool coverage, and the one-page PDF summary of the warning."""

from __future__ import annotations

import re

import openpyxl
import pytest

from geo.analysis import exposure, pools
from geo.export import reports
from geo.model import rules
from tests.support.exporting import SETTINGS, fonts_of, page_sizes_mm, pdf_text
from tests.support.fixtures import tiny_dataset


@pytest.fixture(scope="module")
def result() -> exposure.ExposureResult:
    return exposure.analyse(tiny_dataset())


@pytest.fixture(scope="module")
def coverage() -> pools.PoolCoverage:
    return pools.pool_coverage(tiny_dataset())


@pytest.fixture(scope="module")
def warning_book(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("reports") / "warning.xlsx"
    reports.write_warning_report(result, path, SETTINGS)
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def pools_book(coverage, tmp_path_factory):
    path = tmp_path_factory.mktemp("reports") / "pools.xlsx"
    reports.write_pools_report(coverage, path, SETTINGS)
    return openpyxl.load_workbook(path)


def _rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


def test_warning_workbook_sheets_headers_and_layout(warning_book):
    assert warning_book.sheetnames == ["预警区", "乡镇", "按预警等级", "隐患点", "说明"]
    for ws in warning_book.worksheets[:-1]:
        assert ws.freeze_panes == "B2"
        assert all(cell.font.bold for cell in ws[1])
        assert all(cell.font.bold for cell in ws[ws.max_row])  # the totals row
        assert ws.column_dimensions["A"].width > 8


def test_warning_totals_are_the_district_figures_of_the_analysis(warning_book, result):
    district = result.district
    for name in ("预警区", "乡镇", "按预警等级"):
        totals = _rows(warning_book[name])[-1]
        assert totals["隐患点（处）"] == district["hazard_points"]
        assert totals["威胁人数"] == district["threatened_people"]
        assert totals["危险区内人口"] == district["people_in_danger_zones"]
    areas = _rows(warning_book["预警区"])[:-1]
    assert [a["预警编号"] for a in areas] == list(result.areas["warning_id"])
    assert [a["威胁人数"] for a in areas] == list(result.areas["threatened_people"])
    points = _rows(warning_book["隐患点"])
    assert len(points) == len(result.hazard_points) + 1
    assert points[-1]["威胁人数"] == district["threatened_people"]
    assert warning_book["隐患点"]["I2"].number_format == "#,##0"


def test_no_cell_says_none_or_nan(warning_book, pools_book):
    for book in (warning_book, pools_book):
        for ws in book.worksheets:
            for row in ws.iter_rows(values_only=True):
                for value in row:
                    assert not (isinstance(value, str) and re.fullmatch(r"(?i)none|nan|<na>", value)), ws.title


def test_notes_sheet_carries_the_assumptions_and_deadlines(warning_book, result):
    notes = [c.value for c in warning_book["说明"]["A"] if c.value]
    assert result.assumptions[0] in notes
    assert any(line.startswith("1小时报告") for line in notes)
    assert any(rules.cite("5.1.1") in line for line in notes)


def test_pools_totals_match_the_coverage(pools_book, coverage):
    towns = _rows(pools_book["乡镇"])
    assert towns[-1]["培训经费（元）"] == coverage.budget_yuan
    assert towns[-1]["四年级学生"] == sum(t["四年级学生"] for t in towns[:-1])
    schools = _rows(pools_book["学校覆盖"])
    assert len(schools) == len(coverage.schools) + 1
    assert schools[-1]["四年级学生"] == int(coverage.schools["grade4_students"].sum())
    assert schools[-1]["服务半径内"] == f"{int(coverage.schools['covered'].sum())} 所"
    assert {s["服务半径内"] for s in schools[:-1]} <= {"是", "否"}


def test_warning_summary_is_one_a4_page_with_levels_people_actions_and_deadlines(result, tmp_path):
    path = tmp_path / "summary.pdf"
    reports.write_warning_report(result, path, SETTINGS)
    assert page_sizes_mm(path) == [(210, 297)]
    text = pdf_text(path)[0].replace("\n", "")
    district = result.district
    assert f"最高预警等级：{district['level_zh']}" in text
    assert f"威胁 {district['threatened_people']:,} 人" in text
    for point in result.hazard_points.itertuples():
        assert point.name in text
    red_actions = [a for a in rules.warning_actions("red") if a.topic == "access_control"]
    assert red_actions[0].text_zh in text
    assert "1小时报告" in text and "12小时报告" in text
    assert all(f["files"] == ["/FontFile2"] for f in fonts_of(path))


def test_report_deadlines_follow_the_rules():
    one, twelve, continued = reports.report_deadlines_zh()
    assert one.startswith(f"{rules.ONE_HOUR_REPORT.hours}小时报告")
    assert twelve.startswith(f"{rules.TWELVE_HOUR_REPORT.hours}小时报告")
    assert rules.SKIP_LEVEL_NOTE_ZH in continued


def test_wrong_file_types_are_refused(result, coverage, tmp_path):
    with pytest.raises(ValueError, match=r"use \.xlsx or \.pdf"):
        reports.write_warning_report(result, tmp_path / "w.csv", SETTINGS)
    with pytest.raises(ValueError, match=r"use \.xlsx"):
        reports.write_pools_report(coverage, tmp_path / "p.pdf", SETTINGS)
