"""Coordinates as staff write them, and the coordinate system they are in when nobody says.

Degrees come as decimals or as degree-minute-second text in many spellings (``117°12′30″``, ``117度12分30秒``,
``E117°12'30.5"``, ``29°18'N``, ``东经117°12′30″``).  Projected coordinates are CGCS2000 Gauss-Krüger, with the
zone number prefixed to the easting (``39512345.6`` is zone 39) or without it; Chinese survey tables put the
northing in column X and the easting in Y.  :func:`classify_pairs` works out, pair by pair, which is which and
which EPSG code applies, and :func:`describe` says in words what it assumed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj

from geo.importers.base import BadValue, Msg
from geo.model import gcj02
from geo.model.crs import ACCEPTED_CRS, CHINA_BOUNDS, STORAGE_CRS

_HEMISPHERES = {
    "东经": ("lon", 1),
    "西经": ("lon", -1),
    "北纬": ("lat", 1),
    "南纬": ("lat", -1),
    "E": ("lon", 1),
    "W": ("lon", -1),
    "N": ("lat", 1),
    "S": ("lat", -1),
    "东": ("lon", 1),
    "西": ("lon", -1),
    "北": ("lat", 1),
    "南": ("lat", -1),
}
_HEMI = "|".join(sorted(_HEMISPHERES, key=len, reverse=True))
#: Unit marks after NFKC normalisation (which turns ″ into ′′ and full-width marks into ASCII ones).
_UNITS = {"°": 0, "º": 0, "˚": 0, "度": 0, "′′": 2, "''": 2, '"': 2, "”": 2, "秒": 2, "′": 1, "'": 1, "’": 1, "分": 1}
_UNIT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_ANGLE = re.compile(rf"^(?P<pre>{_HEMI})?\s*(?P<sign>[+-])?\s*(?P<body>[\d.\s:{_UNIT}]+?)\s*(?P<post>{_HEMI})?$", re.I)
_PART = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNIT}|:)?\s*")


@dataclass(frozen=True)
class Angle:
    """Signed decimal degrees, and ``lon``/``lat`` when a hemisphere letter or word said which it is."""

    degrees: float
    axis: str | None = None


def parse_angle(value: object) -> Angle:
    """Read decimal degrees or degree-minute-second text.

    >>> round(parse_angle("117°12′30″").degrees, 9), round(parse_angle("117度12分30秒").degrees, 9)
    (117.208333333, 117.208333333)
    >>> parse_angle("29°18'N")
    Angle(degrees=29.3, axis='lat')
    >>> round(parse_angle('E117°12\\'30.5"').degrees, 6), parse_angle(39512345.6).degrees
    (117.208472, 39512345.6)
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return Angle(float(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = _ANGLE.match(text)
    bad = BadValue(Msg(f"{text!r} 不是坐标（十进制度或度分秒）", f"{text!r} is not a coordinate (decimal or DMS)"))
    if not match or (match["pre"] and match["post"]) or (match["sign"] and (match["pre"] or match["post"])):
        raise bad
    hemisphere = match["pre"] or match["post"]
    axis, sign = _HEMISPHERES[hemisphere.upper() if hemisphere.isascii() else hemisphere] if hemisphere else (None, 1)
    if match["sign"] == "-":
        sign = -1
    parts = _PART.findall(match["body"])
    if "".join(number + (unit or "") for number, unit in parts) != re.sub(r"\s", "", match["body"]):
        raise bad
    total, previous = 0.0, -1
    for i, (number, unit) in enumerate(parts):
        # A unit mark fixes the position (° ′ ″); a colon or no mark means "the next one".
        position = _UNITS[unit] if unit and unit != ":" else previous + 1
        amount = float(number)
        fraction_before_last = "." in number and i < len(parts) - 1
        if position > 2 or position <= previous or fraction_before_last or (position and amount >= 60):
            raise bad
        total += amount / 60**position
        previous = position
    return Angle(sign * total, axis)


# --------------------------------------------------------------------------------------------------
# Which coordinate system a pair of numbers is in

#: Codes of :attr:`Classified.kind`.
UNKNOWN, LONLAT, LONLAT_SWAPPED, PREFIXED, PLAIN = range(5)
_PREFIX_MIN, _PLAIN_EASTING = 1e7, (1e5, 9e5)
#: Northings of CGCS2000 Gauss-Krüger inside China (about 3 to 54 degrees north).
_NORTHING = (3e5, 6.1e6)


def three_degree_epsg(zone: int) -> int:
    """EPSG code of CGCS2000 3-degree Gauss-Krüger ``zone`` (25-45) with the zone prefix on eastings."""
    return 4513 + zone - 25


def six_degree_epsg(zone: int) -> int:
    """EPSG code of CGCS2000 6-degree Gauss-Krüger ``zone`` (13-23) with the zone prefix on eastings."""
    return 4491 + zone - 13


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    xmin, ymin, xmax, ymax = CHINA_BOUNDS
    return (lon >= xmin) & (lon <= xmax) & (lat >= ymin) & (lat <= ymax)


@dataclass(frozen=True)
class Classified:
    """Pairs put in (x, y) = (lon, lat) or (easting, northing) order, with the EPSG code each is read in.

    ``kind`` holds one of UNKNOWN, LONLAT, LONLAT_SWAPPED, PREFIXED, PLAIN per pair; ``epsg`` is 0 where
    unknown; ``survey_order`` marks projected pairs whose first number was the northing (X north, Y east).
    """

    x: np.ndarray
    y: np.ndarray
    epsg: np.ndarray
    kind: np.ndarray
    survey_order: np.ndarray


def classify_pairs(a: np.ndarray, b: np.ndarray, plain_epsg: int, *, reorder: bool = True) -> Classified:
    """Decide for each pair (a, b) whether it is lon/lat or a Gauss-Krüger easting/northing, and in which order.

    Parameters
    ----------
    a, b
        The two numbers of each pair as the source gives them (NaN where missing).
    plain_epsg
        EPSG code for eastings without a zone prefix, which carry no zone of their own.
    reorder
        Allow swapped lon/lat and northing-first pairs (tables typed by hand); a vector file's geometry is
        never reordered.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    kind = np.full(len(a), UNKNOWN)
    lonlat = (np.abs(a) <= 180) & (np.abs(b) <= 90)
    swapped = reorder & ~(lonlat & _in_china(a, b)) & _in_china(b, a)
    kind[lonlat & ~swapped] = LONLAT
    kind[swapped] = LONLAT_SWAPPED

    def is_easting(v: np.ndarray) -> np.ndarray:
        return (v >= _PREFIX_MIN) | ((v >= _PLAIN_EASTING[0]) & (v <= _PLAIN_EASTING[1]))

    def is_northing(v: np.ndarray) -> np.ndarray:
        return (v >= _NORTHING[0]) & (v <= _NORTHING[1])

    projected = ~lonlat & ~swapped
    a_east = projected & is_easting(a) & is_northing(b)
    b_east = projected & is_easting(b) & is_northing(a)
    # Both readings fit only where both numbers lie in the overlap of easting and northing ranges: no telling.
    survey = reorder & b_east & ~a_east
    east = np.where(survey, b, a)
    north = np.where(survey, a, b)
    ordered = a_east ^ b_east
    ordered &= reorder | a_east
    zone = np.where(ordered & (east >= _PREFIX_MIN), east // 1e6, 0).astype(int)
    epsg = np.zeros(len(a), int)
    three, six = (zone >= 25) & (zone <= 45), (zone >= 13) & (zone <= 23)
    epsg[three] = three_degree_epsg(zone[three])
    epsg[six] = six_degree_epsg(zone[six])
    kind[three | six] = PREFIXED
    plain = ordered & (east < _PREFIX_MIN)
    epsg[plain] = plain_epsg
    kind[plain] = PLAIN
    epsg[(kind == LONLAT) | (kind == LONLAT_SWAPPED)] = 4490
    x = np.where(swapped, b, np.where(ordered, east, a))
    y = np.where(swapped, a, np.where(ordered, north, b))
    return Classified(x, y, epsg, kind, survey & ordered)


def describe(classified: Classified, plain_epsg: int, plain_why: Msg) -> list[Msg]:
    """Say in words what :func:`classify_pairs` found and assumed, one message per kind of pair."""
    notes = []
    kind = classified.kind
    if (n := int((kind == LONLAT).sum())) > 0:
        notes.append(Msg(f"{n} 行为经纬度，按 CGCS2000 读取", f"{n} rows in lon/lat, read as CGCS2000"))
    if (n := int((kind == LONLAT_SWAPPED).sum())) > 0:
        notes.append(Msg(f"{n} 行经度、纬度填反，已对调", f"{n} rows had longitude and latitude swapped; swapped back"))
    if (n := int(classified.survey_order.sum())) > 0:
        notes.append(
            Msg(
                f"{n} 行第一个坐标为北坐标（测量习惯 X 北 Y 东），已按此读取",
                f"{n} rows give the northing first (survey habit: X north, Y east); read that way",
            )
        )
    for code in sorted(set(classified.epsg[kind == PREFIXED].tolist())):
        n = int(((kind == PREFIXED) & (classified.epsg == code)).sum())
        name = pyproj.CRS.from_epsg(code).name
        notes.append(
            Msg(
                f"{n} 行东坐标带带号，按 EPSG:{code}（{name}）读取",
                f"{n} rows with zone-prefixed eastings: EPSG:{code} ({name})",
            )
        )
    if (n := int((kind == PLAIN).sum())) > 0:
        name = pyproj.CRS.from_epsg(plain_epsg).name
        notes.append(
            Msg(
                f"{n} 行投影坐标无带号：假定为 EPSG:{plain_epsg}（{name}），{plain_why.zh}；"
                "如不对请指定坐标系（--crs）",
                f"{n} rows of projected coordinates without a zone: ASSUMED EPSG:{plain_epsg} ({name}), "
                f"{plain_why.en}; if wrong, give the CRS (--crs)",
            )
        )
    return notes


def plain_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree zone without prefix (EPSG:4534-4554) whose zone holds ``lon``.

    Large-scale surveys use 3-degree zones, so an unprefixed easting is read in the 3-degree zone of the district.
    """
    zone = min(max(round(lon / 3.0), 25), 45)
    return 4534 + zone - 25


def parse_crs(text: str) -> pyproj.CRS:
    """The CRS of an ``EPSG:N`` (or bare ``N``) option; other CRS syntaxes are refused, not interpreted."""
    match = re.fullmatch(r"\s*(?:EPSG:)?(\d{4,6})\s*", text, re.I)
    if not match:
        raise ValueError(f"--crs expects EPSG:N (e.g. EPSG:4527), not {text!r}")
    try:
        return pyproj.CRS.from_epsg(int(match[1]))
    except pyproj.exceptions.CRSError as exc:
        raise ValueError(f"--crs {text}: no such EPSG code") from exc


def plausible(crs: pyproj.CRS, x: np.ndarray, y: np.ndarray) -> bool:
    """False when the values cannot be in ``crs``: degrees beyond ±180/±90, or metres that all look like degrees."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return True
    degrees = (np.abs(x[finite]) <= 180) & (np.abs(y[finite]) <= 90)
    return bool(degrees.all()) if crs.is_geographic else not degrees.all()


# --------------------------------------------------------------------------------------------------
# To the stored CRS


def _as_storage(crs: pyproj.CRS) -> bool:
    """True when coordinates in ``crs`` are stored unchanged: CGCS2000 or WGS84 lon/lat (docs/data-model.md)."""
    return crs.is_geographic and crs.to_epsg() in ACCEPTED_CRS


def to_storage(geoms: gpd.GeoSeries, crs: pyproj.CRS, *, from_gcj02: bool = False) -> tuple[gpd.GeoSeries, list[Msg]]:
    """Bring geometries in ``crs`` to CGCS2000 lon/lat (EPSG:4490), converting GCJ-02 first where asked."""
    notes: list[Msg] = []
    if from_gcj02:
        if not crs.is_geographic:
            raise ValueError(
                f"--from-gcj02: GCJ-02 coordinates are lon/lat, but these are projected ({crs.name}); "
                "drop --from-gcj02 or give the lon/lat source"
            )
        notes.append(
            Msg(
                "坐标由 GCJ-02（高德/火星坐标）转换为 CGCS2000", "coordinates converted from GCJ-02 (Gaode) to CGCS2000"
            )
        )
        return gcj02.gcj02_to_wgs84_series(geoms.set_crs(None, allow_override=True)), notes
    if _as_storage(crs):
        return geoms.set_crs(STORAGE_CRS, allow_override=True), notes
    transformer = pyproj.Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)
    if "ballpark" in transformer.description.lower() and crs.geodetic_crs.to_epsg() not in ACCEPTED_CRS:
        notes.append(
            Msg(
                f"{crs.name} 到 CGCS2000 无精确转换参数，位置可能偏差数十米",
                f"no exact transformation from {crs.name} to CGCS2000: positions may be off by tens of metres",
            )
        )
    return geoms.set_crs(crs, allow_override=True).to_crs(STORAGE_CRS), notes
