"""The hazmap data model (docs/data-model.md, version 1), declared once as data, and its validator.

Everything that reads or writes a hazmap data set (store, importers, analyses, app) takes the layer, table and
column definitions from here, so a rule changes in one place.  :data:`LAYERS` are the spatial layers;
:data:`TABLES` are attribute tables without geometry (the audit log, the history of warnings), which both store
backends create, read, append to, edit and validate from these declarations alone.  ``validate`` collects every
problem in one pass and returns a report; it never stops at the first one, because a user fixing a file in QGIS
wants the whole list at once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.validation import explain_validity

from geo.model import rules
from geo.model.crs import ACCEPTED_CRS, CHINA_BOUNDS, STORAGE_CRS


class SchemaError(ValueError):
    """A data set does not follow the hazmap data model; ``report`` lists every problem."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(report.summary())


@dataclass(frozen=True)
class Field:
    """One column of a layer.

    ``kind`` is one of ``text``, ``int``, ``real``, ``bool``; attribute tables also use ``time`` (an ISO-8601
    timestamp, kept as text in a GeoPackage and as ``timestamptz`` in PostGIS) and ``json`` (JSON text, ``jsonb``
    in PostGIS).  ``enum`` maps each allowed stored value to
    its Chinese label.  ``ref`` names ``layer.column`` that a non-null value must exist in.
    """

    name: str
    kind: str
    title_zh: str
    title_en: str
    nullable: bool = True
    unique: bool = False
    enum: Mapping[str, str] | None = None
    minimum: float | None = None
    ref: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Layer:
    """A table of the data model: a spatial layer, or an attribute table when ``geometry`` is None.

    ``id_field`` names the column that identifies a row.  With ``serial`` the store assigns it (1, 2, ...) when a
    row is appended, and it is not among ``fields``; ``kept`` tables survive the re-creation of a database's data
    set (the audit log is the record of what happened to it).
    """

    name: str
    geometry: str | None
    title_zh: str
    title_en: str
    fields: tuple[Field, ...]
    id_field: str | None = None
    serial: bool = False
    kept: bool = False

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no column {name!r}")


#: Danger and scale grades share the plan's four classes (rules owns them: plan 3.1/3.2).
GRADES = dict(rules.GRADE_LABELS_ZH)
HAZARD_TYPES = {
    "landslide": "滑坡",
    "collapse": "崩塌",
    "debris_flow": "泥石流",
    "ground_collapse": "地面塌陷",
    "ground_fissure": "地裂缝",
    "ground_subsidence": "地面沉降",
    "unstable_slope": "不稳定斜坡",
}
HAZARD_STATUS = {"active": "在册", "treated": "已治理", "cancelled": "已核销"}
AREA_TYPES = {"urban": "城区", "rural": "农村"}
SCHOOL_STAGES = {"primary": "小学", "junior": "初中", "combined": "九年一贯制"}
POOL_KINDS = {"school": "校内", "public": "公共", "commercial": "社会", "assembled": "拼装式"}
POOL_STATUS = {"open": "已开放", "building": "在建", "planned": "规划"}
ROAD_CLASSES = {
    "highway": "高速/国道",
    "primary": "省道/主干道",
    "secondary": "县乡道",
    "rural": "村道",
    "path": "小路",
}
#: Warning levels from low to high (plan 4.4), labelled as the plan writes them: 四级（蓝色） ... 一级（红色）.
WARNING_LEVEL_LABELS = {code: level.name_zh for code, level in rules.WARNING_LEVELS.items()}
WARNING_RANK = {code: level.rank for code, level in rules.WARNING_LEVELS.items()}


def _text(name, zh, en, **kw):
    return Field(name, "text", zh, en, **kw)


def _count(name, zh, en, **kw):
    return Field(name, "int", zh, en, nullable=False, minimum=0, **kw)


LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer(
            "district",
            "Polygon",
            "行政区",
            "District",
            (
                _text("adcode", "行政区划代码", "Admin code", nullable=False, pattern=r"^\d{6}$"),
                _text("name", "名称", "Name", nullable=False),
            ),
            id_field="adcode",
        ),
        Layer(
            "townships",
            "Polygon",
            "乡镇（街道）",
            "Townships",
            (
                _text("township_code", "乡镇代码", "Township code", nullable=False, unique=True),
                _text("name", "名称", "Name", nullable=False, unique=True),
                _text("area_type", "城乡类型", "Urban/rural", nullable=False, enum=AREA_TYPES),
            ),
            id_field="township_code",
        ),
        Layer(
            "hazard_points",
            "Point",
            "地质灾害隐患点",
            "Hazard points",
            (
                _text("hazard_id", "统一编号", "Unified ID", nullable=False, unique=True),
                _text("name", "名称", "Name", nullable=False),
                _text("hazard_type", "灾害类型", "Hazard type", nullable=False, enum=HAZARD_TYPES),
                _text("scale_class", "规模等级", "Scale", nullable=False, enum=GRADES),
                _text("township", "乡镇（街道）", "Township"),
                _text("village", "村（社区）", "Village"),
                _count("threatened_households", "威胁户数", "Threatened households"),
                _count("threatened_people", "威胁人数", "Threatened people"),
                Field(
                    "threatened_property_10k_yuan",
                    "real",
                    "威胁财产（万元）",
                    "Threatened property (10k yuan)",
                    nullable=False,
                    minimum=0,
                ),
                _text("danger_grade", "险情等级", "Danger grade", nullable=False, enum=GRADES),
                _text("monitor_name", "监测人", "Monitor"),
                _text("monitor_phone", "监测人电话", "Monitor phone"),
                _text("responsible_name", "责任人", "Responsible person"),
                _text("responsible_phone", "责任人电话", "Responsible phone"),
                _text("monitoring_method", "监测方法", "Monitoring method"),
                _text("warning_signal", "预警信号", "Warning signal"),
                _text("shelter_id", "预定避灾地点", "Assigned shelter", ref="shelters.shelter_id"),
                _text("status", "状态", "Status", nullable=False, enum=HAZARD_STATUS),
                Field("version", "int", "版本", "Version", nullable=False, minimum=1),
                _text("updated_at", "更新时间", "Updated at", nullable=False),
            ),
            id_field="hazard_id",
        ),
        Layer(
            "danger_zones",
            "Polygon",
            "危险区",
            "Danger zones",
            (_text("hazard_id", "统一编号", "Unified ID", nullable=False, ref="hazard_points.hazard_id"),),
        ),
        Layer(
            "villages",
            "Point",
            "村庄（居民点）",
            "Villages",
            (
                _text("village_id", "村庄编号", "Village ID", nullable=False, unique=True),
                _text("name", "名称", "Name"),
                _text("township", "乡镇（街道）", "Township"),
                _count("population", "人口", "Population"),
                _count("households", "户数", "Households"),
            ),
            id_field="village_id",
        ),
        Layer(
            "schools",
            "Point",
            "中小学校",
            "Schools",
            (
                _text("school_id", "学校编号", "School ID", nullable=False, unique=True),
                _text("name", "名称", "Name"),
                _text("township", "乡镇（街道）", "Township"),
                _text("stage", "学段", "Stage", nullable=False, enum=SCHOOL_STAGES),
                _text("area_type", "城乡类型", "Urban/rural", nullable=False, enum=AREA_TYPES),
                Field("is_teaching_point", "bool", "是否教学点", "Teaching point", nullable=False),
                _count("students", "学生数", "Students"),
                _count("teachers", "教师数", "Teachers"),
                _count("grade4_students", "四年级学生数", "Grade-4 pupils"),
                Field("has_pool", "bool", "校内游泳池", "Has pool", nullable=False),
                _count("swim_instructors", "游泳指导员/救生员", "Swimming instructors"),
                _count("redcross_trainers", "红十字救护师资", "Red Cross trainers"),
            ),
            id_field="school_id",
        ),
        Layer(
            "pools",
            "Point",
            "游泳设施",
            "Swimming pools",
            (
                _text("pool_id", "设施编号", "Pool ID", nullable=False, unique=True),
                _text("name", "名称", "Name"),
                _text("township", "乡镇（街道）", "Township"),
                _text("kind", "类型", "Kind", nullable=False, enum=POOL_KINDS),
                _text("status", "状态", "Status", nullable=False, enum=POOL_STATUS),
                _text("school_id", "所属学校", "School", ref="schools.school_id"),
                _count("lanes", "泳道数", "Lanes"),
            ),
            id_field="pool_id",
        ),
        Layer(
            "shelters",
            "Point",
            "避灾场所",
            "Shelters",
            (
                _text("shelter_id", "避灾场所编号", "Shelter ID", nullable=False, unique=True),
                _text("name", "名称", "Name"),
                _text("township", "乡镇（街道）", "Township"),
                _count("capacity", "容纳人数", "Capacity"),
            ),
            id_field="shelter_id",
        ),
        Layer(
            "roads",
            "LineString",
            "道路",
            "Roads",
            (
                _text("road_id", "道路编号", "Road ID", nullable=False),
                _text("name", "名称", "Name"),
                _text("road_class", "道路等级", "Road class", nullable=False, enum=ROAD_CLASSES),
            ),
            id_field="road_id",
        ),
        Layer(
            "warning_areas",
            "Polygon",
            "预警区",
            "Warning areas",
            (
                _text("warning_id", "预警编号", "Warning ID", nullable=False, unique=True),
                _text("level", "预警等级", "Warning level", nullable=False, enum=WARNING_LEVEL_LABELS),
                _text("issued_at", "发布时间", "Issued at"),
                _text("valid_until", "有效期至", "Valid until"),
            ),
            id_field="warning_id",
        ),
    )
}

#: The GeoPackage version of every file hazmap writes: the GDAL 3.6 of Debian 12 and the QGIS and ArcGIS installs
#: common in county offices read 1.2 without the "may only be partially supported" warning the 1.4 default draws.
GPKG_VERSION = "1.2"

#: The audit table the store appends to; a plain attribute table (no geometry).
AUDIT_TABLE = "audit_log"
#: The record of every warning issued, raised, lowered, extended or ended (plan 4.4, 4.5.5).
WARNING_HISTORY_TABLE = "warning_history"
WARNING_ACTIONS = {"issue": "发布", "raise": "升级", "lower": "降级", "extend": "延长", "end": "解除"}

TABLES: dict[str, Layer] = {
    table.name: table
    for table in (
        Layer(
            AUDIT_TABLE,
            None,
            "编辑审计日志",
            "Audit log",
            (
                Field("at", "time", "时间", "At", nullable=False),
                _text("user", "用户", "User", nullable=False),
                _text("layer", "图层", "Layer", nullable=False),
                _text("feature_id", "要素编号", "Feature ID"),
                _text("action", "操作", "Action", nullable=False),
                Field("version_before", "int", "修改前版本", "Version before"),
                Field("version_after", "int", "修改后版本", "Version after"),
                Field("changes", "json", "变更内容", "Changes"),
            ),
            id_field="audit_id",
            serial=True,
            kept=True,
        ),
        Layer(
            WARNING_HISTORY_TABLE,
            None,
            "预警发布记录",
            "Warning history",
            (
                _text("warning_id", "预警编号", "Warning ID", nullable=False),
                _text("action", "操作", "Action", nullable=False, enum=WARNING_ACTIONS),
                _text("level", "预警等级", "Warning level", enum=WARNING_LEVEL_LABELS),
                Field("at", "time", "时间", "At", nullable=False),
                Field("valid_until", "time", "有效期至", "Valid until"),
                _text("issuer", "发布单位", "Issued by"),
                _text("note", "说明", "Note"),
            ),
            id_field="event_id",
            serial=True,
        ),
    )
}


# --------------------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (layer, feature id) and which rule, with a readable message."""

    layer: str
    feature: str | None
    rule: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.layer if self.feature is None else f"{self.layer}[{self.feature}]"
        return f"{self.severity.upper()} {where} {self.rule}: {self.message}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    layers_checked: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, layer: str, feature, rule: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(layer, None if feature is None else str(feature), rule, message, severity))

    def rules(self) -> set[str]:
        return {p.rule for p in self.problems}

    def counts_by_layer(self) -> Counter[str]:
        """Problems per layer, errors and warnings together; a layer without any counts 0.

        >>> report = Report()
        >>> report.add("villages", "V1", "range", "population < 0")
        >>> report.add("villages", None, "missing_column", "no households", severity="warning")
        >>> report.counts_by_layer()["villages"], report.counts_by_layer()["roads"]
        (2, 0)
        """
        return Counter(p.layer for p in self.problems)

    def summary(self) -> str:
        head = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s) in {len(self.layers_checked)} layer(s)"
        return "\n".join([head, *map(str, self.problems)])

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "layers_checked": self.layers_checked,
            "problems": [asdict(p) for p in self.problems],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _feature_label(gdf: pd.DataFrame, layer: Layer, pos: int) -> str:
    """Name a feature by its id where it has a usable one, else by its 1-based row number."""
    if layer.id_field and layer.id_field in gdf.columns:
        value = gdf[layer.id_field].iloc[pos]
        if isinstance(value, str) and value.strip():
            return value
    return f"row {pos + 1}"


def _check_value(f: Field, value) -> str | None:
    """Return the rule a single non-missing value breaks, or None."""
    if f.kind == "time":
        return None if isinstance(value, str) and _is_timestamp(value) else "type"
    if f.kind == "json":
        return None if isinstance(value, str) and _is_json(value) else "type"
    if f.kind == "text":
        if not isinstance(value, str):
            return "type"
        if f.enum is not None and value not in f.enum:
            return "enum"
        if f.pattern is not None and not re.fullmatch(f.pattern, value):
            return "pattern"
        return None
    if f.kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return None
        if isinstance(value, (int, np.integer, float, np.floating)) and value in (0, 1):
            return None
        return "type"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return "type"
    if f.kind == "int" and float(value) != int(value):
        return "type"
    if f.minimum is not None and value < f.minimum:
        return "range"
    return None


def _is_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


_RULE_TEXT = {
    "type": "expected {kind}",
    "enum": "must be one of {choices}",
    "range": "must be >= {minimum}",
    "pattern": "must match {pattern}",
}


def _suspects(series: pd.Series, f: Field) -> np.ndarray:
    """Positions of non-missing values that may break ``f``'s rules.

    A vectorised pre-filter, so a province-size layer is checked in milliseconds; the exact rule of each
    suspect is then decided by :func:`_check_value`.
    """
    present = series.notna().to_numpy()
    if f.kind == "text" and pd.api.types.is_string_dtype(series) and series.dtype != object:
        ok = np.ones(len(series), bool)
        if f.enum is not None:
            ok &= series.isin(list(f.enum)).to_numpy()
        if f.pattern is not None:
            ok &= series.str.fullmatch(f.pattern).fillna(False).to_numpy(bool)
    elif f.kind in ("int", "real") and pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(float, na_value=np.nan)
        ok = np.isfinite(values) | ~present
        if f.kind == "int":
            ok &= np.equal(np.floor(values), values) | ~present
        if f.minimum is not None:
            ok &= ~(values < f.minimum)
    elif f.kind == "bool" and pd.api.types.is_bool_dtype(series):
        ok = np.ones(len(series), bool)
    else:
        ok = np.zeros(len(series), bool)
    return np.flatnonzero(present & ~ok)


def _check_columns(gdf: pd.DataFrame, layer: Layer, report: Report) -> None:
    for f in layer.fields:
        if f.name not in gdf.columns:
            report.add(layer.name, None, "missing_column", f"column {f.name!r} ({f.title_zh}) is missing")
            continue
        series = gdf[f.name]
        if not f.nullable:
            for pos in np.flatnonzero(series.isna().to_numpy()):
                report.add(layer.name, _feature_label(gdf, layer, pos), "not_null", f"{f.name} ({f.title_zh}) is empty")
        for pos in _suspects(series, f):
            value = series.iloc[pos]
            rule = _check_value(f, value)
            if rule:
                text = _RULE_TEXT[rule].format(
                    kind=f.kind, choices="|".join(f.enum or ()), minimum=f.minimum, pattern=f.pattern
                )
                report.add(
                    layer.name,
                    _feature_label(gdf, layer, pos),
                    rule,
                    f"{f.name} ({f.title_zh}) = {value!r}: {text}",
                )
        if f.unique:
            present = series[series.notna()]
            for value in sorted(set(present[present.duplicated()].astype(str))):
                count = int((present.astype(str) == value).sum())
                report.add(layer.name, value, "duplicate_id", f"{f.name} {value!r} occurs {count} times")


def _check_derived(gdf: pd.DataFrame, layer: Layer, report: Report) -> None:
    """``danger_grade`` is always derived (plan 3.2); a stored value that disagrees is an error."""
    cols = ["threatened_people", "threatened_property_10k_yuan", "danger_grade"]
    if layer.name != "hazard_points" or not set(cols) <= set(gdf.columns):
        return
    people = pd.to_numeric(gdf[cols[0]], errors="coerce")
    prop = pd.to_numeric(gdf[cols[1]], errors="coerce")
    usable = people.notna() & prop.notna() & (people >= 0) & (prop >= 0)
    if not usable.any():
        return
    expected = np.asarray(rules.danger_grades(people[usable].to_numpy(), prop[usable].to_numpy()))
    stored = gdf.loc[usable, cols[2]].to_numpy()
    for pos, want, have in zip(np.flatnonzero(usable.to_numpy()), expected, stored, strict=True):
        if want != have:
            report.add(
                layer.name,
                _feature_label(gdf, layer, pos),
                "danger_grade_mismatch",
                f"danger_grade (险情等级) is {have!r} but plan 3.2 gives {want!r} for "
                f"{people.iloc[pos]:g} people and {prop.iloc[pos]:g} 万元",
            )


def _check_crs(gdf: gpd.GeoDataFrame, layer: Layer, report: Report) -> bool:
    """Return True when coordinates can be read as CGCS2000 longitude/latitude."""
    if gdf.crs is None:
        report.add(layer.name, None, "crs_missing", f"no CRS; expected {STORAGE_CRS} (CGCS2000)")
        return False
    epsg = gdf.crs.to_epsg()
    if epsg not in ACCEPTED_CRS:
        report.add(layer.name, None, "crs_wrong", f"CRS is {gdf.crs.to_string()}; expected {STORAGE_CRS} (CGCS2000)")
        return False
    if epsg == 4326:
        report.add(layer.name, None, "crs_wgs84", "stored in EPSG:4326; read as CGCS2000 (EPSG:4490)", "warning")
    return True


_GEOM_FAMILY = {"Point": {"Point", "MultiPoint"}, "LineString": {"LineString", "MultiLineString"}}
_GEOM_FAMILY["Polygon"] = {"Polygon", "MultiPolygon"}
_TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}


def _check_geometry(gdf: gpd.GeoDataFrame, layer: Layer, report: Report, lonlat: bool) -> None:
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    allowed = _GEOM_FAMILY[layer.geometry]
    wrong_type = ~missing & ~empty & ~np.isin(shapely.get_type_id(geoms), [_TYPE_IDS[t] for t in allowed])
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    nonfinite = np.zeros(len(geoms), bool)
    nonfinite[owner[~np.isfinite(coords).all(axis=1)]] = True
    checkable = ~missing & ~empty & ~wrong_type & ~nonfinite
    invalid = checkable & ~shapely.is_valid(geoms)
    outside = np.zeros(len(geoms), bool)
    bounds = shapely.bounds(geoms)
    if lonlat:
        xmin, ymin, xmax, ymax = CHINA_BOUNDS
        outside = checkable & (
            (bounds[:, 0] < xmin) | (bounds[:, 1] < ymin) | (bounds[:, 2] > xmax) | (bounds[:, 3] > ymax)
        )
    for pos in np.flatnonzero(missing | empty | wrong_type | nonfinite | invalid | outside):
        label, geom = _feature_label(gdf, layer, pos), geoms[pos]
        if missing[pos]:
            report.add(layer.name, label, "geometry_missing", "feature has no geometry")
        elif empty[pos]:
            report.add(layer.name, label, "geometry_empty", "geometry is empty")
        elif wrong_type[pos]:
            report.add(layer.name, label, "geometry_type", f"{geom.geom_type}; expected {layer.geometry}")
        elif nonfinite[pos]:
            report.add(layer.name, label, "geometry_nan", "coordinates contain NaN or infinity")
        else:
            if invalid[pos]:
                report.add(layer.name, label, "geometry_invalid", explain_validity(geom))
            if outside[pos]:
                bx0, by0, bx1, by1 = bounds[pos]
                report.add(
                    layer.name,
                    label,
                    "outside_china",
                    f"bounds ({bx0:.4f}, {by0:.4f}, {bx1:.4f}, {by1:.4f}) lie outside China's "
                    f"{CHINA_BOUNDS} (lon/lat swapped or projected coordinates?)",
                )


def _check_references(gdfs: Mapping[str, pd.DataFrame], report: Report, tables=None) -> None:
    for layer in tables if tables is not None else LAYERS.values():
        gdf = gdfs.get(layer.name)
        if gdf is None:
            continue
        for f in layer.fields:
            if f.ref is None or f.name not in gdf.columns:
                continue
            target_layer, target_col = f.ref.split(".")
            target = gdfs.get(target_layer)
            known = [] if target is None or target_col not in target.columns else target[target_col].dropna().unique()
            values = gdf[f.name]
            for pos in np.flatnonzero((values.notna() & ~values.isin(known)).to_numpy()):
                report.add(
                    layer.name,
                    _feature_label(gdf, layer, pos),
                    "dangling_reference",
                    f"{f.name} {values.iloc[pos]!r} names no feature of {target_layer}.{target_col}",
                )


def validate_frames(gdfs: Mapping[str, gpd.GeoDataFrame], required: list[str] | None = None) -> Report:
    """Check a dict of GeoDataFrames against the data model and return every problem found.

    Parameters
    ----------
    gdfs
        Layer name -> GeoDataFrame.  Extra layers and columns are allowed.
    required
        Layers that must be present (default: every layer of the model).
    """
    report = Report()
    for name in required if required is not None else list(LAYERS):
        if name not in gdfs:
            report.add(name, None, "missing_layer", f"layer {name!r} ({LAYERS[name].title_zh}) is missing")
    for name, gdf in gdfs.items():
        layer = LAYERS.get(name)
        if layer is None:
            continue
        report.layers_checked.append(name)
        _check_columns(gdf, layer, report)
        _check_derived(gdf, layer, report)
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
            report.add(name, None, "geometry_column", "layer has no geometry column")
            continue
        lonlat = _check_crs(gdf, layer, report)
        _check_geometry(gdf, layer, report, lonlat)
    _check_references(gdfs, report)
    return report


def validate_table(name: str, frame: pd.DataFrame, layers: Mapping[str, pd.DataFrame] | None = None) -> Report:
    """Check the rows of an attribute table of :data:`TABLES` and return every problem found.

    Parameters
    ----------
    name
        The table.
    frame
        Its rows; the store-assigned key (``serial``) may be absent, as in rows about to be appended.
    layers
        Layers that the table's references point into, where it has any.
    """
    table = TABLES[name]
    report = Report(layers_checked=[name])
    _check_columns(frame, table, report)
    _check_references({**(layers or {}), name: frame}, report, [table])
    return report


def markdown_tables() -> str:
    """The layers and columns as Markdown tables (bilingual); docs/data-model.md embeds this text verbatim."""
    kinds = {
        "text": "文本 text",
        "int": "整数 integer",
        "real": "实数 real",
        "bool": "布尔 boolean",
        "time": "时间 timestamp",
        "json": "JSON",
    }
    out = []
    for layer in [*LAYERS.values(), *TABLES.values()]:
        what = layer.geometry or "属性表 attribute table"
        out.append(f"### `{layer.name}` — {layer.title_zh} / {layer.title_en} ({what})\n")
        out.append("| 字段 column | 中文名 | English | 类型 type | 规则 rules |")
        out.append("| --- | --- | --- | --- | --- |")
        if layer.serial:
            out.append(
                f"| `{layer.id_field}` | 序号 | Key | 整数 integer | 由系统分配 assigned by the store; 唯一 unique |"
            )
        for f in layer.fields:
            rules = []
            if not f.nullable:
                rules.append("必填 required")
            if f.unique:
                rules.append("唯一 unique")
            if f.minimum is not None:
                rules.append(f"≥ {f.minimum:g}")
            if f.pattern:
                rules.append(f"格式 `{f.pattern}`")
            if f.ref:
                rules.append(f"引用 → `{f.ref}`")
            if f.enum:
                rules.append(", ".join(f"`{k}` {v}" for k, v in f.enum.items()))
            out.append(f"| `{f.name}` | {f.title_zh} | {f.title_en} | {kinds[f.kind]} | {'; '.join(rules)} |")
        out.append("")
    return "\n".join(out)
