"""From a source table to rows of the data model: every value read as its column declares, every position in
CGCS2000, and every row that cannot be read listed with its reasons instead of being dropped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.validation import explain_validity

from geo.importers import coords
from geo.importers.aliases import ColumnMatch, match_columns
from geo.importers.base import BadValue, Msg, SourceError, field_msg
from geo.importers.readers import SourceTable
from geo.importers.values import convert
from geo.model.crs import CHINA_BOUNDS, STORAGE_CRS
from geo.model.schema import LAYERS, Field

#: The district's longitude when the data set has nothing to take it from: Changjiang District lies at 117.2E.
DEFAULT_LONGITUDE = 117.0
_FAMILY = {"Point": ("Point", "MultiPoint"), "LineString": ("LineString", "MultiLineString")}
_FAMILY["Polygon"] = ("Polygon", "MultiPolygon")


@dataclass
class Converted:
    """Rows of a source in the data model's terms.

    ``rows`` holds every row (index: source row number) with the model columns the source provides, None where a
    value could not be read, and ``geometry`` in EPSG:4490 (None where the row gave no position); ``rejected``
    maps a row number to why it cannot be imported.  Later checks run on rejected rows too, so a row's reasons
    are all listed at once.
    """

    rows: gpd.GeoDataFrame
    provided: list[str]
    rejected: dict[int, list[Msg]]
    notes: list[Msg]
    match: ColumnMatch


@dataclass(frozen=True)
class PositionOptions:
    """The user's say on coordinates, and the longitude to take a zone from when eastings carry none."""

    crs: pyproj.CRS | None = None
    from_gcj02: bool = False
    district_lon: float | None = None


class _Reasons(defaultdict[int, list[Msg]]):
    """Row number -> why the row cannot be imported; every check adds to it, so a row's reasons come all at once."""

    def __init__(self) -> None:
        super().__init__(list)

    def add(self, row: int, msg: Msg) -> None:
        self[row].append(msg)


def convert_rows(table: SourceTable, layer_name: str, options: PositionOptions) -> Converted:
    """Map a source table onto ``layer_name``; see :class:`Converted`.

    Raises
    ------
    SourceError
        The source has no column for the layer's id, or two columns answer to one column of the model.
    """
    layer = LAYERS[layer_name]
    match = match_columns(table.frame.columns, layer_name, skip=table.skip, short_names=table.short_names)
    _check_columns(table, layer_name, match)
    notes = list(table.notes)
    if match.unmapped:
        listed = "、".join(match.unmapped)
        notes.append(
            Msg(f"以下列不对应任何字段，未导入：{listed}", f"columns that map to nothing, not imported: {listed}")
        )
    if match.derived:
        listed = "、".join(match.derived)
        notes.append(
            Msg(f"以下列由系统计算，文件中的值被忽略：{listed}", f"columns the store derives, ignored: {listed}")
        )
    reasons = _Reasons()
    frame = table.frame
    values = pd.DataFrame(index=frame.index, dtype=object)
    for column, source_column in match.fields.items():
        f = layer.field(column)
        read = [_read(f, layer_name, row, value, reasons) for row, value in frame[source_column].items()]
        values[column] = pd.Series(read, index=frame.index, dtype=object)  # object: no int -> float on a blank
    geometry, position_notes = _positions(table, match, options, reasons)
    notes += position_notes
    _check_geometry(geometry, layer.geometry, reasons)
    _check_ids(values[layer.id_field], layer.field(layer.id_field), reasons)
    rows = gpd.GeoDataFrame(values, geometry=geometry, crs=STORAGE_CRS)
    rejected = {row: reasons[row] for row in sorted(reasons)}
    return Converted(rows, list(match.fields), rejected, notes, match)


def _check_columns(table: SourceTable, layer_name: str, match: ColumnMatch) -> None:
    layer = LAYERS[layer_name]
    if match.clashes:
        listed = "；".join(f"{target} ← {'、'.join(columns)}" for target, columns in match.clashes.items())
        raise SourceError(
            table.label,
            Msg(
                f"多个列对应同一字段，请删除或改名其一：{listed}",
                f"several columns map to one column; rename or drop one: {listed}",
            ),
        )
    if layer.id_field not in match.fields:
        id_field = layer.field(layer.id_field)
        columns = "、".join(map(str, table.frame.columns)) or "—"
        raise SourceError(
            table.label,
            Msg(
                f"缺少编号列 {id_field.title_zh}（{id_field.name}），无法识别要素；文件中的列：{columns}",
                f"no id column {id_field.name} ({id_field.title_zh}) to identify features by; "
                f"columns in the file: {columns}",
            ),
        )


def _read(f: Field, layer_name: str, row: int, value: object, reasons: _Reasons) -> object:
    if value is None:
        if not f.nullable:
            reasons.add(row, field_msg(f, Msg("必填，但为空", "required but empty")))
        return None
    try:
        return convert(value, layer_name, f)
    except BadValue as exc:
        reasons.add(row, field_msg(f, exc.msg))
        return None


def _check_ids(ids: pd.Series, f: Field, reasons: _Reasons) -> None:
    """A feature id given on several rows: none of them is imported, because which one is right is unknown."""
    present = ids.dropna()
    for value, rows in present.groupby(present).groups.items():
        if len(rows) > 1:
            listed = "、".join(map(str, rows))
            for row in rows:
                reasons.add(
                    row, field_msg(f, Msg(f"{value!r} 在第 {listed} 行重复", f"{value!r} repeats on rows {listed}"))
                )


# --------------------------------------------------------------------------------------------------
# Positions


def _positions(
    table: SourceTable, match: ColumnMatch, options: PositionOptions, reasons: _Reasons
) -> tuple[gpd.GeoSeries, list[Msg]]:
    """Geometries of the rows in EPSG:4490 (None where not given), and notes on how they were read."""
    index = table.frame.index
    if table.geometry is not None:
        geoms = table.geometry
        missing = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
        if len(geoms) and missing.all():
            raise SourceError(
                table.label, Msg("没有一个要素有几何（文件损坏？）", "no feature has a geometry (damaged file?)")
            )
        for row in geoms.index[missing]:
            reasons.add(row, Msg("要素没有几何", "the feature has no geometry"))
        a, b = _first_coordinates(geoms)
        declared = options.crs or table.crs
        notes: list[Msg] = []
        if declared is not None and not options.crs and not coords.plausible(declared, a, b):
            notes.append(
                Msg(
                    f"文件声明坐标系 {declared.name}，但坐标值与之不符，改按数值判断",
                    f"the file declares {declared.name} but its values do not fit it; judged from the values",
                )
            )
            declared = None
        geoms = geoms.set_crs(None, allow_override=True)
        if declared is not None:
            stored, more = _to_storage(geoms, declared, options, table.label)
        else:
            stored, more = _classified(geoms, a, b, options, reasons, table.label, reorder=False)
        return stored, [*notes, *more]
    pair = next(((p, q) for p, q in (("lon", "lat"), ("x", "y")) if p in match.coords and q in match.coords), None)
    if pair is None:
        note = Msg(
            "文件没有坐标列（经度/纬度 或 X/Y），只能更新已有要素",
            "no coordinate columns (经度/纬度 or X/Y): only existing features can be updated",
        )
        return gpd.GeoSeries([None] * len(index), index=index), [note]
    a, b = _parse_pair(table.frame[match.coords[pair[0]]], table.frame[match.coords[pair[1]]], reasons)
    points = gpd.GeoSeries(shapely.points(a, b), index=index)
    points[~(np.isfinite(a) & np.isfinite(b))] = None
    return _classified(points, a, b, options, reasons, table.label, reorder=True)


def _first_coordinates(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """The first vertex of each geometry (NaN where missing or empty): enough to tell a coordinate system."""
    xy, owner = shapely.get_coordinates(geoms.to_numpy(), return_index=True)
    a, b = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    first = np.unique(owner, return_index=True)[1]
    a[owner[first]], b[owner[first]] = xy[first, 0], xy[first, 1]
    return a, b


def _parse_pair(first: pd.Series, second: pd.Series, reasons: _Reasons) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of two coordinate columns; a hemisphere letter (29°18'N) overrides which column a value stood in."""
    a, b = np.full(len(first), np.nan), np.full(len(first), np.nan)
    for pos, (row, u, v) in enumerate(zip(first.index, first, second, strict=True)):
        if u is None or v is None:
            if (u is None) != (v is None):
                reasons.add(row, Msg("坐标只填了一个", "only one of the two coordinates is given"))
            continue
        try:
            p, q = coords.parse_angle(u), coords.parse_angle(v)
        except BadValue as exc:
            reasons.add(row, Msg(f"坐标：{exc.msg.zh}", f"coordinate: {exc.msg.en}"))
            continue
        if p.axis == "lat" or q.axis == "lon":
            p, q = q, p
        if p.axis == "lat" or q.axis == "lon":
            reasons.add(
                row, Msg("两个坐标都标为同一方向（如都带 N）", "both coordinates carry the same hemisphere axis")
            )
            continue
        a[pos], b[pos] = p.degrees, q.degrees
    return a, b


def _classified(
    geoms: gpd.GeoSeries,
    a: np.ndarray,
    b: np.ndarray,
    options: PositionOptions,
    reasons: _Reasons,
    label: str,
    *,
    reorder: bool,
) -> tuple[gpd.GeoSeries, list[Msg]]:
    """Geometries whose CRS is not declared, brought to storage group by group of the CRS their values point to."""
    if options.district_lon is not None:
        lon = options.district_lon
        why = Msg(f"取自数据集所在经度 {lon:.1f}°E", f"from the data set's longitude {lon:.1f}E")
    else:
        lon = DEFAULT_LONGITUDE
        why = Msg(f"数据集为空，按默认 {lon:g}°E", f"the data set is empty: default {lon:g}E")
    plain = coords.plain_zone_epsg(lon)
    found = coords.classify_pairs(a, b, plain, reorder=reorder)
    epsg = found.epsg.copy()
    given = np.isfinite(a) & np.isfinite(b)
    if options.crs is not None:
        notes = [Msg(f"坐标按用户指定的 {options.crs.name} 读取", f"coordinates read as {options.crs.name}, as given")]
        epsg[given] = -1  # one group: the user's CRS
    else:
        notes = coords.describe(found, plain, why)
        unknown = given & (epsg == 0)
        for row, x, y in zip(geoms.index[unknown], a[unknown], b[unknown], strict=True):
            reasons.add(
                row,
                Msg(
                    f"坐标 ({x:g}, {y:g}) 既不像经纬度也不像高斯-克吕格坐标；请指定 --crs",
                    f"coordinates ({x:g}, {y:g}) look like neither lon/lat nor Gauss-Krüger; give --crs",
                ),
            )
    if reorder:
        # Put each pair in (x, y) order first: swapped lon/lat and northing-first pairs become ordinary ones.
        known = given & (found.kind != coords.UNKNOWN)
        geoms = geoms.copy()
        geoms[known] = shapely.points(found.x[known], found.y[known])
    out = gpd.GeoSeries([None] * len(geoms), index=geoms.index, crs=STORAGE_CRS)
    for code in sorted(set(epsg[given].tolist()) - {0}):
        mask = given & (epsg == code)
        crs = options.crs if code == -1 else pyproj.CRS.from_epsg(code)
        stored, more = _to_storage(geoms[mask], crs, options, label)
        out[mask] = stored.to_numpy()
        notes += more
    return out, notes


def _to_storage(
    geoms: gpd.GeoSeries, crs: pyproj.CRS, options: PositionOptions, label: str
) -> tuple[gpd.GeoSeries, list[Msg]]:
    try:
        return coords.to_storage(geoms, crs, from_gcj02=options.from_gcj02)
    except ValueError as exc:  # GCJ-02 asked for projected coordinates
        zh = f"--from-gcj02 只适用于经纬度，而这些坐标是投影坐标（{crs.name}）"
        raise SourceError(label, Msg(zh, str(exc))) from exc


def _check_geometry(geometry: gpd.GeoSeries, expected: str, reasons: _Reasons) -> None:
    """Reasons for geometries of the wrong type, invalid, or outside China.

    A missing position is no reason here: an update from a table without coordinates keeps the stored one.
    """
    xmin, ymin, xmax, ymax = CHINA_BOUNDS
    for row, geom in geometry.items():
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type not in _FAMILY[expected]:
            reasons.add(
                row,
                Msg(
                    f"几何类型为 {geom.geom_type}，应为 {expected}",
                    f"geometry is a {geom.geom_type}, expected {expected}",
                ),
            )
        elif not np.isfinite(shapely.get_coordinates(geom)).all():
            reasons.add(
                row,
                Msg(
                    "坐标无法换算为经纬度（坐标系不对？）",
                    "coordinates do not convert to lon/lat (wrong coordinate system?)",
                ),
            )
        elif not geom.is_valid:
            reasons.add(row, Msg(f"几何无效：{explain_validity(geom)}", f"invalid geometry: {explain_validity(geom)}"))
        else:
            bx0, by0, bx1, by1 = geom.bounds
            if bx0 < xmin or by0 < ymin or bx1 > xmax or by1 > ymax:
                reasons.add(
                    row,
                    Msg(
                        f"位置 ({bx0:.5f}, {by0:.5f}) 在中国范围之外（坐标系不对？）",
                        f"position ({bx0:.5f}, {by0:.5f}) lies outside China (wrong coordinate system?)",
                    ),
                )
