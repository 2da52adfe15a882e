"""The importers' pure parts: headers, coded values, cells, degree-minute-second text, coordinate systems,
encodings and archive member names — each on the spellings real inventories use."""

from __future__ import annotations

import numpy as np
import pytest

from geo.importers import aliases, archive, coords, encoding, values
from geo.importers.base import BadValue
from geo.model.schema import LAYERS
from geo.settings import ROOT

# --------------------------------------------------------------------------------------------------
# Headers and values


@pytest.mark.parametrize("layer", aliases.IMPORTABLE)
def test_every_header_spelling_names_one_target(layer):
    index = aliases.header_index(layer)
    assert {target for target, _ in index.values()} >= set(LAYERS[layer].columns)


@pytest.mark.parametrize(
    "header",
    ["威胁财产（万元）", "威胁财产(万元)", " 威胁财产 【万元】", "威胁财产\n（万元）*", "威胁财产"],
)
def test_bracket_width_spaces_and_line_breaks_do_not_matter_in_headers(header):
    match = aliases.match_columns([header], "hazard_points")
    assert match.fields == {"threatened_property_10k_yuan": header}


def test_the_inventory_headers_of_the_issue_map_to_the_model():
    headers = ["统一编号", "野外编号", "名称", "灾害类型", "规模等级", "乡镇", "村", "经度", "纬度", "X", "Y",
               "威胁户数", "威胁人数", "威胁财产(万元)", "监测人", "联系电话", "避险场所", "险情等级"]  # fmt: skip
    match = aliases.match_columns(headers, "hazard_points")
    assert match.fields == {
        "hazard_id": "统一编号",
        "name": "名称",
        "hazard_type": "灾害类型",
        "scale_class": "规模等级",
        "township": "乡镇",
        "village": "村",
        "threatened_households": "威胁户数",
        "threatened_people": "威胁人数",
        "threatened_property_10k_yuan": "威胁财产(万元)",
        "monitor_name": "监测人",
        "monitor_phone": "联系电话",
        "shelter_id": "避险场所",
    }
    assert match.coords == {"lon": "经度", "lat": "纬度", "x": "X", "y": "Y"}
    assert match.derived == ["险情等级"]  # plan 3.2: the danger grade is always derived
    assert match.unmapped == ["野外编号"]


def test_a_columns_own_title_beats_a_looser_spelling():
    match = aliases.match_columns(["编号", "统一编号"], "hazard_points")
    assert match.fields == {"hazard_id": "统一编号"}
    assert match.unmapped == ["编号"]


def test_two_equally_good_columns_for_one_target_clash():
    assert aliases.match_columns(["乡镇", "所在乡镇"], "villages").clashes == {"township": ["乡镇", "所在乡镇"]}


def test_dbf_field_names_cut_at_ten_bytes_still_match():
    columns = ["统一编号", "威胁财产(", "威胁"]  # 威胁财产(万元) as GDAL leaves it in a GBK DBF
    match = aliases.match_columns(columns, "hazard_points", short_names=True)
    assert match.fields == {"hazard_id": "统一编号", "threatened_property_10k_yuan": "威胁财产("}
    assert match.unmapped == ["威胁"]  # the start of 威胁户数, 威胁人数 and 威胁财产: no telling which
    assert "威胁财产(" in aliases.match_columns(columns, "hazard_points").unmapped


@pytest.mark.parametrize(
    ("column", "text", "code"),
    [
        ("hazard_type", "滑坡", "landslide"),
        ("hazard_type", "崩塌", "collapse"),
        ("hazard_type", "泥石流", "debris_flow"),
        ("hazard_type", "地面塌陷", "ground_collapse"),
        ("hazard_type", "不稳定斜坡", "unstable_slope"),
        ("hazard_type", "地裂缝", "ground_fissure"),
        ("hazard_type", "地面沉降", "ground_subsidence"),
        ("hazard_type", "Debris-Flow", "debris_flow"),
        ("scale_class", "小型", "small"),
        ("scale_class", "中型", "medium"),
        ("scale_class", "大型", "large"),
        ("scale_class", "特大型", "giant"),
        ("status", "在册", "active"),
        ("status", "已治理", "treated"),
        ("status", "已核销", "cancelled"),
    ],
)
def test_chinese_coded_values_map_to_the_stored_codes(column, text, code):
    assert values.to_code(text, "hazard_points", LAYERS["hazard_points"].field(column)) == code


def test_an_unknown_coded_value_lists_the_allowed_ones():
    with pytest.raises(BadValue) as caught:
        values.to_code("火山", "hazard_points", LAYERS["hazard_points"].field("hazard_type"))
    assert "滑坡" in caught.value.msg.zh and "landslide" in caught.value.msg.en


@pytest.mark.parametrize(
    ("text", "expected"),
    [("是", True), ("否", False), ("有", True), ("无", False), ("Yes", True), ("n", False), (1, True), ("0", False)],
)
def test_yes_and_no_in_chinese_and_english(text, expected):
    assert values.to_bool(text) is expected


def test_counts_amounts_and_text_as_inventories_write_them():
    assert values.to_count("1,200人", 0) == 1200
    assert values.to_count("３０户", 0) == 30
    assert values.to_real("80万元", 0) == 80.0
    assert values.to_text(13800000001.0) == "13800000001"
    assert values.clean("\u3000 枫林村 ") == "枫林村"
    for bad in ("很多", "1.5", "-3"):
        with pytest.raises(BadValue):
            values.to_count(bad, 0)


# --------------------------------------------------------------------------------------------------
# Degrees


@pytest.mark.parametrize(
    ("text", "degrees", "axis"),
    [
        ("117°12′30″", 117 + 12 / 60 + 30 / 3600, None),
        ("117度12分30秒", 117 + 12 / 60 + 30 / 3600, None),
        ("E117°12'30.5\"", 117 + 12 / 60 + 30.5 / 3600, "lon"),
        ("29°18'N", 29.3, "lat"),
        ("东经117°12′30″", 117 + 12 / 60 + 30 / 3600, "lon"),
        ("北纬29°18.5′", 29 + 18.5 / 60, "lat"),
        ("117:12:30", 117 + 12 / 60 + 30 / 3600, None),
        ("１１７°１２′", 117.2, None),
        ("117.2083", 117.2083, None),
        ("S12°30'", -12.5, "lat"),
    ],
)
def test_degree_minute_second_spellings(text, degrees, axis):
    angle = coords.parse_angle(text)
    assert angle.degrees == pytest.approx(degrees, abs=1e-12)
    assert angle.axis == axis


@pytest.mark.parametrize("text", ["117°72′", "117.5°30′", "abc", "N29°N", "117°12′30″40", "1e5"])
def test_malformed_angles_are_refused(text):
    with pytest.raises(BadValue):
        coords.parse_angle(text)


# --------------------------------------------------------------------------------------------------
# Coordinate systems


def test_crs_codes_of_the_gauss_kruger_families():
    assert coords.three_degree_epsg(39) == 4527
    assert coords.six_degree_epsg(20) == 4498
    assert coords.plain_zone_epsg(117.2) == 4548
    assert [coords.three_degree_epsg(z) for z in (25, 45)] == [4513, 4533]
    assert [coords.six_degree_epsg(z) for z in (13, 23)] == [4491, 4501]


def test_pairs_are_classified_by_their_values():
    a = np.array([117.2, 29.3, 3245000.0, 39520000.0, 20520000.0, 520000.0, 5.0, np.nan])
    b = np.array([29.3, 117.2, 39520000.0, 3245000.0, 3245000.0, 3245000.0, 5.0, 29.0])
    found = coords.classify_pairs(a, b, plain_epsg=4548)
    assert found.kind.tolist() == [
        coords.LONLAT,
        coords.LONLAT_SWAPPED,
        coords.PREFIXED,
        coords.PREFIXED,
        coords.PREFIXED,
        coords.PLAIN,
        coords.LONLAT,  # (5, 5) is lon/lat outside China: the row check refuses it, not the classifier
        coords.UNKNOWN,
    ]
    assert found.epsg.tolist()[:6] == [4490, 4490, 4527, 4527, 4498, 4548]
    assert found.survey_order.tolist()[:4] == [False, False, True, False]
    assert (found.x[:4] == [117.2, 117.2, 39520000.0, 39520000.0]).all()


def test_a_vector_files_geometry_is_never_reordered():
    found = coords.classify_pairs(np.array([29.3, 3245000.0]), np.array([117.2, 39520000.0]), 4548, reorder=False)
    assert found.kind.tolist() == [coords.UNKNOWN, coords.UNKNOWN]


def test_an_assumed_zone_is_said_out_loud():
    found = coords.classify_pairs(np.array([520000.0]), np.array([3245000.0]), 4548)
    notes = coords.describe(found, 4548, coords.Msg("取自数据集", "from the data set"))
    assert "ASSUMED EPSG:4548" in notes[0].en and "假定" in notes[0].zh


def test_crs_option_takes_only_epsg_codes():
    assert coords.parse_crs("EPSG:4527").to_epsg() == 4527
    assert coords.parse_crs("4548").to_epsg() == 4548
    for bad in ("+proj=longlat", "/etc/passwd", "EPSG:1"):
        with pytest.raises(ValueError, match="EPSG"):
            coords.parse_crs(bad)


# --------------------------------------------------------------------------------------------------
# Encodings and archives


def test_mojibake_is_told_from_chinese_text():
    text = "枫林村滑坡 塅下村崩塌 鲇鱼山镇"
    assert not encoding.looks_like_mojibake(text)
    assert encoding.looks_like_mojibake(text.encode("gbk").decode("latin-1"))
    assert encoding.looks_like_mojibake(text.encode("utf-8").decode("cp1252", errors="replace"))
    assert not encoding.looks_like_mojibake("Café Müller")


def test_encoding_candidates_follow_cpg_then_language_driver_then_content():
    assert [c for c, _ in encoding.dbf_candidates(0x4D, None)] == ["gbk", "utf-8", "gb18030"]
    assert [c for c, _ in encoding.dbf_candidates(0x57, "UTF-8")][:3] == ["utf-8", "gbk", "cp1252"]
    assert encoding.cpg_codec("ANSI 936") == "gbk"
    assert encoding.cpg_codec("65001") == "utf-8"
    assert encoding.cpg_codec("nonsense") is None
    samples = ["鲇鱼山镇".encode("gbk")]
    assert encoding.choose(samples, encoding.dbf_candidates(0x57, None))[0] == "gbk"
    assert encoding.choose(samples, encoding.dbf_candidates(0, "UTF-8"))[0] == "gb18030"


def test_a_character_cut_at_the_end_of_a_dbf_string_is_let_go():
    cut = "威胁财产(万".encode("gbk")[:10]
    assert encoding.decodes_cleanly([cut], "gbk")
    assert not encoding.decodes_cleanly([cut + b"(x"], "gbk")  # inside the text it is no cut but an error


@pytest.mark.parametrize(
    ("name", "unsafe"),
    [("a.shp", False), ("数据/隐患点.shp", False), ("../evil.shp", True), ("a/../../b.shp", True),
     ("/etc/passwd", True), ("C:\\x.shp", True), ("a\\..\\b", True), ("a\nb.shp", True)],
)  # fmt: skip
def test_archive_member_names_that_climb_or_are_absolute_are_unsafe(name, unsafe):
    assert archive.unsafe_member_name(name) is unsafe


def test_the_guide_embeds_the_alias_tables():
    guide = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    assert aliases.markdown_tables().strip() in guide
