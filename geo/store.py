"""GeoPackage storage of a hazmap data set: reads, and locked, atomic, audited writes.

The public functions take a path and plain GeoDataFrames and dicts; given a ``postgresql://`` URL instead of a
path, each hands the call to the PostGIS backend of the same names, :mod:`geo.pgstore`.

Every write follows one path: take the writer lock (``<file>.lock``), refuse a damaged file, copy it to a
temporary file beside it, write into the copy, validate the whole result against :mod:`geo.schema`, then fsync
and ``os.replace``.  GDAL deletes a layer before writing it again and may create a new file when it cannot open
one for update; because it only ever sees the copy, an exception at any point (KeyboardInterrupt included)
leaves the original byte for byte as it was.

Besides the layers, a written file holds the Chinese column titles in ``gpkg_data_columns``, a default QGIS
style per layer in ``layer_styles`` (see :mod:`geo.qgis_style`) and one ``audit_log`` row per edit.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from urllib.request import pathname2url

import filelock
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyogrio.errors
import shapely

from geo import qgis_style
from geo.rules import danger_grade
from geo.schema import AUDIT_TABLE, LAYERS, STORAGE_CRS, Layer, Report, SchemaError, validate_frames
from geo.settings import is_database_url

#: Seconds a writer waits for another writer's lock before giving up.
LOCK_TIMEOUT_S = 120.0
#: ``styleName`` of the default style the store writes; styles a user saved from QGIS are left alone.
STYLE_NAME = "hazmap"
STYLES_TABLE = "layer_styles"
AUDIT_COLUMNS = [
    "audit_id",
    "at",
    "user",
    "layer",
    "feature_id",
    "action",
    "version_before",
    "version_after",
    "changes",
]

_PYOGRIO_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
_ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "real": pa.float64(), "bool": pa.bool_()}
_PANDAS_TYPES = {"text": object, "int": "Int64", "real": "Float64", "bool": "boolean"}
_MULTI = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}
#: Columns of a hazard point that the store sets itself on every edit.
_DERIVED = ("danger_grade", "version", "updated_at")
#: Kept out of an audit row's ``changes``: the row records them in ``at`` and ``version_before/after``.
_BOOKKEEPING = ("version", "updated_at")

_STYLES_DDL = f"""CREATE TABLE IF NOT EXISTS {STYLES_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"""
_AUDIT_DDL = f"""CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at TEXT NOT NULL, "user" TEXT NOT NULL,
    layer TEXT NOT NULL, feature_id TEXT, action TEXT NOT NULL, version_before INTEGER, version_after INTEGER,
    changes TEXT)"""


class StoreError(RuntimeError):
    """A data set cannot be read or written: missing, damaged, not a GeoPackage, locked, or lacking a layer."""


class ConflictError(StoreError):
    """An edit was based on another version of a feature than the one stored, or adds an id that exists.

    ``current`` holds the stored row (column -> value, plus ``geometry``) so the caller can show it and retry.
    """

    def __init__(self, message: str, current: dict):
        super().__init__(message)
        self.current = current

    @property
    def current_version(self) -> int | None:
        return self.current.get("version")


def _database():
    """The PostGIS backend, imported on first use: psycopg is needed only where a database is."""
    from geo import pgstore

    return pgstore


# --------------------------------------------------------------------------------------------------
# Reading


def read_layers(
    path: str | os.PathLike, layers: list[str] | None = None, *, validate: bool = False
) -> dict[str, gpd.GeoDataFrame]:
    """Read layers of a hazmap GeoPackage.

    Parameters
    ----------
    path
        The GeoPackage.
    layers
        Layers to read, in the order wanted; None reads every layer of the data model that the file has.
    validate
        Check what was read against the data model and raise :class:`geo.schema.SchemaError` on any error.
        With ``layers=None`` every layer of the model must be present; references are checked against the
        referenced layers in the file even where those were not asked for.

    Returns
    -------
    dict[str, geopandas.GeoDataFrame]
        Layer name -> frame.  Declared int and bool columns come back as int64 and bool where the file stored
        them as whole numbers or 0/1 without the GeoPackage subtype (files made by hand in QGIS).

    Raises
    ------
    StoreError
        The file is missing, not a GeoPackage, damaged, or lacks a requested layer.
    """
    if is_database_url(path):
        return _database().read_layers(path, layers, validate=validate)
    path = os.fspath(path)
    _check_file(path)
    available = _layer_names(path)
    if layers is None:
        names = [name for name in LAYERS if name in available]
    else:
        names = list(layers)
        missing = [name for name in names if name not in available]
        if missing:
            has = ", ".join(sorted(available)) or "none"
            raise StoreError(f"{path}: no layer {', '.join(map(repr, missing))} (layers in the file: {has})")
    targets = reference_targets(names) if validate else set()
    extra = [name for name in LAYERS if name in targets and name in available and name not in names]
    gdfs = {name: _read_layer(path, name) for name in [*names, *extra]}
    if validate:
        report = validate_frames(gdfs, required=None if layers is None else names)
        # Layers read only to resolve references answer for their own problems when they are read themselves.
        refuse(Report([p for p in report.problems if p.layer not in extra], names))
    return {name: gdfs[name] for name in names}


def read_layer(path: str | os.PathLike, name: str) -> gpd.GeoDataFrame:
    """Read one layer; see :func:`read_layers`."""
    return read_layers(path, [name])[name]


def read_audit(path: str | os.PathLike) -> pd.DataFrame:
    """Return the audit log, oldest first, with the columns of :data:`AUDIT_COLUMNS`.

    ``changes`` is JSON text ``{column: [old, new]}`` (geometries as WKT); a file never written by the store
    has an empty log.
    """
    if is_database_url(path):
        return _database().read_audit(path)
    path = os.fspath(path)
    _check_file(path)
    columns = ", ".join(f'"{column}"' for column in AUDIT_COLUMNS)
    try:
        with closing(_connect_readonly(path)) as conn:
            exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (AUDIT_TABLE,))
            if exists.fetchone() is None:
                return pd.DataFrame(columns=AUDIT_COLUMNS)
            log = pd.read_sql_query(f"SELECT {columns} FROM {AUDIT_TABLE} ORDER BY audit_id", conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot read {AUDIT_TABLE}: {exc}") from exc
    return log.astype({"version_before": "Int64", "version_after": "Int64"})


def _read_layer(path: str, name: str) -> gpd.GeoDataFrame:
    try:
        gdf = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
    except _PYOGRIO_ERRORS as exc:
        raise StoreError(f"{path}: cannot read layer {name!r}: {exc}") from exc
    if name in LAYERS:
        _coerce_types(gdf, LAYERS[name])
    return gdf


def _coerce_types(gdf: gpd.GeoDataFrame, layer: Layer) -> None:
    """Give declared int and bool columns their type where the file stored them loosely but losslessly."""
    for field in layer.fields:
        if field.kind not in ("int", "bool") or field.name not in gdf.columns:
            continue
        series = gdf[field.name]
        if series.dtype == bool or not pd.api.types.is_numeric_dtype(series) or series.isna().any():
            continue  # already right, or a value the validator must report
        values = series.to_numpy()
        if field.kind == "bool" and np.isin(values, (0, 1)).all():
            gdf[field.name] = values.astype(bool)
        elif field.kind == "int" and series.dtype != np.int64 and (values == np.round(values)).all():
            gdf[field.name] = values.astype(np.int64)


def _layer_names(path: str) -> set[str]:
    try:
        return {str(row[0]) for row in pyogrio.list_layers(path)}
    except _PYOGRIO_ERRORS as exc:
        raise StoreError(f"{path}: cannot open as a GeoPackage: {exc}") from exc


def reference_targets(names: list[str]) -> set[str]:
    """The layers that columns of the layers ``names`` refer to (``shelter_id`` -> ``shelters``); both backends
    read them beside a partial write, to check its references."""
    return {f.ref.split(".")[0] for name in names if name in LAYERS for f in LAYERS[name].fields if f.ref}


def _connect_readonly(path: str) -> sqlite3.Connection:
    # Read-only at the SQLite level, so a check or a copy can never change the user's file.
    return sqlite3.connect(f"file:{pathname2url(os.path.abspath(path))}?mode=ro", uri=True)


def _check_file(path: str, *, deep: bool = False) -> None:
    """Refuse a missing, foreign, truncated or (with ``deep``) internally damaged file with a StoreError.

    The header checks are cheap and run before every read; the SQLite ``quick_check`` reads the whole file
    and runs before every write.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        raise StoreError(f"{path}: no such file") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot open: {exc.strerror}") from exc
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{path}: not a GeoPackage (no SQLite header: damaged, or another format)")
    if header[68:72] not in _GPKG_APPLICATION_IDS:
        raise StoreError(f"{path}: not a GeoPackage (SQLite database with application id {header[68:72]!r})")
    page_size = int.from_bytes(header[16:18], "big")
    expected = (65536 if page_size == 1 else page_size) * int.from_bytes(header[28:32], "big")
    # The header's page count is valid when its "version-valid-for" number equals the change counter.
    if header[92:96] == header[24:28] and size < expected:
        raise StoreError(f"{path}: damaged GeoPackage (truncated to {size} of {expected} bytes)")
    if not deep:
        return
    try:
        with closing(_connect_readonly(path)) as conn:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: damaged GeoPackage ({exc})") from exc
    if result != "ok":
        raise StoreError(f"{path}: damaged GeoPackage (SQLite quick_check: {result})")


# --------------------------------------------------------------------------------------------------
# Writing whole layers


def create(path: str | os.PathLike, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
    """Write a complete new data set to ``path``, replacing any file there, atomically.

    Parameters
    ----------
    path
        The GeoPackage to write.
    gdfs
        Every layer of the data model.  Layers in EPSG:4326 are stored as EPSG:4490 (CGCS2000; SCHEMA.md
        treats the two as one), with their coordinates unchanged.
    user
        Who creates the data set, for the audit log.

    Raises
    ------
    geo.schema.SchemaError
        The layers break the data model; nothing is written.
    """
    if is_database_url(path):
        return _database().create(path, gdfs, user=user)
    path = os.fspath(path)
    check_names(gdfs)
    refuse(validate_frames(gdfs))
    at = now_iso()
    ordered = {name: gdfs[name] for name in LAYERS if name in gdfs}
    audit = [
        audit_row(at, user, name, "replace_layer", {"features": [None, len(gdf)]}) for name, gdf in ordered.items()
    ]
    with _locked(path), _replacing(path, copy=False) as work:
        _commit(work, ordered, audit)


#: Gets the stored layer; returns the layer to store and the audit rows to append, or raises to write nothing.
Rewrite = Callable[[gpd.GeoDataFrame], tuple[gpd.GeoDataFrame, list[dict]]]


def rewrite_layer(path: str | os.PathLike, name: str, rewrite: Rewrite) -> None:
    """Replace layer ``name`` by ``rewrite(stored layer)`` while no other writer can change it, with audit rows.

    For batch changes that must land together and be checked against what is stored at the moment of writing
    (an import of hundreds of rows): GeoPackage, under the writers' lock into a validated copy moved over the
    file; PostGIS, in one transaction holding an EXCLUSIVE lock on the table (readers go on; writers wait and
    then see the new versions).  Whatever ``rewrite`` or the validation raises, nothing is written.
    """
    if is_database_url(path):
        return _database().rewrite_layer(path, name, rewrite)
    path = os.fspath(path)
    with _locked(path):
        frame, audit = rewrite(read_layer(path, name))
        check_frames({name: frame})
        with _replacing(path) as work:
            _commit(work, {name: frame}, audit)
    return None


def write_layers(path: str | os.PathLike, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
    """Replace one or more layers of an existing data set, atomically.

    Parameters
    ----------
    path
        An existing, sound GeoPackage; a damaged one is refused, never recreated.
    gdfs
        Layer name -> its new content.  Layers in EPSG:4326 are stored as EPSG:4490.
    user
        Who writes, for the audit log (one ``replace_layer`` row per layer).

    Raises
    ------
    geo.schema.SchemaError
        A layer, or the data set it would leave (references included), breaks the data model; nothing is written.
    StoreError
        The file is missing or damaged, or another writer holds the lock too long.
    """
    if is_database_url(path):
        return _database().write_layers(path, gdfs, user=user)
    path = os.fspath(path)
    check_names(gdfs)
    check_frames(gdfs)
    with _locked(path), _replacing(path) as work:
        available = _layer_names(work)
        at = now_iso()
        audit = [
            audit_row(at, user, name, "replace_layer", {"features": [_count(work, name, available), len(gdf)]})
            for name, gdf in gdfs.items()
        ]
        _commit(work, gdfs, audit)


def _count(path: str, name: str, available: set[str]) -> int | None:
    return int(pyogrio.read_info(path, layer=name)["features"]) if name in available else None


def check_names(gdfs: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Raise :class:`ValueError` naming any key of ``gdfs`` that is not a layer of the data model."""
    unknown = sorted(set(gdfs) - set(LAYERS))
    if unknown:
        raise ValueError(f"not layers of the data model: {', '.join(unknown)}")


def check_frames(gdfs: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Refuse frames that break the model on their own; references are checked on the whole written result."""
    report = validate_frames(gdfs, required=[])
    refuse(Report([p for p in report.problems if p.rule != "dangling_reference"], report.layers_checked))


def refuse(report: Report) -> None:
    """Raise :class:`SchemaError` carrying ``report`` unless it is clean: every backend refuses a write this way."""
    if not report.ok:
        raise SchemaError(report)


@contextmanager
def _locked(path: str) -> Iterator[None]:
    """Hold the writers' lock of ``path`` so that read-modify-write cycles of several processes never interleave."""
    lock = filelock.FileLock(path + ".lock", timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise StoreError(f"{path}: another writer has held the lock for {LOCK_TIMEOUT_S:.0f} s") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _replacing(path: str, *, copy: bool = True) -> Iterator[str]:
    """Yield a working file beside ``path`` and move it over ``path`` when the block succeeds.

    Call with the lock held.  With ``copy`` the working file starts as a copy of ``path``, which must be sound.
    On any exception the working file is removed and ``path`` is untouched.
    """
    if copy:
        _check_file(path, deep=True)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = os.path.join(directory, f".{os.path.basename(path)}.")
    # With the lock held no other writer is at work: working files left by a killed process are garbage.
    for stale in glob.glob(glob.escape(prefix) + "*.tmp.gpkg*"):
        os.unlink(stale)
    # Same directory, so os.replace is a rename within one file system.
    work = f"{prefix}{uuid.uuid4().hex}.tmp.gpkg"
    try:
        if copy:
            _copy(path, work)
            shutil.copymode(path, work)
        yield work
        _fsync(work)
        os.replace(work, path)
    except BaseException:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(work + suffix)
        raise
    if os.name == "posix":
        _fsync(directory)  # make the rename itself durable


def _copy(source: str, target: str) -> None:
    # SQLite's backup rather than a byte copy: it also carries pages still in a -wal journal, which QGIS
    # (it opens GeoPackages in WAL mode) may not have checkpointed into the file yet.
    with closing(_connect_readonly(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _commit(work: str, gdfs: Mapping[str, gpd.GeoDataFrame], audit: list[dict]) -> None:
    """Write layers into the working file, validate the whole data set there, then add titles, styles, audit."""
    for name, gdf in gdfs.items():
        _write_layer(work, name, gdf)
    refuse(validate_frames(read_layers(work)))
    _write_metadata(work, [LAYERS[name] for name in gdfs], audit)


def _write_layer(path: str, name: str, gdf: gpd.GeoDataFrame) -> None:
    """Write one layer into ``path`` (a working file), replacing the layer of that name."""
    layer = LAYERS[name]
    table, geometry_type = _to_arrow(gdf, layer)
    # The frames were validated: their CRS is EPSG:4490, or EPSG:4326 which SCHEMA.md reads as CGCS2000.
    pyogrio.write_arrow(
        table,
        path,
        layer=name,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=geometry_type,
        crs=STORAGE_CRS,
        layer_options={"IDENTIFIER": layer.title_zh, "DESCRIPTION": layer.title_en},
    )


def _to_arrow(gdf: gpd.GeoDataFrame, layer: Layer) -> tuple[pa.Table, str]:
    """Return the layer as an Arrow table in declared types, and its GeoPackage geometry type.

    Field metadata carries what GDAL turns into table constraints (NOT NULL, UNIQUE) and into
    ``gpkg_data_columns`` (the Chinese title as alternative name, the English one as comment).
    """
    geometry_name = gdf.geometry.name
    fields, arrays = [], []
    for f in layer.fields:
        arrow_type = _ARROW_TYPES[f.kind]
        arrays.append(pa.array(gdf[f.name].astype(_PANDAS_TYPES[f.kind]), type=arrow_type, from_pandas=True))
        metadata = {"GDAL:OGR:alternative_name": f.title_zh, "GDAL:OGR:comment": f.title_en}
        if f.unique:
            metadata["GDAL:OGR:unique"] = "true"
        fields.append(pa.field(f.name, arrow_type, nullable=f.nullable, metadata=metadata))
    for column in gdf.columns:
        if column != geometry_name and column not in layer.columns:
            arrays.append(pa.array(gdf[column], from_pandas=True))
            fields.append(pa.field(column, arrays[-1].type))
    geometries = gdf.geometry.to_numpy()
    geometry_type = layer.geometry
    multi = "Multi" + layer.geometry
    if (gdf.geometry.geom_type == multi).any():
        # A GeoPackage layer declares one geometry type, so a layer mixing single and multi parts is stored multi.
        geometries = [g if g.geom_type == multi else _MULTI[layer.geometry]([g]) for g in geometries]
        geometry_type = multi
    # Stored 2D: the model has no heights, and a Z value would contradict the declared geometry type.
    arrays.append(pa.array(shapely.to_wkb(geometries, output_dimension=2), type=pa.binary()))
    fields.append(pa.field("geometry", pa.binary(), metadata={"ARROW:extension:name": "geoarrow.wkb"}))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields)), geometry_type


def _write_metadata(path: str, layers: list[Layer], audit: list[dict]) -> None:
    """Add column titles and default styles of the written layers, and the audit rows, to the working file."""
    with closing(sqlite3.connect(path)) as conn:
        # One self-contained file to move into place, whatever journal mode QGIS left in the header.
        conn.execute("PRAGMA journal_mode=DELETE")
        with conn:
            _ensure_attribute_table(conn, STYLES_TABLE, _STYLES_DDL, "QGIS 图层样式")
            _ensure_attribute_table(conn, AUDIT_TABLE, _AUDIT_DDL, "编辑审计日志")
            for layer in layers:
                conn.executemany(
                    "UPDATE gpkg_data_columns SET title = ? WHERE table_name = ? AND column_name = ?",
                    [(f.title_zh, layer.name, f.name) for f in layer.fields],
                )
                _set_default_style(conn, layer)
            conn.executemany(
                f'INSERT INTO {AUDIT_TABLE} (at, "user", layer, feature_id, action, version_before, version_after, '
                "changes) VALUES (:at, :user, :layer, :feature_id, :action, :version_before, :version_after, :changes)",
                audit,
            )


def _ensure_attribute_table(conn: sqlite3.Connection, table: str, ddl: str, description: str) -> None:
    """Create a plain attribute table and register it in gpkg_contents, as the GeoPackage spec requires."""
    conn.execute(ddl)
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES (?, 'attributes', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (table, table, description),
    )


def _set_default_style(conn: sqlite3.Connection, layer: Layer) -> None:
    """(Re)write the store's style of ``layer``; it is the default unless a user style already is."""
    (geometry_column,) = conn.execute(
        "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer.name,)
    ).fetchone()
    conn.execute(f"DELETE FROM {STYLES_TABLE} WHERE f_table_name = ? AND styleName = ?", (layer.name, STYLE_NAME))
    user_default = conn.execute(
        f"SELECT 1 FROM {STYLES_TABLE} WHERE f_table_name = ? AND useAsDefault", (layer.name,)
    ).fetchone()
    conn.execute(
        f"INSERT INTO {STYLES_TABLE} (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
        "styleQML, styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, '', '')",
        (
            layer.name,
            geometry_column,
            STYLE_NAME,
            qgis_style.qml(layer),
            user_default is None,
            f"hazmap 默认样式：{layer.title_zh}",
        ),
    )


def audit_row(
    at: str,
    user: str,
    layer: str,
    action: str,
    changes: dict,
    feature_id: str | None = None,
    versions: tuple[int | None, int | None] = (None, None),
) -> dict:
    """One row of the audit log; ``changes`` is stored as JSON text."""
    return {
        "at": at,
        "user": user,
        "layer": layer,
        "feature_id": feature_id,
        "action": action,
        "version_before": versions[0],
        "version_after": versions[1],
        "changes": json.dumps(changes, ensure_ascii=False, default=str),
    }


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------
# Editing hazard points


def update_hazard_point(
    path: str | os.PathLike,
    hazard_id: str,
    changes: Mapping[str, object],
    *,
    user: str,
    expected_version: int | None = None,
) -> dict:
    """Change columns (or, with key ``geometry``, the location) of one hazard point.

    The store bumps ``version``, sets ``updated_at`` and derives ``danger_grade`` from the threatened people
    and property (plan 3.2); these three, like ``hazard_id``, cannot be changed directly.  An edit that
    changes nothing writes nothing.

    Parameters
    ----------
    path
        The GeoPackage.
    hazard_id
        统一编号 of the point.
    changes
        Column -> new value; ``geometry`` -> a shapely Point in EPSG:4490.
    user
        Who edits, for the audit log.
    expected_version
        The version the edit was based on; when the stored one differs, :class:`ConflictError` is raised and
        nothing is written.

    Returns
    -------
    dict
        The stored row after the edit, with ``geometry``.
    """
    if is_database_url(path):
        return _database().update_hazard_point(path, hazard_id, changes, user=user, expected_version=expected_version)
    return _edit_hazard(path, hazard_id, changes, user=user, expected_version=expected_version, action="update")


def set_hazard_status(
    path: str | os.PathLike, hazard_id: str, status: str, *, user: str, expected_version: int | None = None
) -> dict:
    """Mark a hazard point ``treated`` or ``cancelled`` (or ``active`` again): points are never deleted.

    See :func:`update_hazard_point` for the parameters and what the store derives.
    """
    if is_database_url(path):
        return _database().set_hazard_status(path, hazard_id, status, user=user, expected_version=expected_version)
    return _edit_hazard(
        path, hazard_id, {"status": status}, user=user, expected_version=expected_version, action="status"
    )


def add_hazard_point(
    path: str | os.PathLike, row: Mapping[str, object], geometry: shapely.Geometry, *, user: str
) -> dict:
    """Add a hazard point.

    Parameters
    ----------
    path
        The GeoPackage.
    row
        Column -> value, ``hazard_id`` included; ``status`` defaults to ``active``.  ``version`` (1),
        ``updated_at`` and ``danger_grade`` are set by the store.
    geometry
        A shapely Point in EPSG:4490.
    user
        Who adds it, for the audit log.

    Returns
    -------
    dict
        The stored row, with ``geometry``.

    Raises
    ------
    ConflictError
        A point with this ``hazard_id`` exists (``current`` is that point).
    """
    if is_database_url(path):
        return _database().add_hazard_point(path, row, geometry, user=user)
    path = os.fspath(path)
    if "geometry" in row:
        raise ValueError("pass the location as the geometry argument, not in the row")
    with _locked(path):
        points = read_layer(path, "hazard_points")
        check_keys(points, row)
        hazard_id = row.get("hazard_id")
        found = np.flatnonzero(points["hazard_id"].to_numpy() == hazard_id)
        if len(found):
            raise ConflictError(f"{path}: hazard point {hazard_id!r} exists already", _row(points, int(found[0])))
        columns = [c for c in points.columns if c != points.geometry.name]
        new = derive_row({**dict.fromkeys(columns), "status": "active", **row}, version=1)
        added = gpd.GeoDataFrame([new], geometry=[geometry], crs=points.crs)
        points = pd.concat([points, added], ignore_index=True)
        new["geometry"] = geometry
        audit = audit_row(new["updated_at"], user, "hazard_points", "insert", diff_rows({}, new), hazard_id, (None, 1))
        _save_hazard_points(path, points, audit)
    return new


def _edit_hazard(
    path: str | os.PathLike,
    hazard_id: str,
    changes: Mapping[str, object],
    *,
    user: str,
    expected_version: int | None,
    action: str,
) -> dict:
    path = os.fspath(path)
    if "hazard_id" in changes:
        raise ValueError("hazard_id (统一编号) identifies the point and cannot be changed")
    with _locked(path):
        points = read_layer(path, "hazard_points")
        check_keys(points, changes)
        found = np.flatnonzero(points["hazard_id"].to_numpy() == hazard_id)
        if not len(found):
            raise StoreError(f"{path}: hazard_points has no hazard_id {hazard_id!r}")
        pos = int(found[0])
        current = _row(points, pos)
        if expected_version is not None and current["version"] != expected_version:
            raise ConflictError(
                f"{path}: hazard point {hazard_id!r} is at version {current['version']}, the edit was based on "
                f"version {expected_version}; reload it and edit again",
                current,
            )
        new = derive_row({**current, **changes}, version=current["version"] + 1)
        diff = diff_rows(current, new)
        if not diff:
            return current
        edited = {column: new[column] for column in [*diff, *_BOOKKEEPING]}
        # Object columns take any value; a wrong type then reaches the validator instead of failing in pandas.
        points = points.astype({column: object for column in edited if column != "geometry"})
        for column, value in edited.items():
            points.iat[pos, points.columns.get_loc(points.geometry.name if column == "geometry" else column)] = value
        versions = (current["version"], new["version"])
        audit = audit_row(new["updated_at"], user, "hazard_points", action, diff, hazard_id, versions)
        _save_hazard_points(path, points, audit)
    return new


def check_keys(points: gpd.GeoDataFrame, values: Mapping[str, object]) -> None:
    """Refuse an edit of a hazard point that sets a derived column or names a column ``points`` does not have."""
    derived = sorted(set(values) & set(_DERIVED))
    if derived:
        raise ValueError(f"{', '.join(derived)} of a hazard point are set by the store, not by an edit")
    unknown = sorted(set(values) - set(points.columns) - {"geometry"})
    if unknown:
        raise ValueError(f"hazard_points has no column {', '.join(unknown)}")


def _save_hazard_points(path: str, points: gpd.GeoDataFrame, audit: dict) -> None:
    """Validate the edited layer, then write it with its audit row (the caller holds the lock)."""
    check_frames({"hazard_points": points})
    with _replacing(path) as work:
        _commit(work, {"hazard_points": points}, [audit])


def derive_row(row: dict, version: int) -> dict:
    """Set the columns the store owns: version, updated_at and danger_grade (plan 3.2)."""
    row = {**row, "version": version, "updated_at": now_iso()}
    with contextlib.suppress(TypeError, ValueError):  # a bad count or amount: the validator names it
        row["danger_grade"] = danger_grade(row["threatened_people"], row["threatened_property_10k_yuan"])
    return row


def _row(points: gpd.GeoDataFrame, pos: int) -> dict:
    geometry_name = points.geometry.name
    row = {column: native_value(points[column].iat[pos]) for column in points.columns if column != geometry_name}
    row["geometry"] = points.geometry.iat[pos]
    return row


def native_value(value: object) -> object:
    """A plain Python value (None for any missing marker), comparable and JSON-serialisable."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def diff_rows(old: Mapping[str, object], new: Mapping[str, object]) -> dict[str, list]:
    """Return {column: [old, new]} of what changed, geometries as WKT, bookkeeping columns left out."""
    changed = {}
    for column, value in new.items():
        before = old.get(column)
        if column in _BOOKKEEPING:
            continue
        if isinstance(value, shapely.Geometry) or isinstance(before, shapely.Geometry):
            before_wkt, after_wkt = (None if g is None else g.wkt for g in (before, value))
            if before_wkt != after_wkt:
                changed[column] = [before_wkt, after_wkt]
        elif native_value(before) != native_value(value):
            changed[column] = [native_value(before), native_value(value)]
    return changed
