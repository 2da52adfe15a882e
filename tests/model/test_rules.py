"""The plans' rules (geo/model/rules.py): every bound at, just below and just above, and the data the UI shows.

Each test names the plan section it enforces: bare numbers are the emergency plan
《昌江区突发地质灾害应急预案》, "swim" sections the swimming plan 《“泳动昌江”游泳教育实施方案》.
"""

from __future__ import annotations

import dataclasses
import doctest
import itertools
import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from geo.model import rules
from geo.model.rules import (
    GRADE_ORDER,
    PLAN_SECTIONS,
    RULE_SECTIONS,
    WARNING_LEVELS,
    cite,
    danger_grade,
    danger_grades,
    disaster_grade,
    highest_level,
    level_rank,
    public_pools_required,
    redcross_trainers_required,
    redcross_trainers_short,
    report_deadline,
    swim_instructors_short,
    training_budget_yuan,
    warning_actions,
)

# ---------------------------------------------------------------------------------------------------------
# Danger grade 险情, plan 3.2
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        (0, "small"),
        (99, "small"),
        (100, "medium"),
        (101, "medium"),
        (499, "medium"),
        (500, "large"),
        (501, "large"),
        (999, "large"),
        (1000, "giant"),
        (1001, "giant"),
    ],
)
def test_plan_3_2_danger_grade_by_people_bounds_include_the_number(people, expected):
    assert danger_grade(people, 0.0) == expected


@pytest.mark.parametrize(
    ("property_10k", "expected"),
    [
        (0.0, "small"),
        (499.99, "small"),
        (500.0, "medium"),
        (500.01, "medium"),
        (4999.99, "medium"),
        (5000.0, "large"),
        (5000.01, "large"),
        (9999.99, "large"),
        (10000.0, "giant"),
        (10000.01, "giant"),
    ],
)
def test_plan_3_2_danger_grade_by_property_in_10k_yuan_bounds_include_the_number(property_10k, expected):
    assert danger_grade(0, property_10k) == expected


@pytest.mark.parametrize(
    ("people", "property_10k", "expected"),
    [
        (99, 10000.0, "giant"),  # few people, 1亿元 of property
        (1000, 0.0, "giant"),
        (150, 6000.0, "large"),  # medium by people, large by property
        (600, 600.0, "large"),  # large by people, medium by property
        (100, 499.99, "medium"),
        (99, 499.99, "small"),
    ],
)
def test_plan_3_2_danger_grade_is_the_higher_of_people_and_property(people, property_10k, expected):
    assert danger_grade(people, property_10k) == expected


def test_plan_3_2_danger_grade_accepts_whole_floats_and_numpy_numbers():
    """Counts read from a GeoPackage column with gaps arrive as floats (plan 3.2)."""
    assert danger_grade(100.0, np.float64(0)) == "medium"
    assert danger_grade(np.int64(1000), 0) == "giant"


@pytest.mark.parametrize(
    ("people", "property_10k", "argument"),
    [
        (-1, 0.0, "threatened_people"),
        (math.nan, 0.0, "threatened_people"),
        (10.5, 0.0, "threatened_people"),
        (0, -0.01, "threatened_property_10k_yuan"),
        (0, math.nan, "threatened_property_10k_yuan"),
        (0, math.inf, "threatened_property_10k_yuan"),
    ],
)
def test_plan_3_2_danger_grade_rejects_invalid_input_naming_the_argument(people, property_10k, argument):
    with pytest.raises(ValueError, match=argument):
        danger_grade(people, property_10k)


@pytest.mark.parametrize(("people", "property_10k"), [("100", 0.0), (True, 0.0), (0, None)])
def test_plan_3_2_danger_grade_rejects_non_numbers(people, property_10k):
    with pytest.raises(TypeError):
        danger_grade(people, property_10k)


# Values around every bound of plan 3.2, on both measures.
_PEOPLE_GRID = [0, 1, 99, 100, 101, 499, 500, 501, 999, 1000, 1001, 25000]
_PROPERTY_GRID = [0.0, 0.5, 499.99, 500.0, 500.01, 4999.99, 5000.0, 5000.01, 9999.99, 10000.0, 10000.01, 1e7]


def test_plan_3_2_vectorised_danger_grades_agree_with_the_scalar_rule_on_a_grid():
    pairs = list(itertools.product(_PEOPLE_GRID, _PROPERTY_GRID))
    people = pd.Series([p for p, _ in pairs], index=[f"H{i}" for i in range(len(pairs))])
    prop = pd.Series([v for _, v in pairs], index=people.index)

    result = danger_grades(people, prop)

    assert isinstance(result, pd.Series)
    assert result.name == "danger_grade"
    assert result.index.equals(people.index)
    assert result.tolist() == [danger_grade(p, v) for p, v in pairs]


def test_plan_3_2_vectorised_danger_grades_on_arrays_return_an_array():
    people = np.array([99, 100, 1000])
    result = danger_grades(people, np.array([0.0, 0.0, 0.0]))
    assert isinstance(result, np.ndarray)
    assert result.tolist() == ["small", "medium", "giant"]


def test_plan_3_2_vectorised_danger_grades_broadcast_a_scalar_and_read_nullable_integers():
    people = pd.Series([99, 500], dtype="Int64")
    assert danger_grades(people, 0.0).tolist() == ["small", "large"]
    assert danger_grades(0, pd.Series([500.0, 5000.0])).tolist() == ["medium", "large"]


def test_plan_3_2_vectorised_danger_grades_of_an_empty_layer_are_empty():
    result = danger_grades(pd.Series([], dtype=int), pd.Series([], dtype=float))
    assert len(result) == 0


@pytest.mark.parametrize(
    ("people", "prop", "argument", "label"),
    [
        ([5, -1, 7], [0.0, 0.0, 0.0], "threatened_people", "b"),
        ([5, None, 7], [0.0, 0.0, 0.0], "threatened_people", "b"),
        ([5, 6, 7.5], [0.0, 0.0, 0.0], "threatened_people", "c"),
        ([5, 6, 7], [0.0, math.nan, 0.0], "threatened_property_10k_yuan", "b"),
        ([5, 6, 7], [-3.0, 0.0, 0.0], "threatened_property_10k_yuan", "a"),
    ],
)
def test_plan_3_2_vectorised_danger_grades_reject_bad_values_naming_argument_and_feature(people, prop, argument, label):
    index = ["a", "b", "c"]
    with pytest.raises(ValueError, match=rf"{argument}.*'{label}'"):
        danger_grades(pd.Series(people, index=index, dtype=float), pd.Series(prop, index=index))


def test_plan_3_2_vectorised_danger_grades_refuse_misaligned_series():
    with pytest.raises(ValueError, match="share one index"):
        danger_grades(pd.Series([1, 2], index=[0, 1]), pd.Series([0.0, 0.0], index=[1, 2]))


def test_plan_3_2_vectorised_danger_grades_refuse_mismatched_lengths():
    with pytest.raises(ValueError, match="do not match"):
        danger_grades([1, 2], [0.0, 0.0, 0.0])


def test_plan_3_2_vectorised_danger_grades_refuse_text():
    with pytest.raises(ValueError, match="threatened_people"):
        danger_grades(pd.Series(["many"]), pd.Series([0.0]))


# ---------------------------------------------------------------------------------------------------------
# Disaster grade 灾情, plan 3.1, and response level, plan 5.3
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deaths", "expected"),
    [
        (0, "small"),
        (2, "small"),
        (3, "medium"),
        (4, "medium"),
        (9, "medium"),
        (10, "large"),
        (11, "large"),
        (29, "large"),
        (30, "giant"),
        (31, "giant"),
    ],
)
def test_plan_3_1_disaster_grade_by_deaths_bounds_include_the_number(deaths, expected):
    assert disaster_grade(deaths, 0.0).grade == expected


@pytest.mark.parametrize(
    ("loss_10k", "expected"),
    [
        (0.0, "small"),
        (99.9, "small"),
        (99.99, "small"),
        (100.0, "medium"),
        (100.1, "medium"),
        (499.0, "medium"),
        (499.99, "medium"),
        (500.0, "large"),
        (501.0, "large"),
        (999.0, "large"),
        (999.99, "large"),
        (1000.0, "giant"),
        (1001.0, "giant"),
    ],
)
def test_plan_3_1_disaster_grade_by_direct_loss_bounds_include_the_number(loss_10k, expected):
    assert disaster_grade(0, loss_10k).grade == expected


@pytest.mark.parametrize(
    ("deaths", "loss_10k", "expected"),
    [
        (0, 1000.0, "giant"),
        (30, 0.0, "giant"),
        (2, 600.0, "large"),  # small by deaths, large by loss
        (12, 150.0, "large"),  # large by deaths, medium by loss
        (3, 99.9, "medium"),
        (2, 99.9, "small"),
    ],
)
def test_plan_3_1_disaster_grade_is_the_higher_of_deaths_and_loss(deaths, loss_10k, expected):
    assert disaster_grade(deaths, loss_10k).grade == expected


@pytest.mark.parametrize(
    ("grade", "level", "level_zh", "section"),
    [
        ("small", "IV", "Ⅳ级应急响应", "5.3.3"),
        ("medium", "III", "Ⅲ级应急响应", "5.3.2"),
        ("large", "II", "Ⅱ级应急响应", "5.3.1"),
        ("giant", "I", "Ⅰ级应急响应", "5.3.1"),
    ],
)
def test_plan_3_1_and_5_3_each_disaster_grade_opens_its_response_level(grade, level, level_zh, section):
    d = rules.DISASTER_GRADES[grade]
    assert (d.response_level, d.response_level_zh) == (level, level_zh)
    assert section in d.sections
    assert d.label_zh == f"{d.grade_zh}地质灾害灾情"


def test_plan_3_1_disaster_grade_returns_the_declared_frozen_record():
    d = disaster_grade(3, 0)
    assert d is rules.DISASTER_GRADES["medium"]
    assert d.grade_zh == "中型"
    assert "景德镇市" in d.lead_zh
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.grade = "small"  # type: ignore[misc]


def test_plan_5_5_province_assesses_large_and_giant_disasters_city_medium_district_small():
    assert rules.DISASTER_GRADES["giant"].assessment_zh.startswith("省应急管理厅")
    assert rules.DISASTER_GRADES["large"].assessment_zh.startswith("省应急管理厅")
    assert rules.DISASTER_GRADES["medium"].assessment_zh.startswith("景德镇市")
    assert rules.DISASTER_GRADES["small"].assessment_zh.startswith("昌江区")


@pytest.mark.parametrize(
    ("deaths", "loss_10k", "argument"),
    [
        (-1, 0.0, "deaths"),
        (2.5, 0.0, "deaths"),
        (math.nan, 0.0, "deaths"),
        (0, -1.0, "direct_loss_10k_yuan"),
        (0, math.nan, "direct_loss_10k_yuan"),
    ],
)
def test_plan_3_1_disaster_grade_rejects_invalid_input_naming_the_argument(deaths, loss_10k, argument):
    with pytest.raises(ValueError, match=argument):
        disaster_grade(deaths, loss_10k)


# ---------------------------------------------------------------------------------------------------------
# Reporting deadlines, plan 5.1
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deaths", "missing", "grade", "reason"),
    [
        (1, 0, "small", "死亡"),
        (0, 1, "small", "失踪"),
        (0, 0, "medium", "中型以上"),
        (0, 0, "large", "中型以上"),
        (0, 0, "giant", "中型以上"),
    ],
)
def test_plan_5_1_1_death_missing_or_medium_and_above_report_within_one_hour(deaths, missing, grade, reason):
    d = report_deadline(deaths, missing, grade)
    assert d.hours == 1
    assert d.reporter == "区级地质灾害防治主管部门、应急管理部门"
    assert d.recipients == ("市地质灾害防治主管部门", "市应急管理部门")
    assert d.follow_on is None
    assert reason in d.reason_zh
    assert d.section == "5.1.1"


def test_plan_5_1_1_small_disaster_without_casualties_reports_within_twelve_hours_then_relays():
    d = report_deadline(0, 0, "small")
    assert d.hours == 12
    assert d.reporter == "灾害发生地乡镇"
    assert d.recipients == ("市自然资源和规划局昌江分局", "区应急管理局")
    assert d.follow_on is not None
    assert d.follow_on.within_hours == 12
    assert d.follow_on.recipients == ("市自然资源和规划局", "市应急管理局")
    assert d.reason_zh


def test_plan_5_1_1_every_reason_is_listed():
    d = report_deadline(2, 1, "medium")
    assert d.hours == 1
    assert all(word in d.reason_zh for word in ("死亡", "失踪", "中型"))


def test_plan_5_1_3_both_deadlines_carry_the_continued_reporting_duty():
    for d in (report_deadline(0, 0, "small"), report_deadline(5, 0, "medium")):
        assert d.continued.section == "5.1.3"
        assert d.continued.within_hours is None
        assert "市自然资源和规划局昌江分局" in d.continued.recipients


def test_plan_5_1_1_due_times_count_from_the_given_time_and_keep_its_zone():
    t = datetime(2024, 6, 20, 23, 30, tzinfo=timezone(timedelta(hours=8)))
    one = report_deadline(1, 0, "small")
    twelve = report_deadline(0, 0, "small")
    assert one.due(t) == t + timedelta(hours=1)
    assert one.final_due(t) == one.due(t)
    assert twelve.due(t) == datetime(2024, 6, 21, 11, 30, tzinfo=t.tzinfo)
    assert twelve.final_due(t) == t + timedelta(hours=24)


@pytest.mark.parametrize(
    ("deaths", "missing", "grade", "argument"),
    [(-1, 0, "small", "deaths"), (0, -1, "small", "missing"), (0, 0.5, "small", "missing"), (0, 0, "huge", "grade")],
)
def test_plan_5_1_1_report_deadline_rejects_invalid_input(deaths, missing, grade, argument):
    with pytest.raises(ValueError, match=argument):
        report_deadline(deaths, missing, grade)


# ---------------------------------------------------------------------------------------------------------
# Warning levels and responses, plan 4.4 and 4.5
# ---------------------------------------------------------------------------------------------------------


def test_plan_4_4_warning_levels_run_blue_yellow_orange_red_with_the_plans_names():
    assert list(WARNING_LEVELS) == ["blue", "yellow", "orange", "red"]
    assert [level_rank(code) for code in WARNING_LEVELS] == [1, 2, 3, 4]
    assert [w.name_zh for w in WARNING_LEVELS.values()] == [
        "四级（蓝色）",
        "三级（黄色）",
        "二级（橙色）",
        "一级（红色）",
    ]
    assert [w.meaning_zh for w in WARNING_LEVELS.values()] == [
        "有发生地质灾害的一定风险",
        "发生地质灾害的风险较高",
        "发生地质灾害的风险高",
        "发生地质灾害的风险很高",
    ]


def test_plan_4_4_level_rank_rejects_unknown_levels():
    with pytest.raises(ValueError, match="level"):
        level_rank("purple")


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (["blue", "red", "yellow"], "red"),
        (["yellow", "orange"], "orange"),
        (["blue"], "blue"),
        ([None, math.nan, pd.NA, "yellow"], "yellow"),
        ([], None),
        ([None, math.nan], None),
        (pd.Series(["blue", None, "orange"]), "orange"),
    ],
)
def test_plan_4_4_highest_level_of_overlapping_warnings(levels, expected):
    assert highest_level(levels) == expected


def test_plan_4_4_highest_level_rejects_unknown_levels():
    with pytest.raises(ValueError, match="level"):
        highest_level(["blue", "green"])


def _ids(level: str, cumulative: bool = True) -> set[str]:
    return {a.id for a in warning_actions(level, cumulative=cumulative)}


def test_plan_4_5_each_level_builds_on_the_level_below():
    """4.5.2–4.5.4 each start "在……预警响应的基础上": red ⊃ orange ⊃ yellow ⊃ blue."""
    assert _ids("blue") == _ids("blue", cumulative=False)
    assert _ids("blue") < _ids("yellow") < _ids("orange") < _ids("red")
    for lower, higher in itertools.pairwise(WARNING_LEVELS):
        assert _ids(higher) == _ids(lower) | _ids(higher, cumulative=False)


def test_plan_4_5_cumulative_actions_run_from_the_lowest_level_up():
    levels = [a.level for a in warning_actions("red")]
    assert levels == sorted(levels, key=level_rank)
    assert warning_actions("red")[0].id == "blue.duty"


def test_plan_4_5_own_actions_belong_to_their_level_and_cite_its_section():
    for code, w in WARNING_LEVELS.items():
        own = warning_actions(code, cumulative=False)
        assert own, code
        assert all(a.level == code and a.section == w.section for a in own)
    assert [w.section for w in WARNING_LEVELS.values()] == ["4.5.1", "4.5.2", "4.5.3", "4.5.4"]


def test_plan_4_5_action_ids_are_unique_and_every_action_is_bilingual_with_someone_responsible():
    actions = warning_actions("red")
    assert len({a.id for a in actions}) == len(actions)
    for a in actions:
        assert a.text_zh and a.text_en and a.responsible and a.responsible_en, a.id


def test_plan_4_5_1_blue_keeps_24_hour_duty_and_patrols_key_hazard_points():
    blue = WARNING_LEVELS["blue"]
    assert blue.patrol == "key_points"
    assert blue.evacuate == "none"
    assert "24小时值班" in _action("blue.duty").text_zh
    assert "重要" in _action("blue.patrol").text_zh
    assert _action("blue.monitoring").responsible == "气象部门"


def test_plan_4_5_2_yellow_patrols_every_hazard_point_and_holds_a_joint_consultation():
    assert [WARNING_LEVELS[c].patrol for c in ("yellow", "orange", "red")] == ["all_points"] * 3
    assert "所有" in _action("yellow.patrol").text_zh
    assert _action("yellow.patrol").responsible == "区、乡两级人民政府"
    assert "会商" in _action("yellow.consultation").text_zh
    assert "负责人带班" in _action("yellow.duty").text_zh


def test_plan_4_5_3_orange_moves_threatened_people_only_when_necessary_and_puts_teams_on_standby():
    orange = WARNING_LEVELS["orange"]
    assert orange.evacuate == "if_needed"
    assert orange.rescue_teams == "standby"
    evacuation = _action("orange.evacuation")
    assert evacuation.conditional
    assert evacuation.text_zh.startswith("必要时")
    assert "转移避让" in evacuation.text_zh


def test_plan_4_5_4_red_requires_moving_threatened_people_and_sends_experts():
    red = WARNING_LEVELS["red"]
    assert red.evacuate == "required"
    assert red.rescue_teams == "enter_if_needed"
    assert not _action("red.evacuation").conditional
    assert "转移避让" in _action("red.evacuation").text_zh
    assert "专家组" in _action("red.technical").text_zh
    assert _action("red.technical").responsible == "地质灾害防治主管部门"
    assert _action("red.rescue_teams").conditional


def test_plan_4_5_evacuation_escalates_with_the_level():
    order = ["none", "if_needed", "required"]
    evacuate = [order.index(w.evacuate) for w in WARNING_LEVELS.values()]
    assert evacuate == sorted(evacuate)


def test_plan_4_5_warning_actions_rejects_unknown_levels():
    with pytest.raises(ValueError, match="level"):
        warning_actions("green")


def _action(action_id: str) -> rules.Action:
    (action,) = [a for a in warning_actions("red") if a.id == action_id]
    return action


# ---------------------------------------------------------------------------------------------------------
# Drills, plan 6.6
# ---------------------------------------------------------------------------------------------------------


def test_plan_6_6_major_points_threatening_crowded_places_drill_once_a_year():
    assert rules.ANNUAL_DRILL.per_year == 1
    assert {"学校", "医院", "村庄"} <= set(rules.ANNUAL_DRILL.threatened_places_zh)
    assert all(word in rules.ANNUAL_DRILL.purpose_zh for word in ("信号", "路线", "避灾场所"))


# ---------------------------------------------------------------------------------------------------------
# Swimming plan
# ---------------------------------------------------------------------------------------------------------


def test_swim_3_4_training_rates_are_500_rural_and_400_urban_yuan_per_pupil():
    assert rules.TRAINING_RATE_RURAL_YUAN == 500
    assert rules.TRAINING_RATE_URBAN_YUAN == 400
    assert rules.TRAINING_RATE_YUAN == {"rural": 500, "urban": 400}


@pytest.mark.parametrize(
    ("pupils", "area_type", "expected"),
    [(0, "rural", 0), (1, "rural", 500), (1, "urban", 400), (37, "rural", 18500), (120, "urban", 48000)],
)
def test_swim_3_4_training_budget_is_the_minimum_rate_times_grade4_pupils(pupils, area_type, expected):
    budget = training_budget_yuan(pupils, area_type)
    assert budget == expected
    assert isinstance(budget, int)


@pytest.mark.parametrize(
    ("pupils", "area_type", "argument"),
    [(-1, "rural", "grade4_pupils"), (3.5, "urban", "grade4_pupils"), (10, "suburban", "area_type")],
)
def test_swim_3_4_training_budget_rejects_invalid_input(pupils, area_type, argument):
    with pytest.raises(ValueError, match=argument):
        training_budget_yuan(pupils, area_type)


@pytest.mark.parametrize(("have", "short"), [(0, 3), (1, 2), (2, 1), (3, 0), (4, 0)])
def test_swim_2_1_2_a_school_needs_three_swimming_instructors(have, short):
    assert rules.MIN_SWIM_INSTRUCTORS == 3
    assert swim_instructors_short(have) == short


@pytest.mark.parametrize(
    ("students", "teachers", "expected"),
    [
        (0, 0, 1),
        (450, 49, 1),  # 499
        (450, 50, 2),  # 500
        (451, 50, 2),  # 501
        (499, 0, 1),
        (0, 500, 2),
        (2000, 120, 2),
    ],
)
def test_swim_2_1_3_red_cross_trainers_one_below_500_teachers_and_pupils_two_from_500(students, teachers, expected):
    assert redcross_trainers_required(students, teachers, is_teaching_point=False) == expected


@pytest.mark.parametrize(("students", "teachers"), [(30, 3), (499, 0), (600, 40)])
def test_swim_2_1_3_rural_teaching_points_need_no_red_cross_trainer(students, teachers):
    assert redcross_trainers_required(students, teachers, is_teaching_point=True) == 0
    assert redcross_trainers_short(students, teachers, True, trainers=0) == 0


@pytest.mark.parametrize(
    ("students", "teachers", "trainers", "short"),
    [(450, 49, 0, 1), (450, 49, 1, 0), (450, 50, 1, 1), (450, 50, 2, 0), (450, 50, 3, 0)],
)
def test_swim_2_1_3_red_cross_trainers_short(students, teachers, trainers, short):
    assert redcross_trainers_short(students, teachers, False, trainers) == short


@pytest.mark.parametrize(
    ("students", "teachers", "argument"), [(-1, 10, "students"), (10, math.nan, "teachers"), (10.5, 1, "students")]
)
def test_swim_2_1_3_red_cross_rule_rejects_invalid_counts(students, teachers, argument):
    with pytest.raises(ValueError, match=argument):
        redcross_trainers_required(students, teachers, False)


def test_swim_2_1_2_and_2_1_3_shortfalls_reject_negative_staff():
    with pytest.raises(ValueError, match="instructors"):
        swim_instructors_short(-1)
    with pytest.raises(ValueError, match="trainers"):
        redcross_trainers_short(10, 1, False, trainers=-1)


def test_swim_2_2_1_each_township_should_have_a_swimming_facility():
    assert rules.MIN_FACILITIES_PER_TOWNSHIP == 1


@pytest.mark.parametrize(("year", "pools"), [(2022, 0), (2023, 1), (2024, 1), (2025, 2), (2030, 2)])
def test_swim_2_2_2_one_public_pool_by_2023_and_a_second_new_one_by_2025(year, pools):
    assert public_pools_required(year) == pools


def test_swim_2_2_2_public_pool_targets_are_declared_in_order():
    targets = rules.PUBLIC_POOL_TARGETS
    assert [(t.by_year, t.public_pools) for t in targets] == [(2023, 1), (2025, 2)]
    assert all(t.section == "swim.2.2.2" for t in targets)


# ---------------------------------------------------------------------------------------------------------
# Citations and consistency
# ---------------------------------------------------------------------------------------------------------


def _cited_keys() -> set[str]:
    keys = {k for ks in RULE_SECTIONS.values() for k in ks}
    keys |= {a.section for a in warning_actions("red")}
    keys |= {w.section for w in WARNING_LEVELS.values()}
    keys |= {k for d in rules.DISASTER_GRADES.values() for k in d.sections}
    for d in (rules.ONE_HOUR_REPORT, rules.TWELVE_HOUR_REPORT):
        keys |= {d.section, d.continued.section}
    keys |= {rules.TWELVE_HOUR_REPORT.follow_on.section, rules.ANNUAL_DRILL.section}
    keys |= {t.section for t in rules.PUBLIC_POOL_TARGETS}
    return keys


def test_every_section_a_rule_cites_is_declared():
    assert _cited_keys() <= set(PLAN_SECTIONS)


def test_every_rule_named_in_rule_sections_exists():
    assert all(hasattr(rules, name) for name in RULE_SECTIONS)


def test_plan_3_2_cite_in_chinese_and_english():
    assert cite("3.2") == "《昌江区突发地质灾害应急预案》3.2 地质灾害险情分级"
    assert cite("3.2", "en").endswith("section 3.2 (Grading of geological hazard danger)")
    assert cite("swim.3.4") == "《“泳动昌江”游泳教育实施方案》三（四） 统筹经费保障"
    assert cite("danger_grade") == cite("3.2")
    assert cite("redcross_trainers_required", "en").endswith("(Training first-aid trainers)")


def test_cite_rejects_unknown_keys_and_languages():
    with pytest.raises(ValueError, match="unknown plan section"):
        cite("9.9")
    with pytest.raises(ValueError, match="lang"):
        cite("3.2", "fr")  # type: ignore[arg-type]


def test_grade_and_warning_codes_agree_with_the_data_model():
    """The rules and geo/model/schema.py must speak of the same grades and levels (docs/data-model.md)."""
    schema = pytest.importorskip("geo.model.schema")
    assert tuple(schema.GRADES) == GRADE_ORDER
    assert schema.GRADES == rules.GRADE_LABELS_ZH
    assert {code: w.rank for code, w in WARNING_LEVELS.items()} == schema.WARNING_RANK


def test_docstring_examples_hold():
    result = doctest.testmod(rules)
    assert result.attempted > 0
    assert result.failed == 0
