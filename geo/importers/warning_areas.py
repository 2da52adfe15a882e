"""Read and check a file of warning areas: the one reader the Warning page and ``python -m geo exposure --warnings``
share, so a file one of them takes the other takes too, and a file one refuses the other refuses with the same
messages.

A file is a GeoJSON (``.geojson``, ``.json``) or a GeoPackage (``.gpkg``: its ``warning_areas`` layer, else its
first), given as bytes (an upload) or as a path.  GDAL opens it only with the driver its suffix names: left to
guess, GDAL would open a VRT renamed ``.geojson`` with its VRT driver, which reads whatever files of the server the
VRT points to.

The level column answers to the importers' header spellings (:mod:`geo.importers.aliases`: ``level``, 预警等级,
预警级别, 级别, 等级 and their full-width, bracket and case variants), and a level to every spelling
:func:`geo.model.rules.parse_level` knows (红色, 一级, 一级（红色）, Ⅰ级, red ...).  Every problem is collected and
raised once, in a :class:`WarningAreaError`, each in Chinese then English and naming features by their 1-based number.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyogrio.errors
import pyproj
import shapely

from geo.analysis import exposure
from geo.importers.aliases import column_spellings, match_columns
from geo.importers.values import clean
from geo.model import crs as model_crs
from geo.model import rules

__all__ = ["MAX_UPLOAD_MB", "SUFFIXES", "WarningAreaError", "check_warning_areas", "read_warning_areas"]

#: Largest upload accepted, in megabytes: a district's warning polygons take kilobytes.
MAX_UPLOAD_MB = 20
#: File suffix -> the only GDAL driver that may open it.
_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}
#: The suffixes accepted, without the dot (what a file picker takes).
SUFFIXES = tuple(suffix.lstrip(".") for suffix in _DRIVERS)
#: The layer of the data model a warning file holds, and the GeoPackage layer read when it is there.
LAYER = "warning_areas"
_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FieldError,
    pyogrio.errors.CRSError,
)


class WarningAreaError(ValueError):
    """Warning areas cannot be used; ``problems`` lists every reason, each in Chinese and English."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def read_warning_areas(
    source: bytes | str | os.PathLike,
    filename: str | None = None,
    *,
    layer: str | None = None,
    max_mb: float = MAX_UPLOAD_MB,
) -> gpd.GeoDataFrame:
    """Read a file of warning areas and check it (:func:`check_warning_areas`).

    Parameters
    ----------
    source
        The file's bytes (an upload), or its path.
    filename
        The file's name, whose suffix tells its kind; required with bytes, default the path.
    layer
        The GeoPackage layer to read; default ``warning_areas`` where the file has it, else its first layer.
    max_mb
        Largest size of ``source`` as bytes: it guards the web server against big uploads.  A path is the
        caller's own file and is read whatever its size.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`check_warning_areas` returns it.

    Raises
    ------
    WarningAreaError
        The file is missing, too large, of another kind or unreadable, or its areas fail the checks.
    """
    if isinstance(source, bytes):
        if filename is None:
            raise TypeError("bytes need the file's name: its suffix tells the kind of file")
        return check_warning_areas(_read_bytes(source, filename, layer, max_mb))
    path = os.fspath(source)
    name = filename or path
    driver = _driver(name)
    if not os.path.isfile(path):  # also refuses GDAL's /vsi... paths, devices and pipes
        raise WarningAreaError([f"找不到文件 {name} / no such file: {name}"])
    return check_warning_areas(_read(os.path.abspath(path), driver, name, layer))


def _driver(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in _DRIVERS:
        kinds = "、".join(_DRIVERS)
        raise WarningAreaError(
            [
                f"文件类型 {suffix or '（无）'} 不支持，请使用 {kinds} 文件 / unsupported file type "
                f"{suffix or '(none)'}: use {', '.join(_DRIVERS)}"
            ]
        )
    return _DRIVERS[suffix]


def _read_bytes(data: bytes, filename: str, layer: str | None, max_mb: float) -> gpd.GeoDataFrame:
    driver = _driver(filename)
    if len(data) > max_mb * 1024 * 1024:
        raise WarningAreaError([f"文件超过 {max_mb:g} MB / the file is larger than {max_mb:g} MB"])
    # GDAL reads a GeoPackage only from a file; the file lives as long as the read.
    with tempfile.TemporaryDirectory(prefix="hazmap-warning-") as scratch:
        path = Path(scratch) / f"upload{Path(filename).suffix.lower()}"
        path.write_bytes(data)
        return _read(str(path), driver, Path(filename).name, layer)


def _read(path: str, driver: str, name: str, layer: str | None) -> gpd.GeoDataFrame:
    """Read one layer of ``path`` (absolute) with ``driver`` only; ``name`` stands for the file in messages."""
    # The prefix makes GDAL use that one driver.  The GeoPackage driver splits its name at colons unless the path
    # is quoted; the GeoJSON driver takes the rest as it is (a path, since ``path`` is absolute).
    gdal_path = f'GPKG:"{path}"' if driver == "GPKG" else f"GeoJSON:{path}"
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(gdal_path)]
        if layer is not None and layer not in names:
            listed = ", ".join(map(repr, names)) or "—"
            raise WarningAreaError(
                [f"文件中没有图层 {layer!r}（文件中的图层：{listed}）/ no layer {layer!r} (the file has: {listed})"]
            )
        chosen = layer or (LAYER if LAYER in names else names[0] if names else None)
        if chosen is None:
            raise WarningAreaError(["文件中没有图层 / the file holds no layer"])
        frame = pyogrio.read_dataframe(gdal_path, layer=chosen)
    except _GDAL_ERRORS as exc:
        # GDAL names the scratch copy of an upload; the reader knows the file by its own name.
        reason = str(exc).replace(path, name)
        raise WarningAreaError([f"无法读取文件 {name} / cannot read {name}: {reason}"]) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise WarningAreaError([f"图层 {chosen!r} 没有几何 / layer {chosen!r} has no geometry"])
    return frame


def check_warning_areas(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check warning areas from a user (a file, polygons drawn on the map) and return them ready to analyse.

    The columns are found by the importers' header spellings; the layer needs a CRS and at least one feature, and
    every feature a level the plan knows (plan 4.4), a valid non-empty (Multi)Polygon in China and a
    ``warning_id`` no other feature has (features without one are numbered as :func:`geo.analysis.exposure.area_ids`
    numbers them).

    Returns
    -------
    geopandas.GeoDataFrame
        The areas in EPSG:4490 with the data model's column names, ``warning_id`` filled and ``level`` as codes.

    Raises
    ------
    WarningAreaError
        Listing every problem, bad features by their 1-based number.
    """
    problems = []
    match = match_columns([c for c in areas.columns if c != areas.geometry.name], LAYER)
    titles = {name: spellings[1] for name, spellings in column_spellings(LAYER).items()}
    for target, columns in match.clashes.items():
        if target in titles:
            problems.append(
                f"{'、'.join(columns)} 都是{titles[target]}字段，请只保留一个 / columns {', '.join(columns)} all "
                f"mean {target}: keep one"
            )
    areas = areas.rename(columns={source: target for target, source in match.fields.items()})
    if areas.crs is None:
        problems.append("文件没有坐标系 / the file has no CRS")
    if "level" not in areas.columns and "level" not in match.clashes:
        accepted = "、".join(dict.fromkeys(column_spellings(LAYER)["level"]))
        problems.append(f"缺少预警等级字段（可用表头：{accepted}）/ no level column (headers accepted: {accepted})")
    if areas.empty:
        problems.append("文件中没有要素 / the file holds no feature")

    has_level = "level" in areas.columns
    levels = []
    values = areas["level"] if has_level else [None] * len(areas)
    for number, (value, geometry) in enumerate(zip(values, areas.geometry, strict=True), start=1):
        if has_level and clean(value) is None:
            problems.append(f"第 {number} 个要素没有预警等级 / feature {number} has no level")
        elif has_level:
            try:
                levels.append(rules.parse_level(value))
            except ValueError:
                problems.append(f"第 {number} 个要素：预警等级 {value!r} 无法识别 / feature {number}: unknown level")
        problems += _geometry_problems(number, geometry)

    ids = exposure.area_ids(areas)
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        numbers = [str(n) for n, i in enumerate(ids, start=1) if i == duplicate]
        problems.append(
            f"第 {'、'.join(numbers)} 个要素的预警编号都是 {duplicate!r} / features {', '.join(numbers)} share the "
            f"warning_id {duplicate!r}"
        )
    stored = _in_storage_crs(areas, problems)
    if stored is not None:
        problems += _outside_china(stored, areas.crs.name)
    if problems or stored is None:
        raise WarningAreaError(problems)
    return stored.assign(warning_id=ids, level=levels)


def _geometry_problems(number: int, geometry: shapely.Geometry | None) -> list[str]:
    if geometry is None or geometry.is_empty:
        return [f"第 {number} 个要素没有几何 / feature {number} has no geometry"]
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return [
            f"第 {number} 个要素是 {geometry.geom_type}，应为面 / feature {number} is a {geometry.geom_type}, "
            "not a polygon"
        ]
    if not geometry.is_valid:
        return [
            f"第 {number} 个要素的面无效 / feature {number} is an invalid polygon: {shapely.is_valid_reason(geometry)}"
        ]
    return []


def _in_storage_crs(areas: gpd.GeoDataFrame, problems: list[str]) -> gpd.GeoDataFrame | None:
    """The areas in EPSG:4490, or None (with the reason in ``problems``) where they have no CRS to transform from."""
    if areas.crs is None:
        return None  # already one of the problems
    try:
        return model_crs.in_storage_crs(areas, LAYER)
    except pyproj.exceptions.ProjError as exc:
        problems.append(f"无法从坐标系 {areas.crs.name} 转换到 CGCS2000 / cannot transform {areas.crs.name}: {exc}")
        return None


def _outside_china(areas: gpd.GeoDataFrame, crs_name: str) -> list[str]:
    """One problem naming the features (in EPSG:4490) outside China: the usual sign of a CRS declared wrong."""
    xmin, ymin, xmax, ymax = model_crs.CHINA_BOUNDS
    bounds = areas.geometry.bounds
    inside = (bounds["minx"] >= xmin) & (bounds["miny"] >= ymin) & (bounds["maxx"] <= xmax) & (bounds["maxy"] <= ymax)
    # A feature without geometry has no bounds, and a problem of its own already.
    missing = areas.geometry.isna() | areas.geometry.is_empty
    numbers = [str(n) for n, out in enumerate(~inside & ~missing, start=1) if out]
    if not numbers:
        return []
    return [
        f"第 {'、'.join(numbers)} 个要素不在中国境内，请检查坐标系（文件的坐标系：{crs_name}）/ features "
        f"{', '.join(numbers)} lie outside China: check the CRS (the file's: {crs_name})"
    ]
