"""Labels the map shows, in Chinese (default) or English.

Layer and column titles and enum labels come from :mod:`geo.model.schema`, so the map, the GeoPackage aliases and
the reports name things alike.  The map also shows columns of analysis results (route length, shelter load,
...) that are not in the data model; their titles are kept here.
"""

from __future__ import annotations

from collections.abc import Mapping

from geo.model import rules
from geo.model.schema import LAYERS

LANGS = ("zh", "en")

#: Titles of analysis-result columns shown in popups: column -> (Chinese, English).
RESULT_TITLES: dict[str, tuple[str, str]] = {
    "origin_name": ("起点", "From"),
    "origin_kind": ("起点类型", "Origin kind"),
    "assigned_shelter_id": ("预定避灾地点", "Assigned shelter"),
    "length_m": ("路线长度（米）", "Length (m)"),
    "walk_minutes": ("步行时间（分钟）", "Walking time (min)"),
    "people": ("转移人数", "People"),
    "assigned_people": ("分配人数", "Assigned people"),
    "load_ratio": ("负荷率", "Load ratio"),
    "over_capacity": ("超出容量", "Over capacity"),
    "distance_m": ("距离（米）", "Distance (m)"),
    "metric": ("距离算法", "Distance by"),
    "school_name": ("学校", "School"),
    "pool_name": ("游泳设施", "Pool"),
}

#: Enum labels of analysis-result columns, as (Chinese, English).
RESULT_ENUMS: dict[str, dict[str, tuple[str, str]]] = {
    "metric": {"network": ("路网距离", "along roads"), "straight": ("直线距离", "straight line")},
    "origin_kind": {"village": ("村庄", "village"), "hazard_point": ("隐患点", "hazard point")},
}

#: Words of the map's own interface: key -> (Chinese, English).
UI: dict[str, tuple[str, str]] = {
    "legend": ("图例", "Legend"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "district": ("行政区界", "District boundary"),
    "township_boundary": ("乡镇（街道）界", "Township boundary"),
    "township_layer": ("乡镇（街道）界", "Township boundaries"),
    "danger_grade": ("险情等级", "Danger grade"),
    "hazard_type": ("灾害类型", "Hazard type"),
    "inactive": ("已治理/已核销", "Treated/cancelled"),
    "school_with_pool": ("有游泳池的学校", "School with a pool"),
    "school_without_pool": ("无游泳池的学校", "School without a pool"),
    "service_radius": ("服务半径 {radius}", "Service radius {radius}"),
    "coverage": ("学校到最近游泳设施", "Schools to nearest pools"),
    "coverage_line": ("学校—游泳设施", "School to pool"),
    "k_radius": ("第 {k} 近设施半径", "Radius to the {k}th pool"),
    "routes": ("转移路线", "Evacuation routes"),
    "route": ("转移路线（箭头示方向）", "Route (arrows show direction)"),
    "people_unit": ("{n} 人", "{n} people"),
    "over_capacity": ("超出容量", "Over capacity"),
    "fullscreen": ("全屏", "Full screen"),
    "exit_fullscreen": ("退出全屏", "Exit full screen"),
    "lon_lat": ("经度, 纬度", "Lon, lat"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if the map speaks it, else raise ValueError."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {'|'.join(LANGS)}, not {lang!r}")
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(check_lang(lang))]


def ui(key: str, lang: str, **values: object) -> str:
    """Return the interface word ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    return _pick(UI[key], lang).format(**values)


def layer_title(layer: str, lang: str) -> str:
    """Return the title of data-model layer ``layer``."""
    spec = LAYERS[layer]
    return _pick((spec.title_zh, spec.title_en), lang)


def column_title(layer: str, column: str, lang: str) -> str:
    """Return the title of ``column``: the data model's for a model column, else an analysis column's."""
    spec = LAYERS.get(layer)
    if spec is not None and column in spec.columns:
        f = spec.field(column)
        return _pick((f.title_zh, f.title_en), lang)
    if column in RESULT_TITLES:
        return _pick(RESULT_TITLES[column], lang)
    for other in LAYERS.values():
        if column in other.columns:
            f = other.field(column)
            return _pick((f.title_zh, f.title_en), lang)
    return column


def _english(layer: str, column: str, value: str) -> str:
    if layer == "warning_areas" and column == "level":
        return rules.WARNING_LEVELS[value].name_en
    return value.replace("_", " ").capitalize()


def enum_labels(layer: str, column: str, lang: str) -> Mapping[str, str]:
    """Return value -> label of an enumerated column, ordered as the data model orders the values."""
    check_lang(lang)
    spec = LAYERS.get(layer)
    if spec is not None and column in spec.columns and spec.field(column).enum is not None:
        enum = spec.field(column).enum
        return {value: label if lang == "zh" else _english(layer, column, value) for value, label in enum.items()}
    return {value: _pick(pair, lang) for value, pair in RESULT_ENUMS.get(column, {}).items()}
