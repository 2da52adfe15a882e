"""Where the data lives and the analysis defaults, in one place for the CLI, the app and the tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The embedded demo data set (synthetic data on the real outline of Changjiang District).
DEMO_DATA = ROOT / "hazard_points.gpkg"


def data_path(explicit: str | os.PathLike | None = None) -> str:
    """The data set to use: an explicit path or URL, else ``HAZMAP_DATA``, else the demo GeoPackage.

    Only :class:`geo.store.Source` reads this string, to tell a GeoPackage from a database.
    """
    if explicit:
        return os.fspath(explicit)
    return os.environ.get("HAZMAP_DATA") or os.fspath(DEMO_DATA)


@dataclass(frozen=True)
class AnalysisSettings:
    """Defaults of the analyses; each is a CLI option and an app setting.

    The walking speed is 1 m/s (3.6 km/h): evacuations move the elderly and children on rural paths,
    slower than the 1.3 m/s of a fit adult on a pavement.
    """

    k_pools: int = 3
    service_radius_m: float = 3000.0
    walk_speed_kmh: float = 3.6
    snap_tolerance_m: float = 5.0
    max_snap_distance_m: float = 2000.0
