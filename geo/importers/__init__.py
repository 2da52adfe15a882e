"""Import staff's inventories into a hazmap data set: preview first, then one audited write, nothing lost.

Sources: Excel/CSV with Chinese headers (see :mod:`geo.importers.aliases`), shapefiles (plain or zipped, any
Chinese encoding), GeoJSON, KML/KMZ and GeoPackage layers; coordinates in lon/lat (decimal or DMS, WGS84,
CGCS2000 or GCJ-02) or CGCS2000 Gauss-Krüger with or without a zone prefix.  docs/import.md is the user guide.

>>> plan = preview_import("inventory.xlsx", "hazard_points.gpkg", ImportOptions("hazard_points"))  # doctest: +SKIP
>>> print(plan.to_text())  # doctest: +SKIP
>>> apply_plan(plan, user="王工")  # doctest: +SKIP

The modules, edge to core: :mod:`~geo.importers.archive` (size and zip checks), :mod:`~geo.importers.encoding`,
:mod:`~geo.importers.readers` (file -> raw table), :mod:`~geo.importers.aliases` and
:mod:`~geo.importers.values` (headers and cells), :mod:`~geo.importers.coords` (DMS, CRS detection),
:mod:`~geo.importers.rows` (raw table -> model rows), :mod:`~geo.importers.plan` (preview),
:mod:`~geo.importers.commit` (write) and :mod:`~geo.importers.rejects` (rejected rows file).
:mod:`~geo.importers.warning_areas` reads and checks a file of warning areas for an analysis, writing nothing: the
Warning page and ``python -m geo exposure --warnings`` share it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from geo import store
from geo.importers.aliases import IMPORTABLE, markdown_tables
from geo.importers.base import DEFAULT_LIMITS, ImportLimits, Msg, SourceError
from geo.importers.commit import ImportBlocked, ImportResult, apply_plan
from geo.importers.coords import parse_crs
from geo.importers.plan import Entry, ImportPlan, Rejection, build_plan, district_longitude
from geo.importers.readers import SUPPORTED_SUFFIXES, ReadOptions, read_source, source_choices
from geo.importers.rejects import check_rejected_out, rejected_csv, rejected_frame, rejected_xlsx, write_rejected
from geo.importers.rows import PositionOptions

__all__ = [
    "DEFAULT_LIMITS",
    "IMPORTABLE",
    "SUPPORTED_SUFFIXES",
    "Entry",
    "ImportBlocked",
    "ImportLimits",
    "ImportOptions",
    "ImportPlan",
    "ImportResult",
    "Msg",
    "Rejection",
    "SourceError",
    "apply_plan",
    "check_rejected_out",
    "markdown_tables",
    "preview_import",
    "rejected_csv",
    "rejected_frame",
    "rejected_xlsx",
    "source_choices",
    "write_rejected",
]


@dataclass(frozen=True)
class ImportOptions:
    """What to import and how to read it; each is a CLI option and a control of the app's import panel.

    Parameters
    ----------
    layer
        Target layer, one of :data:`IMPORTABLE`.
    source_layer
        Layer of a GeoPackage/KML, or data set inside a zip; default: the target's namesake, else the only one.
    sheet
        Sheet of a workbook; default: the first with a header row.
    encoding
        Text encoding of a CSV or a shapefile's DBF, overriding detection.
    crs
        ``EPSG:N`` of the coordinates, overriding the file's CRS and detection.
    from_gcj02
        The lon/lat are GCJ-02 (digitised on Gaode/AutoNavi maps) and are converted to CGCS2000.
    limits
        Size and archive limits.
    """

    layer: str
    source_layer: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    crs: str | None = None
    from_gcj02: bool = False
    limits: ImportLimits = DEFAULT_LIMITS


def preview_import(
    source: str | os.PathLike, data: store.Source | str | os.PathLike, options: ImportOptions
) -> ImportPlan:
    """Read ``source`` and say what importing it into ``data`` would add, update and reject; writes nothing.

    Raises
    ------
    SourceError
        The source cannot be imported at all (the message names the file and the problem).
    ValueError
        An option is wrong (unknown layer, malformed ``--crs``).
    geo.store.StoreError
        The data set cannot be read.
    """
    if options.layer not in IMPORTABLE:
        raise ValueError(f"cannot import into {options.layer!r}; importable layers: {', '.join(IMPORTABLE)}")
    crs = parse_crs(options.crs) if options.crs else None
    read = ReadOptions(options.layer, options.source_layer, options.sheet, options.encoding, options.limits)
    table = read_source(source, read)
    data = store.Source.of(data)
    layers = store.open(data).read_layers()
    if options.layer not in layers:
        raise store.StoreError(f"{data.label}: no layer {options.layer!r}")
    positions = PositionOptions(crs, options.from_gcj02, district_longitude(layers, options.layer))
    return build_plan(table, layers, options.layer, positions, data)
