"""The Evacuation page (疏散): the routes of a hazard point or a township, their shelters, and a drill map to take away.

Routes of every active hazard point come from :func:`geo.analysis.evacuation.evacuation_routes` (cached per data version
and walking speed in :mod:`ui.analysis`), so shelter load counts everyone a shelter receives, not only the
selection's people.  The analysis picks the routes of one hazard point or township
(:func:`geo.analysis.evacuation.select_routes`), their shelters (:func:`~geo.analysis.evacuation.selection_shelters`)
and their figures (:func:`~geo.analysis.evacuation.selection_summary`); the page formats them, tabulates the routes
with unreachable ones and over-full shelters marked (:func:`route_table`), draws them with the danger zones they
avoid (:func:`drill_map`) and offers the map as one offline HTML file and the routes as GeoJSON or GeoPackage
(:func:`routes_file`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

import layers as maplayers
from geo.analysis import evacuation
from geo.analysis.evacuation import EvacuationResult
from geo.model.crs import STORAGE_CRS
from geo.settings import AnalysisSettings
from layers.common import HazmapLayer, LegendSection, Symbol, badge_marker, geojson
from ui import analysis, common, export_panel, widgets

MODES = {"hazard": ("按隐患点", "By hazard point"), "township": ("按乡镇", "By township")}
ROUTE_COLUMNS = (
    "hazard_id",
    "origin_name",
    "origin_kind",
    "people",
    "shelter_id",
    "shelter_name",
    "length_m",
    "walk_minutes",
    "reachable",
    "reason",
)
SHELTER_COLUMNS = (
    "shelter_id",
    "name",
    "township",
    "capacity",
    "selected_people",
    "assigned_people",
    "load_percent",
    "over_capacity",
    "inside_danger_zone",
    "on_network",
)
#: Margin around the selection on the drill map, in degrees (about 500 m).
MAP_MARGIN_DEG = 0.005
#: Walking speeds offered, km/h: from carrying the infirm to a brisk adult walk.
SPEED_MIN_KMH, SPEED_MAX_KMH = 1.0, 6.0
UNREACHABLE_COLOUR = "#b71c1c"
UNREACHABLE_LABEL = ("无法到达避灾场所", "No route to a shelter")
ROUTE_FILE_TYPES = {".geojson": "application/geo+json", ".gpkg": "application/geopackage+sqlite3"}


# --------------------------------------------------------------------------------------------------
# Tables


def hazard_options(points: gpd.GeoDataFrame) -> dict[str, str]:
    """Active hazard points as 统一编号 -> "统一编号 名称（乡镇）", by township then id, for a searchable select."""
    active = points[points["status"] == "active"].sort_values(["township", "hazard_id"])
    return {
        hid: f"{hid} {name}（{town}）" if isinstance(town, str) else f"{hid} {name}"
        for hid, name, town in zip(active["hazard_id"], active["name"], active["township"], strict=True)
    }


def township_options(townships: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> list[str]:
    """Townships with active hazard points (by the points' ``township``), in the townships layer's order."""
    holding = set(points.loc[points["status"] == "active", "township"].dropna())
    return [name for name in townships["name"] if name in holding]


def route_table(routes: pd.DataFrame, shelters: pd.DataFrame) -> pd.DataFrame:
    """The routes with their shelter's name, lengths in whole metres and walking time to a tenth of a minute."""
    names = dict(zip(shelters["shelter_id"], shelters["name"], strict=True))
    table = pd.DataFrame(routes.drop(columns=routes.geometry.name, errors="ignore"))
    table["shelter_name"] = table["shelter_id"].map(names)
    table["length_m"] = table["length_m"].round(0)
    table["walk_minutes"] = table["walk_minutes"].round(1)
    return table


def selection_name(value: str) -> str:
    """A file-name-safe name of the selection (a hazard point's id or a township's name)."""
    return re.sub(r"[^\w-]+", "_", value).strip("_") or "routes"


def routes_file(routes: gpd.GeoDataFrame, suffix: str) -> bytes:
    """The routes as a ``.geojson`` (WGS84) or ``.gpkg`` (EPSG:4490) file.

    Written by :func:`geo.analysis.evacuation.write_routes`.
    """
    with tempfile.TemporaryDirectory(prefix="hazmap-routes-") as scratch:
        path = Path(scratch) / f"routes{suffix}"
        evacuation.write_routes(routes, path)
        return path.read_bytes()


# --------------------------------------------------------------------------------------------------
# The drill map


def _area(data: Mapping[str, gpd.GeoDataFrame], result: EvacuationResult, routes: gpd.GeoDataFrame) -> list[float]:
    """Bounds of the selection: its routes, hazard points, their danger zones and shelters, plus a margin."""
    ids = set(routes["hazard_id"])
    parts = [
        routes.geometry.dropna(),
        data["hazard_points"].geometry[data["hazard_points"]["hazard_id"].isin(ids)],
        data["danger_zones"].geometry[data["danger_zones"]["hazard_id"].isin(ids)],
        evacuation.selection_shelters(result, routes).geometry,
    ]
    geometries = gpd.GeoSeries(pd.concat([p.to_crs(routes.crs) for p in parts if len(p)]), crs=routes.crs)
    xmin, ymin, xmax, ymax = geometries.total_bounds
    return [xmin - MAP_MARGIN_DEG, ymin - MAP_MARGIN_DEG, xmax + MAP_MARGIN_DEG, ymax + MAP_MARGIN_DEG]


def unreachable_labels(failed: pd.DataFrame, lang: str) -> pd.Series:
    """Hover text of each unreachable origin: its name and why no route was made, in ``lang``."""
    separator = "：" if lang == "zh" else ": "
    why = evacuation.reason_texts(failed, lang).fillna("")
    return failed["origin_name"].fillna(failed["origin_id"]) + separator + why


def _unreachable_layer(data: Mapping[str, gpd.GeoDataFrame], routes: gpd.GeoDataFrame, lang: str) -> HazmapLayer:
    """A red cross at the origin of every route that could not be made; hovering shows why."""
    failed = routes[~routes["reachable"]]
    villages = data["villages"].set_index("village_id").geometry
    hazards = data["hazard_points"].set_index("hazard_id").geometry
    where = [
        (villages if kind == "village" else hazards).get(origin)
        for kind, origin in zip(failed["origin_kind"], failed["origin_id"], strict=True)
    ]
    frame = gpd.GeoDataFrame(
        {"label": unreachable_labels(failed, lang).to_numpy()}, geometry=where, crs=data["villages"].crs
    )
    label = UNREACHABLE_LABEL[0] if lang == "zh" else UNREACHABLE_LABEL[1]
    symbol = Symbol(label, "badge", UNREACHABLE_COLOUR, size=18, text="✕", shape="square")
    layer = HazmapLayer(symbol.label, [LegendSection("", (symbol,))])
    geojson(
        frame,
        layer="villages",
        columns=(),
        styles=[symbol.icon_options()] * len(frame),
        lang=lang,
        tooltip_column="label",
        marker=badge_marker(),
    ).add_to(layer)
    return layer


def drill_map(
    data: Mapping[str, gpd.GeoDataFrame], result: EvacuationResult, routes: gpd.GeoDataFrame, lang: str
) -> folium.Map:
    """The drill map of a selection: roads, villages and danger zones around it, the routes with arrows to their
    shelters (red where over capacity), the hazard points, and a red cross where no route could be made."""
    xmin, ymin, xmax, ymax = _area(data, result, routes)
    # The map opens on the district and fits the selection: the same frame for every selection, so the page keeps
    # the map and swaps its layers when the user picks another point (layers.frame).
    home = data["district"] if len(data["district"]) else data["townships"]
    m = maplayers.base_map(home.to_crs(STORAGE_CRS).total_bounds, lang=lang, outline=data["district"])
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])

    def draw(layer, frame: gpd.GeoDataFrame, *args, **options) -> None:
        # Only what lies around the selection; a layer with nothing to draw is left out (folium refuses a tooltip
        # on an empty GeoJSON).
        shown = frame.cx[xmin:xmax, ymin:ymax]
        shown = shown[shown.geometry.notna()]
        if len(shown):
            layer(shown, *args, lang=lang, **options).add_to(m)

    ids = set(routes["hazard_id"])
    maplayers.township_layer(data["townships"], lang=lang).add_to(m)
    maplayers.district_layer(data["district"], lang=lang).add_to(m)
    draw(maplayers.road_layer, data["roads"])
    draw(maplayers.danger_zone_layer, data["danger_zones"], data["hazard_points"])
    draw(maplayers.village_layer, data["villages"], show=False)
    draw(maplayers.route_layer, routes)
    draw(maplayers.shelter_layer, result.shelters)
    draw(maplayers.hazard_layer, data["hazard_points"][data["hazard_points"]["hazard_id"].isin(ids)])
    if not routes["reachable"].all():
        _unreachable_layer(data, routes, lang).add_to(m)
    return maplayers.finish_map(m, lang=lang)


# --------------------------------------------------------------------------------------------------
# The page


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_map(
    version: common.DataVersion, speed_kmh: float, selection: tuple[str, str], lang: str
) -> maplayers.MapPayload:
    """The drill map of one selection, rendered once and reused while the user reads the tables."""
    result = analysis.routes(version, speed_kmh)
    kind, value = selection
    data = common.layers(version)
    chosen = _selected(result, data, kind, value)
    return maplayers.split(drill_map(data, result, chosen, lang))


def _selected(
    result: EvacuationResult, data: Mapping[str, gpd.GeoDataFrame], kind: str, value: str
) -> gpd.GeoDataFrame:
    """The routes of the selection ``(kind, value)`` that :func:`_choose` returned."""
    by = "hazard_id" if kind == "hazard" else "township"
    return evacuation.select_routes(result, data["hazard_points"], **{by: value})


def _choose(data: Mapping[str, gpd.GeoDataFrame], lang: str) -> tuple[str, str] | None:
    left, right = st.columns([1, 3])
    mode = left.radio(
        common.tr("选择", "Choose"),
        list(MODES),
        format_func=lambda key: MODES[key][0] if lang == "zh" else MODES[key][1],
        key="evac_mode",
    )
    if mode == "hazard":
        options = hazard_options(data["hazard_points"])
        if not options:
            st.info(common.tr("没有在册隐患点。", "There is no active hazard point."))
            return None
        chosen = right.selectbox(
            common.tr("隐患点（可输入编号或名称搜索）", "Hazard point (type an ID or name to search)"),
            list(options),
            format_func=options.get,
            key="evac_hazard",
        )
        return ("hazard", chosen)
    townships = township_options(data["townships"], data["hazard_points"])
    if not townships:
        st.info(common.tr("没有在册隐患点。", "There is no active hazard point."))
        return None
    return ("township", right.selectbox(common.tr("乡镇（街道）", "Township"), townships, key="evac_township"))


def _downloads(
    data: Mapping[str, gpd.GeoDataFrame], result: EvacuationResult, routes: gpd.GeoDataFrame, name: str, lang: str
) -> None:
    cells = st.columns(3)
    # Deferred: the files are built when a button is clicked, in a fresh map, not on every rerun.
    cells[0].download_button(
        common.tr("下载演练地图（离线 HTML）", "Drill map (offline HTML)"),
        data=lambda: maplayers.standalone_html(drill_map(data, result, routes, lang)).encode("utf-8"),
        file_name=f"{common.tr('疏散演练图', 'drill_map')}_{name}.html",
        mime="text/html",
        on_click="ignore",
        key="evac_html",
        icon=":material/map:",
    )
    for cell, suffix in zip(cells[1:], ROUTE_FILE_TYPES, strict=True):
        cell.download_button(
            common.tr(f"下载路线（{suffix[1:].upper()}）", f"Routes ({suffix[1:].upper()})"),
            data=lambda suffix=suffix: routes_file(routes, suffix),
            file_name=f"{common.tr('疏散路线', 'routes')}_{name}{suffix}",
            mime=ROUTE_FILE_TYPES[suffix],
            on_click="ignore",
            key=f"evac_{suffix[1:]}",
            icon=":material/route:",
        )


def render() -> None:
    """The Evacuation page."""
    version, data = common.load_or_stop()
    lang = common.lang()
    st.header(common.tr("疏散路线与避灾场所", "Evacuation routes and shelters"))
    speed = st.sidebar.slider(
        common.tr("步行速度（千米/小时）", "Walking speed (km/h)"),
        SPEED_MIN_KMH,
        SPEED_MAX_KMH,
        AnalysisSettings.walk_speed_kmh,
        step=0.1,
        key="evac_speed",
        help=common.tr(
            "老人、儿童在乡村小路上约 3.6 千米/小时。", "About 3.6 km/h for the elderly and children on paths."
        ),
    )
    selection = _choose(data, lang)
    if selection is None:
        return
    try:
        with st.spinner(common.tr("正在计算疏散路线…", "Computing the evacuation routes…")):
            result = analysis.routes(version, speed)
    except ValueError as exc:
        st.error(widgets.md_escape(exc))
        return
    kind, value = selection
    routes = _selected(result, data, kind, value)
    if routes.empty:
        st.info(common.tr("所选范围内没有在册隐患点的疏散路线。", "No evacuation route in this selection."))
        return

    table = route_table(routes, result.shelters)
    shelters = evacuation.selection_shelters(result, routes)
    summary = evacuation.selection_summary(result, routes)
    cells = st.columns(4)
    cells[0].metric(common.tr("路线", "Routes"), f"{summary.routes:,}")
    cells[1].metric(
        common.tr("转移人数", "People to move"),
        f"{summary.people:,}",
        help=common.tr(
            "每个村庄只计一次，即使它位于多个隐患点的危险区内。", "Each village once, even inside several danger zones."
        ),
    )
    cells[2].metric(common.tr("无法到达", "Unreachable"), f"{summary.unreachable:,}")
    cells[3].metric(common.tr("超容量避灾场所", "Shelters over capacity"), f"{summary.shelters_over_capacity:,}")

    st.subheader(common.tr("疏散路线", "Routes"))
    if summary.unreachable:
        st.warning(
            common.tr(
                f"{summary.unreachable} 条路线无法到达避灾场所，原因见“说明”列（红色行）。",
                f"{summary.unreachable} route(s) reach no shelter; see the Reason column (red rows).",
            )
        )
    st.dataframe(
        widgets.highlight_rows(widgets.present(table, ROUTE_COLUMNS, lang), ~table["reachable"]), hide_index=True
    )
    st.subheader(common.tr("避灾场所负荷", "Shelter load"))
    st.dataframe(
        widgets.highlight_rows(widgets.present(shelters, SHELTER_COLUMNS, lang), shelters["over_capacity"]),
        hide_index=True,
    )
    st.caption(
        common.tr(
            "分配人数与负荷率按全区所有路线计算；本次转移人数只计所选范围。",
            "Assigned people and load count every route of the district; the selection's people are shown apart.",
        )
    )

    st.subheader(common.tr("疏散演练地图", "Drill map"))
    with st.spinner(common.tr("正在绘制地图…", "Drawing the map…")):
        m = _cached_map(version, speed, selection, lang)
    widgets.show_map(m, "evac_map", height=560)
    _downloads(data, result, routes, selection_name(value), lang)
    _print_exports(version, speed, kind, value, routes)
    widgets.assumptions(result.assumptions)


def _print_exports(version: common.DataVersion, speed: float, kind: str, value: str, routes: gpd.GeoDataFrame) -> None:
    """Print-ready drill maps and 明白卡 (plan 4.1.3, 6.6) of the selection, and the phone/GIS route files."""
    st.subheader(common.tr("演练图与明白卡", "Drill maps and cards"))
    export_panel.settings_form()
    ids = list(dict.fromkeys(routes["hazard_id"]))
    if kind == "hazard":
        export_panel.drill_map_buttons(version, value, speed)
    else:
        export_panel.batch_button(version, township=value, speed_kmh=speed)
    export_panel.cards_buttons(version, ids, speed)
    export_panel.route_file_buttons(version, ids, speed)
