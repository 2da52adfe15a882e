"""The Pools page (游泳): how far each school without a pool is from one, what each township lacks, and where to build.

Coverage comes from :func:`geo.analysis.pools.pool_coverage` (cached in :mod:`ui.analysis` per data version, k, service
radius and metric): per school its k nearest open pools and whether the nearest lies within the radius; per
township whether it meets the swimming plan's facility requirement (二(二)1) on its own, by sharing a neighbour's,
or not at all; the training budget at the plan's rates (三(四)) and the staff each school lacks (二(一)2-3); the
district's figures from :meth:`~geo.analysis.pools.PoolCoverage.summary`.  The page only formats them.

The siting tool runs the maximal covering model of :func:`geo.analysis.siting.site_pools` on the settings the
user submits and shows the proposed sites on the map; a click on the map asks
:func:`geo.analysis.siting.what_if` what one pool there would add.  Plain functions build the tables
(:func:`coverage_table`, :func:`sites_table`), read the map's clicks (:func:`clicked_site`) and draw the map
(:func:`pools_map`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

import layers as maplayers
from geo.analysis import pools
from geo.analysis.pools import PoolCoverage
from geo.analysis.siting import SitingResult
from geo.model import rules
from geo.settings import AnalysisSettings
from layers.common import HazmapLayer, LegendSection, Symbol, badge_marker, geojson
from ui import analysis, common, export_panel, widgets

_DEFAULTS = AnalysisSettings()
METRICS = {"network": ("沿道路距离", "Along roads"), "straight": ("直线距离", "Straight line")}
CANDIDATES = {
    "schools": ("无泳池学校（可建拼装式泳池）", "Schools without a pool (assembled pools)"),
    "township-seats": ("乡镇中心点", "Township seats"),
    "grid": ("规则网格", "Regular grid"),
}
BUDGET_COLUMNS = ("township", "area_type", "grade4_students", "budget_yuan")
SITE_COLUMNS = ("site_id", "township", "covered_grade4", "school_names", "lon", "lat")
SITE_COLOUR = "#6a1b9a"
SITE_LABEL = ("拟建泳池", "Proposed pool")


@dataclass(frozen=True)
class SitingParams:
    """What the user submitted to the siting tool: the arguments of :func:`ui.analysis.sites` after the version."""

    p: int
    radius_m: float
    candidates: str
    metric: str
    require_each_township: bool
    grid_spacing_m: float


# --------------------------------------------------------------------------------------------------
# Tables


def coverage_table(coverage: PoolCoverage, pool_layer: pd.DataFrame) -> pd.DataFrame:
    """One row per school without a pool: its k nearest open pools by name with their distances, the k-pool
    radius, whether it is covered, and by which metric its nearest distance was measured."""
    names = dict(zip(pool_layer["pool_id"], pool_layer["name"].fillna(pool_layer["pool_id"]), strict=True))
    nearest = coverage.nearest.assign(
        pool=coverage.nearest["pool_id"].map(names), distance_m=coverage.nearest["distance_m"].round(0)
    )
    wide = nearest.pivot(index="school_id", columns="rank", values=["pool", "distance_m"])
    wide.columns = [f"{value}_{rank}" for value, rank in wide.columns]
    ranks = sorted(nearest["rank"].unique())
    ordered = [f"{value}_{rank}" for rank in ranks for value in ("pool", "distance_m")]
    table = pd.DataFrame(coverage.schools.drop(columns="geometry")).join(wide[ordered], on="school_id")
    table["k_radius_m"] = table["k_radius_m"].round(0)
    return table[
        [
            "school_id",
            "name",
            "township",
            "grade4_students",
            *ordered,
            "k_radius_m",
            "covered",
            "nearest_metric",
            "note",
        ]
    ]


def sites_table(result: SitingResult, schools: pd.DataFrame) -> pd.DataFrame:
    """The proposed sites with the pupils they newly cover, the names of the schools, and their coordinates."""
    names = dict(zip(schools["school_id"], schools["name"].fillna(schools["school_id"]), strict=True))
    chosen = result.chosen
    return pd.DataFrame(
        {
            "site_id": chosen["site_id"].to_numpy(),
            "township": chosen["township"].to_numpy(),
            "covered_grade4": chosen["covered_grade4"].to_numpy(),
            "school_names": [[names.get(s, s) for s in ids] for ids in chosen["schools"]],
            "lon": chosen.geometry.x.round(6).to_numpy(),
            "lat": chosen.geometry.y.round(6).to_numpy(),
        }
    )


def clicked_site(state: Mapping | None) -> tuple[float, float] | None:
    """(lon, lat) of the last click on the map, from streamlit-folium's state; None before any click."""
    clicked = (state or {}).get("last_clicked")
    if not clicked:
        return None
    return round(float(clicked["lng"]), 6), round(float(clicked["lat"]), 6)


# --------------------------------------------------------------------------------------------------
# The map


def _sites_layer(result: SitingResult, schools: pd.DataFrame, lang: str) -> HazmapLayer:
    """The proposed sites as badges, each with the service radius around it."""
    label = SITE_LABEL[0] if lang == "zh" else SITE_LABEL[1]
    badge = Symbol(label, "badge", SITE_COLOUR, size=22.0, text="新" if lang == "zh" else "N", shape="square")
    ring = Symbol(label, "circle", SITE_COLOUR, weight=1.5, dash="6 4", fill_opacity=0.05)
    table = sites_table(result, schools)
    frame = gpd.GeoDataFrame(
        {
            "name": table["site_id"],
            "township": table["township"],
            "grade4_students": table["covered_grade4"],
        },
        geometry=result.chosen.geometry.to_numpy(),
        crs=result.chosen.crs,
    )
    layer = HazmapLayer(label, [LegendSection("", (badge,))])
    circles = [{**ring.path_style(), "radius": result.radius_m, "interactive": False}] * len(frame)
    geojson(
        frame, layer="schools", columns=[], styles=circles, lang=lang, tooltip_column=None, marker=folium.Circle()
    ).add_to(layer)
    geojson(
        frame,
        layer="schools",
        columns=["name", "township", "grade4_students"],
        styles=[badge.icon_options()] * len(frame),
        lang=lang,
        marker=badge_marker(),
    ).add_to(layer)
    return layer


def pools_map(
    data: Mapping[str, gpd.GeoDataFrame], coverage: PoolCoverage, result: SitingResult | None, lang: str
) -> folium.Map:
    """Schools, pools with their service radius, the links to each school's k nearest pools, and proposed sites."""
    m = maplayers.base_map(data["district"].total_bounds, lang=lang, outline=data["district"])
    # Townships first: the district outline, drawn later, lies over their shared outer edges.
    maplayers.township_layer(data["townships"], lang=lang).add_to(m)
    maplayers.district_layer(data["district"], lang=lang).add_to(m)
    maplayers.pool_layer(data["pools"], service_radius_m=coverage.radius_m, lang=lang).add_to(m)
    maplayers.school_layer(data["schools"], lang=lang).add_to(m)
    maplayers.coverage_layer(
        data["schools"], data["pools"], coverage.nearest, k=coverage.k, lang=lang, show=False
    ).add_to(m)
    if result is not None and len(result.chosen):
        _sites_layer(result, data["schools"], lang).add_to(m)
    return maplayers.finish_map(m, lang=lang)


# --------------------------------------------------------------------------------------------------
# The page


def _label(options: Mapping[str, tuple[str, str]], lang: str) -> Callable[[str], str]:
    return lambda key: options[key][0] if lang == "zh" else options[key][1]


def _settings(lang: str) -> tuple[int, float, str]:
    cells = st.columns(3)
    k = cells[0].number_input(common.tr("最近设施数 k", "Nearest pools k"), 1, 5, _DEFAULTS.k_pools, key="pools_k")
    radius = cells[1].number_input(
        common.tr("服务半径（米）", "Service radius (m)"),
        500,
        20_000,
        int(_DEFAULTS.service_radius_m),
        step=500,
        key="pools_radius",
    )
    metric = cells[2].radio(
        common.tr("距离算法", "Distance by"),
        list(METRICS),
        format_func=_label(METRICS, lang),
        horizontal=True,
        key="pools_metric",
    )
    return int(k), float(radius), metric


def _coverage_section(coverage: PoolCoverage, data: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    schools = coverage.schools
    town = coverage.townships
    summary = coverage.summary()
    cells = st.columns(5)
    cells[0].metric(common.tr("无泳池学校", "Schools without a pool"), f"{summary.schools_without_pool:,}")
    cells[1].metric(common.tr("服务半径内", "Covered"), f"{summary.schools_covered:,}")
    cells[2].metric(
        common.tr("四年级学生（半径内/合计）", "Grade-4 pupils (covered/all)"),
        f"{summary.grade4_covered:,} / {summary.grade4_without_pool:,}",
    )
    cells[3].metric(common.tr("未达标乡镇", "Townships short"), f"{summary.townships_short:,}")
    cells[4].metric(common.tr("培训经费（元）", "Training budget (yuan)"), f"{coverage.budget_yuan:,}")

    tables = _tables(coverage, data, lang)
    names = list(tables)
    st.subheader(common.tr("学校到游泳设施的距离", "Schools and their nearest pools"))
    st.dataframe(widgets.highlight_rows(tables[names[0]], ~schools["covered"]), hide_index=True)
    st.subheader(common.tr("乡镇游泳设施（《实施方案》二（二）1）", "Township facilities (swimming plan II(2)1)"))
    st.dataframe(widgets.highlight_rows(tables[names[1]], town["how"] == "none"), hide_index=True)
    st.caption(
        common.tr("红色行：既无自有设施，也不能与邻乡镇共享。", "Red rows: no facility of their own and none to share.")
    )

    left, right = st.columns(2)
    with left:
        st.subheader(common.tr("培训经费", "Training budget"))
        st.dataframe(widgets.readable(tables[names[2]]), hide_index=True)
        st.caption(
            common.tr(
                f"按{rules.cite('swim.3.4')}：农村学校每名四年级学生 {rules.TRAINING_RATE_RURAL_YUAN} 元，"
                f"城区 {rules.TRAINING_RATE_URBAN_YUAN} 元。",
                f"{rules.cite('swim.3.4', 'en')}: {rules.TRAINING_RATE_RURAL_YUAN} yuan per grade-4 pupil at rural "
                f"schools, {rules.TRAINING_RATE_URBAN_YUAN} at urban ones.",
            )
        )
    with right:
        st.subheader(common.tr("师资缺口", "Staff shortfalls"))
        st.markdown(
            common.tr(
                f"缺游泳指导员/救生员 **{summary.instructors_short}** 名，"
                f"缺红十字救护师资 **{summary.redcross_short}** 名。",
                f"**{summary.instructors_short}** swimming instructors and "
                f"**{summary.redcross_short}** Red Cross trainers short.",
            )
        )
        st.dataframe(widgets.readable(tables[names[3]]), hide_index=True)
    widgets.download_tables(lambda: tables, names, common.tr("游泳设施覆盖", "pool_coverage"), "pools")
    export_panel.pools_report_button(coverage)
    widgets.assumptions(coverage.assumptions)


def _tables(coverage: PoolCoverage, data: Mapping[str, gpd.GeoDataFrame], lang: str) -> dict[str, pd.DataFrame]:
    zh = lang == "zh"
    table = coverage_table(coverage, data["pools"])
    return {
        ("学校覆盖" if zh else "Schools"): widgets.present(table, list(table.columns), lang),
        ("乡镇" if zh else "Townships"): widgets.present(coverage.townships, pools.TOWNSHIP_COLUMNS, lang),
        ("培训经费" if zh else "Budget"): widgets.present(coverage.townships, BUDGET_COLUMNS, lang),
        ("师资缺口" if zh else "Staffing"): widgets.present(coverage.short_of_staff(), pools.STAFFING_COLUMNS, lang),
    }


def _siting_form(radius: float, metric: str, lang: str) -> None:
    with st.form("pools_siting"):
        cells = st.columns(4)
        p = cells[0].number_input(common.tr("新建泳池数 p", "New pools p"), 1, 20, 2, key="siting_p")
        candidates = cells[1].selectbox(
            common.tr("候选点", "Candidate sites"),
            list(CANDIDATES),
            format_func=_label(CANDIDATES, lang),
            key="siting_kind",
        )
        spacing = cells[2].number_input(
            common.tr("网格间距（米，仅网格）", "Grid spacing (m, grid only)"),
            200,
            10_000,
            1000,
            step=100,
            key="siting_grid",
        )
        each = cells[3].checkbox(
            common.tr("每个无设施乡镇至少一处", "One in each township without a pool"),
            key="siting_each",
            help=rules.cite("swim.2.2.1", lang),
        )
        if st.form_submit_button(common.tr("运行选址", "Run siting"), type="primary"):
            st.session_state["siting_params"] = SitingParams(
                int(p), radius, candidates, metric, bool(each), float(spacing)
            )
            st.session_state["siting_new"] = True


def _siting(version: common.DataVersion) -> SitingResult | None:
    """The siting result of the last submitted settings; the first run of them shows its progress."""
    params: SitingParams | None = st.session_state.get("siting_params")
    if params is None:
        return None
    try:
        if st.session_state.pop("siting_new", False):
            with st.status(
                common.tr("正在求解最大覆盖选址模型…", "Solving the maximal covering model…"), expanded=True
            ) as status:
                st.write(common.tr("计算候选点到学校的距离并求解（CBC）", "Measuring distances and solving (CBC)"))
                result = analysis.sites(version, **asdict(params))
                status.update(label=common.tr("选址完成", "Siting done"), state="complete", expanded=False)
            return result
        return analysis.sites(version, **asdict(params))
    except ValueError as exc:
        st.error(widgets.md_escape(exc))
        return None


def _siting_results(result: SitingResult, data: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    kind, metric = _label(CANDIDATES, lang)(result.candidates), _label(METRICS, lang)(result.metric)
    st.caption(
        common.tr(
            f"选址设置：新建 {result.p} 处，服务半径 {result.radius_m:,.0f} 米，{metric}，"
            f"候选点 {result.n_candidates} 个（{kind}）。",
            f"Siting settings: {result.p} new pool(s), radius {result.radius_m:,.0f} m, "
            f"{metric.lower()}, {result.n_candidates} candidate sites ({kind}).",
        )
    )
    cells = st.columns(4)
    cells[0].metric(common.tr("选址前覆盖", "Covered before"), f"{result.covered_grade4_before:,}")
    cells[1].metric(
        common.tr("选址后覆盖", "Covered after"),
        f"{result.covered_grade4_after:,}",
        delta=f"{result.covered_grade4_gain:+,}",
    )
    cells[2].metric(
        common.tr("无泳池学校四年级学生", "Grade-4 pupils without a pool"), f"{result.total_grade4_without_pool:,}"
    )
    cells[3].metric(common.tr("全覆盖最少需新建", "Fewest new pools to cover all"), f"{result.lscp_min_pools:,}")
    st.dataframe(widgets.present(sites_table(result, data["schools"]), SITE_COLUMNS, lang), hide_index=True)
    widgets.assumptions(result.assumptions)


def _what_if(version: common.DataVersion, site: tuple[float, float], radius: float, metric: str) -> None:
    try:
        found = analysis.what_if(version, site[0], site[1], radius, metric)
    except ValueError as exc:
        st.error(widgets.md_escape(exc))
        return
    where = f"{site[0]:.5f}, {site[1]:.5f}"
    town = widgets.md_escape(found.township or common.tr("乡镇范围外", "outside the townships"))
    before, after = found.covered_grade4_before, found.covered_grade4_after
    st.success(
        common.tr(
            f"假设在 {where}（{town}）新建泳池：新增覆盖四年级学生 **{found.covered_grade4_gain:,}** 人"
            f"（{before:,} → {after:,}，共 {found.total_grade4_without_pool:,} 人）。",
            f"A pool at {where} ({town}) would bring **{found.covered_grade4_gain:,}** more grade-4 pupils within "
            f"reach ({before:,} → {after:,} of {found.total_grade4_without_pool:,}).",
        )
    )
    schools = common.layers(version)["schools"]
    names = dict(zip(schools["school_id"], schools["name"].fillna(schools["school_id"]), strict=True))
    widgets.bullets([names.get(s, s) for s in found.schools])


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_map(
    version: common.DataVersion, k: int, radius: float, metric: str, params: SitingParams | None, lang: str
) -> maplayers.MapPayload:
    """The map of one coverage setting and siting run, rendered once and reused while the user clicks on it."""
    coverage = analysis.coverage(version, k, radius, metric)
    result = analysis.sites(version, **asdict(params)) if params is not None else None
    return maplayers.split(pools_map(common.layers(version), coverage, result, lang))


def render() -> None:
    """The Pools page."""
    version, data = common.load_or_stop()
    lang = common.lang()
    st.header(common.tr("游泳设施覆盖与选址", "Pool coverage and siting"))
    k, radius, metric = _settings(lang)
    try:
        with st.spinner(common.tr("正在计算覆盖…", "Computing coverage…")):
            coverage = analysis.coverage(version, k, radius, metric)
    except ValueError as exc:
        st.error(widgets.md_escape(exc))
        return
    _coverage_section(coverage, data, lang)

    st.subheader(common.tr("新建泳池选址（最大覆盖模型）", "Where to build (maximal covering)"))
    _siting_form(radius, metric, lang)
    result = _siting(version)
    if result is not None:
        _siting_results(result, data, lang)
    params = st.session_state.get("siting_params") if result is not None else None
    st.caption(common.tr("点击地图任意位置，查看在该处新建泳池可新增覆盖多少学生。", "Click the map to test a site."))
    with st.spinner(common.tr("正在绘制地图…", "Drawing the map…")):
        m = _cached_map(version, k, radius, metric, params, lang)
    site = clicked_site(widgets.show_map(m, "pools_map", height=560, returned_objects=["last_clicked"]))
    if site is not None:
        _what_if(version, site, radius, metric)
