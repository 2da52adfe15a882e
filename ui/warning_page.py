"""The Warning page (预警): set the current warning, see who is at risk and what the plan asks each unit to do.

The warning comes from one of four sources: the data set's own ``warning_areas`` layer (default), a level per township
typed in a quick form, a GeoJSON/GeoPackage of warning polygons uploaded by the user, or polygons drawn on the map.
The exposure analysis (:mod:`geo.analysis.exposure`, cached in :mod:`ui.analysis`) then counts hazard points,
threatened people and people in danger zones by warning area, township and district, lists the hazard points to patrol
and whose people to move, and the page shows the response checklist of plan 4.5 for every level present.

An uploaded file is read and checked, and drawn polygons are checked, by :mod:`geo.importers.warning_areas`, the
reader ``python -m geo exposure --warnings`` uses too: a file one takes the other takes, with the same messages.
Plain functions build every table and text (:func:`drawn_areas`, :func:`district_table`, :func:`level_caption`,
:func:`result_tables`; the response checklist comes from :mod:`ui.response`, which the Map page shares), only
formatting what the analysis counted; :func:`render` wires them to widgets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from folium.plugins import Draw

import layers as maplayers
from geo.analysis import exposure
from geo.analysis.exposure import ExposureResult
from geo.importers import warning_areas
from geo.model import rules
from ui import analysis, common, export_panel, response, widgets

#: Where the warning comes from: key -> (Chinese, English).
SOURCES = {
    "layer": ("数据集中的预警区", "Warning areas of the data set"),
    "townships": ("按乡镇设置", "Set by township"),
    "upload": ("上传预警区文件", "Upload warning areas"),
    "draw": ("在地图上绘制", "Draw on the map"),
}

AREA_COLUMNS = (
    "warning_id",
    "level",
    "issued_at",
    "valid_until",
    "area_km2",
    *exposure.HEADLINE_COUNTS,
    "shelters",
    "shelter_capacity",
    "patrol",
    "evacuate",
)
COUNT_COLUMNS = tuple(exposure.HEADLINE_COUNTS)
TOWNSHIP_COLUMNS = ("township", "level", *[f"hazard_points_{level}" for level in rules.LEVELS_DOWN], *COUNT_COLUMNS)
DISTRICT_COLUMNS = ("level", *COUNT_COLUMNS, "patrol", "evacuate", "shelters", "shelter_capacity")
HAZARD_COLUMNS = (
    "hazard_id",
    "name",
    "township",
    "village",
    "level",
    "warning_ids",
    "hazard_type",
    "danger_grade",
    "threatened_people",
    "threatened_households",
    "people_in_danger_zones",
    "patrol",
    "evacuate",
    "assigned_shelter_id",
    "monitor_name",
    "monitor_phone",
    "responsible_name",
    "responsible_phone",
)


# --------------------------------------------------------------------------------------------------
# Warning areas from the user


def township_spec(choices: Mapping[str, str | None]) -> tuple[tuple[str, str], ...]:
    """The townships given a level, as the hashable ``warning_spec`` of :func:`ui.analysis.exposure`."""
    return tuple((name, level) for name, level in choices.items() if level)


def drawn_areas(drawings: Sequence[Mapping] | None, level: str) -> gpd.GeoDataFrame:
    """Polygons drawn on the map (streamlit-folium's ``all_drawings``) as warning areas of one ``level``."""
    polygons = [
        shapely.geometry.shape(f["geometry"])
        for f in drawings or []
        if (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")
    ]
    return gpd.GeoDataFrame(
        {"warning_id": [f"HZ{n:03d}" for n in range(1, len(polygons) + 1)], "level": [level] * len(polygons)},
        geometry=polygons,
        crs="EPSG:4326",
    )


def areas_key(*parts: bytes | str) -> str:
    """A short digest naming user-supplied areas in the analysis cache."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------
# Tables


def district_table(result: ExposureResult, lang: str) -> pd.DataFrame:
    """The district total, then each level with warned points: each hazard point counted once, at its highest level."""
    district = result.district
    total = {c: district[c] for c in (*COUNT_COLUMNS, "shelters", "shelter_capacity")}
    total["level"] = "合计" if lang == "zh" else "Total"
    rows = [total]
    for level in rules.LEVELS_DOWN:
        counts = district["by_level"].get(level)
        if counts and counts["hazard_points"]:
            rows.append({"level": level, **{c: counts[c] for c in (*COUNT_COLUMNS, "patrol", "evacuate")}})
    # Shelters are counted for the district only; whole numbers with gaps, not floats, in the level rows.
    return pd.DataFrame(rows, columns=list(DISTRICT_COLUMNS)).astype({"shelters": "Int64", "shelter_capacity": "Int64"})


def levels_present(result: ExposureResult) -> list[str]:
    """The levels of the warning areas, most urgent first."""
    present = set(result.areas["level"])
    return [level for level in rules.LEVELS_DOWN if level in present]


def hazard_table(points: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The warned hazard points as a reader sees them; their ``shelter_id`` is the shelter assigned to them."""
    return widgets.present(points.rename(columns={"shelter_id": "assigned_shelter_id"}), HAZARD_COLUMNS, lang)


def levels_warned(result: ExposureResult) -> list[str]:
    """The levels at which some warned hazard point counts (its highest level), most urgent first."""
    by_level = result.district["by_level"]
    return [level for level in rules.LEVELS_DOWN if by_level[level]["hazard_points"]]


def level_caption(result: ExposureResult, level: str, lang: str) -> str:
    """What the tab of ``level`` says above its hazard points: patrol, evacuation and who is in the danger zones.

    The figures are the analysis' own for the level (``district["by_level"]``): the hazard points whose highest
    level it is, and the villages in the union of their danger zones, each village once (SCHEMA.md).  Summing the
    points' own ``people_in_danger_zones`` would count a village inside two points' zones twice.
    """
    counts = result.district["by_level"][level]
    patrol = widgets.value_labels("patrol", lang)[counts["patrol"]]
    evacuate = widgets.value_labels("evacuate", lang)[counts["evacuate"]]
    points, villages = counts["hazard_points"], counts["villages_in_danger_zones"]
    people, households = counts["people_in_danger_zones"], counts["households_in_danger_zones"]
    if lang == "zh":
        return (
            f"{points:,} 个隐患点需巡查（{patrol}）；转移：{evacuate}。"
            f"危险区内 {villages:,} 个村庄，{people:,} 人、{households:,} 户（每个村庄只计一次）。"
        )
    return (
        f"{points:,} hazard points to patrol ({patrol}); evacuation: {evacuate}. "
        f"In their danger zones: {villages:,} villages, {people:,} people, {households:,} households "
        "(each village once)."
    )


def sheet_titles(lang: str) -> dict[str, str]:
    """Table key -> sheet name."""
    zh = lang == "zh"
    return {
        "district": "全区合计" if zh else "District",
        "areas": "预警区" if zh else "Warning areas",
        "townships": "乡镇" if zh else "Townships",
        "hazard_points": "隐患点" if zh else "Hazard points",
        "checklist": "响应措施" if zh else "Response checklist",
    }


def result_tables(result: ExposureResult, lang: str) -> dict[str, pd.DataFrame]:
    """Every table of the page as a reader sees it, by sheet name: what the screen, Excel and CSV show."""
    titles = sheet_titles(lang)
    checklist = pd.concat(
        [response.response_checklist(level, lang) for level in levels_present(result)]
        or [pd.DataFrame(columns=response.CHECKLIST_COLUMNS)],
        ignore_index=True,
    )
    return {
        titles["district"]: widgets.present(district_table(result, lang), DISTRICT_COLUMNS, lang),
        titles["areas"]: widgets.present(result.areas, AREA_COLUMNS, lang),
        titles["townships"]: widgets.present(result.townships, TOWNSHIP_COLUMNS, lang),
        titles["hazard_points"]: hazard_table(result.hazard_points, lang),
        titles["checklist"]: widgets.present(checklist, response.CHECKLIST_COLUMNS, lang),
    }


def warning_map(
    data: Mapping[str, gpd.GeoDataFrame], areas: gpd.GeoDataFrame | None, lang: str, *, draw: bool = False
) -> folium.Map:
    """The district with the warning areas coloured by level and the active hazard points; ``draw`` adds drawing."""
    m = maplayers.base_map(data["district"].total_bounds, lang=lang, outline=data["district"])
    # Townships first: the district outline, drawn later, lies over their shared outer edges.
    maplayers.township_layer(data["townships"], lang=lang).add_to(m)
    maplayers.district_layer(data["district"], lang=lang).add_to(m)
    if areas is not None and len(areas):
        maplayers.warning_layer(areas, lang=lang).add_to(m)
    maplayers.hazard_layer(data["hazard_points"], lang=lang).add_to(m)
    if draw:
        Draw(
            export=False,
            position="topleft",
            draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False},
        ).add_to(m)
    return maplayers.finish_map(m, lang=lang)


# --------------------------------------------------------------------------------------------------
# The page


def _level_label(level: str | None, lang: str) -> str:
    if not level:
        return common.tr("无预警", "No warning")
    return widgets.value_labels("level", lang)[level]


def _township_form(townships: gpd.GeoDataFrame, lang: str) -> tuple[tuple[str, str], ...]:
    with st.form("warning_townships"):
        st.caption(
            common.tr("为每个乡镇（街道）选择预警等级，然后点击“分析”。", "Pick a level per township, then Analyse.")
        )
        columns = st.columns(3)
        choices = {
            name: columns[n % 3].selectbox(
                widgets.md_escape(name),
                [None, *rules.WARNING_LEVELS],
                format_func=lambda level: _level_label(level, lang),
                key=f"warning_township_{code}",
            )
            for n, (code, name) in enumerate(zip(townships["township_code"], townships["name"], strict=True))
        }
        st.form_submit_button(common.tr("分析", "Analyse"), type="primary")
    return township_spec(choices)


def _show_problems(exc: warning_areas.WarningAreaError) -> None:
    st.error(common.tr("预警区不能使用：", "These warning areas cannot be used:"))
    widgets.bullets(exc.problems)


def _analysing():
    return st.spinner(common.tr("正在分析…", "Analysing…"))


#: What :func:`_choose_warning` returns: the warning areas, a key naming them, and their analysis.
Chosen = tuple[gpd.GeoDataFrame, str, ExposureResult]


def _choose_warning(version: common.DataVersion, data: Mapping[str, gpd.GeoDataFrame], lang: str) -> Chosen | None:
    """The warning chosen on the page and its analysis; None while there is nothing to analyse."""
    source = st.radio(
        common.tr("预警来源", "Warning from"),
        list(SOURCES),
        format_func=lambda key: SOURCES[key][0] if lang == "zh" else SOURCES[key][1],
        horizontal=True,
        key="warning_source",
    )
    if source == "layer":
        if "warning_areas" not in data:
            st.info(common.tr("数据集中没有预警区图层。", "The data set has no warning_areas layer."))
            return None
        with _analysing():
            return data["warning_areas"], "layer", analysis.exposure(version)
    if source == "townships":
        spec = _township_form(data["townships"], lang)
        if not spec:
            st.info(common.tr("尚未为任何乡镇设置预警等级。", "No township has a level yet."))
            return None
        with _analysing():
            return (
                exposure.township_warnings(dict(spec), data["townships"]),
                repr(spec),
                analysis.exposure(version, spec),
            )
    if source == "upload":
        return _uploaded(version)
    return _drawn(version, data, lang)


def _uploaded(version: common.DataVersion) -> Chosen | None:
    upload = st.file_uploader(
        common.tr(
            "预警区（GeoJSON 或 GeoPackage，需含预警等级字段，如“等级”）",
            "Warning areas (GeoJSON or GeoPackage with a level column, e.g. 'level')",
        ),
        type=list(warning_areas.SUFFIXES),
        max_upload_size=warning_areas.MAX_UPLOAD_MB,
        key="warning_upload",
    )
    if upload is None:
        st.info(common.tr("请上传预警区文件。", "Upload a file of warning areas."))
        return None
    payload = upload.getvalue()
    try:
        areas = warning_areas.read_warning_areas(payload, upload.name)
    except warning_areas.WarningAreaError as exc:
        _show_problems(exc)
        return None
    return _analyse(version, "upload:" + areas_key(payload), areas)


def _drawn(version: common.DataVersion, data: Mapping[str, gpd.GeoDataFrame], lang: str) -> Chosen | None:
    level = st.selectbox(
        common.tr("所绘预警区的等级", "Level of the drawn areas"),
        list(rules.WARNING_LEVELS),
        index=len(rules.WARNING_LEVELS) - 1,
        format_func=lambda code: _level_label(code, lang),
        key="warning_draw_level",
    )
    st.caption(
        common.tr("用地图左上角的多边形或矩形工具绘制预警区。", "Draw the areas with the polygon or rectangle tool.")
    )
    state = widgets.show_map(
        _cached_map(version, None, lang, draw=True, key="draw"), "warning_draw", returned_objects=["all_drawings"]
    )
    drawn = drawn_areas(state.get("all_drawings"), level)
    if drawn.empty:
        st.info(common.tr("尚未绘制预警区。", "No area drawn yet."))
        return None
    try:
        areas = warning_areas.check_warning_areas(drawn)
    except warning_areas.WarningAreaError as exc:  # a polygon drawn crossing itself
        _show_problems(exc)
        return None
    return _analyse(version, "draw:" + areas_key(json.dumps(state["all_drawings"], sort_keys=True), level), areas)


def _analyse(version: common.DataVersion, key: str, areas: gpd.GeoDataFrame) -> Chosen | None:
    try:
        with _analysing():
            return areas, key, analysis.exposure_of_areas(version, key, areas)
    except ValueError as exc:
        _show_problems(warning_areas.WarningAreaError([str(exc)]))
        return None


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_map(
    version: common.DataVersion, _areas: gpd.GeoDataFrame | None, lang: str, *, draw: bool = False, key: str
) -> maplayers.MapPayload:
    """The warning map of one data version and warning (``key`` names ``_areas``), rendered once for all reruns."""
    return maplayers.split(warning_map(common.layers(version), _areas, lang, draw=draw))


def _metrics(result: ExposureResult, lang: str) -> None:
    district = result.district
    # The level's name (一级（红色）) is the longest value: its column gets the room to show it whole.
    cells = st.columns([1.6, 1, 1, 1, 1, 1])
    cells[0].metric(common.tr("最高预警等级", "Highest level"), _level_label(district["level"], lang))
    cells[1].metric(common.tr("预警区", "Warning areas"), f"{district['warning_areas']:,}")
    cells[2].metric(common.tr("需巡查隐患点", "Hazard points to patrol"), f"{district['hazard_points']:,}")
    cells[3].metric(common.tr("威胁人数", "Threatened people"), f"{district['threatened_people']:,}")
    cells[4].metric(common.tr("危险区内人口", "People in danger zones"), f"{district['people_in_danger_zones']:,}")
    cells[5].metric(common.tr("可用避灾场所容量", "Shelter capacity"), f"{district['shelter_capacity']:,}")


def _to_move(result: ExposureResult, lang: str) -> None:
    """Per level: the hazard points to patrol and the people to move."""
    levels = levels_warned(result)
    if not levels:
        st.info(common.tr("预警区内没有在册隐患点。", "No active hazard point lies in the warning areas."))
        return
    points = result.hazard_points
    for tab, level in zip(st.tabs([_level_label(level, lang) for level in levels]), levels, strict=True):
        tab.caption(level_caption(result, level, lang))
        tab.dataframe(hazard_table(points[points["level"] == level], lang), hide_index=True)


def _checklists(result: ExposureResult, lang: str) -> None:
    levels = levels_present(result)
    for level in levels:
        label = _level_label(level, lang)
        with st.expander(common.tr(f"{label}响应措施", f"{label}: response"), expanded=level == levels[0]):
            st.markdown(widgets.md_escape(response.level_flags(level, lang)))
            for unit, actions in response.response_checklist(level, lang).groupby("unit", sort=False):
                st.markdown(f"**{widgets.md_escape(unit)}**")
                widgets.bullets(
                    [
                        f"{row.action}{common.tr('（必要时）', ' (when necessary)') if row.conditional else ''}"
                        f" — {row.from_level}，{row.section}"
                        for row in actions.itertuples()
                    ]
                )


def render() -> None:
    """The Warning page."""
    version, data = common.load_or_stop()
    lang = common.lang()
    st.header(common.tr("预警与受威胁人口", "Warnings and people at risk"))
    chosen = _choose_warning(version, data, lang)
    if chosen is None:
        return
    areas, key, result = chosen

    _metrics(result, lang)
    tables = result_tables(result, lang)
    names = sheet_titles(lang)
    st.subheader(
        common.tr("全区合计（每个隐患点按最高等级计一次）", "District (each hazard point once, at its highest level)")
    )
    st.dataframe(widgets.readable(tables[names["district"]]), hide_index=True)
    left, right = st.columns(2)
    with left:
        st.subheader(common.tr("按预警区", "By warning area"))
        st.dataframe(widgets.readable(tables[names["areas"]]), hide_index=True)
    with right:
        st.subheader(common.tr("按乡镇", "By township"))
        st.dataframe(widgets.readable(tables[names["townships"]]), hide_index=True)

    st.subheader(common.tr("需巡查的隐患点与需转移的群众", "Hazard points to patrol and people to move"))
    _to_move(result, lang)
    st.subheader(common.tr("预案响应措施（《应急预案》4.5）", "Response checklist (emergency plan 4.5)"))
    _checklists(result, lang)
    widgets.assumptions(result.assumptions)
    widgets.download_tables(lambda: tables, list(tables), common.tr("预警分析", "warning_analysis"), "warning")
    export_panel.warning_report_buttons(result)

    if key.startswith("draw:"):
        return  # the drawing map above already shows the areas
    st.subheader(common.tr("预警区地图", "Map of the warning areas"))
    widgets.show_map(_cached_map(version, areas, lang, key=key), "warning_map", height=480)
