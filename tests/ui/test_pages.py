"""The Warning, Evacuation, Pools and Data pages: their table-building functions, downloads, edits, and each page
running under Streamlit's AppTest in Chinese and English.

Nothing here writes the committed demo file: page runs and edits use a copy in a temporary directory, named by
``HAZMAP_DATA``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
import streamlit_folium
from streamlit.testing.v1 import AppTest

import layers as maplayers
from geo import store
from geo.access import auth
from geo.analysis import evacuation, exposure, pools, siting
from geo.importers import warning_areas
from geo.model import rules, schema
from geo.settings import DEMO_DATA, ROOT, AnalysisSettings
from layers.assets import remote_references, standalone_html
from layers.common import HazmapLayer, walk
from layers.escape import escape_text
from tests.support.fixtures import tiny_dataset
from tests.support.users import write_users
from ui import auth as signin
from ui import data_page, evacuation_page, pools_page, response, warning_page, widgets

APP = ROOT / "app.py"
PAGES = ("warning_page", "evacuation_page", "pools_page", "data_page")
#: Who saves in the tests that call the Data page's functions: editing needs the editor role.
EDITOR = auth.User("web", "editor")


@pytest.fixture(scope="module")
def demo() -> dict[str, gpd.GeoDataFrame]:
    """The demo data set, read once; tests only read it."""
    return store.open(DEMO_DATA).read_layers()


@pytest.fixture(scope="module")
def demo_exposure(demo) -> exposure.ExposureResult:
    return exposure.analyse(demo)


@pytest.fixture(scope="module")
def demo_routes(demo) -> evacuation.EvacuationResult:
    return evacuation.evacuation_routes(demo)


@pytest.fixture(scope="module")
def demo_coverage(demo) -> pools.PoolCoverage:
    return pools.pool_coverage(demo)


@pytest.fixture
def tiny_file(tmp_path) -> Path:
    path = tmp_path / "tiny.gpkg"
    store.open(path).create(tiny_dataset(), user="fixture")
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(sheet) -> list[dict]:
    header, *rows = list(sheet.values)
    return [dict(zip(header, row, strict=True)) for row in rows]


# --------------------------------------------------------------------------------------------------
# Shared widgets


def test_highlighted_tables_show_numbers_as_a_reader_writes_them():
    table = pd.DataFrame({"路线长度（米）": [3168.0, 412.5], "人数": [1083, 7], "说明": [None, "绕行"]})
    html = widgets.highlight_rows(table, [False, True]).to_html()
    for shown in ("3,168", "412.5", "1,083", "绕行"):
        assert f">{shown}</td>" in html
    assert "3168.000000" not in html and ">None<" not in html and "nan" not in html
    # Streamlit draws a missing value as "None" whatever the style: a column with gaps is sent as text.
    data = widgets.readable(table).data
    assert data["说明"].tolist() == ["", "绕行"] and data["路线长度（米）"].dtype.kind == "f"
    big = pd.concat([table] * (widgets.READABLE_ROWS // 2 + 1), ignore_index=True)
    assert widgets.readable(big) is big  # too many cells to style on every rerun
    assert [widgets.shown_number(v) for v in (2.0, 0.25, np.int64(12000), True, "BZ1", float("nan"))] == [
        "2",
        "0.2",
        "12,000",
        "True",
        "BZ1",
        "",
    ]


def test_the_maps_first_report_equals_the_default_so_loading_it_reruns_nothing():
    # streamlit-folium's page builds its report as {last_clicked: ..., last_object_clicked: ..., ...} and sends it
    # when its JSON differs from the last one sent (the default, at first): the order of the keys counts.
    bundle = next((Path(streamlit_folium.__file__).parent / "frontend" / "build" / "static" / "js").glob("main.*.js"))
    report = re.search(r"let c=\{(last_clicked:.*?)\};", bundle.read_text(encoding="utf-8")).group(1)
    order = re.findall(r"(?:^|,)(\w+):", report)
    wanted = ["last_active_drawing", "last_object_clicked_count", "last_clicked"]
    default = widgets.untouched_state(wanted)
    assert list(default) == [key for key in order if key in wanted]
    assert json.dumps(default) == '{"last_clicked": null, "last_object_clicked_count": 0, "last_active_drawing": null}'
    with pytest.raises(ValueError, match="bounds"):
        widgets.untouched_state(["bounds"])


def test_present_gives_titles_and_words_in_either_language():
    frame = pd.DataFrame(
        {
            "level": ["red"],
            "evacuate": ["required"],
            "covered": [True],
            "warning_ids": [["W1", "W2"]],
            "threatened_people": [150],
            "hazard_type": ["landslide"],
        }
    )
    zh = widgets.present(frame, ["level", "evacuate", "covered", "warning_ids", "threatened_people", "missing"], "zh")
    assert list(zh.columns) == ["预警等级", "转移", "服务半径内", "所在预警区", "威胁人数"]
    assert zh.iloc[0].tolist() == ["一级（红色）", "立即转移", "是", "W1、W2", 150]
    en = widgets.present(frame, ["level", "hazard_type", "covered"], "en")
    assert list(en.columns) == ["Warning level", "Hazard type", "Covered"]
    assert en.iloc[0].tolist() == ["Level I (red)", "Landslide", "yes"]


def test_numbered_columns_of_the_nearest_pools_have_titles():
    assert widgets.title("pool_2", "zh") == "第 2 近设施"
    assert widgets.title("distance_m_3", "en") == "Distance 3 (m)"


def test_excel_has_one_sheet_per_table_and_keeps_text_that_looks_like_a_formula_as_text():
    tables = {
        "预警区": pd.DataFrame({"名称": ['=HYPERLINK("x")', "甲"], "人数": [1, 2]}),
        "乡镇": pd.DataFrame({"乡镇": ["乙"]}),
    }
    book = _workbook(widgets.excel_bytes(tables))
    assert book.sheetnames == ["预警区", "乡镇"]
    sheet = book["预警区"]
    assert [c.value for c in sheet[1]] == ["名称", "人数"]
    assert sheet["A2"].data_type == "s"
    assert sheet["B3"].value == 2


def test_sheet_names_are_made_safe_and_unique_for_excel():
    names = widgets.sheet_names(["a/b", "a/b", "x" * 40, "[预警]"])
    assert names[0] == "a_b" and names[1] == "a_b (2)"
    assert len(names[2]) == 31
    assert names[3] == "_预警_"


def test_csv_has_a_byte_order_mark_and_defuses_formulas():
    data = widgets.csv_bytes(pd.DataFrame({"名称": ["=1+1", "滑坡"], "人数": [3, -4]}))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "'=1+1" in text and "滑坡" in text and "-4" in text


def test_markdown_escape_leaves_no_syntax_for_markdown_or_streamlit():
    escaped = widgets.md_escape("**粗** $x$ :red[y] <b>")
    assert "**" not in escaped.replace("\\*", "")
    assert "\\$" in escaped and "\\:" in escaped and "\\<" in escaped


# --------------------------------------------------------------------------------------------------
# Warning page


def test_warning_excel_has_every_table_with_chinese_headers_and_the_analysis_totals(demo_exposure):
    result = demo_exposure
    book = _workbook(widgets.excel_bytes(warning_page.result_tables(result, "zh")))
    assert book.sheetnames == ["全区合计", "预警区", "乡镇", "隐患点", "响应措施"]
    district = _rows(book["全区合计"])
    total = district[0]
    assert total["预警等级"] == "合计"
    assert total["隐患点数"] == result.district["hazard_points"]
    assert total["威胁人数"] == result.district["threatened_people"]
    assert total["危险区内人口"] == result.district["people_in_danger_zones"]
    # Township and level rows count each hazard point once (docs/data-model.md), so they add up to the district total.
    assert sum(row["隐患点数"] for row in _rows(book["乡镇"])) == result.district["hazard_points"]
    assert sum(row["隐患点数"] for row in district[1:]) == result.district["hazard_points"]
    assert len(_rows(book["隐患点"])) == len(result.hazard_points)
    assert len(_rows(book["预警区"])) == len(result.areas)


def test_warning_tables_read_in_english_too(demo_exposure):
    tables = warning_page.result_tables(demo_exposure, "en")
    assert list(tables) == ["District", "Warning areas", "Townships", "Hazard points", "Response checklist"]
    assert tables["District"].iloc[0]["Warning level"] == "Total"
    assert "Assigned shelter" in tables["Hazard points"].columns


def test_the_red_tab_counts_the_people_in_the_red_points_danger_zones_each_village_once(demo, demo_exposure):
    """Plan 4.5.4: at red the people in the danger zones are moved; SCHEMA.md counts each village once."""
    # Independently of the analysis: red is the highest level, so every active point a red area covers (in or on
    # it) counts at red; the people to move live in the villages in or on the union of those points' zones.
    active = demo["hazard_points"][demo["hazard_points"]["status"] == "active"]
    red = demo["warning_areas"][demo["warning_areas"]["level"] == "red"].union_all()
    red_points = active.loc[active.intersects(red), "hazard_id"]
    zones = demo["danger_zones"][demo["danger_zones"]["hazard_id"].isin(red_points)].union_all()
    villages = demo["villages"][demo["villages"].intersects(zones)]
    people, households = int(villages["population"].sum()), int(villages["households"].sum())
    assert (len(red_points), people) == (5, 794)
    by_level = demo_exposure.district["by_level"]["red"]
    assert (by_level["hazard_points"], by_level["people_in_danger_zones"]) == (len(red_points), people)
    caption = warning_page.level_caption(demo_exposure, "red", "zh")
    assert caption.startswith("5 个隐患点需巡查（全部隐患点）；转移：立即转移。")
    assert f"危险区内 {len(villages)} 个村庄，{people:,} 人、{households:,} 户" in caption
    # Adding up the points' own figures counts the villages inside two red points' zones twice (2,129).
    own = demo_exposure.hazard_points.query("level == 'red'")["people_in_danger_zones"].sum()
    assert own > people


def test_a_village_in_the_danger_zones_of_two_points_counts_once_in_their_levels_tab():
    """SCHEMA.md "People in danger zones": each village once, however many points' zones hold it."""
    layers = tiny_dataset()
    # A second zone of H2 reaches village V1 (320 people, 95 households), already in H1's zones; red W2 covers both.
    reach = gpd.GeoDataFrame({"hazard_id": ["H2"]}, geometry=[shapely.box(117.25, 29.30, 117.26, 29.31)], crs=4490)
    layers["danger_zones"] = pd.concat([layers["danger_zones"], reach], ignore_index=True)
    result = exposure.analyse(layers)
    points = result.hazard_points.set_index("hazard_id")
    assert points.loc[["H1", "H2"], ["level", "people_in_danger_zones"]].values.tolist() == [["red", 320], ["red", 320]]
    assert warning_page.levels_warned(result) == ["red"]
    assert "危险区内 1 个村庄，320 人、95 户" in warning_page.level_caption(result, "red", "zh")
    assert "1 villages, 320 people, 95 households" in warning_page.level_caption(result, "red", "en")
    # Only red points are warned, so the metric above the tabs, the district total, says the same.
    assert result.district["people_in_danger_zones"] == 320


def test_response_checklist_holds_every_cumulative_action_grouped_by_unit():
    """Emergency plan 4.5: each level acts on top of the levels below it."""
    checklist = response.response_checklist("red", "zh")
    actions = rules.warning_actions("red")
    assert len(checklist) == len(actions)
    assert set(checklist["action"]) == {a.text_zh for a in actions}
    # Grouped: once a unit's rows end, it does not come back.
    units = checklist["unit"].tolist()
    assert units == sorted(units, key=units.index)
    assert checklist["section"].str.contains("4.5.").all()
    assert checklist["conditional"].sum() == sum(a.conditional for a in actions)
    assert len(response.response_checklist("blue", "en")) == len(rules.warning_actions("blue"))


def test_level_flags_say_who_moves_people_at_orange_and_red():
    """Emergency plan 4.5.3–4.5.4: evacuation when necessary at orange, always at red."""
    assert "立即转移" in response.level_flags("red", "zh")
    assert "必要时转移" in response.level_flags("orange", "zh")
    assert "evacuation: no" in response.level_flags("blue", "en")


def test_township_form_gives_the_warning_spec_the_analysis_reads(demo):
    spec = warning_page.township_spec({"丽阳镇": "orange", "荷塘乡": None, "鲇鱼山镇": "red"})
    assert spec == (("丽阳镇", "orange"), ("鲇鱼山镇", "red"))
    areas = exposure.township_warnings(dict(spec), demo["townships"])
    assert set(areas["level"]) == {"orange", "red"}


def _geojson(*features: tuple[object, dict]) -> bytes:
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"level": lv}, "geometry": g} for lv, g in features],
    }
    return json.dumps(collection, ensure_ascii=False).encode()


_SQUARE = {
    "type": "Polygon",
    "coordinates": [[[117.0, 29.1], [117.3, 29.1], [117.3, 29.4], [117.0, 29.4], [117.0, 29.1]]],
}


def test_polygons_drawn_on_the_map_become_warning_areas_of_the_chosen_level():
    drawings = [
        {"type": "Feature", "geometry": _SQUARE},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [117, 29]}},
    ]
    areas = warning_page.drawn_areas(drawings, "yellow")
    assert areas["level"].tolist() == ["yellow"] and areas["warning_id"].tolist() == ["HZ001"]
    assert warning_areas.check_warning_areas(areas)["warning_id"].tolist() == ["HZ001"]  # as the page checks them
    assert warning_page.drawn_areas(None, "red").empty


# --------------------------------------------------------------------------------------------------
# Evacuation page


def test_routes_are_chosen_by_hazard_point_or_by_township(demo, demo_routes):
    options = evacuation_page.hazard_options(demo["hazard_points"])
    assert len(options) == int((demo["hazard_points"]["status"] == "active").sum())
    first = next(iter(options))
    assert options[first].startswith(first)
    one = evacuation.select_routes(demo_routes, demo["hazard_points"], hazard_id=first)
    assert set(one["hazard_id"]) == {first}
    town = evacuation_page.township_options(demo["townships"], demo["hazard_points"])[0]
    chosen = evacuation.select_routes(demo_routes, demo["hazard_points"], township=town)
    points = demo["hazard_points"].set_index("hazard_id")
    assert len(chosen) and set(points.loc[list(set(chosen["hazard_id"])), "township"]) == {town}


def test_route_and_shelter_tables_flag_unreachable_routes_and_full_shelters(demo, demo_routes):
    routes = demo_routes.routes
    table = evacuation_page.route_table(routes, demo_routes.shelters)
    assert table["shelter_name"].notna().sum() == table["reachable"].sum()
    assert table.loc[~table["reachable"], "reason"].notna().all()
    shelters = evacuation.selection_shelters(demo_routes, routes)
    assert (shelters["over_capacity"] == (shelters["assigned_people"] > shelters["capacity"])).all()
    # Over the whole district, the selection's people are everyone the shelters receive.
    assert (shelters["selected_people"] == shelters["assigned_people"]).all()
    shown = widgets.present(table, evacuation_page.ROUTE_COLUMNS, "zh")
    assert {"起点", "避灾场所", "路线长度（米）", "步行时间（分钟）", "可达", "说明"} <= set(shown.columns)
    shown = widgets.present(shelters, evacuation_page.SHELTER_COLUMNS, "zh")
    assert {"本次转移人数", "负荷率（%）"} <= set(shown.columns)


def test_route_reasons_read_in_the_readers_language_in_tables_and_on_the_map(demo, demo_routes):
    # The tables, the red crosses of unreachable origins and the routes sent elsewhere than their assigned shelter
    # all say why in the session's language (geo.analysis.evacuation words the reasons); the demo district has each.
    routes = demo_routes.routes
    table = evacuation_page.route_table(routes, demo_routes.shelters)
    zh = widgets.present(table, evacuation_page.ROUTE_COLUMNS, "zh")["说明"]
    en = widgets.present(table, evacuation_page.ROUTE_COLUMNS, "en")["Reason"]
    assert zh.tolist() == table["reason_zh"].tolist() and en.tolist() == table["reason"].tolist()
    assert zh.notna().any() and not zh.dropna().str.contains(r"[A-Za-z]{3,}").any()
    failed = table[~table["reachable"]]
    labels = evacuation_page.unreachable_labels(failed, "zh")
    assert labels.tolist() == (failed["origin_name"] + "：" + failed["reason_zh"]).tolist()
    rerouted = routes[routes["reachable"] & routes["reason"].notna()].iloc[0]
    for lang, shown, hidden in (("zh", "reason_zh", "reason"), ("en", "reason", "reason_zh")):
        # The two layers that show reasons, on a bare map: the drill map around them is tested below.
        m = folium.Map()
        maplayers.route_layer(routes, lang=lang).add_to(m)
        evacuation_page._unreachable_layer(demo, routes, lang).add_to(m)
        html = m.get_root().render()
        assert _on_map(rerouted[shown], html) and not _on_map(rerouted[hidden], html)
        assert _on_map(failed[shown].iloc[0], html) and not _on_map(failed[hidden].iloc[0], html)


def _on_map(text: str, html: str) -> bool:
    """Whether ``text`` is in a map page: escaped for HTML, then written into the GeoJSON with \\u escapes (& too)."""
    return json.dumps(escape_text(text))[1:-1].replace("&", "\\u0026") in html


def test_drill_map_is_one_offline_page_with_routes_and_unreachable_origins(demo, demo_routes):
    routes = demo_routes.routes
    assert not routes["reachable"].all()  # the demo district has routes that reach no shelter
    m = evacuation_page.drill_map(demo, demo_routes, routes, "zh")
    titles = {e.title for e in walk(m) if isinstance(e, HazmapLayer)}
    assert {"转移路线", "避灾场所", "危险区", evacuation_page.UNREACHABLE_LABEL[0]} <= titles
    assert remote_references(standalone_html(m)) == []


def test_routes_download_as_geojson_and_geopackage(tmp_path, demo, demo_routes):
    routes = evacuation.select_routes(demo_routes, demo["hazard_points"], township="丽阳镇")
    for suffix in (".geojson", ".gpkg"):
        path = tmp_path / f"routes{suffix}"
        path.write_bytes(evacuation_page.routes_file(routes, suffix))
        back = pyogrio.read_dataframe(path)
        assert len(back) == len(routes)
        assert set(back["hazard_id"]) == set(routes["hazard_id"])


# --------------------------------------------------------------------------------------------------
# Pools page


def test_coverage_table_lists_the_k_nearest_pools_by_name_and_distance(demo, demo_coverage):
    table = pools_page.coverage_table(demo_coverage, demo["pools"])
    assert len(table) == len(demo_coverage.schools)
    distances = table[["distance_m_1", "distance_m_2", "distance_m_3"]].to_numpy(dtype=float)
    assert (np.diff(distances, axis=1) >= 0).all()
    assert (table["k_radius_m"] == table["distance_m_3"]).all()
    assert (table["covered"] == (distances[:, 0] <= demo_coverage.radius_m + 0.5)).all()
    assert set(table["pool_1"]) <= set(demo["pools"]["name"])


def test_township_table_marks_townships_without_a_facility(demo_coverage):
    """Swimming plan 二(二)1: each township has a facility of its own or shares a neighbour's."""
    shown = widgets.present(demo_coverage.townships, pools.TOWNSHIP_COLUMNS, "zh")
    lacking = shown[shown["方式"] == "未达到"]
    assert (lacking["达到要求"] == "否").all()
    assert shown["培训经费（元）"].sum() == demo_coverage.budget_yuan


def test_schools_short_of_staff_are_only_those_short_most_short_first(demo_coverage):
    """Swimming plan 二(一)2-3: the staffing tab lists the schools short of instructors or Red Cross trainers."""
    short = demo_coverage.short_of_staff()
    assert ((short["instructors_short"] > 0) | (short["redcross_short"] > 0)).all()
    everyone = demo_coverage.staffing
    assert len(short) == int(((everyone["instructors_short"] > 0) | (everyone["redcross_short"] > 0)).sum())


def test_sites_table_names_the_schools_a_proposed_site_covers():
    data = tiny_dataset()
    result = siting.site_pools(data, AnalysisSettings(service_radius_m=3000), p=1, metric="straight")
    table = pools_page.sites_table(result, data["schools"])
    assert table["school_names"].tolist() == [["枫林教学点"]]
    assert table["covered_grade4"].tolist() == [6]
    assert pools_page.pools_map(data, pools.pool_coverage(data, metric="straight"), result, "en") is not None


def test_a_click_on_the_map_gives_the_site_to_test():
    assert pools_page.clicked_site({"last_clicked": {"lat": 29.3, "lng": 117.2000004}}) == (117.2, 29.3)
    assert pools_page.clicked_site({"last_clicked": None}) is None
    assert pools_page.clicked_site(None) is None


# --------------------------------------------------------------------------------------------------
# Data page


def test_layer_overview_counts_features_geometries_and_problems():
    data = tiny_dataset()
    del data["roads"]
    report = schema.validate_frames(data)
    overview = data_page.layer_overview(data, report, "zh").set_index("layer")
    assert overview.loc["hazard_points", "features"] == 3
    assert overview.loc["hazard_points", "title"] == "地质灾害隐患点"
    assert overview.loc["roads", "geometry_types"] == "缺失"
    assert overview.loc["roads", "problems"] == 1
    problems = data_page.problems_table(report)
    assert problems.loc[0, "rule"] == "missing_layer"


def test_edit_diff_keeps_only_changed_editable_cells():
    base = data_page.editable_table(tiny_dataset()["hazard_points"])
    edited = base.copy()
    edited.at["H1", "threatened_people"] = 600.0  # the editor hands numbers back as floats
    edited.at["H2", "name"] = "  新安村崩塌  "  # only spaces around it: no change
    edited.at["H2", "monitor_phone"] = ""  # empty stays empty
    edited.at["H3", "danger_grade"] = "giant"  # read-only: ignored
    edited.at["H3", "status"] = "cancelled"
    edits = data_page.edit_diff(base, edited)
    assert edits == [
        data_page.RowEdit("H1", 1, {"threatened_people": 600}),
        data_page.RowEdit("H3", 2, {"status": "cancelled"}),
    ]


def test_edits_go_through_the_store_one_call_per_row(tiny_file):
    """Plan 3.2: the store derives the danger grade; each saved row bumps the version and logs an audit row."""
    base = data_page.editable_table(store.open(tiny_file).read_layer("hazard_points"))
    edited = base.copy()
    edited.at["H1", "threatened_people"] = 600
    edited.at["H1", "name"] = "枫林村滑坡（扩大）"
    edited.at["H2", "status"] = "treated"
    outcomes = data_page.save_edits(tiny_file, data_page.edit_diff(base, edited), auth.User("测试员", "editor"))
    assert [o.status for o in outcomes] == ["saved", "saved"]
    assert outcomes[0].row["version"] == 2 and outcomes[0].row["danger_grade"] == "large"
    points = store.open(tiny_file).read_layer("hazard_points").set_index("hazard_id")
    assert points.at["H1", "name"] == "枫林村滑坡（扩大）" and points.at["H2", "status"] == "treated"
    log = store.open(tiny_file).read_audit().tail(2)
    assert log["user"].tolist() == ["测试员", "测试员"]
    assert log["action"].tolist() == ["update", "status"]
    assert log["version_after"].tolist() == [2, 2]
    audit = data_page.audit_table(store.open(tiny_file).read_audit(), limit=2)
    assert audit.loc[0, "feature_id"] == "H2" and "status: active → treated" in audit.loc[0, "changes"]


def test_an_edit_on_a_stale_version_conflicts_and_is_not_merged(tiny_file):
    base = data_page.editable_table(store.open(tiny_file).read_layer("hazard_points"))
    store.open(tiny_file).update_hazard_point("H1", {"village": "别人改的村"}, user="other", expected_version=1)
    edited = base.copy()
    edited.at["H1", "name"] = "我的名字"
    before = _digest(tiny_file)
    (outcome,) = data_page.save_edits(tiny_file, data_page.edit_diff(base, edited), EDITOR)
    assert outcome.status == "conflict"
    assert _digest(tiny_file) == before
    assert outcome.row["version"] == 2 and outcome.row["village"] == "别人改的村"
    table = data_page.conflict_table(outcome, "zh")
    assert table.to_dict("records") == [
        {"字段": "名称", "您的修改": "我的名字", "已保存的值": "枫林村滑坡"},
        {"字段": "版本", "您的修改": "1", "已保存的值": "2"},
    ]


def test_an_invalid_edit_is_refused_with_the_problem(tiny_file):
    edit = data_page.RowEdit("H2", 1, {"threatened_people": -5})
    (outcome,) = data_page.save_edits(tiny_file, [edit], EDITOR)
    assert outcome.status == "invalid"
    assert "threatened_people" in outcome.message
    assert store.open(tiny_file).read_layer("hazard_points").set_index("hazard_id").at["H2", "version"] == 1


def test_filter_finds_points_by_text_township_and_status():
    table = data_page.editable_table(tiny_dataset()["hazard_points"])
    assert data_page.filter_table(table, "枫林").index.tolist() == ["H1"]
    assert data_page.filter_table(table, townships=["西郊街道"]).index.tolist() == ["H3"]
    assert data_page.filter_table(table, statuses=["active"]).index.tolist() == ["H1", "H2"]


# --------------------------------------------------------------------------------------------------
# The pages under Streamlit


def _page_script(name: str) -> None:
    """What app.py does for one page: the language switch, then the page's render()."""
    import importlib

    from ui import common

    common.language_switch()
    importlib.import_module(f"ui.{name}").render()


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory):
    """A copy of the demo file in HAZMAP_DATA, shared by the read-only page runs."""
    path = tmp_path_factory.mktemp("pages") / "demo.gpkg"
    shutil.copyfile(DEMO_DATA, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAZMAP_DATA", str(path))
        yield path


def _run(name: str, lang: str = "zh", user: str | None = None) -> AppTest:
    at = AppTest.from_function(_page_script, args=(name,), default_timeout=60)
    at.session_state["lang"] = lang
    if user is not None:
        at.session_state[signin.SESSION_KEY] = user
    return at.run()


def _problems(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_each_page_runs_in_both_languages(demo_copy, name, lang):
    before = _digest(DEMO_DATA)
    at = _run(name, lang)
    assert _problems(at) == []
    assert at.header[0].value
    assert _digest(DEMO_DATA) == before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_app_runs_with_its_navigation(demo_copy, lang):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    assert [e.value for e in at.exception] == []


def test_warning_page_analyses_a_township_warning_and_refuses_a_bad_upload(demo_copy):
    at = _run("warning_page")
    at.radio(key="warning_source").set_value("townships").run()
    at.selectbox(key="warning_township_360202100").set_value("red")
    at.button[0].click().run()
    assert _problems(at) == []
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["最高预警等级"] == "一级（红色）" and metrics["预警区"] == "1"
    # One level only: its tab and the metrics above it give the same figures (the analysis' count at red).
    (caption,) = [c.value for c in at.caption if "需巡查" in c.value]
    assert caption.startswith(f"{metrics['需巡查隐患点']} 个隐患点需巡查")
    assert f"，{metrics['危险区内人口']} 人" in caption
    at.radio(key="warning_source").set_value("upload").run()
    bad = _geojson(("purple", _SQUARE), ("red", {"type": "Point", "coordinates": [117.2, 29.3]}))
    at.file_uploader[0].set_value(("bad.geojson", bad, "application/geo+json")).run()
    assert [e.value for e in at.exception] == []
    assert any("预警区不能使用" in e.value for e in at.error)
    # The problems the reader shared with the CLI finds, each shown as it words it.
    with pytest.raises(warning_areas.WarningAreaError) as caught:
        warning_areas.read_warning_areas(bad, "bad.geojson")
    assert "\n".join(f"- {widgets.md_escape(p)}" for p in caught.value.problems) in [m.value for m in at.markdown]


def test_evacuation_page_shows_the_figures_of_the_analysis(demo_copy, demo, demo_routes):
    """Plan 4.5.3-4.5.4: the people a township's routes move, each village once (荷塘乡 has villages in two zones)."""
    at = _run("evacuation_page")
    at.radio(key="evac_mode").set_value("township").run()
    at.selectbox(key="evac_township").set_value("荷塘乡").run()
    assert _problems(at) == []
    routes = evacuation.select_routes(demo_routes, demo["hazard_points"], township="荷塘乡")
    summary = evacuation.selection_summary(demo_routes, routes)
    assert summary.people < routes["people"].sum()
    assert {m.label: m.value for m in at.metric} == {
        "路线": f"{summary.routes:,}",
        "转移人数": f"{summary.people:,}",
        "无法到达": f"{summary.unreachable:,}",
        "超容量避灾场所": f"{summary.shelters_over_capacity:,}",
    }


def test_pools_page_shows_the_figures_of_the_analysis(demo_copy, demo_coverage):
    """Swimming plan 二(三)1, 二(二)1, 三(四), 二(一)2-3: the page's figures are the analysis's, formatted."""
    at = _run("pools_page")
    assert _problems(at) == []
    summary = demo_coverage.summary()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "无泳池学校": f"{summary.schools_without_pool:,}",
        "服务半径内": f"{summary.schools_covered:,}",
        "四年级学生（半径内/合计）": f"{summary.grade4_covered:,} / {summary.grade4_without_pool:,}",
        "未达标乡镇": f"{summary.townships_short:,}",
        "培训经费（元）": f"{demo_coverage.budget_yuan:,}",
    }
    staff = f"缺游泳指导员/救生员 **{summary.instructors_short}** 名，"
    staff += f"缺红十字救护师资 **{summary.redcross_short}** 名。"
    assert staff in [m.value for m in at.markdown]


def test_pools_page_runs_the_siting_tool(demo_copy):
    at = _run("pools_page")
    at.number_input(key="siting_p").set_value(1)
    at.button[0].click().run()
    assert _problems(at) == []
    labels = [m.label for m in at.metric]
    assert "选址后覆盖" in labels


def test_data_page_saves_an_edit_made_in_the_table(tmp_path, monkeypatch):
    path = tmp_path / "demo.gpkg"
    shutil.copyfile(DEMO_DATA, path)
    monkeypatch.setenv("HAZMAP_DATA", str(path))
    monkeypatch.setenv("HAZMAP_USERS", str(write_users(tmp_path / "users.yaml", {"editor1": "editor"})))
    first = store.open(path).read_layer("hazard_points").iloc[0]
    at = _run("data_page", user="editor1")
    at.session_state["hazard_editor_0"] = {
        "edited_rows": {0: {"threatened_people": 1200}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    save = next(b for b in at.button if b.label == "保存修改")
    save.click().run()
    assert _problems(at) == []
    assert any("已保存" in s.value for s in at.success)
    stored = store.open(path).read_layer("hazard_points").set_index("hazard_id").loc[first["hazard_id"]]
    assert stored["threatened_people"] == 1200 and stored["danger_grade"] == "giant"
    assert stored["version"] == first["version"] + 1
