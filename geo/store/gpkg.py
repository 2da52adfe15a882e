"""GeoPackage storage of a hazmap data set: reads, and locked, atomic, audited writes.

Every write follows one path: take the writer lock (``<file>.lock``), refuse a damaged file, copy it to a
temporary file beside it, write into the copy, validate the whole result against :mod:`geo.model.schema`, then
fsync and ``os.replace``.  GDAL deletes a layer before writing it again and may create a new file when it cannot
open one for update; because it only ever sees the copy, an exception at any point (KeyboardInterrupt included)
leaves the original byte for byte as it was.

Files are written as GeoPackage 1.2 (GDAL's ``VERSION=1.2``): the GDAL 3.6 of Debian 12 and the QGIS and ArcGIS
installs common in county offices read it without the "may only be partially supported" warning that the
1.4 default draws.  A file saved elsewhere at another version is brought to 1.2 on its first write by hazmap
(:func:`_as_version_1_2`).

Besides the layers, a written file holds the Chinese column titles in ``gpkg_data_columns``, a default QGIS
style per layer in ``layer_styles`` (see :mod:`geo.store.qgis_style`) and the attribute tables of
:data:`geo.model.schema.TABLES` (the audit log among them), created from their declarations.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from functools import partial
from urllib.request import pathname2url

import filelock
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyogrio.errors
import shapely

from geo.model.crs import STORAGE_CRS
from geo.model.schema import AUDIT_TABLE, GPKG_VERSION, LAYERS, TABLES, Layer, validate_frames
from geo.store import qgis_style
from geo.store.base import Store
from geo.store.errors import ConflictError, StoreError
from geo.store.rows import (
    BOOKKEEPING,
    LOCK_TIMEOUT_S,
    PANDAS_TYPES,
    Rewrite,
    audit_row,
    check_frames,
    check_keys,
    check_names,
    derive_row,
    diff_rows,
    edited_row,
    native_value,
    now_iso,
    refuse,
    table_frame,
    table_rows,
)
from geo.store.source import Source

#: ``styleName`` of the default style the store writes; styles a user saved from QGIS are left alone.
STYLE_NAME = "hazmap"
STYLES_TABLE = "layer_styles"
#: :data:`geo.model.schema.GPKG_VERSION` as SQLite's ``user_version``.
_GPKG_USER_VERSION = 10200

_PYOGRIO_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
_ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "real": pa.float64(), "bool": pa.bool_()}
_SQLITE_TYPES = {"text": "TEXT", "int": "INTEGER", "real": "REAL", "bool": "BOOLEAN", "time": "TEXT", "json": "TEXT"}
_MULTI = {"Point": shapely.MultiPoint, "LineString": shapely.MultiLineString, "Polygon": shapely.MultiPolygon}

_STYLES_DDL = f"""CREATE TABLE IF NOT EXISTS {STYLES_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"""


class GeoPackageStore(Store):
    """A data set in one GeoPackage file; see the module's description of how it is written."""

    kind = "gpkg"

    def __init__(self, source: Source):
        super().__init__(source)
        #: The file itself, every symbolic link resolved once: reads, the lock, the working file and the replace
        #: all use it, so that writers through a link and through the real path share one lock and the link stays
        #: a link to the updated file.  Messages still name :attr:`label`, the path as given.
        self.path = os.path.realpath(self.location)

    # ----------------------------------------------------------------------------------------------
    # Reading

    @contextmanager
    def _reader(self) -> Iterator[tuple[set[str], Callable[[str], gpd.GeoDataFrame]]]:
        _check_file(self.path, label=self.label)
        yield _layer_names(self.path, self.label) & set(LAYERS), partial(_read_layer, self.path, label=self.label)

    def read_table(self, name: str) -> pd.DataFrame:
        table = TABLES[name]
        _check_file(self.path, label=self.label)
        columns = ", ".join(_quote(c) for c in [table.id_field, *table.columns])
        try:
            with closing(_connect_readonly(self.path)) as conn:
                if not _has_table(conn, name):
                    return table_frame(name, [])
                records = conn.execute(f"SELECT {columns} FROM {_quote(name)} ORDER BY {_quote(table.id_field)}")
                return table_frame(name, records.fetchall())
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.label}: cannot read {name}: {exc}") from exc

    def stamp(self) -> tuple[int, ...]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise StoreError(f"{self.label}: no such file (set HAZMAP_DATA to a hazmap GeoPackage)") from None
        # The inode too: a write replaces the file, so a new one is a new state even within one mtime tick.
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    # ----------------------------------------------------------------------------------------------
    # Writing whole layers

    def create(self, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
        check_names(gdfs)
        refuse(validate_frames(gdfs))
        at = now_iso()
        ordered = {name: gdfs[name] for name in LAYERS if name in gdfs}
        audit = [
            audit_row(at, user, name, "replace_layer", {"features": [None, len(gdf)]}) for name, gdf in ordered.items()
        ]
        with self._locked(), _replacing(self.path, copy=False, label=self.label) as work:
            _commit(work, ordered, audit)

    def rewrite_layer(self, name: str, rewrite: Rewrite) -> None:
        with self._locked():
            frame, audit = rewrite(self.read_layer(name))
            check_frames({name: frame})
            with _replacing(self.path, label=self.label) as work:
                _commit(work, {name: frame}, audit)

    def write_layers(self, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
        check_names(gdfs)
        check_frames(gdfs)
        with self._locked(), _replacing(self.path, label=self.label) as work:
            available = _layer_names(work)
            at = now_iso()
            audit = [
                audit_row(at, user, name, "replace_layer", {"features": [_count(work, name, available), len(gdf)]})
                for name, gdf in gdfs.items()
            ]
            _commit(work, gdfs, audit)

    # ----------------------------------------------------------------------------------------------
    # Attribute tables

    def append(self, table: str, rows: list[Mapping[str, object]], *, user: str) -> list[int]:
        frame = table_rows(table, rows)
        with self._locked(), _replacing(self.path, label=self.label) as work, closing(sqlite3.connect(work)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
            with conn:
                _ensure_tables(conn)
                keys = _insert(conn, table, frame.to_dict("records"))
                if table != AUDIT_TABLE:
                    _insert(conn, AUDIT_TABLE, [audit_row(now_iso(), user, table, "append", {"keys": keys})])
        return keys

    def edit(self, table: str, key: int, changes: Mapping[str, object], *, user: str) -> dict:
        declared = TABLES[table]
        with self._locked():
            current = self._table_row(table, key)
            new = edited_row(table, current, changes)
            diff = diff_rows(current, new)
            if not diff:
                return current
            with _replacing(self.path, label=self.label) as work, closing(sqlite3.connect(work)) as conn:
                conn.execute("PRAGMA journal_mode=DELETE")
                with conn:
                    assignments = ", ".join(f"{_quote(column)} = ?" for column in diff)
                    conn.execute(
                        f"UPDATE {_quote(table)} SET {assignments} WHERE {_quote(declared.id_field)} = ?",
                        [*(new[column] for column in diff), key],
                    )
                    _insert(conn, AUDIT_TABLE, [audit_row(now_iso(), user, table, "edit", diff, str(key))])
            return new

    def _table_row(self, table: str, key: int) -> dict:
        rows = self.read_table(table)
        found = rows[rows[TABLES[table].id_field] == key]
        if found.empty:
            raise StoreError(f"{self.label}: {table} has no row {TABLES[table].id_field} = {key!r}")
        return {column: native_value(value) for column, value in found.iloc[0].items()}

    # ----------------------------------------------------------------------------------------------
    # Editing hazard points

    def add_hazard_point(self, row: Mapping[str, object], geometry: shapely.Geometry, *, user: str) -> dict:
        if "geometry" in row:
            raise ValueError("pass the location as the geometry argument, not in the row")
        with self._locked():
            points = self.read_layer("hazard_points")
            check_keys(points, row)
            hazard_id = row.get("hazard_id")
            found = np.flatnonzero(points["hazard_id"].to_numpy() == hazard_id)
            if len(found):
                raise ConflictError(
                    f"{self.label}: hazard point {hazard_id!r} exists already", _row(points, int(found[0]))
                )
            columns = [c for c in points.columns if c != points.geometry.name]
            new = derive_row({**dict.fromkeys(columns), "status": "active", **row}, version=1)
            added = gpd.GeoDataFrame([new], geometry=[geometry], crs=points.crs)
            points = pd.concat([points, added], ignore_index=True)
            new["geometry"] = geometry
            audit = audit_row(
                new["updated_at"], user, "hazard_points", "insert", diff_rows({}, new), hazard_id, (None, 1)
            )
            self._save_hazard_points(points, audit)
        return new

    def _edit_hazard(
        self, hazard_id: str, changes: Mapping[str, object], *, user: str, expected_version: int | None, action: str
    ) -> dict:
        if "hazard_id" in changes:
            raise ValueError("hazard_id (统一编号) identifies the point and cannot be changed")
        with self._locked():
            points = self.read_layer("hazard_points")
            check_keys(points, changes)
            found = np.flatnonzero(points["hazard_id"].to_numpy() == hazard_id)
            if not len(found):
                raise StoreError(f"{self.label}: hazard_points has no hazard_id {hazard_id!r}")
            pos = int(found[0])
            current = _row(points, pos)
            if expected_version is not None and current["version"] != expected_version:
                raise ConflictError(
                    f"{self.label}: hazard point {hazard_id!r} is at version {current['version']}, the edit was "
                    f"based on version {expected_version}; reload it and edit again",
                    current,
                )
            new = derive_row({**current, **changes}, version=current["version"] + 1)
            diff = diff_rows(current, new)
            if not diff:
                return current
            edited = {column: new[column] for column in [*diff, *BOOKKEEPING]}
            # Object columns take any value; a wrong type then reaches the validator instead of failing in pandas.
            points = points.astype({column: object for column in edited if column != "geometry"})
            for column, value in edited.items():
                where = points.geometry.name if column == "geometry" else column
                points.iat[pos, points.columns.get_loc(where)] = value
            versions = (current["version"], new["version"])
            audit = audit_row(new["updated_at"], user, "hazard_points", action, diff, hazard_id, versions)
            self._save_hazard_points(points, audit)
        return new

    def _save_hazard_points(self, points: gpd.GeoDataFrame, audit: dict) -> None:
        """Validate the edited layer, then write it with its audit row (the caller holds the lock)."""
        check_frames({"hazard_points": points})
        with _replacing(self.path, label=self.label) as work:
            _commit(work, {"hazard_points": points}, [audit])

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the writers' lock so that read-modify-write cycles of several processes never interleave."""
        lock = filelock.FileLock(self.path + ".lock", timeout=LOCK_TIMEOUT_S)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise StoreError(f"{self.label}: another writer has held the lock for {LOCK_TIMEOUT_S:.0f} s") from None
        try:
            yield
        finally:
            lock.release()


# --------------------------------------------------------------------------------------------------
# Reading a file


def _read_layer(path: str, name: str, *, label: str | None = None) -> gpd.GeoDataFrame:
    """Read layer ``name`` of the file at ``path``; errors name the file as ``label`` (default: ``path``)."""
    try:
        gdf = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
    except _PYOGRIO_ERRORS as exc:
        raise StoreError(f"{label or path}: cannot read layer {name!r}: {_named(exc, path, label)}") from exc
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


def _layer_names(path: str, label: str | None = None) -> set[str]:
    try:
        return {str(row[0]) for row in pyogrio.list_layers(path)}
    except _PYOGRIO_ERRORS as exc:
        raise StoreError(f"{label or path}: cannot open as a GeoPackage: {_named(exc, path, label)}") from exc


def _named(exc: BaseException, path: str, label: str | None) -> str:
    """The text of a GDAL error, which quotes the path it opened, with that path shown as ``label``."""
    return str(exc).replace(path, label) if label else str(exc)


def _connect_readonly(path: str) -> sqlite3.Connection:
    # Read-only at the SQLite level, so a check or a copy can never change the user's file.
    return sqlite3.connect(f"file:{pathname2url(os.path.abspath(path))}?mode=ro", uri=True)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _check_file(path: str, *, deep: bool = False, label: str | None = None) -> None:
    """Refuse a missing, foreign, truncated or (with ``deep``) internally damaged file with a StoreError.

    The header checks are cheap and run before every read; the SQLite ``quick_check`` reads the whole file
    and runs before every write.  Messages name the file as ``label`` (default: ``path``).
    """
    name = label or path
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        raise StoreError(f"{name}: no such file") from None
    except OSError as exc:
        raise StoreError(f"{name}: cannot open: {exc.strerror}") from exc
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{name}: not a GeoPackage (no SQLite header: damaged, or another format)")
    if header[68:72] not in _GPKG_APPLICATION_IDS:
        raise StoreError(f"{name}: not a GeoPackage (SQLite database with application id {header[68:72]!r})")
    page_size = int.from_bytes(header[16:18], "big")
    expected = (65536 if page_size == 1 else page_size) * int.from_bytes(header[28:32], "big")
    # The header's page count is valid when its "version-valid-for" number equals the change counter.
    if header[92:96] == header[24:28] and size < expected:
        raise StoreError(f"{name}: damaged GeoPackage (truncated to {size} of {expected} bytes)")
    if not deep:
        return
    try:
        with closing(_connect_readonly(path)) as conn:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{name}: damaged GeoPackage ({exc})") from exc
    if result != "ok":
        raise StoreError(f"{name}: damaged GeoPackage (SQLite quick_check: {result})")


def _count(path: str, name: str, available: set[str]) -> int | None:
    return int(pyogrio.read_info(path, layer=name)["features"]) if name in available else None


def _row(points: gpd.GeoDataFrame, pos: int) -> dict:
    geometry_name = points.geometry.name
    row = {column: native_value(points[column].iat[pos]) for column in points.columns if column != geometry_name}
    row["geometry"] = points.geometry.iat[pos]
    return row


# --------------------------------------------------------------------------------------------------
# Writing a file: a working copy, moved over the original when everything in it is sound


@contextmanager
def _replacing(path: str, *, copy: bool = True, label: str | None = None) -> Iterator[str]:
    """Yield a working file beside ``path`` and move it over ``path`` when the block succeeds.

    Call with the lock held.  With ``copy`` the working file starts as a copy of ``path``, which must be sound.
    On any exception the working file is removed and ``path`` is untouched.  ``path`` must be the file itself,
    not a symbolic link (which ``os.replace`` would replace with a regular file); messages name it ``label``.
    """
    if copy:
        _check_file(path, deep=True, label=label)
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
            _as_version_1_2(work)
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
    refuse(validate_frames(GeoPackageStore(Source(work, "gpkg")).read_layers()))
    _write_metadata(work, [LAYERS[name] for name in gdfs], audit)


def _write_layer(path: str, name: str, gdf: gpd.GeoDataFrame) -> None:
    """Write one layer into ``path`` (a working file), replacing the layer of that name."""
    layer = LAYERS[name]
    table, geometry_type = _to_arrow(gdf, layer)
    # The frames were validated: their CRS is EPSG:4490, or EPSG:4326 which the data model reads as CGCS2000.
    pyogrio.write_arrow(
        table,
        path,
        layer=name,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=geometry_type,
        crs=STORAGE_CRS,
        # Used by GDAL only when it creates the file (a new data set); _as_version_1_2 covers copies.
        dataset_options={"VERSION": GPKG_VERSION},
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
        arrays.append(pa.array(gdf[f.name].astype(PANDAS_TYPES[f.kind]), type=arrow_type, from_pandas=True))
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
            conn.execute(_STYLES_DDL)
            _register(conn, STYLES_TABLE, "QGIS 图层样式")
            _ensure_tables(conn)
            for layer in layers:
                conn.executemany(
                    "UPDATE gpkg_data_columns SET title = ? WHERE table_name = ? AND column_name = ?",
                    [(f.title_zh, layer.name, f.name) for f in layer.fields],
                )
                _set_default_style(conn, layer)
            _insert(conn, AUDIT_TABLE, audit)


def _as_version_1_2(work: str) -> None:
    """Bring a working copy of a file saved at another GeoPackage version to 1.2, the version hazmap writes.

    The version is SQLite's ``user_version``; set first, it makes GDAL write every layer it touches as 1.2 does.
    A layer whose spatial index has the triggers that GeoPackage 1.4 introduced (``..._update6``/``_update7``)
    is written again, so that its triggers are those 1.2 defines; its rows and columns stay as they are.
    """
    with closing(sqlite3.connect(work)) as conn:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version == _GPKG_USER_VERSION:
            return
        conn.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        newer = conn.execute(
            "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree%update6'"
        ).fetchall()
    for (name,) in newer:
        if name in LAYERS:
            _write_layer(work, name, _read_layer(work, name))


def _quote(name: str) -> str:
    """An SQLite identifier; names come only from the data model, quoted so that ``user`` is a column."""
    return '"' + name.replace('"', '""') + '"'


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _table_ddl(name: str) -> str:
    """CREATE TABLE of an attribute table, from its declaration: the key the store assigns, then its columns."""
    table = TABLES[name]
    columns = [f"{_quote(table.id_field)} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    for f in table.fields:
        column = f"{_quote(f.name)} {_SQLITE_TYPES[f.kind]}"
        if not f.nullable:
            column += " NOT NULL"
        if f.enum is not None:
            column += f" CHECK ({_quote(f.name)} IN ({', '.join(map(_literal, f.enum))}))"
        if f.minimum is not None:
            column += f" CHECK ({_quote(f.name)} >= {f.minimum!r})"
        columns.append(column)
    return f"CREATE TABLE IF NOT EXISTS {_quote(name)} ({', '.join(columns)})"


def _ensure_tables(conn: sqlite3.Connection) -> None:
    """Create every attribute table of the model that the file lacks, registered as the GeoPackage spec asks."""
    for name, table in TABLES.items():
        conn.execute(_table_ddl(name))
        _register(conn, name, table.title_zh)


def _register(conn: sqlite3.Connection, table: str, description: str) -> None:
    """List a plain attribute table in gpkg_contents, as the GeoPackage spec requires of every table."""
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES (?, 'attributes', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (table, table, description),
    )


def _insert(conn: sqlite3.Connection, name: str, rows: list[Mapping[str, object]]) -> list[int]:
    """Insert rows of attribute table ``name`` (its declared columns) and return the keys SQLite gave them."""
    columns = TABLES[name].columns
    statement = (
        f"INSERT INTO {_quote(name)} ({', '.join(map(_quote, columns))}) VALUES ({', '.join('?' * len(columns))})"
    )
    keys = []
    for row in rows:
        cursor = conn.execute(statement, [native_value(row.get(column)) for column in columns])
        keys.append(int(cursor.lastrowid))
    return keys


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
