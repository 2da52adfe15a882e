"""The two 明白卡 of plan 4.1.3: the fields they carry, blanks instead of None/nan, A4 sheets, embedded fonts."""

from __future__ import annotations

import re
import zipfile

import pytest
from shapely.geometry import Point, box

from geo.analysis import evacuation
from geo.export import cards
from geo.export.hazard import ExportData, direction_zh, relative_position_zh
from geo.export.page import BLANK
from geo.model import rules, schema
from geo.settings import AnalysisSettings
from tests.support.exporting import SETTINGS, difference, fonts_of, page_sizes_mm, pdf_text, render_page
from tests.support.fixtures import tiny_dataset


@pytest.fixture(scope="module")
def tiny() -> ExportData:
    return ExportData.prepare(tiny_dataset())


@pytest.fixture(scope="module")
def pdf(tiny, tmp_path_factory):
    path = tmp_path_factory.mktemp("cards") / "cards.pdf"
    cards.write_cards(tiny, ["H1", "H2"], path, SETTINGS)
    return path


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    return [text.replace("\n", "") for text in pdf_text(pdf)]


def test_each_point_has_a_work_card_then_its_household_cards_on_a4(pdf, pages):
    assert page_sizes_mm(pdf) == [(210, 297)] * 4
    kinds = ["工作" if "防灾工作明白卡" in p else "避险" if "防灾避险明白卡" in p else "?" for p in pages]
    assert kinds == ["工作", "避险", "工作", "避险"]


def test_work_card_carries_what_plan_4_1_3_names(pages):
    work = pages[0]
    route = evacuation.evacuation_routes(tiny_dataset(), hazard_ids=["H1"]).routes.iloc[0]
    for expected in (
        "枫林村滑坡",
        "H1",
        "鲇鱼山镇 枫林村",
        "东经 117.25000°",
        "滑坡",
        "诱发因素",
        cards.TYPE_NOTES["landslide"][0],
        "40 户 150 人",
        "枫林村（320人）",
        "王监测",
        "13800000001",
        "李责任",
        "群测群防",
        "监测迹象",
        "临灾预警判据",
        "鸣锣",
        "预警信号发布人",
        "撤离命令发布人",
        "枫林村委会",
        f"{round(route.length_m, -1):.0f} 米",
        f"约 {round(route.walk_minutes)} 分钟",
        "值班电话",
        "抢险单位",
        "治安保卫单位",
        "医疗救护单位",
        "4.1.3",
        "2024年6月1日",
    ):
        assert expected in work, expected
    for level in rules.WARNING_LEVELS.values():
        assert f"{level.name_zh}预警" in work


def test_household_card_places_the_village_from_the_geometry(tiny, pages):
    facts = tiny.facts("H1")
    village = facts.villages.iloc[0]
    position = relative_position_zh(facts.point, village.geometry)
    assert position == "位于隐患点东北约220米"  # V1 is 194 m east and 111 m north of H1
    household = pages[1]
    assert position in household
    for blank in ("户主姓名", "家庭人数", "本户转移人员"):
        assert f"{blank}{BLANK}" in household.replace(" ", "")


def test_missing_inventory_fields_print_as_blanks_never_none_or_nan(pages):
    h2 = pages[2]  # H2 has no monitor phone, no responsible person, no signal, no shelter assigned
    assert BLANK in h2
    for page in pages:
        assert not re.search(r"\bNone\b|\bnan\b|<NA>", page, re.IGNORECASE), page


def test_a_hazard_point_without_villages_in_its_zones_gets_one_household_card(tmp_path):
    layers = tiny_dataset()
    layers["villages"] = layers["villages"][layers["villages"]["village_id"] != "V1"]
    data = ExportData.prepare(layers)
    path = tmp_path / "cards.pdf"
    cards.write_cards(data, ["H1"], path, SETTINGS)
    household = pdf_text(path)[1].replace("\n", "")
    assert "隐患点处（150人）" in household  # the route starts at the hazard point itself
    assert f"与隐患点的位置关系：{BLANK}" in household


def test_fonts_are_embedded(pdf):
    assert all(f["files"] == ["/FontFile2"] and f["to_unicode"] for f in fonts_of(pdf))


def test_render_matches_the_reference(pdf):
    assert difference(render_page(pdf, dpi=30, page=1), "cards_H1_work") < 2.0


def test_cards_zip_has_one_pdf_per_point(tiny, tmp_path):
    path = tmp_path / "cards.zip"
    cards.write_cards_archive(tiny, ["H1", "H2"], path, SETTINGS)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["H1_枫林村滑坡.pdf", "H2_新安村崩塌.pdf"]
        assert "新安村崩塌" in pdf_text(archive.read("H2_新安村崩塌.pdf"))[0]


def test_every_hazard_type_has_its_triggers_signs_and_criteria():
    assert set(cards.TYPE_NOTES) == set(schema.HAZARD_TYPES)
    assert all(all(text.strip() for text in notes) for notes in cards.TYPE_NOTES.values())


def test_warning_duties_come_from_the_plan_rules():
    lines = cards.warning_duties_zh()
    assert len(lines) == len(rules.WARNING_LEVELS)
    red = rules.WARNING_LEVELS["red"]
    assert any(a.text_zh.rstrip("。") in lines[-1] for a in red.actions if a.topic == "evacuation")


@pytest.mark.parametrize(
    ("dx", "dy", "expected"),
    [(0, 100, "北"), (100, 100, "东北"), (100, 0, "东"), (100, -100, "东南"), (-100, -5, "西"), (-60, 100, "西北")],
)
def test_directions(dx, dy, expected):
    assert direction_zh(dx, dy) == expected


def test_relative_position_rounds_to_ten_metres_and_says_at_the_point_when_close():
    origin = Point(500_000, 3_240_000)
    assert relative_position_zh(origin, Point(500_123, 3_240_000)) == "位于隐患点东约120米"
    assert relative_position_zh(origin, Point(500_010, 3_240_005)) == "位于隐患点处"


def test_a_point_no_route_reaches_names_the_nearest_shelters(tmp_path):
    layers = tiny_dataset()
    # A wall of H2's danger zone across the only road: H1's people cannot reach a shelter without crossing it.
    zones = layers["danger_zones"]
    zones.loc[zones["hazard_id"] == "H2", "geometry"] = [box(117.26, 29.29, 117.262, 29.40)]
    data = ExportData.prepare(layers)
    assert not data.facts("H1").routes["reachable"].any()
    shelters = layers["shelters"].to_crs("EPSG:4548")
    point = layers["hazard_points"].to_crs("EPSG:4548").geometry.iloc[0]
    nearest = list(shelters.iloc[shelters.distance(point).argsort()[:2]]["name"])
    path = tmp_path / "cards.pdf"
    cards.write_cards(data, ["H1"], path, SETTINGS)
    work = pdf_text(path)[0].replace("\n", "")
    assert "附近避灾场所" in work and all(name in work for name in nearest)
    assert "未找到可通行的撤离路线" in work


def _no_shelters(layers):
    layers["shelters"] = layers["shelters"].iloc[:0]


def _walled_off_by_h2(layers):
    zones = layers["danger_zones"]
    zones.loc[zones["hazard_id"] == "H2", "geometry"] = [box(117.26, 29.29, 117.262, 29.40)]


@pytest.mark.parametrize(
    ("change", "max_snap_m", "reason_zh"),
    [
        # V1 lies some 20-50 m from the nearest road: with 5 m as the limit it is off the roads.
        (lambda layers: None, 5.0, "起点周围5米内没有道路"),
        # H1's assigned shelter SH1 goes with the others: the card names it too.
        (_no_shelters, 2000.0, "预定避灾场所SH1不在避灾场所图层中；危险区外没有接入路网的避灾场所"),
        # H1's assigned shelter SH1 lies behind the wall as well.
        (
            _walled_off_by_h2,
            2000.0,
            "预定避灾场所SH1只能穿过其他隐患点的危险区到达；"
            "危险区外的避灾场所都只能穿过其他隐患点的危险区到达，途中有隐患点H2的危险区阻隔",
        ),
    ],
    ids=["origin_off_road", "no_safe_shelter_on_network", "safe_shelters_blocked"],
)
def test_plan_4_1_3_cards_of_an_unreachable_origin_say_why_in_chinese_only(tmp_path, change, max_snap_m, reason_zh):
    # Plan 4.1.3: both cards carry the 撤离路线 to the people it threatens; where there is none, the reason is
    # theirs to read, so it is Chinese with its numbers, and no English sentence slips into the card.
    layers = tiny_dataset()
    change(layers)
    data = ExportData.prepare(layers, AnalysisSettings(max_snap_distance_m=max_snap_m))
    assert not data.facts("H1").routes["reachable"].any()
    path = tmp_path / "cards.pdf"
    cards.write_cards(data, ["H1"], path, SETTINGS)
    work, household = (page.replace("\n", "") for page in pdf_text(path))
    for card in (work, household):
        assert f"未找到可通行的撤离路线，须现场确定（{reason_zh}）" in card
        # Latin letters appear only in ids (H1, H2): no English word, let alone a sentence.
        assert not re.search(r"[A-Za-z]{3,}", card), re.findall(r"[A-Za-z][A-Za-z ,;'()]{2,}", card)
