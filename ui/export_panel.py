"""Download buttons for the exports, for the Evacuation and Warning pages to embed (导出).

Thin: every file is made by :mod:`geo.export`.  Plain functions (``*_downloads``) say what can be downloaded: a
:class:`Download` with its label, file name and a ``make`` callable; the ``*_buttons`` functions put them on the
page.  Streamlit runs ``make`` only when its button is clicked, so a rerun never draws a map nobody asked for.  The
layers come from :func:`ui.common.layers`, so a viewer's exports carry masked phone numbers like the rest of the app.

The batch zip draws in this process (``workers=1``): the worker pool of the CLI spawns fresh interpreters, which
would re-run the app's script in each.  A township's points take a second or two each, with a progress bar.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from geo.analysis import exposure, pools
from geo.export import batch, cards, drill_map, files, fonts, reports, vector
from geo.export.hazard import ExportData
from geo.export.options import VECTOR_FORMATS, ExportSettings
from geo.settings import AnalysisSettings
from ui import analysis, common

MIME = {
    "pdf": "application/pdf",
    "png": "image/png",
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "kml": "application/vnd.google-earth.kml+xml",
    "gpx": "application/gpx+xml",
    "geojson": "application/geo+json",
}
#: The options a user may set once for every export of the session: (field, Chinese, English).
_SETTINGS = (
    ("issuing_unit", "制图/发卡单位", "Issuing unit"),
    ("duty_phone", "值班电话", "Duty phone"),
    ("rescue_unit", "抢险单位", "Rescue unit"),
    ("security_unit", "治安保卫单位", "Security unit"),
    ("medical_unit", "医疗救护单位", "Medical aid unit"),
)
WALK_KMH = AnalysisSettings.walk_speed_kmh


@dataclass(frozen=True)
class Download:
    """One file to offer: its button label (Chinese, English), file name, MIME type, and how to make it."""

    label: tuple[str, str]
    file_name: str
    mime: str
    make: Callable[[], bytes]


def _made(write: Callable[[io.BytesIO], object], ext: str) -> Callable[[], bytes]:
    """``make`` for a :class:`Download`: runs ``write`` on an in-memory file named ``*.ext`` (the exports choose
    their format by the name) and returns the bytes."""

    def make() -> bytes:
        buffer = io.BytesIO()
        buffer.name = f"export.{ext}"
        write(buffer)
        return buffer.getvalue()

    return make


# --------------------------------------------------------------------------------------------------
# What can be downloaded


def drill_map_downloads(
    data: ExportData, hazard_id: str, settings: ExportSettings, paper: str = "A4", orientation: str = "landscape"
) -> list[Download]:
    """The drill map of a hazard point as PDF and PNG."""
    stem = files.file_stem(hazard_id, data.facts(hazard_id).name)
    return [
        Download(
            (f"下载演练图（{ext.upper()}）", f"Drill map ({ext.upper()})"),
            f"{stem}_演练图.{ext}",
            MIME[ext],
            _made(lambda out: drill_map.write_drill_map(data, hazard_id, out, settings, paper, orientation), ext),
        )
        for ext in ("pdf", "png")
    ]


def cards_downloads(data: ExportData, hazard_ids: Sequence[str], settings: ExportSettings) -> list[Download]:
    """The two 明白卡 of the hazard points in one PDF, each point on its own sheets."""
    ids = list(hazard_ids)
    name = files.file_stem(ids[0], data.facts(ids[0]).name) if len(ids) == 1 else "明白卡"
    make = _made(lambda out: cards.write_cards(data, ids, out, settings), "pdf")
    return [Download(("下载防灾明白卡（PDF）", "明白卡 cards (PDF)"), f"{name}_明白卡.pdf", MIME["pdf"], make)]


def route_downloads(data: ExportData, hazard_ids: Sequence[str] | None = None) -> list[Download]:
    """The routes as KML, GPX and GeoJSON (KML and GPX with the zones, shelters and hazard points)."""
    ids = None if hazard_ids is None else list(hazard_ids)
    return [
        Download(
            (f"路线 {fmt.upper()}", f"Routes {fmt.upper()}"),
            f"撤离路线.{fmt}",
            MIME[fmt],
            _made(lambda out, fmt=fmt: vector.write_vector(data, "routes", out, fmt, ids), fmt),
        )
        for fmt in VECTOR_FORMATS["routes"]
    ]


def warning_report_downloads(result: exposure.ExposureResult, settings: ExportSettings) -> list[Download]:
    """The at-risk population under the warning: Excel workbook and one-page PDF summary."""
    return [
        Download(
            label,
            name,
            MIME[ext],
            _made(lambda out: reports.write_warning_report(result, out, settings), ext),
        )
        for label, name, ext in (
            (("受威胁人口报表（Excel）", "At-risk report (Excel)"), "预警受威胁人口统计.xlsx", "xlsx"),
            (("预警摘要（PDF，一页）", "Warning summary (PDF, one page)"), "预警受威胁情况摘要.pdf", "pdf"),
        )
    ]


def pools_report_downloads(coverage: pools.PoolCoverage, settings: ExportSettings) -> list[Download]:
    """The pool coverage as a formatted Excel workbook."""
    make = _made(lambda out: reports.write_pools_report(coverage, out, settings), "xlsx")
    return [
        Download(("泳池覆盖报表（Excel）", "Pool coverage report (Excel)"), "游泳池覆盖统计.xlsx", MIME["xlsx"], make)
    ]


# --------------------------------------------------------------------------------------------------
# On the page


@st.cache_resource(show_spinner=False, max_entries=4)
def _export_data(version: common.DataVersion, speed_kmh: float) -> ExportData:
    """The layers and the routes (the app's cached analysis) ready for the exports, once per data version."""
    routes = analysis.routes(version, speed_kmh)
    return ExportData.prepare(common.layers(version), AnalysisSettings(walk_speed_kmh=speed_kmh), routes)


def export_settings() -> ExportSettings:
    """The options set in :func:`settings_form` this session, else the defaults."""
    chosen = {field: st.session_state.get(f"export_{field}") for field, _, _ in _SETTINGS}
    return ExportSettings(**{field: value for field, value in chosen.items() if value})


def settings_form() -> None:
    """An expander to set the issuing unit and the cards' contacts for every export of the session."""
    with st.expander(common.tr("导出设置（制图单位、值班电话等）", "Export settings (issuing unit, duty phone ...)")):
        for field, zh, en in _SETTINGS:
            st.text_input(
                common.tr(zh, en),
                value=getattr(ExportSettings(), field) or "",
                key=f"export_{field}",
                help=common.tr("留空则打印横线，手工填写", "Left blank, the cards print a line to fill in by hand"),
            )


def _font_ready() -> bool:
    """Whether a CJK font is installed; where not, say how to install one instead of failing on click."""
    try:
        fonts.cjk_font()
    except fonts.FontError as exc:
        st.error(str(exc))
        return False
    return True


def _offer(downloads: list[Download], key: str) -> None:
    """Download buttons side by side."""
    for column, download in zip(st.columns(len(downloads)), downloads, strict=True):
        column.download_button(
            common.tr(*download.label),
            download.make,
            file_name=download.file_name,
            mime=download.mime,
            key=f"{key}_{download.file_name}",
            on_click="ignore",
        )


def drill_map_buttons(
    version: common.DataVersion, hazard_id: str, speed_kmh: float = WALK_KMH, key: str = "drill"
) -> None:
    """Paper and orientation choices and PDF/PNG downloads of one hazard point's drill map."""
    if not _font_ready():
        return
    left, right = st.columns(2)
    paper = left.selectbox(common.tr("纸张", "Paper"), ["A4", "A3"], key=f"{key}_paper")
    orientation = right.selectbox(
        common.tr("方向", "Orientation"),
        ["landscape", "portrait"],
        format_func=lambda o: common.tr({"landscape": "横向", "portrait": "纵向"}[o], o),
        key=f"{key}_orientation",
    )
    data = _export_data(version, speed_kmh)
    _offer(drill_map_downloads(data, hazard_id, export_settings(), paper, orientation), key)


def cards_buttons(
    version: common.DataVersion, hazard_ids: Sequence[str], speed_kmh: float = WALK_KMH, key: str = "cards"
) -> None:
    """A PDF download of the two 明白卡 of the hazard points."""
    if hazard_ids and _font_ready():
        _offer(cards_downloads(_export_data(version, speed_kmh), hazard_ids, export_settings()), key)


def route_file_buttons(
    version: common.DataVersion,
    hazard_ids: Sequence[str] | None = None,
    speed_kmh: float = WALK_KMH,
    key: str = "routes",
) -> None:
    """KML, GPX and GeoJSON downloads of the routes of ``hazard_ids`` (default: every active hazard point)."""
    _offer(route_downloads(_export_data(version, speed_kmh), hazard_ids), key)


def batch_button(
    version: common.DataVersion,
    township: str | None = None,
    warning_id: str | None = None,
    speed_kmh: float = WALK_KMH,
    key: str = "batch",
) -> None:
    """Build the zip of every drill map and card of a township or warning area, with a progress bar, then offer it."""
    if not _font_ready():
        return
    place = township or warning_id or ""
    if st.button(common.tr(f"生成{place}演练图和明白卡（ZIP）", f"Build the drill pack of {place} (ZIP)"), key=key):
        data = _export_data(version, speed_kmh)
        ids = data.select(township=township, warning_id=warning_id)
        if not ids:
            st.warning(common.tr(f"{place}没有在册隐患点", f"No active hazard point in {place}"))
            return
        bar = st.progress(0.0, text=common.tr("正在生成……", "Drawing ..."))

        def progress(done: int, total: int, hazard_id: str) -> None:
            bar.progress(done / total, text=f"{done}/{total}  {data.facts(hazard_id).name}")

        buffer = io.BytesIO()
        result = batch.write_batch(data, ids, buffer, export_settings(), progress=progress, workers=1)
        st.session_state[f"{key}_zip"] = (f"{place}_演练图和明白卡.zip", buffer.getvalue(), result.points)
    if f"{key}_zip" in st.session_state:
        name, content, points = st.session_state[f"{key}_zip"]
        st.download_button(
            common.tr(f"下载 {name}（{points} 处）", f"Download {name} ({points} points)"),
            content,
            file_name=name,
            mime=MIME["zip"],
            key=f"{key}_download",
            on_click="ignore",
        )


def warning_report_buttons(result: exposure.ExposureResult, key: str = "warning_report") -> None:
    """Excel workbook and one-page PDF summary of the at-risk population under the current warning."""
    downloads = warning_report_downloads(result, export_settings())
    _offer(downloads if _font_ready() else downloads[:1], key)


def pools_report_button(coverage: pools.PoolCoverage, key: str = "pools_report") -> None:
    """The pool coverage as a formatted Excel workbook."""
    _offer(pools_report_downloads(coverage, export_settings()), key)
