"""Small pieces the pages share: titled tables, Excel/CSV downloads, escaped notes, and showing a folium map.

Tables are built by plain functions in the pages with the analyses' English column names; :func:`present` turns
one into what a reader sees (Chinese or English headers, coded values as words, lists as text), so the screen,
the Excel workbook and the CSV file show the same table.
"""

from __future__ import annotations

import io
import numbers
import re
from collections.abc import Callable, Mapping, Sequence

import folium
import numpy as np
import pandas as pd
import streamlit as st
import streamlit_folium
from openpyxl.utils import get_column_letter

from geo.analysis import evacuation
from geo.model.text import csv_field, xlsx_text
from layers import frame, i18n
from layers.escape import is_missing
from layers.frame import MapPayload
from ui.lang import tr

#: Titles of the columns the pages show that are not data-model columns (those take the model's titles).
TITLES: dict[str, tuple[str, str]] = {
    # exposure
    "warning_id": ("预警编号", "Warning ID"),
    "level": ("预警等级", "Warning level"),
    "area_km2": ("面积（平方千米）", "Area (km²)"),
    "hazard_points": ("隐患点数", "Hazard points"),
    "hazard_points_red": ("红色预警隐患点", "Points at red"),
    "hazard_points_orange": ("橙色预警隐患点", "Points at orange"),
    "hazard_points_yellow": ("黄色预警隐患点", "Points at yellow"),
    "hazard_points_blue": ("蓝色预警隐患点", "Points at blue"),
    "villages_in_danger_zones": ("危险区内村庄", "Villages in danger zones"),
    "people_in_danger_zones": ("危险区内人口", "People in danger zones"),
    "households_in_danger_zones": ("危险区内户数", "Households in danger zones"),
    "schools_in_danger_zones": ("危险区内学校", "Schools in danger zones"),
    "students_in_danger_zones": ("危险区内学生", "Students in danger zones"),
    "shelters": ("可用避灾场所", "Shelters available"),
    "shelter_capacity": ("避灾场所容量（人）", "Shelter capacity (people)"),
    "warning_ids": ("所在预警区", "Warning areas"),
    "patrol": ("巡查", "Patrol"),
    "evacuate": ("转移", "Evacuation"),
    "unit": ("责任单位", "Responsible unit"),
    "action": ("措施", "Action"),
    "from_level": ("响应级别", "Response level"),
    "section": ("依据", "Plan section"),
    "conditional": ("必要时", "When necessary"),
    # evacuation ("shelter_id" of a hazard point is its assigned shelter: tables call that "assigned_shelter_id")
    "shelter_id": ("避灾场所编号", "Shelter ID"),
    "shelter_name": ("避灾场所", "Shelter"),
    "reachable": ("可达", "Reachable"),
    "reason": ("说明", "Reason"),
    "inside_danger_zone": ("位于危险区内", "Inside a danger zone"),
    "on_network": ("连通路网", "On the road network"),
    "selected_people": ("本次转移人数", "People from this selection"),
    "load_percent": ("负荷率（%）", "Load (%)"),
    # pools
    "nearest_metric": ("距离算法", "Distance by"),
    "k_radius_m": ("k 近设施半径（米）", "k-pool radius (m)"),
    "covered": ("服务半径内", "Covered"),
    "note": ("备注", "Note"),
    "open_facilities": ("自有开放设施", "Own open facilities"),
    "meets_requirement": ("达到要求", "Meets requirement"),
    "how": ("方式", "How"),
    "shared_pools": ("共享设施", "Shared pools"),
    "schools": ("学校数", "Schools"),
    "schools_without_pool": ("无泳池学校", "Schools without a pool"),
    "grade4_out_of_reach": ("半径外四年级学生", "Grade-4 pupils out of reach"),
    "budget_yuan": ("培训经费（元）", "Training budget (yuan)"),
    "schools_short_instructors": ("游泳师资不足学校", "Schools short of instructors"),
    "schools_short_redcross": ("救护师资不足学校", "Schools short of Red Cross trainers"),
    "instructors_short": ("缺游泳指导员", "Instructors short"),
    "redcross_required": ("应配救护师资", "Red Cross trainers required"),
    "redcross_short": ("缺救护师资", "Red Cross trainers short"),
    "site_id": ("候选点", "Site"),
    "covered_grade4": ("新增覆盖四年级学生", "Grade-4 pupils newly covered"),
    "school_names": ("覆盖学校", "Schools covered"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    # data
    "layer": ("图层", "Layer"),
    "title": ("名称", "Title"),
    "features": ("要素数", "Features"),
    "geometry_types": ("几何类型", "Geometry"),
    "problems": ("问题数", "Problems"),
    "feature": ("要素", "Feature"),
    "rule": ("规则", "Rule"),
    "message": ("说明", "Message"),
    "severity": ("级别", "Severity"),
    "at": ("时间", "Time"),
    "user": ("编辑人", "User"),
    "feature_id": ("要素编号", "Feature ID"),
    "version_before": ("原版本", "Version before"),
    "version_after": ("新版本", "Version after"),
    "changes": ("修改内容", "Changes"),
    "column": ("字段", "Column"),
    "yours": ("您的修改", "Your value"),
    "stored": ("已保存的值", "Stored value"),
}
#: Numbered columns (the k nearest pools): pattern -> (Chinese, English) with ``{n}``.
_NUMBERED: dict[str, tuple[str, str]] = {
    "pool": ("第 {n} 近设施", "Pool {n}"),
    "distance_m": ("第 {n} 近距离（米）", "Distance {n} (m)"),
}
_NUMBERED_COLUMN = re.compile(r"^(pool|distance_m)_(\d+)$")

#: Coded values of analysis columns as words.
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "patrol": {"key_points": ("重点隐患点", "key points"), "all_points": ("全部隐患点", "all points")},
    "evacuate": {
        "none": ("不转移", "no"),
        "if_needed": ("必要时转移", "if needed"),
        "required": ("立即转移", "required"),
    },
    "rescue_teams": {
        "none": ("—", "—"),
        "prepare": ("做好救援准备", "prepare"),
        "standby": ("待命", "standby"),
        "enter_if_needed": ("必要时进入预警区", "enter if needed"),
    },
    "how": {"own": ("自有", "own"), "shared": ("与邻乡镇共享", "shared"), "none": ("未达到", "none")},
    "severity": {"error": ("错误", "error"), "warning": ("警告", "warning")},
    "action": {
        "update": ("修改", "update"),
        "status": ("状态变更", "status change"),
        "insert": ("新增", "insert"),
        "replace_layer": ("替换图层", "replace layer"),
    },
}
#: The data-model layer whose enumeration labels a column's coded values when a result table carries it.
_ENUM_LAYER = {
    "level": "warning_areas",
    "danger_grade": "hazard_points",
    "scale_class": "hazard_points",
    "hazard_type": "hazard_points",
    "status": "hazard_points",
    "area_type": "townships",
    "nearest_metric": "",
    "metric": "",
    "origin_kind": "",
}
#: Columns worded from the table's other columns in the reader's language: column -> (table, lang) -> values.
#: An evacuation route's ``reason`` is stored in English beside a language-neutral form (``geo.analysis.evacuation``).
_WORDED: dict[str, Callable[[pd.DataFrame, str], pd.Series]] = {"reason": evacuation.reason_texts}
_LIST_SEPARATOR = "、"
#: Characters Markdown (and Streamlit's extensions: $ for maths, : for colours and icons) give a meaning.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")
#: Excel's limit on sheet names, and the characters it refuses in them.
_SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def title(column: str, lang: str) -> str:
    """The header of ``column`` in ``lang``: the pages' own titles, else the data model's, else the name."""
    zh_en = TITLES.get(column)
    if zh_en is None and (match := _NUMBERED_COLUMN.match(column)):
        zh, en = _NUMBERED[match.group(1)]
        zh_en = (zh.format(n=match.group(2)), en.format(n=match.group(2)))
    if zh_en is not None:
        return zh_en[0] if lang == "zh" else zh_en[1]
    return i18n.column_title("", column, lang)


def value_labels(column: str, lang: str) -> dict[str, str]:
    """Coded value -> word for ``column`` (empty when its values are shown as they are)."""
    if column in VALUE_LABELS:
        return {code: zh if lang == "zh" else en for code, (zh, en) in VALUE_LABELS[column].items()}
    if column in _ENUM_LAYER:
        key = "metric" if column == "nearest_metric" else column
        return dict(i18n.enum_labels(_ENUM_LAYER[column], key, lang))
    return {}


def _cell(value: object, labels: Mapping[str, str], yes_no: tuple[str, str]) -> object:
    if isinstance(value, list | tuple):
        return _LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, bool | np.bool_):
        return yes_no[0] if value else yes_no[1]
    if is_missing(value):
        return None
    if isinstance(value, str):
        return labels.get(value, value)
    return value


def present(frame: pd.DataFrame, columns: Sequence[str], lang: str) -> pd.DataFrame:
    """Return ``columns`` of ``frame`` (those it has, in that order) as a reader sees them.

    Headers become titles in ``lang``, coded values words (四级（蓝色）, 滑坡, 必要时转移 ...), booleans 是/否,
    lists text joined by 、, a route's reason a sentence in ``lang``; numbers stay numbers so a spreadsheet can add
    them up.
    """
    shown = [c for c in columns if c in frame.columns]
    yes_no = (i18n.ui("yes", lang), i18n.ui("no", lang))
    out = pd.DataFrame(index=range(len(frame)))
    for column in shown:
        series = _WORDED[column](frame, lang) if column in _WORDED else frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            out[title(column, lang)] = series.to_numpy()
            continue
        labels = value_labels(column, lang)
        out[title(column, lang)] = pd.Series([_cell(v, labels, yes_no) for v in series.astype(object)], dtype=object)
    return out


def shown_number(value: object) -> str:
    """A cell as a styled table shows it: whole numbers with thousands separators, others to one decimal, missing
    values empty.  (A pandas Styler would print every float with six decimals: 3168.000000 m.)"""
    if is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Number):
        return str(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


#: Rows above which :func:`readable` leaves a table as it is: styling costs about 6 µs a cell (0.9 s for 10,000
#: rows of 15 columns), too slow for a page that reruns on every click.
READABLE_ROWS = 2000


def readable(table: pd.DataFrame) -> pd.io.formats.style.Styler | pd.DataFrame:
    """``table`` (from :func:`present`) styled for the screen with :func:`shown_number`: 15,037 people, blank where
    a value does not apply.  The downloads keep the numbers as numbers; a table of more than ``READABLE_ROWS`` rows
    is returned as it is."""
    if len(table) > READABLE_ROWS:
        return table
    # Streamlit draws a missing cell as "None" whatever the style says: columns with gaps become text (shown as
    # written); whole columns stay numbers, so they still sort as numbers.
    gaps = [column for column in table.columns if table[column].isna().any()]
    shown = table.assign(**{column: table[column].map(shown_number) for column in gaps}) if gaps else table
    return shown.style.format(shown_number)


def highlight_rows(table: pd.DataFrame, mask: Sequence[bool], colour: str = "#fde0dc") -> pd.io.formats.style.Styler:
    """``table`` styled with a background on the rows where ``mask`` is true (unreachable, over capacity ...)."""
    flags = list(mask)

    def style(row: pd.Series) -> list[str]:
        return [f"background-color: {colour}" if flags[row.name] else ""] * len(row)

    return readable(table).apply(style, axis=1)


def md_escape(text: object) -> str:
    """``text`` with Markdown syntax escaped, so st.markdown shows exactly the characters it holds.

    >>> md_escape("a_b *c* $x$ :red[y]")
    'a\\\\_b \\\\*c\\\\* \\\\$x\\\\$ \\\\:red\\\\[y\\\\]'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", "" if is_missing(text) else str(text))


def bullets(items: Sequence[object]) -> None:
    """Show ``items`` as a bulleted list, each escaped."""
    if items:
        st.markdown("\n".join(f"- {md_escape(item)}" for item in items))


def assumptions(notes: Sequence[str]) -> None:
    """The assumptions an analysis states, in a closed expander under its results."""
    with st.expander(tr("分析假设与说明", "Assumptions")):
        bullets(notes)


# --------------------------------------------------------------------------------------------------
# Downloads


def sheet_names(names: Sequence[str]) -> list[str]:
    """Excel-safe, unique sheet names: at most 31 characters, none of ``[]:*?/\\``."""
    out: list[str] = []
    for name in names:
        base = _SHEET_NAME_BAD.sub("_", name).strip("'")[:_SHEET_NAME_MAX] or "Sheet"
        candidate, n = base, 2
        while candidate in out:
            suffix = f" ({n})"
            candidate, n = base[: _SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
        out.append(candidate)
    return out


def excel_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook with one sheet per table, headers as given, the header row frozen.

    Text cells stay text even when they start with "=": a name typed into the data must never become a
    formula in the reader's spreadsheet.
    """
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in zip(sheet_names(list(sheets)), sheets.values(), strict=True):
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for cells in sheet.iter_cols():
                for cell in cells:
                    xlsx_text(cell)
                # Roughly fit the widest cell; a CJK character is about two Latin ones wide.
                width = max((_display_width(c.value) for c in cells), default=8)
                sheet.column_dimensions[get_column_letter(cells[0].column)].width = min(max(width + 2, 8), 60)
    return buffer.getvalue()


def _display_width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as CSV in UTF-8 with a byte-order mark, so Excel opens Chinese text correctly.

    Text starting with = + - @ is prefixed with ' so a spreadsheet shows it instead of evaluating it.
    """
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(csv_field)
    return safe.to_csv(index=False).encode("utf-8-sig")


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_tables(
    sheets: Callable[[], Mapping[str, pd.DataFrame]], names: Sequence[str], stem: str, key: str
) -> None:
    """An Excel button (every table, one sheet each) and a CSV button for a chosen table.

    Parameters
    ----------
    sheets
        Builds sheet name -> presented table; called when a button is clicked, not on every rerun.
    names
        The sheet names ``sheets`` returns, for the CSV choice.
    stem
        File name without extension.
    key
        Prefix of the widgets' keys.
    """
    left, middle, right = st.columns([1, 1, 1], vertical_alignment="bottom")
    left.download_button(
        tr("下载 Excel（全部表格）", "Download Excel (all tables)"),
        data=lambda: excel_bytes(sheets()),
        file_name=f"{stem}.xlsx",
        mime=_XLSX,
        key=f"{key}_xlsx",
        on_click="ignore",
        icon=":material/table:",
    )
    chosen = middle.selectbox(tr("CSV 表格", "Table for CSV"), names, key=f"{key}_csv_table")
    right.download_button(
        tr("下载 CSV", "Download CSV"),
        data=lambda: csv_bytes(sheets()[chosen]),
        file_name=f"{stem}_{chosen}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )


# --------------------------------------------------------------------------------------------------
# Maps


#: What streamlit-folium's page reports before any interaction, in its order.  The page compares the JSON text of
#: what it would report with the last one sent and reruns the app when they differ: a default that differs from
#: these (another order, None for the click count) would rerun the app as soon as the map has loaded.
_UNTOUCHED = {
    "last_clicked": None,
    "last_object_clicked": None,
    "last_object_clicked_count": 0,
    "last_object_clicked_tooltip": None,
    "last_object_clicked_popup": None,
    "all_drawings": None,
    "last_active_drawing": None,
}


def untouched_state(returned_objects: Sequence[str]) -> dict:
    """What the map reports of ``returned_objects`` before the reader touches it.

    Raises
    ------
    ValueError
        For an object whose first value depends on the map (bounds, zoom, center): asking for one would rerun
        the page every time the map loads.
    """
    unknown = set(returned_objects) - set(_UNTOUCHED)
    if unknown:
        raise ValueError(f"the map cannot report {sorted(unknown)} without rerunning the page on load")
    return {name: value for name, value in _UNTOUCHED.items() if name in returned_objects}


def show_map(
    m: folium.Map | MapPayload,
    key: str,
    *,
    height: int = 520,
    returned_objects: Sequence[str] = (),
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
) -> dict:
    """Show a finished map (see :func:`layers.finish_map`), or its cached :func:`layers.frame.split`, across the page.

    The iframe is keyed on ``key`` and the map's frame: while only the data changes (a filter), the browser keeps
    the map and swaps its layers, keeping the reader's view.  Only ``returned_objects`` make the app rerun on
    interaction, so panning never reruns a page.  ``center``/``zoom`` move the map when they change.

    Returns what streamlit-folium reports (the ``returned_objects``), or an empty dict before any interaction.
    """
    payload = m if isinstance(m, MapPayload) else frame.split(m)
    # streamlit-folium's own st_folium() re-renders the map and keys the iframe on its whole script; its component
    # takes the parts (layers.frame explains the cut).
    state = streamlit_folium._component_func(
        script=payload.script,
        header=payload.header,
        html=payload.html,
        id=f"map_{frame.MAP_ID}",
        key=f"{key}_{payload.frame_key}",
        height=height,
        width=None,
        returned_objects=list(returned_objects),
        default=untouched_state(returned_objects),
        zoom=zoom,
        center=center,
        feature_group=payload.data_call,
        return_on_hover=False,
        layer_control="",
        pixelated=False,
        css_links=list(payload.css_links),
        js_links=list(payload.js_links),
        wrap_longitude=False,
    )
    return state or {}
