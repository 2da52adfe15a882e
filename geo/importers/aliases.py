"""Column headers and coded values as staff write them, mapped to the data model — declared as data.

Every column answers to its own name, its Chinese title and its English title (from :mod:`geo.model.schema`), plus
the other spellings below, which come from real inventories (台账).  Headers are compared after
:func:`normalize_key`, so full-width and half-width characters, brackets of any kind, spaces, line breaks,
underscores, hyphens, a required-mark ``*`` and letter case do not matter: ``威胁财产（万元）``,
``威胁财产(万元)`` and ``威胁财产 【万元】`` are one header.  docs/import.md embeds :func:`markdown_tables`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from geo.model import rules
from geo.model.schema import LAYERS

#: Layers an import can fill: those whose features carry a unique id to match updates on.
IMPORTABLE = tuple(name for name, layer in LAYERS.items() if layer.id_field and layer.field(layer.id_field).unique)

#: Other spellings of a column, beyond its name and its Chinese and English titles.
_NAME = ("名称", "name")
_TOWNSHIP = ("乡镇", "乡镇(街道)", "乡(镇)", "所在乡镇", "乡镇名称", "镇(街道)", "town")
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "townships": {
        "township_code": ("乡镇编码", "乡镇编号", "编号", "代码", "code"),
        "name": ("乡镇名称", "乡镇", "乡镇(街道)"),
        "area_type": ("城乡", "城乡分类"),
    },
    "hazard_points": {
        "hazard_id": ("编号", "隐患点编号", "灾害点编号", "统一编码", "hazard id", "code"),
        "name": ("隐患点名称", "灾害点名称", "点名", "名称"),
        "hazard_type": ("类型", "隐患类型", "灾害种类", "灾种", "type"),
        "scale_class": ("规模", "灾害规模", "规模级别"),
        "township": _TOWNSHIP,
        "village": ("村", "村(社区)", "村委会", "行政村", "所在村", "村(组)", "村组"),
        "threatened_households": ("受威胁户数", "威胁户", "户数", "households"),
        "threatened_people": ("受威胁人数", "威胁人口", "人数", "people"),
        "threatened_property_10k_yuan": (
            "威胁财产",
            "威胁财产(万元)",
            "受威胁财产(万元)",
            "威胁资产(万元)",
            "潜在经济损失(万元)",
            "property",
        ),
        "monitor_name": ("监测员", "群测群防员", "群测群防监测员", "monitor"),
        "monitor_phone": ("联系电话", "监测人联系电话", "监测员电话", "监测人电话号码", "电话"),
        "responsible_name": ("防灾责任人", "负责人", "责任单位及责任人"),
        "responsible_phone": ("责任人联系电话", "负责人电话", "防灾责任人电话"),
        "monitoring_method": ("监测手段", "监测方式"),
        "warning_signal": ("报警信号", "预警方式", "预警信号方式"),
        "shelter_id": ("避险场所", "避灾场所", "避灾地点", "避险地点", "避险点", "安置点", "shelter"),
        "status": ("隐患点状态", "核销状态"),
    },
    "villages": {
        "village_id": ("村编号", "村庄代码", "居民点编号", "编号", "code"),
        "name": ("村名", "村庄名称", "居民点名称", "名称"),
        "township": _TOWNSHIP,
        "population": ("人口数", "常住人口", "总人口", "人数"),
        "households": ("总户数", "户籍户数"),
    },
    "schools": {
        "school_id": ("学校代码", "学校标识码", "编号", "code"),
        "name": ("学校名称", "校名", "名称"),
        "township": _TOWNSHIP,
        "stage": ("办学类型", "学校类型", "学段类型"),
        "area_type": ("城乡", "城乡分类"),
        "is_teaching_point": ("教学点", "是否为教学点"),
        "students": ("在校生数", "学生人数", "在校学生数"),
        "teachers": ("教职工数", "专任教师数", "教师人数"),
        "grade4_students": ("四年级人数", "四年级在校生数"),
        "has_pool": ("游泳池", "是否有游泳池", "有无游泳池", "是否有校内游泳池"),
        "swim_instructors": ("游泳指导员", "救生员", "游泳教师"),
        "redcross_trainers": ("救护师资", "红十字救护员", "红十字师资"),
    },
    "pools": {
        "pool_id": ("泳池编号", "游泳池编号", "编号", "code"),
        "name": ("泳池名称", "游泳池名称", "场馆名称", "名称"),
        "township": _TOWNSHIP,
        "kind": ("泳池类型", "设施类型", "类别"),
        "status": ("建设状态", "开放状态"),
        "school_id": ("学校编号", "学校名称", "学校"),
        "lanes": ("泳道", "泳道数量"),
    },
    "shelters": {
        "shelter_id": ("场所编号", "避险场所编号", "避灾点编号", "编号", "code"),
        "name": ("场所名称", "避灾场所名称", "避险场所名称", "避灾点名称", "名称"),
        "township": _TOWNSHIP,
        "capacity": ("容量", "可容纳人数", "容纳人口", "容纳能力(人)"),
    },
    "warning_areas": {
        "warning_id": ("编号", "code"),
        "level": ("预警级别", "级别", "等级"),
        "issued_at": ("发布日期",),
        "valid_until": ("截止时间", "有效期"),
    },
}
#: Header spellings of the two numbers of a position; which is which is decided from the values.
COORDINATE_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("经度", "东经", "longitude", "lon", "lng", "long"),
    "lat": ("纬度", "北纬", "latitude", "lat"),
    "x": ("x", "x坐标", "东坐标", "easting", "坐标x"),
    "y": ("y", "y坐标", "北坐标", "northing", "坐标y"),
}
#: Columns the store derives; a value in the file is ignored, never trusted (plan 3.2 for the danger grade).
DERIVED: dict[str, tuple[str, ...]] = {"hazard_points": ("danger_grade", "version", "updated_at")}
#: Values given to a new feature whose file has no column for them; everything else required must be in the file.
DEFAULTS: dict[str, dict[str, object]] = {"hazard_points": {"status": "active"}}
#: Columns the rejected-rows file adds, so a fixed file imports again without complaint.
REJECT_COLUMNS = ("源文件行号", "错误原因")
#: Columns vector drivers add on their own (KML's placemark bookkeeping): not data staff entered.
DRIVER_COLUMNS = frozenset(
    ("id", "description", "timestamp", "begin", "end", "altitudemode", "tessellate", "extrude", "visibility",
     "draworder", "icon")
)  # fmt: skip

#: Other spellings of coded values, beyond the code and its Chinese label (see :data:`geo.model.schema.LAYERS`).
VALUE_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "hazard_type": {
        "collapse": ("危岩", "危岩体"),
        "ground_collapse": ("岩溶塌陷", "采空塌陷"),
        "unstable_slope": ("潜在不稳定斜坡", "斜坡"),
    },
    "scale_class": {"small": ("小",), "medium": ("中",), "large": ("大",), "giant": ("特大", "巨型")},
    "status": {
        "active": ("在册隐患点",),
        "cancelled": ("核销", "销号", "已销号"),
        "treated": ("治理", "工程治理"),
        "open": ("开放", "在用", "正常开放"),
        "building": ("建设中", "施工中"),
        "planned": ("拟建", "计划"),
    },
    "area_type": {"urban": ("城镇", "城市", "城"), "rural": ("乡村", "农村地区", "乡")},
    "stage": {"junior": ("初级中学",), "combined": ("九年制", "一贯制", "九年一贯制学校")},
    "kind": {
        "school": ("学校", "校园", "学校泳池"),
        "public": ("公益",),
        "commercial": ("经营性", "商业", "商业性"),
        "assembled": ("拼装", "拼装泳池"),
    },
    # The plan's spellings of the warning levels, shared with the warning-area reader and the CLI.
    "level": {code: rules.level_spellings(code)[1:] for code in rules.WARNING_LEVELS},
}
TRUE_WORDS = ("是", "有", "y", "yes", "true", "t", "1", "√", "✓")
FALSE_WORDS = ("否", "无", "没有", "n", "no", "false", "f", "0", "×", "✗")

_BRACKETS = str.maketrans({"【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")", "{": "(", "}": ")"})
_NOISE = re.compile(r"[\s*:_\-]+")


def normalize_key(text: object) -> str:
    """A header or coded value folded to compare loosely.

    >>> normalize_key("威胁财产（万元）") == normalize_key(" 威胁财产 【万元】*") == "威胁财产(万元)"
    True
    >>> normalize_key("Hazard_ID"), normalize_key("ＤＥＢＲＩＳ－ｆｌｏｗ")
    ('hazardid', 'debrisflow')
    """
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(text)).translate(_BRACKETS)).casefold()


def column_spellings(layer_name: str) -> dict[str, tuple[str, ...]]:
    """Every spelling of every column of a layer: name, titles, then the aliases above."""
    layer = LAYERS[layer_name]
    extra = HEADER_ALIASES.get(layer_name, {})
    return {f.name: (f.name, f.title_zh, f.title_en, *extra.get(f.name, ())) for f in layer.fields}


def header_index(layer_name: str) -> dict[str, tuple[str, int]]:
    """Normalised header -> (target, rank).

    The target is a column name, or ``@lon``/``@lat``/``@x``/``@y`` for coordinates.  Rank 0 is a column's own
    name or title, rank 1 another spelling: where ``统一编号`` and a serial-number ``编号`` both stand in a
    file, the title wins.

    Raises
    ------
    ValueError
        One spelling names two targets (a mistake in the tables above; a test guards against it).
    """
    index: dict[str, tuple[str, int]] = {}
    targets = [
        *column_spellings(layer_name).items(),
        *((f"@{role}", names) for role, names in COORDINATE_ALIASES.items()),
    ]
    for target, names in targets:
        for rank, name in enumerate(names):
            key = normalize_key(name)
            entry = (target, 0 if rank < 3 and not target.startswith("@") else 1)
            if index.setdefault(key, entry)[0] != target:
                raise ValueError(f"{layer_name}: header {name!r} names both {index[key][0]} and {target}")
    return index


@dataclass
class ColumnMatch:
    """How the columns of a source map to a layer.

    ``fields`` maps column name -> source column, ``coords`` role -> source column, ``derived`` lists source
    columns the store recomputes, ``unmapped`` columns nothing answers to, ``clashes`` targets named by more
    than one source column.
    """

    fields: dict[str, str] = field(default_factory=dict)
    coords: dict[str, str] = field(default_factory=dict)
    derived: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    clashes: dict[str, list[str]] = field(default_factory=dict)


def match_columns(
    columns: Iterable[object], layer_name: str, *, skip: Iterable[str] = (), short_names: bool = False
) -> ColumnMatch:
    """Map source columns to a layer's columns and coordinate roles by :func:`header_index`.

    Where several columns answer to one target, the best-ranked one takes it and the others are left unmapped;
    a tie is a clash the user must resolve.  ``skip`` holds normalised names of columns to pass over silently
    (a driver's own bookkeeping).  With ``short_names`` (a DBF, whose field names are cut at 10 bytes) a name
    that is the start of spellings of exactly one target answers to it, ranked below any full spelling:
    ``威胁财产(`` is what is left of ``威胁财产(万元)``.
    """
    index = header_index(layer_name)
    derived = set(DERIVED.get(layer_name, ()))
    quiet = {normalize_key(c) for c in REJECT_COLUMNS} | set(skip)
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    match = ColumnMatch()
    for column in columns:
        key = normalize_key(column)
        target, rank = index.get(key) or (_cut_spelling(key, index) if short_names else None, 2)
        if target in derived:
            match.derived.append(str(column))
        elif target is not None:
            found[target].append((rank, str(column)))
        elif key and key not in quiet:
            match.unmapped.append(str(column))
    for target, sources in found.items():
        best = min(rank for rank, _ in sources)
        chosen = [column for rank, column in sources if rank == best]
        match.unmapped += [column for rank, column in sources if rank != best]
        if len(chosen) > 1:
            match.clashes[target.lstrip("@")] = chosen
        elif target.startswith("@"):
            match.coords[target[1:]] = chosen[0]
        else:
            match.fields[target] = chosen[0]
    return match


def _cut_spelling(key: str, index: dict[str, tuple[str, int]]) -> str | None:
    """The one target whose spellings start with ``key``, or None where none or several do."""
    targets = {target for spelling, (target, _) in index.items() if len(key) >= 2 and spelling.startswith(key)}
    return targets.pop() if len(targets) == 1 else None


def value_index(layer_name: str, column: str) -> dict[str, str]:
    """Normalised spelling -> stored code of a coded column: the code, its Chinese label, and other spellings."""
    f = LAYERS[layer_name].field(column)
    assert f.enum is not None, f"{layer_name}.{column} is not a coded column"
    extra = VALUE_ALIASES.get(column, {})
    return {normalize_key(name): code for code, label in f.enum.items() for name in (code, label, *extra.get(code, ()))}


def markdown_tables() -> str:
    """The header and value spellings as Markdown tables; docs/import.md embeds this text verbatim."""
    out = []
    for layer_name in IMPORTABLE:
        layer = LAYERS[layer_name]
        out += [
            f"### `{layer_name}` — {layer.title_zh} / {layer.title_en}\n",
            "| 字段 column | 可用表头 accepted headers |",
        ]
        out.append("| --- | --- |")
        derived = DERIVED.get(layer_name, ())
        for column, names in column_spellings(layer_name).items():
            note = " *（忽略，由系统计算 / ignored, derived）*" if column in derived else ""
            out.append(f"| `{column}` | {'、'.join(dict.fromkeys(names[1:]))}{note} |")
        out.append("")
    out += ["### 坐标 / Coordinates\n", "| 用途 role | 可用表头 accepted headers |", "| --- | --- |"]
    out += [f"| {role} | {'、'.join(names)} |" for role, names in COORDINATE_ALIASES.items()]
    out += [
        "",
        "### 代码值 / Coded values\n",
        "| 字段 column | 代码 code | 可写作 accepted values |",
        "| --- | --- | --- |",
    ]
    for column, codes in _coded_columns().items():
        for code, names in codes.items():
            out.append(f"| `{column}` | `{code}` | {'、'.join(names)} |")
    out += [
        "",
        f"是/否字段 boolean columns: 真 true = {'、'.join(TRUE_WORDS)}；假 false = {'、'.join(FALSE_WORDS)}",
        "",
    ]
    return "\n".join(out)


def _coded_columns() -> Mapping[str, dict[str, tuple[str, ...]]]:
    """Coded column -> code -> its spellings, once per column name across the importable layers."""
    coded: dict[str, dict[str, tuple[str, ...]]] = {}
    for layer_name in IMPORTABLE:
        for f in LAYERS[layer_name].fields:
            if f.enum is None or f.name in DERIVED.get(layer_name, ()):
                continue
            extra = VALUE_ALIASES.get(f.name, {})
            codes = coded.setdefault(f.name, {})
            for code, label in f.enum.items():
                codes[code] = tuple(dict.fromkeys((*codes.get(code, ()), label, *extra.get(code, ()))))
    return coded
