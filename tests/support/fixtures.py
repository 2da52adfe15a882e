"""Small, valid hazmap data sets built in code, for tests that need a whole data set."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import LineString, Point, box

from geo.model.crs import STORAGE_CRS
from geo.model.schema import LAYERS

UPDATED = "2024-05-01T08:00:00Z"

# One row per hazard point, in the columns' order; kept as a table because that is how it reads best.
# fmt: off
_HAZARD_ROWS = [
    ("H1", "枫林村滑坡", "landslide", "small", "鲇鱼山镇", "枫林村", 40, 150, 80.0, "medium",
     "王监测", "13800000001", "李责任", "13800000002", "群测群防", "鸣锣", "SH1", "active", 1, UPDATED,
     Point(117.25, 29.30)),
    ("H2", "新安村崩塌", "collapse", "small", "鲇鱼山镇", "新安村", 5, 12, 30.0, "small",
     "赵监测", None, None, None, "巡查", None, None, "active", 1, UPDATED,
     Point(117.30, 29.35)),
    ("H3", "西郊不稳定斜坡", "unstable_slope", "medium", "西郊街道", None, 0, 0, 6000.0, "large",
     None, None, None, None, None, None, "SH2", "treated", 2, UPDATED,
     Point(117.10, 29.20)),
]
# fmt: on


def _layer(name: str, rows: list[tuple]) -> gpd.GeoDataFrame:
    """Build layer ``name`` from rows holding its model columns in order, then the geometry."""
    columns = LAYERS[name].columns
    records = [dict(zip(columns, row[:-1], strict=True)) for row in rows]
    return gpd.GeoDataFrame(records, columns=columns, geometry=[row[-1] for row in rows], crs=STORAGE_CRS)


def tiny_dataset() -> dict[str, gpd.GeoDataFrame]:
    """Return every layer of the data model with 1-3 features around 117.2E 29.3N, valid per the schema.

    Two townships (urban west, rural east of 117.2E) share the district box; hazard point H1 (medium: 150
    people) has two danger zones around village V1, H2 (small) one, H3 (large by property, treated) none.
    School SC1 has its own pool P1, SC2 (a rural teaching point) has none; P2 is a public pool.
    """
    return {
        "district": _layer("district", [("360202", "昌江区", box(117.0, 29.1, 117.4, 29.5))]),
        "townships": _layer(
            "townships",
            [
                ("360202001", "西郊街道", "urban", box(117.0, 29.1, 117.2, 29.5)),
                ("360202100", "鲇鱼山镇", "rural", box(117.2, 29.1, 117.4, 29.5)),
            ],
        ),
        "hazard_points": _layer("hazard_points", _HAZARD_ROWS),
        "danger_zones": _layer(
            "danger_zones",
            [
                ("H1", Point(117.25, 29.30).buffer(0.01)),
                ("H1", box(117.255, 29.295, 117.27, 29.305)),
                ("H2", Point(117.30, 29.35).buffer(0.005)),
            ],
        ),
        "villages": _layer(
            "villages",
            [
                ("V1", "枫林村", "鲇鱼山镇", 320, 95, Point(117.252, 29.301)),
                ("V2", "新安村", "鲇鱼山镇", 210, 60, Point(117.33, 29.36)),
                ("V3", "西郊社区", "西郊街道", 1500, 480, Point(117.12, 29.22)),
            ],
        ),
        "schools": _layer(
            "schools",
            [
                (
                    "SC1",
                    "西郊小学",
                    "西郊街道",
                    "primary",
                    "urban",
                    False,
                    600,
                    40,
                    100,
                    True,
                    3,
                    2,
                    Point(117.13, 29.23),
                ),
                (
                    "SC2",
                    "枫林教学点",
                    "鲇鱼山镇",
                    "primary",
                    "rural",
                    True,
                    30,
                    3,
                    6,
                    False,
                    0,
                    0,
                    Point(117.26, 29.32),
                ),
            ],
        ),
        "pools": _layer(
            "pools",
            [
                ("P1", "西郊小学游泳池", "西郊街道", "school", "open", "SC1", 6, Point(117.131, 29.231)),
                ("P2", "昌江区游泳馆", "西郊街道", "public", "open", None, 8, Point(117.18, 29.28)),
            ],
        ),
        "shelters": _layer(
            "shelters",
            [
                ("SH1", "枫林村委会", "鲇鱼山镇", 300, Point(117.28, 29.32)),
                ("SH2", "西郊中学操场", "西郊街道", 2000, Point(117.14, 29.24)),
            ],
        ),
        "roads": _layer(
            "roads",
            [
                ("R1", "景鹰公路", "primary", LineString([(117.10, 29.20), (117.20, 29.28), (117.30, 29.35)])),
                ("R2", None, "rural", LineString([(117.25, 29.30), (117.28, 29.32)])),
            ],
        ),
        "warning_areas": _layer(
            "warning_areas",
            [
                ("W1", "blue", "2024-06-01T08:00:00+08:00", "2024-06-02T08:00:00+08:00", box(117.0, 29.1, 117.4, 29.5)),
                ("W2", "red", "2024-06-01T08:00:00+08:00", None, box(117.22, 29.27, 117.32, 29.37)),
            ],
        ),
    }


def write_layers(path, layers) -> str:
    """Write a partial set of layers to a real GeoPackage through GDAL, for CLI tests of one analysis.

    ``store.create`` insists on the whole data model; an analysis needs only some layers, and the CLI reads
    exactly those, so a test can hand it a file with just them.
    """
    import pyogrio

    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, path, layer=name)
    return str(path)


def with_district(layers):
    """Add a ``district`` layer outlining the townships, as every hazmap data set has one."""
    townships = layers["townships"]
    district = gpd.GeoDataFrame(
        {"adcode": ["360202"], "name": ["测试区"]}, geometry=[townships.union_all()], crs=townships.crs
    )
    return {**layers, "district": district}
