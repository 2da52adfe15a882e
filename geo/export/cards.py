"""The two 明白卡 of plan 4.1.3: 防灾工作明白卡 for the responsible units, 防灾避险明白卡 for threatened households.

Plan 4.1.3 names what the cards carry: the danger zone, the monitoring method, the warning, the evacuation route
and the tasks; the cards below carry those in the fields the national card templates use.  Anything the data does
not hold prints as a line to fill in by hand (:data:`geo.export.page.BLANK`), never as "None" or "nan".

Defaults, and what is left blank
--------------------------------
- 诱发因素, 监测迹象 and 临灾预警判据 default to what is typical of the hazard type (:data:`TYPE_NOTES`); the
  criteria end with a blank line for the site's own thresholds (a crack width, a rainfall amount), which only the
  site survey can set.
- 预警信号发布人 is the monitor (群测群防员), who watches the site and sounds the signal; 撤离命令发布人 is the
  responsible person, who answers for the site and orders the evacuation.  The inventory names both.
- 值班电话, 抢险单位, 治安保卫单位 and 医疗救护单位 come from :class:`~geo.export.options.ExportSettings`, blank
  when not set; the shelter's contact is not in the data and is always blank.
- The household card: the data has no household roster, so one card is printed per village in the danger zones
  (with its position seen from the hazard point), or, where no village lies in them, one for the hazard point's
  own village; 户主, 家庭人数 and the telephone are blank, for the township to copy and fill in per household.
  Two cards share an A4 sheet, with a cutting line between them.
"""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from geo.export import fonts
from geo.export.files import Target, file_stem, opened
from geo.export.forms import Form
from geo.export.hazard import ExportData, HazardFacts
from geo.export.options import ExportSettings
from geo.export.page import BLANK, Page, display, write_pdf
from geo.model import rules

#: Plan 4.1.3, which ``geo.model.rules.PLAN_SECTIONS`` does not list: the cards are an export, not a computed rule.
CARD_SECTION = rules.PlanSection(
    "4.1.3", "emergency", "4.1.3", "4.1.3", "发放“防灾明白卡”", "Issuing the disaster-prevention cards"
)
MARGIN = 15.0
#: The warning-level duties a card summarises (plan 4.5): duty, patrols, evacuation and closing the zone.
CARD_TOPICS = ("duty", "patrol", "evacuation", "access_control")

#: Per hazard type: (诱发因素, 监测迹象, 临灾预警判据) as typical of the type; the site survey refines them.
TYPE_NOTES: dict[str, tuple[str, str, str]] = {
    "landslide": (
        "降雨（特别是持续降雨、强降雨），切坡、加载等人类工程活动",
        "后缘及两侧裂缝加宽加长；前缘鼓胀或出现放射状裂缝；坡脚渗水变浑或泉水突然干涸；树木歪斜，房屋墙体开裂",
        "裂缝或位移短时间内急剧增大；前缘鼓胀、挤压明显；坡体发出异常声响；泉水、井水突然变浑或断流",
    ),
    "collapse": (
        "降雨，风化，切坡、爆破等人类工程活动",
        "危岩体裂缝加宽；掉块、落石增多；岩体发出摩擦、撕裂声",
        "裂缝急剧扩展；落石频繁；岩体出现松动、倾斜或异常声响",
    ),
    "debris_flow": (
        "强降雨、集中暴雨，沟道内松散物源",
        "上游暴雨；沟内水流突然断流或突然增大并夹带泥沙、石块；沟谷深处发出轰鸣声",
        "上游发生强降雨或有降雨预警；沟水突然断流或猛涨变浑；听到沟谷深处的轰鸣声",
    ),
    "ground_collapse": (
        "地下采矿、抽排地下水，降雨",
        "地面开裂、下沉，出现积水、冒泡；井水、泉水水位突变或变浑；房屋开裂",
        "地面突然下沉或裂缝迅速扩展；井水、泉水突然漏失或翻浑；房屋开裂加剧",
    ),
    "ground_fissure": (
        "地下采矿、抽排地下水，降雨",
        "裂缝长度、宽度增大；墙体、地面出现新的裂缝",
        "裂缝短时间内明显加宽、延长或错动",
    ),
    "ground_subsidence": (
        "抽取地下水，地面加载",
        "地面和建筑物持续下沉、开裂；井管相对上升",
        "沉降速率突然加快；建筑物开裂、倾斜加剧",
    ),
    "unstable_slope": (
        "降雨（特别是持续降雨、强降雨），切坡等人类工程活动",
        "坡体出现新裂缝或裂缝加宽；局部溜滑、掉块；坡脚渗水；树木歪斜",
        "裂缝急剧加宽；坡面出现滑移、鼓胀；坡体发出异常声响",
    ),
}
HOUSEHOLD_ADVICE = (
    "听到预警信号或发现险情，立即按撤离路线转移到避灾场所，先人员后财物；途中避开沟谷、陡坡和危险区；"
    "险情解除前不得返回。"
)


def warning_duties_zh() -> list[str]:
    """One line per warning level (plan 4.5) with the duties a card holder must know: patrols, evacuation ..."""
    lines = []
    for level in rules.WARNING_LEVELS.values():
        duties = [a.text_zh.rstrip("。") for a in level.actions if a.topic in CARD_TOPICS]
        lines.append(f"{level.name_zh}预警：{'；'.join(duties)}。")
    return lines


def write_cards(
    data: ExportData,
    hazard_ids: list[str],
    target: Target,
    settings: ExportSettings | None = None,
) -> None:
    """Write the 防灾工作明白卡 and the 防灾避险明白卡 of hazard points into one A4 PDF.

    Each hazard point starts a sheet: its work card, then its household cards two to a sheet.

    Parameters
    ----------
    data
        The prepared layers and routes (:meth:`ExportData.prepare`).
    hazard_ids
        统一编号 of active hazard points, in the order to print them.
    target
        A path (written atomically) or a binary stream.
    settings
        Issuing unit, date, the units and phone the work card names, font folders.

    Raises
    ------
    FontError
        No usable CJK font, or text the font cannot draw.
    ValueError
        An unknown or inactive hazard point, or no hazard point at all.
    """
    if not hazard_ids:
        raise ValueError("no hazard point to make cards for")
    settings = settings or ExportSettings()
    font = fonts.for_text(fonts.cjk_font(settings.font_dirs), [data.characters])
    with fonts.rendering(font):
        pages = [page for h in hazard_ids for page in render_cards(data.facts(h), settings)]
        title = "防灾明白卡" if len(hazard_ids) > 1 else f"{data.facts(hazard_ids[0]).name} 防灾明白卡"
        write_pdf(pages, target, font, title=title, author=settings.issuing_unit)


def write_cards_archive(
    data: ExportData,
    hazard_ids: list[str],
    target: Target,
    settings: ExportSettings | None = None,
) -> None:
    """Write the cards of each hazard point as its own PDF, ``<统一编号>_<名称>.pdf``, into one zip.

    Raises
    ------
    FontError, ValueError
        As :func:`write_cards`.
    """
    if not hazard_ids:
        raise ValueError("no hazard point to make cards for")
    data.check(hazard_ids)
    with opened(target) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for hazard_id in hazard_ids:
            pdf = io.BytesIO()
            write_cards(data, [hazard_id], pdf, settings)
            archive.writestr(f"{file_stem(hazard_id, data.facts(hazard_id).name)}.pdf", pdf.getvalue())


def render_cards(facts: HazardFacts, settings: ExportSettings) -> list[Page]:
    """The sheets of one hazard point's cards; call inside :func:`geo.export.fonts.rendering`."""
    pages = work_card(facts, settings)
    # One household card per village in the danger zones, else one for the hazard point's own village (None).
    villages = list(facts.villages.itertuples()) or [None]
    for first in range(0, len(villages), 2):
        page = Page("A4", "portrait")
        for slot, village in enumerate(villages[first : first + 2]):
            _household_card(page, slot * page.height / 2, facts, settings, village)
        page.line([5, page.width - 5], [page.height / 2] * 2, linestyle=(0, (4, 3)), color="0.5", linewidth=0.5)
        page.text(page.width - 6, page.height / 2 - 0.8, "沿虚线裁开", 6, ha="right", va="bottom", color="0.5")
        pages.append(page)
    return pages


# --------------------------------------------------------------------------------------------------
# 防灾工作明白卡


def work_card(facts: HazardFacts, settings: ExportSettings) -> list[Page]:
    """The 防灾工作明白卡 of a hazard point: one A4 sheet, more if its routes are many."""
    h = facts.hazard
    factors, signs, criteria = _notes(facts)
    pages: list[Page] = []

    def new_page() -> tuple[Page, float]:
        page = Page("A4", "portrait")
        suffix = "（续）" if pages else ""
        pages.append(page)
        page.text(page.width / 2, MARGIN, f"地质灾害防灾工作明白卡{suffix}", 18, ha="center")
        page.text(page.width / 2, MARGIN + 9, "（发至防灾责任单位和防灾责任人）", 8.5, ha="center", color="0.3")
        _card_footer(page, settings, page.height - MARGIN, "发卡单位（盖章）", "持卡单位")
        return page, MARGIN + 16

    page, top = new_page()
    form = Form(
        page,
        MARGIN,
        top,
        page.width - 2 * MARGIN,
        page.height - MARGIN - 14,
        new_page,
        size=10.0,
        label_w=30.0,
        pad=1.8,
    )
    form.section("一、隐患点基本情况")
    form.row(("名称", facts.name), ("统一编号", facts.hazard_id))
    form.row(("位置", f"{facts.place_zh}（{facts.coordinates_zh}）"))
    form.row(("灾害类型", facts.type_zh), ("规模等级", facts.scale_zh))
    form.row(("险情等级", facts.grade_zh), ("诱发因素", factors))
    form.row(
        ("威胁对象", _threatened(facts)),
    )
    form.section("二、监测预警")
    form.row(("监测负责人", display(h.get("responsible_name"))), ("联系电话", display(h.get("responsible_phone"))))
    form.row(("监测人", display(h.get("monitor_name"))), ("联系电话", display(h.get("monitor_phone"))))
    form.row(("监测方法", display(h.get("monitoring_method"))))
    form.row(("监测迹象", signs))
    form.row(("临灾预警判据", f"{criteria}；本点判据：{BLANK}"))
    form.row(("预警信号", display(h.get("warning_signal"))), ("预警信号发布人", _person(h, "monitor")))
    form.row(("撤离命令发布人", _person(h, "responsible")), ("值班电话", display(settings.duty_phone)))
    form.section("三、应急避险")
    for label, text in _route_rows(facts):
        form.row((label, text))
    form.row(("避灾场所", _shelters(facts)))
    form.row(("抢险单位", display(settings.rescue_unit)), ("治安保卫单位", display(settings.security_unit)))
    form.row(("医疗救护单位", display(settings.medical_unit)), ("避灾场所联系人", f"{BLANK} 电话 {BLANK}"))
    form.section(f"四、预警响应（{rules.cite('4.5')}，在下一级响应的基础上）")
    for line in warning_duties_zh():
        form.text(line)
    form.close()
    return pages


def _notes(facts: HazardFacts) -> tuple[str, str, str]:
    return TYPE_NOTES.get(facts.hazard.get("hazard_type"), (BLANK, BLANK, BLANK))


def _person(hazard: dict, role: str) -> str:
    return f"{display(hazard.get(f'{role}_name'))}  {display(hazard.get(f'{role}_phone'))}"


def _threatened(facts: HazardFacts) -> str:
    h = facts.hazard
    villages = "、".join(f"{r.name}（{display(r.population)}人）" for r in facts.villages.itertuples()) or "无"
    schools = "、".join(f"{r.name}（学生{display(r.students)}人）" for r in facts.schools.itertuples()) or "无"
    return (
        f"{display(h.get('threatened_households'))} 户 {display(h.get('threatened_people'))} 人，"
        f"财产 {display(h.get('threatened_property_10k_yuan'))} 万元；危险区内村庄：{villages}；学校：{schools}"
    )


def _route_rows(facts: HazardFacts) -> list[tuple[str, str]]:
    if facts.routes.empty:
        return [("撤离路线", BLANK)]
    return [(f"撤离路线{n + 1}", _route_text(facts, route)) for n, route in facts.routes.iterrows()]


def _route_text(facts: HazardFacts, route: pd.Series) -> str:
    text = facts.route_zh(route)
    if route["assembly"]:
        text += f"；出危险区后在集合点{route['assembly']}清点人数"
    return text


def _shelters(facts: HazardFacts) -> str:
    """The shelters the routes reach; where none, the assigned and nearest ones, said to be out of safe reach."""
    shelters = facts.shelters
    used = shelters[shelters["used"]]
    if not used.empty:
        return "；".join(f"{r.name}（可容纳 {display(r.capacity)} 人）" for r in used.itertuples())
    if shelters.empty:
        return BLANK
    near = "、".join(shelters["name"].map(display))
    return f"{BLANK}（道路上无不经其他危险区的路线可达；附近避灾场所：{near}，须现场确定）"


def _card_footer(page: Page, settings: ExportSettings, y: float, issuer_label: str, holder_label: str) -> None:
    """Who issued the card and when, who holds it, and the plan section (4.1.3) in small type."""
    page.text(MARGIN, y - 9, f"{issuer_label}：{settings.issuing_unit}", 9)
    page.text(page.width / 2 + 5, y - 9, f"{holder_label}：{BLANK}", 9)
    page.text(page.width - MARGIN, y - 9, f"发卡日期：{settings.date_zh}", 9, ha="right")
    page.text(MARGIN, y - 3.5, f"依据{CARD_SECTION.cite()}", 6.5, color="0.35")
    page.text(page.width - MARGIN, y - 3.5, "内部资料 妥善保管", 6.5, ha="right", color="0.35")


# --------------------------------------------------------------------------------------------------
# 防灾避险明白卡


def _household_card(
    page: Page, top: float, facts: HazardFacts, settings: ExportSettings, village: tuple | None
) -> None:
    h = facts.hazard
    factors, _, _ = _notes(facts)
    height = page.height / 2
    page.text(page.width / 2, top + 9, "地质灾害防灾避险明白卡", 15, ha="center")
    page.text(page.width / 2, top + 16.5, "（发至受威胁群众，每户一卡）", 7.5, ha="center", color="0.3")
    form = Form(page, MARGIN, top + 21, page.width - 2 * MARGIN, top + height - 13, size=9.5, label_w=27.0, pad=1.6)
    if village is None:
        place = f"{facts.place_zh}（与隐患点的位置关系：{BLANK}）"
        routes = facts.routes
    else:
        place = f"{display(h.get('township'))} {village.name}（{village.position_zh}，在危险区内）"
        routes = facts.routes[facts.routes["origin_id"] == village.village_id]
    form.row(("户主姓名", BLANK), ("家庭人数", f"{BLANK} 人"), ("联系电话", BLANK))
    form.row(("住址", place))
    form.row(
        ("隐患点", f"{facts.name}（统一编号 {facts.hazard_id}），{facts.type_zh}，规模{facts.scale_zh}"),
    )
    form.row(("诱发因素", factors))
    form.row(("监测人", _person(h, "monitor")), ("预警信号", display(h.get("warning_signal"))))
    form.row(("预警信号发布人", _person(h, "monitor")), ("撤离命令发布人", _person(h, "responsible")))
    route_text = "；".join(_route_text(facts, r) for _, r in routes.iterrows()) or BLANK
    form.row(("撤离路线", route_text))
    form.row(("避灾场所", _shelters(facts)), ("联系人电话", BLANK), shares=(2, 1))
    form.row(("值班电话", display(settings.duty_phone)), ("本户转移人员", BLANK))
    levels = rules.WARNING_LEVELS
    form.row(
        (
            "注意事项",
            f"{HOUSEHOLD_ADVICE}收到{levels['orange'].name_zh}预警时听从安排做好转移准备，"
            f"{levels['red'].name_zh}预警时按组织转移避让（{rules.cite('4.5')}）。",
        ),
    )
    form.close()
    _card_footer(page, settings, top + height - 2, "发卡单位", "持卡人签字")
