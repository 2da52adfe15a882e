"""The rules of the two district plans, as pure functions and declared data.

Two documents govern what hazmap computes and shows:

- 《昌江区突发地质灾害应急预案》 (the *emergency plan*): grading of hazards and disasters (section 3), the
  warning levels and what each level sets in motion (4.4, 4.5), reporting deadlines and response levels (5),
  and the yearly evacuation drill (6.6);
- 《“泳动昌江”游泳教育实施方案》 (the *swimming plan*): staffing, first-aid trainers, pools and the funding of
  free swimming lessons.

Every rule lives here once, with the section it comes from (``PLAN_SECTIONS``, ``cite``), so the analyses,
the CLI, the app and the exports apply and quote the same thing.  Nothing here reads files or knows about
the UI; the module needs only numpy and pandas, so ``geo.model.schema`` can import it to check derived columns.

Conventions
-----------
- The emergency plan (end of 3.2) fixes how its bounds read: "以上" includes the number and "以下"
  excludes it.  Every grade is therefore decided by inclusive lower bounds: 100 people is already medium.
- Money is in 万元 (10 000 yuan), the unit of the data model's ``threatened_property_10k_yuan``; the plan's
  1亿元 is 10 000 万元.  The swimming budget is in yuan, the unit the swimming plan states it in.
- Grades use the data model's codes ``small`` < ``medium`` < ``large`` < ``giant`` (小型 < 中型 < 大型 <
  特大型) and warning levels ``blue`` < ``yellow`` < ``orange`` < ``red``.
"""

from __future__ import annotations

import math
import numbers
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import pandas as pd

Grade = Literal["small", "medium", "large", "giant"]
WarningLevelCode = Literal["blue", "yellow", "orange", "red"]
AreaType = Literal["urban", "rural"]

# ---------------------------------------------------------------------------------------------------------
# Citations
# ---------------------------------------------------------------------------------------------------------

#: The two plans, by the short code used in ``PlanSection.plan``: (Chinese title, English title).
PLANS: dict[str, tuple[str, str]] = {
    "emergency": ("昌江区突发地质灾害应急预案", "Changjiang District Emergency Plan for Sudden Geological Disasters"),
    "swimming": ("“泳动昌江”游泳教育实施方案", "“Swimming Changjiang” Swimming Education Implementation Plan"),
}


@dataclass(frozen=True)
class PlanSection:
    """One numbered section of a plan, as a rule or a result cites it.

    ``key`` is what rules and results carry: the bare number for the emergency plan (``"3.2"``) and
    ``"swim."`` plus the Chinese outline numbers in digits for the swimming plan (``"swim.3.4"`` is 三（四）).
    ``number_zh``/``number_en`` are the numbers as printed in the plan and as an English reader writes them.
    """

    key: str
    plan: str
    number_zh: str
    number_en: str
    title_zh: str
    title_en: str

    def cite(self, lang: Literal["zh", "en"] = "zh") -> str:
        """Return a one-line citation, e.g. ``《昌江区突发地质灾害应急预案》3.2 地质灾害险情分级``."""
        plan_zh, plan_en = PLANS[self.plan]
        if lang == "zh":
            return f"《{plan_zh}》{self.number_zh} {self.title_zh}"
        if lang == "en":
            return f"{plan_en}, section {self.number_en} ({self.title_en})"
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")


def _sections(plan: str, *rows: tuple[str, str, str, str, str]) -> dict[str, PlanSection]:
    return {key: PlanSection(key, plan, num_zh, num_en, zh, en) for key, num_zh, num_en, zh, en in rows}


#: Every plan section a rule or result of this module cites, by key.
PLAN_SECTIONS: dict[str, PlanSection] = {
    **_sections(
        "emergency",
        ("3.1", "3.1", "3.1", "地质灾害灾情分级", "Grading of geological disasters"),
        ("3.1.1", "3.1.1", "3.1.1", "特大型地质灾害灾情", "Giant geological disaster"),
        ("3.1.2", "3.1.2", "3.1.2", "大型地质灾害灾情", "Large geological disaster"),
        ("3.1.3", "3.1.3", "3.1.3", "中型地质灾害灾情", "Medium geological disaster"),
        ("3.1.4", "3.1.4", "3.1.4", "小型地质灾害灾情", "Small geological disaster"),
        ("3.2", "3.2", "3.2", "地质灾害险情分级", "Grading of geological hazard danger"),
        ("4.4", "4.4", "4.4", "预报预警", "Forecasts and warnings"),
        ("4.5", "4.5", "4.5", "预警响应", "Warning response"),
        ("4.5.1", "4.5.1", "4.5.1", "四级（蓝色）预警响应", "Level IV (blue) warning response"),
        ("4.5.2", "4.5.2", "4.5.2", "三级（黄色）预警响应", "Level III (yellow) warning response"),
        ("4.5.3", "4.5.3", "4.5.3", "二级（橙色）预警响应", "Level II (orange) warning response"),
        ("4.5.4", "4.5.4", "4.5.4", "一级（红色）预警响应", "Level I (red) warning response"),
        ("5.1.1", "5.1.1", "5.1.1", "灾情报送时限要求", "Reporting deadlines"),
        ("5.1.3", "5.1.3", "5.1.3", "后续报告", "Follow-up reports"),
        ("5.3.1", "5.3.1", "5.3.1", "Ⅰ、Ⅱ级应急响应", "Level I and II emergency response"),
        ("5.3.2", "5.3.2", "5.3.2", "Ⅲ级应急响应", "Level III emergency response"),
        ("5.3.3", "5.3.3", "5.3.3", "Ⅳ级应急响应", "Level IV emergency response"),
        ("5.5", "5.5", "5.5", "调查评估", "Investigation and assessment"),
        ("6.6", "6.6", "6.6", "应急演练", "Emergency drills"),
    ),
    **_sections(
        "swimming",
        ("swim.2.1.2", "二（一）2", "II(1)2", "多方式培养游泳师资", "Training swimming instructors"),
        ("swim.2.1.3", "二（一）3", "II(1)3", "强化救护师资培训", "Training first-aid trainers"),
        ("swim.2.2.1", "二（二）1", "II(2)1", "建设校内游泳设施", "Pools at schools and in townships"),
        ("swim.2.2.2", "二（二）2", "II(2)2", "完善校外游泳设施", "Public pools"),
        ("swim.2.3.1", "二（三）1", "II(3)1", "开展学校学生免费培训", "Free lessons for pupils"),
        ("swim.3.4", "三（四）", "III(4)", "统筹经费保障", "Funding"),
    ),
}

#: Which sections each public rule of this module applies, for "where does this come from" in the UI.
RULE_SECTIONS: dict[str, tuple[str, ...]] = {
    "danger_grade": ("3.2",),
    "danger_grades": ("3.2",),
    "disaster_grade": ("3.1", "5.3.1", "5.3.2", "5.3.3", "5.5"),
    "report_deadline": ("5.1.1", "5.1.3", "3.2"),
    "warning_actions": ("4.4", "4.5", "4.5.1", "4.5.2", "4.5.3", "4.5.4"),
    "level_rank": ("4.4",),
    "highest_level": ("4.4",),
    "training_budget_yuan": ("swim.3.4", "swim.2.3.1"),
    "swim_instructors_short": ("swim.2.1.2",),
    "redcross_trainers_required": ("swim.2.1.3",),
    "redcross_trainers_short": ("swim.2.1.3",),
    "public_pools_required": ("swim.2.2.2",),
    "MIN_FACILITIES_PER_TOWNSHIP": ("swim.2.2.1",),
    "ANNUAL_DRILL": ("6.6",),
}


def cite(key: str, lang: Literal["zh", "en"] = "zh") -> str:
    """Return the citation of a plan section or of a rule of this module.

    Parameters
    ----------
    key : str
        A ``PLAN_SECTIONS`` key (``"3.2"``, ``"swim.3.4"``) or a ``RULE_SECTIONS`` name (``"danger_grade"``);
        a rule with several sections gives them joined by "; ".
    lang : {"zh", "en"}
        Language of the citation.

    Returns
    -------
    str

    Examples
    --------
    >>> cite("3.2")
    '《昌江区突发地质灾害应急预案》3.2 地质灾害险情分级'
    >>> cite("swim.2.1.3", "en")
    '“Swimming Changjiang” Swimming Education Implementation Plan, section II(1)3 (Training first-aid trainers)'
    """
    if key in PLAN_SECTIONS:
        return PLAN_SECTIONS[key].cite(lang)
    if key in RULE_SECTIONS:
        return "; ".join(PLAN_SECTIONS[k].cite(lang) for k in RULE_SECTIONS[key])
    raise ValueError(f"unknown plan section or rule {key!r}")


# ---------------------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------------------


def _number(name: str, value: object, *, whole: bool) -> float:
    """Return ``value`` as a float after checking it is a finite, non-negative (and, for counts, whole) number.

    Data arrive from spreadsheets and GeoPackages where a count may be a float (100.0) or NaN; the message
    names the argument so the caller can point the user at the offending column.
    """
    # bool is a numbers.Real, but True people or True 万元 is always a mistake upstream.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"{name} is missing (NaN)")
    if math.isinf(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if number < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    if whole and not number.is_integer():
        raise ValueError(f"{name} counts people and must be a whole number, got {value!r}")
    return number


def _choice(name: str, value: object, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value  # type: ignore[return-value]


def _numbers(name: str, values: object, *, whole: bool) -> np.ndarray:
    """The vector counterpart of ``_number``: a float array, or a ValueError listing the bad positions."""
    if isinstance(values, pd.Series):
        labels = values.index
        # Nullable integer columns (Int64 with <NA>) refuse a plain float cast; turn <NA> into NaN first.
        try:
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must hold numbers: {exc}") from exc
    else:
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must hold numbers: {exc}") from exc
        labels = None
    arr = np.atleast_1d(arr)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(arr) | (arr < 0)
        if whole:
            bad |= np.isfinite(arr) & (arr != np.floor(arr))
    if bad.any():
        where = np.flatnonzero(bad)
        shown = [labels[i] if labels is not None else int(i) for i in where[:5]]
        more = f" and {len(where) - 5} more" if len(where) > 5 else ""
        kind = "whole numbers ≥ 0" if whole else "finite numbers ≥ 0"
        raise ValueError(f"{name} must hold {kind}; bad value at {shown}{more}")
    return arr


# ---------------------------------------------------------------------------------------------------------
# Grades (emergency plan section 3)
# ---------------------------------------------------------------------------------------------------------

#: The four grades from low to high; a grade's position is its rank.
GRADE_ORDER: tuple[Grade, ...] = ("small", "medium", "large", "giant")
GRADE_LABELS_ZH: dict[str, str] = {"small": "小型", "medium": "中型", "large": "大型", "giant": "特大型"}

# Each scale lists the inclusive lower bounds of medium, large and giant, so the number of bounds a value
# reaches is its grade's rank; bisect and numpy.searchsorted(side="right") both count exactly that.
#: Plan 3.2: people to be moved out of harm's way (需搬迁转移人数).
DANGER_PEOPLE_BOUNDS: tuple[int, int, int] = (100, 500, 1000)
#: Plan 3.2: potential economic loss in 万元 (500万元, 5000万元, 1亿元).
DANGER_PROPERTY_BOUNDS_10K_YUAN: tuple[float, float, float] = (500.0, 5000.0, 10000.0)
#: Plan 3.1: deaths.
DISASTER_DEATH_BOUNDS: tuple[int, int, int] = (3, 10, 30)
#: Plan 3.1: direct economic loss in 万元 (100万元, 500万元, 1000万元).
DISASTER_LOSS_BOUNDS_10K_YUAN: tuple[float, float, float] = (100.0, 500.0, 1000.0)


def grade_rank(grade: str) -> int:
    """Return the rank of a grade, 0 (small) to 3 (giant).

    Raises
    ------
    ValueError
        If ``grade`` is not one of ``GRADE_ORDER``.
    """
    return GRADE_ORDER.index(_choice("grade", grade, GRADE_ORDER))


def danger_grade(threatened_people: int, threatened_property_10k_yuan: float) -> Grade:
    """Return the danger grade (险情等级) of a hazard point, plan 3.2.

    The grade is the higher of the grade by people and the grade by property: giant from 1000 people or
    10 000 万元 (1亿元), large from 500 or 5000, medium from 100 or 500, otherwise small.  The bounds include
    the number ("以上包含本数").

    Parameters
    ----------
    threatened_people : int
        People threatened, who would have to be moved (威胁人数); a whole number ≥ 0.
    threatened_property_10k_yuan : float
        Potential economic loss in 万元 (威胁财产); ≥ 0.

    Returns
    -------
    {"small", "medium", "large", "giant"}

    Raises
    ------
    ValueError
        If an argument is negative, NaN, infinite, or people is not whole; the message names it.
    TypeError
        If an argument is not a number.

    Examples
    --------
    >>> danger_grade(99, 0)
    'small'
    >>> danger_grade(100, 0)
    'medium'
    >>> danger_grade(20, 10000)
    'giant'
    """
    people = _number("threatened_people", threatened_people, whole=True)
    prop = _number("threatened_property_10k_yuan", threatened_property_10k_yuan, whole=False)
    rank = max(bisect_right(DANGER_PEOPLE_BOUNDS, people), bisect_right(DANGER_PROPERTY_BOUNDS_10K_YUAN, prop))
    return GRADE_ORDER[rank]


def danger_grades(
    threatened_people: pd.Series | np.ndarray | Iterable[float],
    threatened_property_10k_yuan: pd.Series | np.ndarray | Iterable[float] | float,
) -> pd.Series | np.ndarray:
    """Return the danger grade (plan 3.2) of every hazard point of a layer at once.

    Same rule as ``danger_grade``, evaluated with numpy so a province-size layer takes milliseconds.

    Parameters
    ----------
    threatened_people, threatened_property_10k_yuan : Series, array-like or scalar
        The two columns of ``hazard_points``; they broadcast against each other.  Two Series must share one
        index, because the grade of a point must never be computed from another point's property.

    Returns
    -------
    pandas.Series or numpy.ndarray
        A Series named ``danger_grade`` on the input's index when either input is a Series, else an array
        of grade codes.

    Raises
    ------
    ValueError
        If a value is negative, missing or infinite, or a people count is not whole (the message names the
        argument and lists the first offending index labels), or if two Series have different indexes.

    Examples
    --------
    >>> danger_grades(pd.Series([0, 100, 600]), pd.Series([0.0, 0.0, 10000.0])).tolist()
    ['small', 'medium', 'giant']
    """
    series = [s for s in (threatened_people, threatened_property_10k_yuan) if isinstance(s, pd.Series)]
    if len(series) == 2 and not series[0].index.equals(series[1].index):
        raise ValueError("threatened_people and threatened_property_10k_yuan must share one index")
    people = _numbers("threatened_people", threatened_people, whole=True)
    prop = _numbers("threatened_property_10k_yuan", threatened_property_10k_yuan, whole=False)
    try:
        np.broadcast_shapes(people.shape, prop.shape)
    except ValueError as exc:
        raise ValueError(
            f"threatened_people (shape {people.shape}) and threatened_property_10k_yuan (shape {prop.shape})"
            " do not match"
        ) from exc
    rank = np.maximum(
        np.searchsorted(DANGER_PEOPLE_BOUNDS, people, side="right"),
        np.searchsorted(DANGER_PROPERTY_BOUNDS_10K_YUAN, prop, side="right"),
    )
    grades = np.asarray(GRADE_ORDER, dtype=object)[rank]
    if series:
        return pd.Series(grades, index=series[0].index, name="danger_grade")
    return grades


@dataclass(frozen=True)
class DisasterGrade:
    """The grade of a disaster that happened (灾情, plan 3.1) and the response it calls for (plan 5.3, 5.5).

    Attributes
    ----------
    grade : {"small", "medium", "large", "giant"}
    grade_zh : str
        小型 … 特大型.
    label_zh, label_en : str
        The full name, e.g. 中型地质灾害灾情.
    response_level : {"I", "II", "III", "IV"}
        The emergency response level the grade opens (3.1: 特大型→Ⅰ … 小型→Ⅳ).
    response_level_zh : str
        e.g. Ⅲ级应急响应.
    lead_zh, lead_en : str
        The command that leads the response (5.3).
    assessment_zh, assessment_en : str
        Who investigates and assesses the losses afterwards (5.5).
    sections : tuple of str
        ``PLAN_SECTIONS`` keys of the grading clause and the response clause.
    """

    grade: Grade
    grade_zh: str
    label_zh: str
    label_en: str
    response_level: Literal["I", "II", "III", "IV"]
    response_level_zh: str
    lead_zh: str
    lead_en: str
    assessment_zh: str
    assessment_en: str
    sections: tuple[str, ...]


_PROVINCE_LEAD_ZH = "省突发地质灾害应急指挥机构（与景德镇市、昌江区共同设立现场指挥部）"
_PROVINCE_LEAD_EN = (
    "Provincial geological-disaster command, with a joint field HQ with Jingdezhen City and the district"
)
_PROVINCE_ASSESSMENT_ZH = "省应急管理厅会同省有关部门和景德镇市、昌江区人民政府"
_PROVINCE_ASSESSMENT_EN = (
    "Provincial Emergency Management Department with provincial departments and the city and district governments"
)

#: The four disaster grades as data; ``disaster_grade`` picks one.
DISASTER_GRADES: dict[str, DisasterGrade] = {
    d.grade: d
    for d in (
        DisasterGrade(
            grade="small",
            grade_zh="小型",
            label_zh="小型地质灾害灾情",
            label_en="small geological disaster",
            response_level="IV",
            response_level_zh="Ⅳ级应急响应",
            lead_zh="昌江区突发地质灾害应急指挥机构（设立现场指挥部）",
            lead_en="Changjiang District geological-disaster command, with a field HQ",
            assessment_zh="昌江区应急管理部门会同有关部门",
            assessment_en="District emergency management department with the departments concerned",
            sections=("3.1.4", "5.3.3", "5.5"),
        ),
        DisasterGrade(
            grade="medium",
            grade_zh="中型",
            label_zh="中型地质灾害灾情",
            label_en="medium geological disaster",
            response_level="III",
            response_level_zh="Ⅲ级应急响应",
            lead_zh="景德镇市突发地质灾害应急指挥机构（与昌江区共同设立现场指挥部）",
            lead_en="Jingdezhen City geological-disaster command, with a joint field HQ with the district",
            assessment_zh="景德镇市应急管理部门会同有关部门",
            assessment_en="City emergency management department with the departments concerned",
            sections=("3.1.3", "5.3.2", "5.5"),
        ),
        DisasterGrade(
            grade="large",
            grade_zh="大型",
            label_zh="大型地质灾害灾情",
            label_en="large geological disaster",
            response_level="II",
            response_level_zh="Ⅱ级应急响应",
            lead_zh=_PROVINCE_LEAD_ZH,
            lead_en=_PROVINCE_LEAD_EN,
            assessment_zh=_PROVINCE_ASSESSMENT_ZH,
            assessment_en=_PROVINCE_ASSESSMENT_EN,
            sections=("3.1.2", "5.3.1", "5.5"),
        ),
        DisasterGrade(
            grade="giant",
            grade_zh="特大型",
            label_zh="特大型地质灾害灾情",
            label_en="giant geological disaster",
            response_level="I",
            response_level_zh="Ⅰ级应急响应",
            lead_zh=_PROVINCE_LEAD_ZH,
            lead_en=_PROVINCE_LEAD_EN,
            assessment_zh=_PROVINCE_ASSESSMENT_ZH,
            assessment_en=_PROVINCE_ASSESSMENT_EN,
            sections=("3.1.1", "5.3.1", "5.5"),
        ),
    )
}


def disaster_grade(deaths: int, direct_loss_10k_yuan: float) -> DisasterGrade:
    """Return the grade of a disaster (灾情, plan 3.1) and its response level (plan 5.3).

    The grade is the higher of the grade by deaths and the grade by direct economic loss: giant from 30
    deaths or 1000 万元 (response I), large from 10 or 500 (II), medium from 3 or 100 (III), otherwise
    small (IV).  Bounds include the number.

    Only the two numbers are graded.  The plan's qualitative triggers are left to the people in charge:
    3.1.1 also names the blocking of a major river, and 5.3.1 opens level II for a cluster of medium
    disasters beyond the city's capacity; neither can be read from counts.

    Parameters
    ----------
    deaths : int
        People killed; a whole number ≥ 0.
    direct_loss_10k_yuan : float
        Direct economic loss in 万元 (9.3: cost of restoring what was physically destroyed); ≥ 0.

    Returns
    -------
    DisasterGrade

    Raises
    ------
    ValueError
        If an argument is negative, NaN, infinite, or deaths is not whole; the message names it.

    Examples
    --------
    >>> disaster_grade(3, 0).response_level
    'III'
    >>> disaster_grade(0, 1000).label_zh
    '特大型地质灾害灾情'
    """
    dead = _number("deaths", deaths, whole=True)
    loss = _number("direct_loss_10k_yuan", direct_loss_10k_yuan, whole=False)
    rank = max(bisect_right(DISASTER_DEATH_BOUNDS, dead), bisect_right(DISASTER_LOSS_BOUNDS_10K_YUAN, loss))
    return DISASTER_GRADES[GRADE_ORDER[rank]]


# ---------------------------------------------------------------------------------------------------------
# Reporting deadlines (emergency plan 5.1)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportStep:
    """One hop of a report up the chain: who reports to whom, and within how many hours.

    ``within_hours`` is None where the plan asks for "及时" (promptly) without a number.
    """

    within_hours: int | None
    reporter: str
    recipients: tuple[str, ...]
    reporter_en: str
    recipients_en: tuple[str, ...]
    text_zh: str
    text_en: str
    section: str


@dataclass(frozen=True)
class ReportDeadline:
    """The first report a disaster (or danger, 3.2) calls for, and what follows it (plan 5.1).

    Attributes
    ----------
    hours : int
        Hours allowed for the first report: 1 or 12.
    reporter, reporter_en : str
        Who sends it.
    recipients, recipients_en : tuple of str
        Who receives it.
    reason_zh, reason_en : str
        Why this deadline applies to this event.
    follow_on : ReportStep or None
        The relay the recipients owe within a fixed time (the 12-hour path only).
    continued : ReportStep
        The running reports during the response (5.1.3).
    section : str
        ``PLAN_SECTIONS`` key of the deadline clause.
    """

    hours: int
    reporter: str
    recipients: tuple[str, ...]
    reporter_en: str
    recipients_en: tuple[str, ...]
    reason_zh: str
    reason_en: str
    follow_on: ReportStep | None
    continued: ReportStep
    section: str = "5.1.1"

    def due(self, event_time: datetime) -> datetime:
        """Return when the first report is due.

        For the 1-hour report the plan starts the clock when the district departments receive word of the
        event (接报); pass that time.  For the 12-hour report pass the time the township learned of it.
        Time-zone awareness is kept as given.
        """
        return event_time + timedelta(hours=self.hours)

    def final_due(self, event_time: datetime) -> datetime:
        """Return when the last fixed-time report is due: the relay's deadline if there is one, else ``due``.

        The relay's 12 hours run from its receipt of the first report; counting from the latest allowed
        receipt gives the latest time the city can expect the news.
        """
        if self.follow_on is None or self.follow_on.within_hours is None:
            return self.due(event_time)
        return self.due(event_time) + timedelta(hours=self.follow_on.within_hours)


# The bodies the reporting chain names, (Chinese, English).
_BRANCH = ("市自然资源和规划局昌江分局", "Changjiang Branch of the City Natural Resources and Planning Bureau")
_DISTRICT_EMERGENCY = ("区应急管理局", "District Emergency Management Bureau")
_CITY_RESOURCES = ("市自然资源和规划局", "City Natural Resources and Planning Bureau")
_CITY_EMERGENCY = ("市应急管理局", "City Emergency Management Bureau")

_CONTINUED_REPORT = ReportStep(
    within_hours=None,
    reporter="灾害发生地乡镇人民政府",
    recipients=("上级应急管理部门", _BRANCH[0]),
    reporter_en="Township government where the disaster happened",
    recipients_en=("Emergency management department above it", _BRANCH[1]),
    text_zh="处置期间，乡镇人民政府及时向上级应急管理部门续报情况，并同时通报市自然资源和规划局昌江分局。",
    text_en=(
        "While the response lasts, the township keeps reporting to the emergency management department above it"
        " and keeps the Changjiang Branch of the City Natural Resources and Planning Bureau informed."
    ),
    section="5.1.3",
)

#: Plan 5.1.1, first paragraph: deaths, missing people, or a medium or larger disaster.
ONE_HOUR_REPORT = ReportDeadline(
    hours=1,
    reporter="区级地质灾害防治主管部门、应急管理部门",
    recipients=("市地质灾害防治主管部门", "市应急管理部门"),
    reporter_en="District geological-hazard authority and emergency management department",
    recipients_en=("City geological-hazard authority", "City emergency management department"),
    reason_zh="",
    reason_en="",
    follow_on=None,
    continued=_CONTINUED_REPORT,
)

#: Plan 5.1.1, second paragraph: a small disaster with nobody dead or missing.
TWELVE_HOUR_REPORT = ReportDeadline(
    hours=12,
    reporter="灾害发生地乡镇",
    recipients=(_BRANCH[0], _DISTRICT_EMERGENCY[0]),
    reporter_en="Township where the disaster happened",
    recipients_en=(_BRANCH[1], _DISTRICT_EMERGENCY[1]),
    reason_zh="",
    reason_en="",
    follow_on=ReportStep(
        within_hours=12,
        reporter=f"{_BRANCH[0]}、{_DISTRICT_EMERGENCY[0]}",
        recipients=(_CITY_RESOURCES[0], _CITY_EMERGENCY[0]),
        reporter_en=f"{_BRANCH[1]} and {_DISTRICT_EMERGENCY[1]}",
        recipients_en=(_CITY_RESOURCES[1], _CITY_EMERGENCY[1]),
        text_zh="昌江分局、区应急管理局收到报告后12小时内，分别转报市自然资源和规划局、市应急管理局。",
        text_en=(
            "Within 12 hours of receiving it, the Changjiang Branch and the District Emergency Management Bureau"
            " each pass the report on to their city bureau."
        ),
        section="5.1.1",
    ),
    continued=_CONTINUED_REPORT,
)

#: Plan 5.1.1 also allows skipping a level when necessary (必要时可越级报告); shown next to any deadline.
SKIP_LEVEL_NOTE_ZH = "必要时，灾情可同时越级上报。"
SKIP_LEVEL_NOTE_EN = "When necessary, the report may also go directly to a higher level at the same time."


def report_deadline(deaths: int, missing: int, grade: str) -> ReportDeadline:
    """Return the reporting deadline of a disaster, plan 5.1.1.

    One hour when anyone died or is missing, or the disaster is medium or larger: the district
    geological-hazard and emergency departments report to their city counterparts within an hour of
    hearing of it.  Otherwise twelve hours: the township reports to the Changjiang Branch of the city
    natural-resources bureau and the district emergency bureau, which pass it on to their city bureaux
    within twelve hours.  Danger (险情) is reported the same way (3.2): pass its grade with no casualties.

    Parameters
    ----------
    deaths, missing : int
        People dead and people missing; whole numbers ≥ 0.
    grade : {"small", "medium", "large", "giant"}
        The disaster grade (``disaster_grade(...).grade``) or, for a danger, the danger grade.

    Returns
    -------
    ReportDeadline
        With ``reason_zh``/``reason_en`` saying which condition chose it.

    Raises
    ------
    ValueError
        If a count is negative, NaN or not whole, or ``grade`` is unknown.

    Examples
    --------
    >>> report_deadline(0, 0, "small").hours
    12
    >>> report_deadline(0, 1, "small").reason_zh
    '有人员失踪'
    """
    dead = _number("deaths", deaths, whole=True)
    lost = _number("missing", missing, whole=True)
    rank = grade_rank(grade)
    reasons = []
    if dead > 0:
        reasons.append(("有人员死亡", "people died"))
    if lost > 0:
        reasons.append(("有人员失踪", "people are missing"))
    if rank >= grade_rank("medium"):
        reasons.append((f"等级为{GRADE_LABELS_ZH[grade]}（中型以上）", f"grade {grade} (medium or above)"))
    if not reasons:
        return replace(
            TWELVE_HOUR_REPORT,
            reason_zh="小型灾情，无人员死亡或失踪",
            reason_en="small disaster with nobody dead or missing",
        )
    return replace(
        ONE_HOUR_REPORT,
        reason_zh="；".join(zh for zh, _ in reasons),
        reason_en="; ".join(en for _, en in reasons),
    )


# ---------------------------------------------------------------------------------------------------------
# Warning levels and responses (emergency plan 4.4, 4.5)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One clause of a warning response: what is to be done and by whom.

    Attributes
    ----------
    id : str
        Stable identifier ``<level>.<topic>``, for exports and checklists.
    level : str
        The warning level whose clause introduces the action.
    topic : str
        What the action is about (``duty``, ``monitoring``, ``patrol``, ``preparedness``, ``technical``,
        ``consultation``, ``rescue_teams``, ``evacuation``, ``handling``, ``access_control``); a higher level
        often tightens a lower level's action on the same topic, and a UI may group by it.
    text_zh, text_en : str
        The clause, paraphrased.
    responsible, responsible_en : str
        Who carries it out.
    conditional : bool
        True where the plan says "必要时" (when necessary): the action is at the responders' discretion.
    section : str
        ``PLAN_SECTIONS`` key.
    """

    id: str
    level: str
    topic: str
    text_zh: str
    text_en: str
    responsible: str
    responsible_en: str
    conditional: bool
    section: str


@dataclass(frozen=True)
class WarningLevel:
    """A warning level (plan 4.4) and the response it opens (plan 4.5.1–4.5.4).

    Attributes
    ----------
    code : {"blue", "yellow", "orange", "red"}
    rank : int
        1 (blue) to 4 (red).
    tier_zh, color_zh : str
        四级 and 蓝色, etc.; ``name_zh`` joins them the way the plan writes them.
    name_en : str
    meaning_zh, meaning_en : str
        The risk the level announces (4.4).
    evacuate : {"none", "if_needed", "required"}
        Whether threatened people are moved: orange when necessary, red always.
    patrol : {"key_points", "all_points"}
        Which hazard points in the warning area are patrolled: the important ones at blue, all from yellow.
    rescue_teams : {"none", "prepare", "standby", "enter_if_needed"}
        What the full- and part-time rescue teams do.
    actions : tuple of Action
        The level's own clause; ``warning_actions`` adds the lower levels'.
    section : str
        ``PLAN_SECTIONS`` key of the level's response clause.
    """

    code: WarningLevelCode
    rank: int
    tier_zh: str
    color_zh: str
    name_en: str
    meaning_zh: str
    meaning_en: str
    evacuate: Literal["none", "if_needed", "required"]
    patrol: Literal["key_points", "all_points"]
    rescue_teams: Literal["none", "prepare", "standby", "enter_if_needed"]
    actions: tuple[Action, ...]
    section: str

    @property
    def name_zh(self) -> str:
        """四级（蓝色） etc., as plan 4.4 writes it."""
        return f"{self.tier_zh}（{self.color_zh}）"


def _actions(level: str, section: str, *rows: tuple[str, str, str, str, str, bool]) -> tuple[Action, ...]:
    return tuple(
        Action(f"{level}.{topic}", level, topic, zh, en, who, who_en, conditional, section)
        for topic, zh, en, who, who_en, conditional in rows
    )


# Who acts, as the plan names them; the district's own bodies are meant (区气象局, 区应急管理局, 市自然资源
# 和规划局昌江分局 for the geological-hazard authority), but the plan speaks of functions, so we do too.
_ALL = ("各级有关部门和单位", "All departments and units concerned")
_WEATHER = ("气象部门", "Meteorological department")
_WEATHER_ETC = ("气象等部门", "Meteorological and related departments")
_GOVTS = ("区、乡两级人民政府", "District and township governments")
_EMERGENCY = ("应急管理部门", "Emergency management department")
_HAZARD_AUTHORITY = ("地质灾害防治主管部门", "Geological-hazard authority")

_BLUE = _actions(
    "blue",
    "4.5.1",
    ("duty", "实行24小时值班，确保通信联络畅通。", "Keep a 24-hour duty watch and keep lines open.", *_ALL, False),
    (
        "monitoring",
        "密切跟踪雨情、水情的变化趋势，必要时通报有关部门和单位。",
        "Follow rainfall and water-level trends closely; alert the departments and units concerned if needed.",
        *_WEATHER,
        False,
    ),
    (
        "patrol",
        "组织对预警区内的重要地质灾害隐患点开展巡查和监测。",
        "Organise patrols and monitoring of the key hazard points inside the warning area.",
        *_GOVTS,
        False,
    ),
    (
        "preparedness",
        "组织并指导有关部门和单位做好应对突发地质灾害的各项准备。",
        "Organise and guide the departments and units concerned in getting ready for a sudden disaster.",
        *_EMERGENCY,
        False,
    ),
    (
        "technical",
        "做好为应急救援提供技术支撑的准备。",
        "Get ready to give technical support to rescue work.",
        *_HAZARD_AUTHORITY,
        False,
    ),
)

_YELLOW = _actions(
    "yellow",
    "4.5.2",
    (
        "duty",
        "值班由各部门、各单位负责人带班。",
        "Heads of departments and units lead the duty shifts in person.",
        *_ALL,
        False,
    ),
    (
        "monitoring",
        "加强雨情、水情的动态监测和信息收集，并及时通报有关部门和单位。",
        "Step up continuous monitoring of rainfall and water levels and alert the departments concerned promptly.",
        *_WEATHER_ETC,
        False,
    ),
    (
        "patrol",
        "组织对预警区内所有地质灾害隐患点开展巡查和监测。",
        "Organise patrols and monitoring of every hazard point inside the warning area.",
        *_GOVTS,
        False,
    ),
    (
        "consultation",
        "会同地质灾害防治、气象等部门联合会商地质灾害发展趋势。",
        "Hold a joint consultation on the hazard outlook with the geological-hazard, weather and other departments.",
        *_EMERGENCY,
        False,
    ),
    (
        "rescue_teams",
        "组织动员专职、兼职应急救援队伍做好救援准备。",
        "Mobilise full- and part-time rescue teams to prepare for rescue.",
        *_EMERGENCY,
        False,
    ),
)

_ORANGE = _actions(
    "orange",
    "4.5.3",
    (
        "monitoring",
        "加密雨情、水情的监测和信息收集，并及时通报有关部门和单位。",
        "Monitor rainfall and water levels more often and alert the departments concerned promptly.",
        *_WEATHER_ETC,
        False,
    ),
    (
        "evacuation",
        "必要时，由预警区的区、乡两级人民政府组织受威胁人员转移避让。",
        "When necessary, the district and township governments of the warning area move threatened people to safety.",
        *_GOVTS,
        True,
    ),
    (
        "handling",
        "组织指导突发地质灾害险情的处置，并及时向相关部门通报、报告情况。",
        "Organise and guide the handling of the danger, and keep the departments concerned informed.",
        "有关部门",
        "Departments concerned",
        False,
    ),
    (
        "rescue_teams",
        "组织指导专职、兼职应急救援队伍进入待命状态。",
        "Put full- and part-time rescue teams on standby.",
        *_EMERGENCY,
        False,
    ),
)

_RED = _actions(
    "red",
    "4.5.4",
    (
        "monitoring",
        "对雨情、水情进行实时监测和信息收集。",
        "Monitor rainfall and water levels in real time.",
        *_WEATHER_ETC,
        False,
    ),
    (
        "technical",
        "派出专家组赶赴预警区，开展技术指导并研判险情。",
        "Send an expert team to the warning area to give technical guidance and assess the danger.",
        *_HAZARD_AUTHORITY,
        False,
    ),
    (
        "evacuation",
        "按照职责分工，组织指导受威胁人员转移避让。",
        "Each within its remit, organise and guide the moving of threatened people to safety.",
        *_ALL,
        False,
    ),
    (
        "access_control",
        "阻止无关人员进入突发地质灾害危险区域。",
        "Keep people with no business there out of the danger zones.",
        *_ALL,
        False,
    ),
    (
        "rescue_teams",
        "必要时，组织指导专职、兼职应急救援队伍进入预警区。",
        "When necessary, send full- and part-time rescue teams into the warning area.",
        *_EMERGENCY,
        True,
    ),
)

#: The four warning levels from low to high (plan 4.4) with their responses (4.5.1–4.5.4).
WARNING_LEVELS: dict[str, WarningLevel] = {
    w.code: w
    for w in (
        WarningLevel(
            code="blue",
            rank=1,
            tier_zh="四级",
            color_zh="蓝色",
            name_en="Level IV (blue)",
            meaning_zh="有发生地质灾害的一定风险",
            meaning_en="some risk of a geological disaster",
            evacuate="none",
            patrol="key_points",
            rescue_teams="none",
            actions=_BLUE,
            section="4.5.1",
        ),
        WarningLevel(
            code="yellow",
            rank=2,
            tier_zh="三级",
            color_zh="黄色",
            name_en="Level III (yellow)",
            meaning_zh="发生地质灾害的风险较高",
            meaning_en="fairly high risk of a geological disaster",
            evacuate="none",
            patrol="all_points",
            rescue_teams="prepare",
            actions=_YELLOW,
            section="4.5.2",
        ),
        WarningLevel(
            code="orange",
            rank=3,
            tier_zh="二级",
            color_zh="橙色",
            name_en="Level II (orange)",
            meaning_zh="发生地质灾害的风险高",
            meaning_en="high risk of a geological disaster",
            evacuate="if_needed",
            patrol="all_points",
            rescue_teams="standby",
            actions=_ORANGE,
            section="4.5.3",
        ),
        WarningLevel(
            code="red",
            rank=4,
            tier_zh="一级",
            color_zh="红色",
            name_en="Level I (red)",
            meaning_zh="发生地质灾害的风险很高",
            meaning_en="very high risk of a geological disaster",
            evacuate="required",
            patrol="all_points",
            rescue_teams="enter_if_needed",
            actions=_RED,
            section="4.5.4",
        ),
    )
}


def level_rank(level: str) -> int:
    """Return the rank of a warning level: 1 (blue) to 4 (red), plan 4.4.

    Raises
    ------
    ValueError
        If ``level`` is not a warning level code.

    Examples
    --------
    >>> level_rank("orange")
    3
    """
    return WARNING_LEVELS[_choice("level", level, WARNING_LEVELS)].rank


#: The plan's tiers in Roman numerals too (Ⅳ级 … Ⅰ级), as many provincial inventories write them.
_ROMAN_TIERS = {1: ("Ⅳ", "iv"), 2: ("Ⅲ", "iii"), 3: ("Ⅱ", "ii"), 4: ("Ⅰ", "i")}


def level_spellings(code: str) -> tuple[str, ...]:
    """Every way a user may write warning level ``code`` (plan 4.4): the code, 蓝 / 蓝色, 四级 / Ⅳ级, and the
    colour and tier together in either order (四级（蓝色）, 蓝色四级 ...).

    The importers and :func:`parse_level` both take the level spellings from here, so a file one accepts the other
    accepts too.

    >>> level_spellings("red")[:5]
    ('red', '红色', '红', '一级', '一级（红色）')
    """
    w = WARNING_LEVELS[code]
    color, tier = w.color_zh, w.tier_zh
    roman = tuple(f"{numeral}级" for numeral in _ROMAN_TIERS[w.rank])
    combined = (f"{color}（{tier}）", tier + color, color + tier)
    return tuple(dict.fromkeys((code, color, color[0], tier, w.name_zh, *combined, *roman)))


def _fold(text: str) -> str:
    """A spelling folded for comparison: no spaces, lower case, full-width brackets, no trailing 预警."""
    return re.sub(r"\s+", "", text).lower().replace("(", "（").replace(")", "）").removesuffix("预警")


_LEVEL_NAMES = {_fold(name): code for code in WARNING_LEVELS for name in level_spellings(code)}


def parse_level(value: object) -> str:
    """Return the warning level code (``blue`` ... ``red``) a user's spelling names (:func:`level_spellings`).

    Accepts the codes in any case and the plan's Chinese names (plan 4.4): 蓝/黄/橙/红, with or without 色,
    四级/三级/二级/一级 (or Ⅳ级 … Ⅰ级), both together in either order, and a trailing 预警.

    Raises
    ------
    ValueError
        If ``value`` names no level; the message lists what is accepted.

    Examples
    --------
    >>> parse_level("橙色"), parse_level("Red"), parse_level("四级（蓝色）预警"), parse_level("Ⅰ级")
    ('orange', 'red', 'blue', 'red')
    """
    if isinstance(value, str) and _fold(value) in _LEVEL_NAMES:
        return _LEVEL_NAMES[_fold(value)]
    raise ValueError(
        f"unknown warning level {value!r}: use blue|yellow|orange|red, 蓝|黄|橙|红(色) or 四级|三级|二级|一级"
    )


#: The warning level codes from the most urgent down (red ... blue): the order every table and list shows them in.
LEVELS_DOWN: tuple[str, ...] = tuple(sorted(WARNING_LEVELS, key=level_rank, reverse=True))


def highest_level(levels: Iterable[str | None]) -> WarningLevelCode | None:
    """Return the highest of some warning levels, or None when there is none.

    A hazard point under overlapping warning areas counts once, at the highest level that covers it
    (docs/data-model.md); missing values (None, NaN) stand for "no warning" and are skipped.

    Raises
    ------
    ValueError
        If a value is neither missing nor a warning level code.

    Examples
    --------
    >>> highest_level(["yellow", None, "orange", "blue"])
    'orange'
    >>> highest_level([]) is None
    True
    """
    # pd.isna also catches NaN and pd.NA, which a spatial join leaves where no warning area covers a point.
    present = [level for level in levels if isinstance(level, str) or not pd.isna(level)]
    if not present:
        return None
    return max(present, key=level_rank)  # type: ignore[return-value]


def warning_actions(level: str, cumulative: bool = True) -> list[Action]:
    """Return the actions a warning level calls for, plan 4.5.

    Each level's response applies "on the basis of" the level below it (在……基础上), so by default the
    result holds the actions of every level up to ``level``, lowest first.  Where a higher level tightens an
    action (patrol of all points instead of the key ones), both clauses are listed, as the plan lists them;
    group by ``Action.topic`` to show only the latest.

    Parameters
    ----------
    level : {"blue", "yellow", "orange", "red"}
    cumulative : bool
        False gives only the level's own clause.

    Returns
    -------
    list of Action

    Raises
    ------
    ValueError
        If ``level`` is not a warning level code.

    Examples
    --------
    >>> [a.id for a in warning_actions("yellow", cumulative=False)][:2]
    ['yellow.duty', 'yellow.monitoring']
    """
    rank = level_rank(level)
    if not cumulative:
        return list(WARNING_LEVELS[level].actions)
    return [action for w in WARNING_LEVELS.values() if w.rank <= rank for action in w.actions]


# ---------------------------------------------------------------------------------------------------------
# Drills (emergency plan 6.6)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillRule:
    """The yearly evacuation drill for major hazard points that threaten crowded places (plan 6.6)."""

    per_year: int
    organiser_zh: str
    organiser_en: str
    threatened_places_zh: tuple[str, ...]
    purpose_zh: str
    purpose_en: str
    section: str


#: Plan 6.6; the drill map export prints exactly what the drill must teach: signal, route and shelter.
ANNUAL_DRILL = DrillRule(
    per_year=1,
    organiser_zh="区、乡两级人民政府",
    organiser_en="District and township governments",
    threatened_places_zh=("学校", "医院", "村庄", "集镇", "企事业单位"),
    purpose_zh="使受威胁群众熟悉撤离信号、撤离路线和避灾场所。",
    purpose_en="So that threatened people know the evacuation signal, the route and the shelter.",
    section="6.6",
)


# ---------------------------------------------------------------------------------------------------------
# Swimming plan
# ---------------------------------------------------------------------------------------------------------

#: 三（四）: the least the district finance bureau funds per pupil for the free lessons, in yuan.
TRAINING_RATE_RURAL_YUAN = 500
TRAINING_RATE_URBAN_YUAN = 400
TRAINING_RATE_YUAN: dict[str, int] = {"rural": TRAINING_RATE_RURAL_YUAN, "urban": TRAINING_RATE_URBAN_YUAN}


def training_budget_yuan(grade4_pupils: int, area_type: AreaType) -> int:
    """Return the least funding the swimming plan requires for a school's free lessons, in yuan.

    The plan funds at least 500 yuan per pupil at rural schools and 400 at urban ones (三（四）), and the
    free lessons are for grade-4 pupils (二（三）1).  The plan targets the grade-4 pupils fit to swim; with no
    record of fitness the whole grade is counted, which errs on the side of enough money.

    Parameters
    ----------
    grade4_pupils : int
        Grade-4 pupils of the school; a whole number ≥ 0.
    area_type : {"urban", "rural"}
        The school's ``area_type``.

    Returns
    -------
    int
        Yuan.

    Raises
    ------
    ValueError
        If ``grade4_pupils`` is negative, NaN or not whole, or ``area_type`` is unknown.

    Examples
    --------
    >>> training_budget_yuan(40, "rural")
    20000
    """
    pupils = _number("grade4_pupils", grade4_pupils, whole=True)
    rate = TRAINING_RATE_YUAN[_choice("area_type", area_type, TRAINING_RATE_YUAN)]
    return int(pupils) * rate


#: 二（一）2: each school is to have three or more swimming instructors (社会体育指导员（游泳）) or lifeguards
#: within two to three years of the 2022 plan.
MIN_SWIM_INSTRUCTORS = 3


def swim_instructors_short(instructors: int) -> int:
    """Return how many swimming instructors or lifeguards a school lacks, plan 二（一）2.

    Examples
    --------
    >>> swim_instructors_short(1)
    2
    """
    have = _number("instructors", instructors, whole=True)
    return max(0, MIN_SWIM_INSTRUCTORS - int(have))


#: 二（一）3: schools with at least this many teachers and pupils together need two Red Cross trainers.
REDCROSS_LARGE_SCHOOL = 500
#: Trainers below and from ``REDCROSS_LARGE_SCHOOL``; the plan's target date is the end of 2022.
REDCROSS_TRAINERS_SMALL_SCHOOL = 1
REDCROSS_TRAINERS_LARGE_SCHOOL = 2


def redcross_trainers_required(students: int, teachers: int, is_teaching_point: bool) -> int:
    """Return the Red Cross first-aid trainers a school must have, plan 二（一）3.

    One for a school of fewer than 500 teachers and pupils together, two from 500.  The swimming plan
    writes "500人以下" and "500人以上" without saying where 500 itself falls; we read it as the emergency plan
    defines the words (以上 includes the number), the usual reading in Chinese regulations.  Rural teaching
    points (农村教学点) are outside the rule and need none.

    Parameters
    ----------
    students, teachers : int
        Whole numbers ≥ 0.
    is_teaching_point : bool
        True for a rural teaching point (教学点).

    Returns
    -------
    int
        0, 1 or 2.

    Raises
    ------
    ValueError
        If a count is negative, NaN or not whole.

    Examples
    --------
    >>> redcross_trainers_required(450, 49, False), redcross_trainers_required(450, 50, False)
    (1, 2)
    """
    headcount = _number("students", students, whole=True) + _number("teachers", teachers, whole=True)
    if is_teaching_point:
        return 0
    return REDCROSS_TRAINERS_LARGE_SCHOOL if headcount >= REDCROSS_LARGE_SCHOOL else REDCROSS_TRAINERS_SMALL_SCHOOL


def redcross_trainers_short(students: int, teachers: int, is_teaching_point: bool, trainers: int) -> int:
    """Return how many Red Cross trainers a school lacks, plan 二（一）3.

    Examples
    --------
    >>> redcross_trainers_short(600, 40, False, trainers=1)
    1
    """
    have = _number("trainers", trainers, whole=True)
    return max(0, redcross_trainers_required(students, teachers, is_teaching_point) - int(have))


#: 二（二）1: each township or sub-district is encouraged to build at least one swimming facility, alone or
#: jointly with a neighbouring township (so a shared facility counts for both).
MIN_FACILITIES_PER_TOWNSHIP = 1


@dataclass(frozen=True)
class PoolTarget:
    """A target for the number of public pools in the district (plan 二（二）2)."""

    by_year: int
    public_pools: int
    text_zh: str
    text_en: str
    section: str = "swim.2.2.2"


#: 二（二）2: one public pool by 2023, and one more newly built by 2025, so two by then.
PUBLIC_POOL_TARGETS: tuple[PoolTarget, ...] = (
    PoolTarget(
        2023,
        1,
        "2023年前区内至少有1座公共游泳池（馆）。",
        "At least one public pool in the district by 2023.",
    ),
    PoolTarget(
        2025,
        2,
        "2025年前再新建成1座公共游泳池（馆）。",
        "One more public pool newly built by 2025.",
    ),
)


def public_pools_required(year: int) -> int:
    """Return how many public pools the district should have in ``year``, plan 二（二）2.

    Examples
    --------
    >>> public_pools_required(2022), public_pools_required(2023), public_pools_required(2030)
    (0, 1, 2)
    """
    return max((t.public_pools for t in PUBLIC_POOL_TARGETS if year >= t.by_year), default=0)
