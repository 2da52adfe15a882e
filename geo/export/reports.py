"""Reports for the duty office: the at-risk population under the current warning and the pool coverage, as Excel
workbooks, and a one-page PDF summary of the warning.

Each table of an analysis result becomes a sheet with Chinese headers, a bold frozen header row, fitted column
widths, number formats and a totals row; the last sheet (说明) carries the settings and the assumptions the
analysis states, so the figures never travel without them.  The sheets are declared as data (:data:`WARNING_SHEETS`,
:data:`POOL_SHEETS`): adding a column is one line.

Totals count what the analysis counts: in the warning report every total is the district figure of the analysis,
where each hazard point counts once at its highest level and each village once (docs/data-model.md), so an overlapping
warning area or a village threatened from two townships does not count twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from geo.analysis import exposure, pools
from geo.export import fonts
from geo.export.files import Target, opened, suffix
from geo.export.forms import table
from geo.export.options import ExportSettings
from geo.export.page import INTERNAL_USE, Page, write_pdf
from geo.model import rules, schema
from geo.model.text import xlsx_text

#: Number formats by column kind.
if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

_FORMATS = {"int": "#,##0", "dec1": "#,##0.0", "dec3": "#,##0.000", "text": "@"}
_PATROL_ZH = {"key_points": "重要隐患点", "all_points": "全部隐患点"}
_EVACUATE_ZH = {"none": "不组织转移", "if_needed": "必要时组织转移", "required": "组织转移避让"}
_METRIC_ZH = {"network": "沿道路", "straight": "直线"}
_HOW_ZH = {"own": "本乡镇自有", "shared": "与相邻乡镇共享", "none": "未达标"}
_AREA_ZH = dict(schema.AREA_TYPES)
_POOL_KIND_ZH = dict(schema.POOL_KINDS)


@dataclass(frozen=True)
class Col:
    """One column of a sheet: the result's column, its Chinese header, its kind and, for codes, their labels.

    ``kind`` is ``text``, ``int``, ``dec1``, ``dec3``, ``bool`` (是/否) or ``list`` (joined with 、).
    """

    key: str
    title: str
    kind: str = "text"
    labels: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Sheet:
    """A sheet: its name, the result table it shows, its columns, and its totals row (None: no totals).

    ``totals`` takes the result and gives ``{column: value}`` for the totals row, labelled ``total_label`` in the
    first column.
    """

    name: str
    frame: Callable[[object], pd.DataFrame]
    columns: tuple[Col, ...]
    totals: Callable[[object], Mapping[str, object]] | None = None
    total_label: str = "合计"
    notes: tuple[str, ...] = field(default_factory=tuple)


_COUNTS = (
    Col("hazard_points", "隐患点（处）", "int"),
    Col("threatened_people", "威胁人数", "int"),
    Col("threatened_households", "威胁户数", "int"),
    Col("villages_in_danger_zones", "危险区内村庄（个）", "int"),
    Col("people_in_danger_zones", "危险区内人口", "int"),
    Col("households_in_danger_zones", "危险区内户数", "int"),
    Col("schools_in_danger_zones", "危险区内学校（所）", "int"),
    Col("students_in_danger_zones", "危险区内学生", "int"),
)
_DUTIES = (Col("patrol", "巡查要求", labels=_PATROL_ZH), Col("evacuate", "转移要求", labels=_EVACUATE_ZH))


def _district(result: exposure.ExposureResult) -> dict:
    return result.district


def _school_totals(coverage: pools.PoolCoverage) -> dict:
    """The totals row of the schools sheet: the figures the Pools page and ``pools`` show."""
    summary = coverage.summary()
    return {
        "name": f"{summary.schools_without_pool} 所",
        "grade4_students": summary.grade4_without_pool,
        "covered": f"{summary.schools_covered} 所",
    }


WARNING_SHEETS = (
    Sheet(
        "预警区",
        lambda r: r.areas,
        (
            Col("warning_id", "预警编号"),
            Col("level_zh", "预警等级"),
            Col("issued_at", "发布时间"),
            Col("valid_until", "有效期至"),
            Col("area_km2", "面积（平方千米）", "dec3"),
            *_COUNTS,
            Col("shelters", "可用避灾场所（处）", "int"),
            Col("shelter_capacity", "避灾容量（人）", "int"),
            *_DUTIES,
        ),
        totals=_district,
        total_label="全区合计（每处隐患点、每个村庄只计一次）",
    ),
    Sheet(
        "乡镇",
        lambda r: r.townships,
        (
            Col("township", "乡镇（街道）"),
            Col("level_zh", "最高预警等级"),
            *(Col(f"hazard_points_{c}", f"{rules.WARNING_LEVELS[c].name_zh}隐患点", "int") for c in rules.LEVELS_DOWN),
            *_COUNTS,
        ),
        totals=_district,
        total_label="全区合计（每处隐患点、每个村庄只计一次）",
    ),
    Sheet(
        "按预警等级",
        lambda r: pd.DataFrame(
            [{"level_zh": schema.WARNING_LEVEL_LABELS[c], **v} for c, v in r.district["by_level"].items()]
        ),
        (Col("level_zh", "预警等级"), *_COUNTS, *_DUTIES),
        totals=_district,
        total_label="全区合计（每处隐患点按最高等级计一次）",
    ),
    Sheet(
        "隐患点",
        lambda r: r.hazard_points,
        (
            Col("hazard_id", "统一编号"),
            Col("name", "名称"),
            Col("township", "乡镇（街道）"),
            Col("village", "村（社区）"),
            Col("level_zh", "预警等级"),
            Col("warning_ids", "所在预警区", "list"),
            Col("hazard_type", "灾害类型", labels=schema.HAZARD_TYPES),
            Col("danger_grade", "险情等级", labels=schema.GRADES),
            Col("threatened_people", "威胁人数", "int"),
            Col("threatened_households", "威胁户数", "int"),
            Col("people_in_danger_zones", "危险区内人口", "int"),
            *_DUTIES,
            Col("monitor_name", "监测人"),
            Col("monitor_phone", "监测人电话"),
            Col("responsible_name", "责任人"),
            Col("responsible_phone", "责任人电话"),
        ),
        totals=lambda r: {
            "name": f"{len(r.hazard_points)} 处",
            "threatened_people": r.district["threatened_people"],
            "threatened_households": r.district["threatened_households"],
        },
    ),
)

POOL_SHEETS = (
    Sheet(
        "学校覆盖",
        lambda c: c.schools,
        (
            Col("school_id", "学校编号"),
            Col("name", "学校"),
            Col("township", "乡镇（街道）"),
            Col("grade4_students", "四年级学生", "int"),
            Col("nearest_pool_id", "最近泳池"),
            Col("nearest_distance_m", "距离（米）", "dec1"),
            Col("nearest_metric", "量算方式", labels=_METRIC_ZH),
            Col("k_radius_m", "k 池半径（米）", "dec1"),
            Col("covered", "服务半径内", "bool"),
            Col("note", "备注"),
        ),
        totals=_school_totals,
    ),
    Sheet(
        "最近泳池",
        lambda c: c.nearest,
        (
            Col("school_id", "学校编号"),
            Col("rank", "次序", "int"),
            Col("pool_id", "泳池编号"),
            Col("distance_m", "距离（米）", "dec1"),
            Col("metric", "量算方式", labels=_METRIC_ZH),
        ),
    ),
    Sheet(
        "乡镇",
        lambda c: c.townships,
        (
            Col("township", "乡镇（街道）"),
            Col("area_type", "城乡类型", labels=_AREA_ZH),
            Col("open_facilities", "已开放泳池", "int"),
            Col("meets_requirement", "达到设施要求", "bool"),
            Col("how", "达标方式", labels=_HOW_ZH),
            Col("shared_pools", "共享泳池", "list"),
            Col("schools", "学校（所）", "int"),
            Col("schools_without_pool", "无泳池学校", "int"),
            Col("grade4_students", "四年级学生", "int"),
            Col("grade4_out_of_reach", "服务半径外四年级学生", "int"),
            Col("budget_yuan", "培训经费（元）", "int"),
            Col("schools_short_instructors", "缺游泳指导员学校", "int"),
            Col("schools_short_redcross", "缺救护师资学校", "int"),
        ),
        totals=lambda c: {
            **c.townships.select_dtypes("number").sum().astype(int).to_dict(),
            "budget_yuan": c.budget_yuan,
        },
    ),
    Sheet(
        "泳池使用",
        lambda c: c.pools,
        (
            Col("pool_id", "泳池编号"),
            Col("name", "名称"),
            Col("township", "乡镇（街道）"),
            Col("kind", "类型", labels=_POOL_KIND_ZH),
            Col("lanes", "泳道", "int"),
            Col("n_schools", "就近使用的学校", "int"),
            Col("schools", "学校编号", "list"),
            Col("grade4_students", "四年级学生", "int"),
            Col("grade4_within_radius", "其中服务半径内", "int"),
        ),
        totals=lambda c: c.pools[["lanes", "n_schools", "grade4_students", "grade4_within_radius"]].sum().to_dict(),
    ),
    Sheet(
        "师资",
        lambda c: c.staffing,
        (
            Col("school_id", "学校编号"),
            Col("name", "学校"),
            Col("township", "乡镇（街道）"),
            Col("swim_instructors", "游泳指导员/救生员", "int"),
            Col("instructors_short", "缺额", "int"),
            Col("redcross_trainers", "红十字救护师资", "int"),
            Col("redcross_required", "应配", "int"),
            Col("redcross_short", "缺额", "int"),
        ),
        totals=lambda c: (
            c.staffing[
                ["swim_instructors", "instructors_short", "redcross_trainers", "redcross_required", "redcross_short"]
            ]
            .sum()
            .to_dict()
        ),
    ),
)


# --------------------------------------------------------------------------------------------------
# Excel


def write_workbook(
    result: object, sheets: Sequence[Sheet], notes: list[str], target: Target, settings: ExportSettings
) -> None:
    """Write the ``sheets`` of an analysis result and a 说明 sheet with ``notes`` as one .xlsx workbook."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        _write_sheet(book.create_sheet(sheet.name), sheet, result)
    info = book.create_sheet("说明")
    info.column_dimensions["A"].width = 120
    for n, line in enumerate([f"{settings.issuing_unit}  {settings.date_zh}  {INTERNAL_USE}", "", *notes], 1):
        xlsx_text(info.cell(n, 1, line))
        info.cell(n, 1).alignment = _wrap()
    info.cell(1, 1).font = _bold()
    book.properties.creator = settings.issuing_unit
    with opened(target) as stream:
        book.save(stream)


def _write_sheet(ws: Worksheet, sheet: Sheet, result: object) -> None:
    from openpyxl.styles import Border, PatternFill, Side

    frame = sheet.frame(result)
    fill = PatternFill("solid", fgColor="D9D9D9")
    for c, col in enumerate(sheet.columns, 1):
        cell = ws.cell(1, c, col.title)
        cell.font, cell.fill, cell.alignment = _bold(), fill, _wrap(center=True)
    rows = [[_value(row.get(col.key), col) for col in sheet.columns] for row in frame.to_dict("records")]
    for r, values in enumerate(rows, 2):
        for c, (value, col) in enumerate(zip(values, sheet.columns, strict=True), 1):
            cell = ws.cell(r, c, value)
            xlsx_text(cell)
            if col.kind in _FORMATS and value is not None:
                cell.number_format = _FORMATS[col.kind]
    if sheet.totals is not None:
        totals = sheet.totals(result)
        r = len(rows) + 2
        top = Border(top=Side(style="medium"))
        for c, col in enumerate(sheet.columns, 1):
            value = sheet.total_label if c == 1 else totals.get(col.key)
            cell = ws.cell(r, c, _plain(value))
            xlsx_text(cell)
            cell.font, cell.border = _bold(), top
            if col.kind in _FORMATS and c > 1:
                cell.number_format = _FORMATS[col.kind]
        rows.append([sheet.total_label])
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{ws.cell(1, len(sheet.columns)).column_letter}{len(frame) + 1}"
    for c, col in enumerate(sheet.columns, 1):
        texts = [col.title, *(str(row[c - 1]) for row in rows if c - 1 < len(row) and row[c - 1] is not None)]
        ws.column_dimensions[ws.cell(1, c).column_letter].width = min(max(map(_display_width, texts)) + 2, 48)


def _value(value: object, col: Col) -> object:
    """A result value as the cell holds it: labels for codes, 是/否, lists joined, None for missing (never "nan")."""
    if isinstance(value, list | tuple):
        return "、".join(map(str, value)) or None
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if col.kind == "bool":
        return "是" if bool(value) else "否"
    if col.labels is not None:
        return col.labels.get(value, value)
    return _plain(value)


def _plain(value: object) -> object:
    """numpy scalars as Python numbers, which openpyxl writes."""
    return value.item() if hasattr(value, "item") else value


def _display_width(text: str) -> int:
    """Columns a text takes in Excel: two for a CJK character, one for the rest."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _bold():
    from openpyxl.styles import Font

    return Font(bold=True)


def _wrap(center: bool = False):
    from openpyxl.styles import Alignment

    return Alignment(wrap_text=True, vertical="center", horizontal="center" if center else None)


# --------------------------------------------------------------------------------------------------
# The two reports


def report_deadlines_zh() -> list[str]:
    """Plan 5.1.1 in two lines for reference: when a disaster is to be reported, by whom, to whom."""
    one = rules.report_deadline(0, 0, "medium")
    causes = [rules.report_deadline(1, 0, "small"), rules.report_deadline(0, 1, "small"), one]
    twelve = rules.report_deadline(0, 0, "small")
    lines = [
        f"{one.hours}小时报告（{'、'.join(d.reason_zh for d in causes)}）："
        f"{one.reporter}报{'、'.join(one.recipients)}。",
        f"{twelve.hours}小时报告（{twelve.reason_zh}）：{twelve.reporter}报{'、'.join(twelve.recipients)}；"
        f"{twelve.follow_on.text_zh if twelve.follow_on else ''}",
        f"{one.continued.text_zh}{rules.SKIP_LEVEL_NOTE_ZH}",
    ]
    return lines


def write_warning_report(
    result: exposure.ExposureResult, target: Target, settings: ExportSettings | None = None
) -> None:
    """The at-risk population under the warnings as an Excel workbook (.xlsx) or a one-page PDF summary (.pdf).

    Parameters
    ----------
    result
        The exposure analysis (:func:`geo.analysis.exposure.analyse`).
    target
        A path (written atomically) or a binary stream; its name's ending chooses the format (a stream without a
        name gets Excel).
    settings
        Issuing unit and date printed; font folders for the PDF.

    Raises
    ------
    ValueError
        Another file type.
    FontError
        For the PDF: no usable CJK font.
    """
    settings = settings or ExportSettings()
    kind = suffix(target, ".xlsx")
    if kind == ".pdf":
        write_warning_summary(result, target, settings)
        return
    if kind != ".xlsx":
        raise ValueError(f"cannot write the warning report to a {kind} file: use .xlsx or .pdf")
    notes = [
        f"依据：{rules.cite('warning_actions')}；报告时限备查：{rules.cite('5.1.1')}",
        *report_deadlines_zh(),
        "",
        "统计口径：",
        *result.assumptions,
    ]
    write_workbook(result, WARNING_SHEETS, notes, target, settings)


def write_pools_report(coverage: pools.PoolCoverage, target: Target, settings: ExportSettings | None = None) -> None:
    """The pool coverage as an Excel workbook: schools, nearest pools, townships, pools, staffing, notes.

    Parameters
    ----------
    coverage
        The pool coverage analysis (:func:`geo.analysis.pools.pool_coverage`).
    target
        A ``.xlsx`` path (written atomically) or a binary stream.
    settings
        Issuing unit and date, on the notes sheet.

    Raises
    ------
    ValueError
        The file name does not end in .xlsx.
    """
    settings = settings or ExportSettings()
    kind = suffix(target, ".xlsx")
    if kind != ".xlsx":
        raise ValueError(f"cannot write the pools report to a {kind} file: use .xlsx")
    notes = [
        f"设置：每校最近 {coverage.k} 处已开放泳池，服务半径 {coverage.radius_m:g} 米，"
        f"距离{_METRIC_ZH.get(coverage.metric, coverage.metric)}量算。",
        f"四年级免费游泳培训经费（{rules.cite('swim.3.4')}）：不少于 {coverage.budget_yuan:,} 元。",
        "",
        "统计口径：",
        *coverage.assumptions,
    ]
    write_workbook(coverage, POOL_SHEETS, notes, target, settings)


# --------------------------------------------------------------------------------------------------
# The one-page summary

_LEVEL_COLOURS = {"blue": "#1e88e5", "yellow": "#fdd835", "orange": "#fb8c00", "red": "#e53935"}
_TOP_POINTS = 12


def write_warning_summary(result: exposure.ExposureResult, target: Target, settings: ExportSettings) -> None:
    """One A4 page: the levels in force, people at risk by level, the most urgent points, actions, deadlines."""
    font = fonts.cjk_font(settings.font_dirs)
    with fonts.rendering(font):
        page = render_warning_summary(result, settings)
        write_pdf([page], target, font, title="地质灾害预警受威胁情况摘要", author=settings.issuing_unit)


def render_warning_summary(result: exposure.ExposureResult, settings: ExportSettings) -> Page:
    """The summary sheet; call inside :func:`geo.export.fonts.rendering`."""
    page = Page("A4", "portrait")
    margin, width = 12.0, page.width - 24.0
    district = result.district
    level = district["level"]
    page.text(page.width / 2, margin, "地质灾害气象风险预警 受威胁情况摘要", 17, ha="center")
    if level is not None:
        page.rect(margin, margin + 10, width, 9, fill=True, facecolor=_LEVEL_COLOURS[level], linewidth=0)
    band = (
        f"最高预警等级：{district['level_zh']}    预警区 {district['warning_areas']} 个    "
        f"隐患点 {district['hazard_points']} 处    威胁 {district['threatened_people']:,} 人    "
        f"危险区内人口 {district['people_in_danger_zones']:,} 人"
        if level is not None
        else "当前无预警"
    )
    page.text(margin + 3, margin + 14.5, band, 10, va="center", color="white" if level in ("blue", "red") else "black")
    y = margin + 24

    y = _heading(page, margin, y, "一、按预警等级（每处隐患点按覆盖它的最高等级计一次）")
    widths = [30, 20, 22, 26, 30, 26, 32]
    header = ["预警等级", "隐患点", "威胁人数", "危险区内人口", "危险区内学校/学生", "巡查", "转移"]
    rows = [
        [
            schema.WARNING_LEVEL_LABELS[code],
            f"{v['hazard_points']}",
            f"{v['threatened_people']:,}",
            f"{v['people_in_danger_zones']:,}",
            f"{v['schools_in_danger_zones']} / {v['students_in_danger_zones']:,}",
            _PATROL_ZH[v["patrol"]],
            _EVACUATE_ZH[v["evacuate"]],
        ]
        for code, v in district["by_level"].items()
        if v["hazard_points"]
    ]
    rows.append(
        [
            "合计",
            f"{district['hazard_points']}",
            f"{district['threatened_people']:,}",
            f"{district['people_in_danger_zones']:,}",
            f"{district['schools_in_danger_zones']} / {district['students_in_danger_zones']:,}",
            "",
            "",
        ]
    )
    y = table(page, margin, y, _scaled(widths, width), header, rows, align=["left", *["right"] * 4, "left", "left"])

    y = _heading(
        page, margin, y + 4, f"二、需优先处置的隐患点（共 {len(result.hazard_points)} 处，列前 {_TOP_POINTS} 处）"
    )
    points = result.hazard_points.head(_TOP_POINTS)
    rows = [
        [
            str(p.hazard_id),
            str(p.name),
            str(p.township),
            str(p.level_zh),
            schema.GRADES.get(p.danger_grade, ""),
            f"{p.threatened_people:,}",
            f"{p.monitor_name or ''} {p.monitor_phone or ''}".strip(),
        ]
        for p in points.itertuples()
    ]
    y = table(
        page,
        margin,
        y,
        _scaled([30, 34, 20, 24, 14, 16, 40], width),
        ["统一编号", "名称", "乡镇", "预警等级", "险情", "威胁人数", "监测人"],
        rows,
        align=["left", "left", "left", "left", "left", "right", "left"],
    )

    if level is not None:
        y = _heading(page, margin, y + 4, f"三、应采取的措施（{rules.cite('4.5')}，{district['level_zh']}）")
        latest: dict[str, rules.Action] = {}
        for action in rules.warning_actions(level):
            latest[action.topic] = action  # a higher level's clause on a topic replaces the lower one's
        for action in latest.values():
            y = page.paragraph(margin + 2, y, width - 4, f"· {action.text_zh}（{action.responsible}）", 8.5)
    y = _heading(page, margin, y + 3, f"四、灾情报告时限备查（{rules.cite('5.1.1')}）")
    for line in report_deadlines_zh():
        y = page.paragraph(margin + 2, y, width - 4, f"· {line}", 8.0)
    page.footer(settings, note="统计口径详见 Excel 报表“说明”页", margin=margin)
    return page


def _heading(page: Page, x: float, y: float, text: str) -> float:
    page.text(x, y, text, 10.5)
    return y + 6.5


def _scaled(widths: list[float], total: float) -> list[float]:
    return [w * total / sum(widths) for w in widths]
