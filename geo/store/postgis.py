"""PostGIS storage of a hazmap data set, for many users at once.

:func:`geo.store.open` returns a :class:`PostGISStore` for a ``postgresql://`` source, so the app, the CLI, the
analyses, the exports and the importers work on either backend unchanged.  What the GeoPackage gets from its
lock file and atomic rename, the database gets from transactions:

- The tables are derived from the data model: one per layer of :data:`geo.model.schema.LAYERS` and one per
  attribute table of :data:`geo.model.schema.TABLES`, in the schema :data:`SCHEMA`.  They carry the model's rules
  as constraints (NOT NULL, UNIQUE, enums and minimums as CHECKs, the geometry family, foreign keys) and its
  Chinese titles as comments, so a client that bypasses hazmap (psql, QGIS) cannot store what the validator
  would refuse.  The validator still runs first, because it names every problem at once.
- A layer write (``create``, ``write_layers``) is one transaction: readers see the old layers or the new ones.
- An edit of a hazard point is one transaction with optimistic locking on ``version``: the UPDATE only matches
  the version the edit was based on, and matching nothing means another user got there first
  (:class:`geo.store.errors.ConflictError`, carrying the stored row).  Its audit row commits with it or not at all.
- Reads of several layers share one snapshot, so an analysis never mixes layers from before and after an edit.

Unlike a new GeoPackage, a database keeps its ``kept`` tables (the audit log) when a data set is created over it
again: the log is the record of who changed what, and its newest id (:meth:`PostGISStore.stamp`) tells a cache
that anything changed.

Columns a frame carries beyond the data model are not stored (a warning names them): table definitions come
from the model alone, never from user data.  Every value reaches the database as a bound parameter or through
COPY; identifiers come only from the model's fixed lists, quoted by :class:`psycopg.sql.Identifier`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import psycopg.errors
import shapely
from psycopg import sql

from geo.model import crs as model_crs
from geo.model.crs import STORAGE_CRS
from geo.model.schema import AUDIT_TABLE, LAYERS, TABLES, Field, Layer, Report, validate_frames
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

#: The PostgreSQL schema holding the tables of a data set.
SCHEMA = "hazmap"
#: SRID of every geometry column.
SRID = int(STORAGE_CRS.removeprefix("EPSG:"))
#: Seconds to wait for a connection before giving up.
CONNECT_TIMEOUT_S = 10

_SQL_TYPES = {
    "text": "text",
    "int": "bigint",
    "real": "double precision",
    "bool": "boolean",
    "time": "timestamptz",
    "json": "jsonb",
}
#: Pandas dtypes of the columns read, as the GeoPackage backend returns them; the nullable ones where a
#: column holds NULLs.
_DTYPES = {"text": "str", "int": "int64", "real": "float64", "bool": "bool"}
_NULLABLE_DTYPES = {"text": "str", "int": "Int64", "real": "float64", "bool": "boolean"}
#: ``GeometryType()`` names each declared geometry type accepts; the data model allows Multi* everywhere.
_GEOMETRY_NAMES = {kind: (kind.upper(), "MULTI" + kind.upper()) for kind in ("Point", "LineString", "Polygon")}
_POINTS = LAYERS["hazard_points"]
#: An empty frame with the hazard points' columns, for the store's checks of edited keys.
_POINT_COLUMNS = pd.DataFrame(columns=_POINTS.columns)


def table(name: str) -> sql.Identifier:
    """The schema-qualified identifier of a layer's or table's table; in-database analyses compose with it."""
    return sql.Identifier(SCHEMA, name)


class PostGISStore(Store):
    """A data set in the schema :data:`SCHEMA` of a PostgreSQL database with PostGIS."""

    kind = "postgis"

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[psycopg.Connection]:
        """A connection holding one transaction: committed when the block succeeds, rolled back when it raises.

        With ``read_only`` the transaction is REPEATABLE READ, so everything read in it comes from one snapshot.
        Database errors become :class:`StoreError` naming the database by its label (never its password).
        """
        try:
            with psycopg.connect(self.location, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                if read_only:
                    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                    conn.read_only = True
                # A writer waits for another as long as a GeoPackage writer waits for the lock file.  JIT
                # compiling takes longer than any of hazmap's queries (0.7 s against 30 ms for the exposure of
                # 2000 points).
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true), set_config('jit', 'off', true)",
                    [f"{LOCK_TIMEOUT_S:.0f}s"],
                )
                yield conn
        except psycopg.errors.LockNotAvailable:
            raise StoreError(f"{self.label}: another writer has held a lock for {LOCK_TIMEOUT_S:.0f} s") from None
        except psycopg.errors.IntegrityError as exc:
            raise StoreError(f"{self.label}: the database refused the write: {self._clean(exc)}") from exc
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: {self._clean(exc)}") from exc

    def _clean(self, exc: Exception) -> str:
        # libpq may quote the connection string it was given: the password in it must not reach a message.
        return str(exc).replace(self.location, self.label)

    def require(self, conn: psycopg.Connection, names: list[str]) -> None:
        """Raise :class:`StoreError` unless every layer of ``names`` has its table."""
        missing = [name for name in names if name not in _tables(conn)]
        if missing:
            raise StoreError(
                f"{self.label}: no table {', '.join(map(repr, missing))} in schema {SCHEMA!r} "
                "(load a data set with `python -m geo db push`)"
            )

    # ----------------------------------------------------------------------------------------------
    # Reading

    @contextmanager
    def _reader(self) -> Iterator[tuple[set[str], Callable[[str], gpd.GeoDataFrame]]]:
        # One REPEATABLE READ transaction: the list of tables and every layer come from one snapshot.
        with self.connect(read_only=True) as conn:
            yield _tables(conn), partial(read_layer, conn)

    def read_table(self, name: str) -> pd.DataFrame:
        declared = TABLES[name]
        statement = sql.SQL("{} ORDER BY {}").format(_select_table(declared), sql.Identifier(declared.id_field))
        with self.connect(read_only=True) as conn:
            if not _has_table(conn, name):
                return table_frame(name, [])
            return table_frame(name, conn.execute(statement).fetchall())

    def stamp(self) -> tuple[int, ...]:
        """The newest audit id: every write adds one, so a changed number means changed data (0: none yet)."""
        with self.connect(read_only=True) as conn:
            if not _has_table(conn, AUDIT_TABLE):
                return (0,)
            statement = sql.SQL("SELECT coalesce(max(audit_id), 0) FROM {}").format(table(AUDIT_TABLE))
            return (int(conn.execute(statement).fetchone()[0]),)

    # ----------------------------------------------------------------------------------------------
    # Writing whole layers

    def create(self, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
        """Write a complete new data set in one transaction; see :meth:`geo.store.base.Store.create`.

        The layer tables are dropped and built again from the data model (PostGIS is installed when missing
        and the user may), so they always follow the current model; ``kept`` tables (the audit log) stay, the
        other attribute tables start empty.
        """
        check_names(gdfs)
        refuse(validate_frames(gdfs))
        ordered = {name: gdfs[name] for name in LAYERS}
        at = now_iso()
        audit = [
            audit_row(at, user, name, "replace_layer", {"features": [None, len(gdf)]}) for name, gdf in ordered.items()
        ]
        with self.connect() as conn:
            self._ensure_postgis(conn)
            _create_tables(conn, int(model_crs.data_metric_crs(ordered).removeprefix("EPSG:")))
            self._load(conn, ordered)
            _insert(conn, AUDIT_TABLE, audit)

    def rewrite_layer(self, name: str, rewrite: Rewrite) -> None:
        """One transaction with the table locked against writers (readers go on; writers wait, then see it)."""
        with self.connect() as conn:
            self.require(conn, [name])
            conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table(name)))
            frame, audit = rewrite(read_layer(conn, name))
            check_frames({name: frame})
            conn.execute(sql.SQL("DELETE FROM {}").format(table(name)))
            self._load(conn, {name: frame})
            _insert(conn, AUDIT_TABLE, audit)

    def write_layers(self, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
        """Other writers of these layers wait until it commits (readers do not)."""
        check_names(gdfs)
        check_frames(gdfs)
        names = list(gdfs)
        at = now_iso()
        with self.connect() as conn:
            self.require(conn, names)
            conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.SQL(", ").join(table(n) for n in names)))
            audit = [
                audit_row(at, user, name, "replace_layer", {"features": [_count(conn, name), len(gdf)]})
                for name, gdf in gdfs.items()
            ]
            for name in names:
                conn.execute(sql.SQL("DELETE FROM {}").format(table(name)))
            self._load(conn, gdfs)
            _insert(conn, AUDIT_TABLE, audit)

    def _load(self, conn: psycopg.Connection, gdfs: Mapping[str, gpd.GeoDataFrame]) -> None:
        """Copy the frames into their (empty) tables, check the row counts and the references, refresh statistics."""
        for name, gdf in gdfs.items():
            _copy_rows(conn, name, gdf)
            stored = _count(conn, name)
            if stored != len(gdf):
                raise StoreError(f"{self.label}: {name} holds {stored} rows after loading {len(gdf)}")
        refuse(_dangling(conn, list(gdfs)))
        for name in gdfs:
            conn.execute(sql.SQL("ANALYZE {}").format(table(name)))

    def _ensure_postgis(self, conn: psycopg.Connection) -> None:
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            return
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION postgis")
        except psycopg.errors.InsufficientPrivilege:
            raise StoreError(
                f"{self.label}: PostGIS is not installed in this database; ask its owner to run CREATE EXTENSION "
                "postgis"
            ) from None

    # ----------------------------------------------------------------------------------------------
    # Attribute tables

    def append(self, table_name: str, rows: list[Mapping[str, object]], *, user: str) -> list[int]:
        frame = table_rows(table_name, rows)
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
            _ensure_tables(conn)
            keys = _insert(conn, table_name, frame.to_dict("records"))
            if table_name != AUDIT_TABLE:
                _insert(conn, AUDIT_TABLE, [audit_row(now_iso(), user, table_name, "append", {"keys": keys})])
        return keys

    def edit(self, table_name: str, key: int, changes: Mapping[str, object], *, user: str) -> dict:
        declared = TABLES[table_name]
        key_column = sql.Identifier(declared.id_field)
        with self.connect() as conn:
            row = None
            if _has_table(conn, table_name):
                # Locked until this transaction ends, so no other edit of the row slips between read and write.
                statement = sql.SQL("{} WHERE {} = %s FOR UPDATE").format(_select_table(declared), key_column)
                row = conn.execute(statement, [key]).fetchone()
            if row is None:
                raise StoreError(f"{self.label}: {table_name} has no row {declared.id_field} = {key!r}")
            current = {c: native_value(v) for c, v in table_frame(table_name, [row]).iloc[0].items()}
            new = edited_row(table_name, current, changes)
            diff = diff_rows(current, new)
            if not diff:
                return current
            assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in diff)
            conn.execute(
                sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(table(table_name), assignments, key_column),
                [*(new[column] for column in diff), key],
            )
            _insert(conn, AUDIT_TABLE, [audit_row(now_iso(), user, table_name, "edit", diff, str(key))])
        return new

    # ----------------------------------------------------------------------------------------------
    # Editing hazard points

    def _edit_hazard(
        self, hazard_id: str, changes: Mapping[str, object], *, user: str, expected_version: int | None, action: str
    ) -> dict:
        """One transaction; the version check is done by the UPDATE itself, so two users editing the same
        version at the same moment get one success and one :class:`ConflictError`."""
        if "hazard_id" in changes:
            raise ValueError("hazard_id (统一编号) identifies the point and cannot be changed")
        check_keys(_POINT_COLUMNS, changes)
        with self.connect() as conn:
            self.require(conn, ["hazard_points"])
            # Without a version to check against, the edit applies to what is stored now: lock the row so that
            # nobody changes it between this read and the UPDATE.
            current = _hazard(conn, hazard_id, lock=expected_version is None)
            if current is None:
                raise StoreError(f"{self.label}: hazard_points has no hazard_id {hazard_id!r}")
            base = current["version"] if expected_version is None else expected_version
            if current["version"] != base:
                raise self._conflict(hazard_id, base, current)
            new = derive_row({**current, **changes}, version=base + 1)
            diff = diff_rows(current, new)
            if not diff:
                return current
            _point_frame(new)  # refuse a bad value before touching the table
            columns = [*diff, *BOOKKEEPING]
            assignments = sql.SQL(", ").join(
                sql.SQL("geom = ST_GeomFromEWKB(%s)")
                if column == "geometry"
                else sql.SQL("{} = %s").format(sql.Identifier(column))
                for column in columns
            )
            values = [
                _ewkb(np.array([new[column]]), hex=False)[0] if column == "geometry" else native_value(new[column])
                for column in columns
            ]
            # Matches only the version the edit was based on: when another edit committed since it was read,
            # this matches nothing, and the stored row, read again, tells the user what changed.
            updated = conn.execute(
                sql.SQL("UPDATE {} SET {} WHERE hazard_id = %s AND version = %s").format(
                    table("hazard_points"), assignments
                ),
                [*values, hazard_id, base],
            )
            if updated.rowcount != 1:
                raise self._conflict(hazard_id, base, _hazard(conn, hazard_id, lock=False))
            _finish_point_write(conn, new, user=user, action=action, diff=diff, versions=(base, base + 1))
        return new

    def add_hazard_point(self, row: Mapping[str, object], geometry: shapely.Geometry, *, user: str) -> dict:
        """One transaction; another user adding the same id at the same moment is a :class:`ConflictError`."""
        if "geometry" in row:
            raise ValueError("pass the location as the geometry argument, not in the row")
        check_keys(_POINT_COLUMNS, row)
        hazard_id = row.get("hazard_id")
        new = derive_row({**dict.fromkeys(_POINTS.columns), "status": "active", **row}, version=1)
        new["geometry"] = geometry
        with self.connect() as conn:
            self.require(conn, ["hazard_points"])
            existing = _hazard(conn, hazard_id, lock=False)
            if existing is None:
                frame = _point_frame(new)
                try:
                    # A savepoint: when another user adds the same id first, this transaction can still read theirs.
                    with conn.transaction():
                        _copy_rows(conn, "hazard_points", frame)
                except psycopg.errors.UniqueViolation:
                    existing = _hazard(conn, hazard_id, lock=False)
            if existing is not None:
                raise ConflictError(f"{self.label}: hazard point {hazard_id!r} exists already", existing)
            _finish_point_write(conn, new, user=user, action="insert", diff=diff_rows({}, new), versions=(None, 1))
        return new

    def _conflict(self, hazard_id: str, base: int, current: dict | None) -> StoreError:
        if current is None:
            return StoreError(f"{self.label}: hazard point {hazard_id!r} was removed while it was being edited")
        return ConflictError(
            f"{self.label}: hazard point {hazard_id!r} is at version {current['version']}, the edit was based on "
            f"version {base}; reload it and edit again",
            current,
        )


def _tables(conn: psycopg.Connection) -> set[str]:
    """Data-model layers that have a table in :data:`SCHEMA`."""
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA]).fetchall()
    return {name for (name,) in rows if name in LAYERS}


def _has_table(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.{name}"]).fetchone()[0] is not None


# --------------------------------------------------------------------------------------------------
# The tables, derived from the data model


def _checks(layer: Layer, f: Field) -> list[sql.Composable]:
    """Named CHECK constraints of one column: its enum, minimum and pattern."""
    column = sql.Identifier(f.name)
    checks = []
    if f.enum is not None:
        checks.append(("enum", sql.SQL("{} IN ({})").format(column, sql.SQL(", ").join(map(sql.Literal, f.enum)))))
    if f.minimum is not None:
        checks.append(("min", sql.SQL("{} >= {}").format(column, sql.Literal(f.minimum))))
    if f.pattern is not None:
        # The model's patterns keep to the syntax Python's re and PostgreSQL's regular expressions share.
        checks.append(("pattern", sql.SQL("{} ~ {}").format(column, sql.Literal(f"^(?:{f.pattern})$"))))
    return [
        sql.SQL("CONSTRAINT {} CHECK ({})").format(sql.Identifier(f"{layer.name}_{f.name}_{rule}"), check)
        for rule, check in checks
    ]


def _column_ddl(layer: Layer, f: Field) -> sql.Composable:
    parts = [sql.Identifier(f.name), sql.SQL(_SQL_TYPES[f.kind])]
    if not f.nullable:
        parts.append(sql.SQL("NOT NULL"))
    if f.unique:
        parts.append(sql.SQL("CONSTRAINT {} UNIQUE").format(sql.Identifier(f"{layer.name}_{f.name}_key")))
    return sql.SQL(" ").join([*parts, *_checks(layer, f)])


def _table_ddl(layer: Layer) -> sql.Composable:
    """CREATE TABLE of a layer (``fid`` keeps the order rows were written in, then the columns, then ``geom``)
    or of an attribute table (its store-assigned key, then its columns)."""
    key = "fid" if layer.geometry else layer.id_field
    columns = [
        sql.SQL("{} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY").format(sql.Identifier(key)),
        *(_column_ddl(layer, f) for f in layer.fields),
    ]
    if layer.geometry:
        families = sql.SQL(", ").join(map(sql.Literal, _GEOMETRY_NAMES[layer.geometry]))
        columns.append(
            sql.SQL(
                "geom geometry(Geometry, {srid}) NOT NULL CONSTRAINT {name} CHECK (GeometryType(geom) IN ({families}) "
                "AND NOT ST_IsEmpty(geom))"
            ).format(srid=sql.Literal(SRID), name=sql.Identifier(f"{layer.name}_geom_type"), families=families)
        )
    exists = sql.SQL("" if layer.geometry else "IF NOT EXISTS ")
    return sql.SQL("CREATE TABLE {}{} ({})").format(exists, table(layer.name), sql.SQL(", ").join(columns))


def _comment(conn: psycopg.Connection, layer: Layer) -> None:
    conn.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            table(layer.name), sql.Literal(f"{layer.title_zh} {layer.title_en}")
        )
    )
    for f in layer.fields:
        conn.execute(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                table(layer.name), sql.Identifier(f.name), sql.Literal(f"{f.title_zh} {f.title_en}")
            )
        )


def _references() -> list[tuple[Layer, Field, str, str]]:
    """Every reference of the model: (layer, field, target layer, target column)."""
    return [(layer, f, *f.ref.split(".")) for layer in LAYERS.values() for f in layer.fields if f.ref]


def _create_tables(conn: psycopg.Connection, metric_srid: int) -> None:
    """Replace the layer tables and the attribute tables that are not kept by empty ones built from the model.

    The foreign keys are checked at commit, so a transaction may replace a layer and the layers that refer to
    it in any order.  ``metric_srid`` is the Gauss-Krueger zone of the data: the pools get a spatial index of
    their projection into it, which the nearest-pool search walks.
    """
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
    # One statement, so the references among the tables do not decide an order; without CASCADE, a view a
    # user built on them stops the drop rather than vanishing with it.
    replaced = [*LAYERS, *(name for name, t in TABLES.items() if not t.kept)]
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.SQL(", ").join(table(name) for name in replaced)))
    for layer in LAYERS.values():
        conn.execute(_table_ddl(layer))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(table(layer.name)))
        _comment(conn, layer)
    for layer, f, target, column in _references():
        conn.execute(
            sql.SQL(
                "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
                "REFERENCES {target} ({target_column}) DEFERRABLE INITIALLY DEFERRED"
            ).format(
                table=table(layer.name),
                name=sql.Identifier(f"{layer.name}_{f.name}_fkey"),
                column=sql.Identifier(f.name),
                target=table(target),
                target_column=sql.Identifier(column),
            )
        )
        conn.execute(sql.SQL("CREATE INDEX ON {} ({})").format(table(layer.name), sql.Identifier(f.name)))
    conn.execute(
        sql.SQL("CREATE INDEX pools_geom_metric ON {} USING gist (ST_Transform(geom, {}))").format(
            table("pools"), sql.Literal(metric_srid)
        )
    )
    _ensure_tables(conn)


def _ensure_tables(conn: psycopg.Connection) -> None:
    """Create every attribute table of the model that the schema lacks."""
    for layer in TABLES.values():
        if not _has_table(conn, layer.name):
            conn.execute(_table_ddl(layer))
            _comment(conn, layer)


# --------------------------------------------------------------------------------------------------
# Reading and writing rows


def select(layer: Layer) -> sql.Composable:
    """SELECT of a layer's columns and its geometry as WKB, in the order the rows were written."""
    columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in layer.fields)
    return sql.SQL("SELECT {}, ST_AsBinary(geom) FROM {}").format(columns, table(layer.name))


def _select_table(declared: Layer) -> sql.Composable:
    """SELECT of an attribute table's key and columns, times as ISO-8601 UTC text and JSON as text, as the
    GeoPackage backend stores them."""
    columns = [
        sql.SQL("""to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""").format(sql.Identifier(f.name))
        if f.kind == "time"
        else sql.SQL("{}::text").format(sql.Identifier(f.name))
        if f.kind == "json"
        else sql.Identifier(f.name)
        for f in declared.fields
    ]
    return sql.SQL("SELECT {}, {} FROM {}").format(
        sql.Identifier(declared.id_field), sql.SQL(", ").join(columns), table(declared.name)
    )


def _frame(layer: Layer, rows: list[tuple]) -> gpd.GeoDataFrame:
    columns = list(zip(*rows, strict=True)) or [()] * (len(layer.fields) + 1)
    data = {}
    for f, values in zip(layer.fields, columns[:-1], strict=True):
        dtype = (_NULLABLE_DTYPES if None in values else _DTYPES)[f.kind]
        data[f.name] = pd.array(list(values), dtype=dtype)
    geometry = shapely.from_wkb(np.array(columns[-1], dtype=object))
    return gpd.GeoDataFrame(data, geometry=geometry, crs=STORAGE_CRS)


def read_layer(conn: psycopg.Connection, name: str) -> gpd.GeoDataFrame:
    """Layer ``name`` as the GeoPackage backend returns it, read on an open connection (its snapshot)."""
    layer = LAYERS[name]
    return _frame(layer, conn.execute(sql.SQL("{} ORDER BY fid").format(select(layer))).fetchall())


def _ewkb(geometries: np.ndarray, *, hex: bool) -> np.ndarray:
    """Geometries as EWKB with SRID 4490, 2D (the model has no heights), as the geometry columns take them."""
    return shapely.to_wkb(shapely.set_srid(geometries, SRID), hex=hex, include_srid=True, output_dimension=2)


def _copy_rows(conn: psycopg.Connection, name: str, gdf: gpd.GeoDataFrame) -> None:
    """Append the rows of a validated frame to the layer's table with COPY, in the model's types."""
    layer = LAYERS[name]
    extra = [c for c in gdf.columns if c != gdf.geometry.name and c not in layer.columns]
    if extra:
        warnings.warn(
            f"{name}: column(s) {', '.join(extra)} are not in the data model and are not stored in the database",
            stacklevel=5,
        )
    values = []
    for f in layer.fields:
        column = gdf[f.name].astype(PANDAS_TYPES[f.kind]).astype(object)
        values.append(column.where(column.notna(), None).tolist())
    # The frame was validated: its CRS is EPSG:4490, or EPSG:4326, which the data model reads as CGCS2000.
    values.append(_ewkb(gdf.geometry.to_numpy(), hex=True))
    columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in layer.fields)
    statement = sql.SQL("COPY {} ({}, geom) FROM STDIN").format(table(name), columns)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in zip(*values, strict=True):
            copy.write_row(row)


def _count(conn: psycopg.Connection, name: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table(name))).fetchone()[0]


def _insert(conn: psycopg.Connection, name: str, rows: list[Mapping[str, object]]) -> list[int]:
    """Insert rows of attribute table ``name`` and return the keys the database gave them, in order."""
    declared = TABLES[name]
    placeholders = [
        sql.SQL("%s::jsonb") if f.kind == "json" else sql.SQL("%s::timestamptz") if f.kind == "time" else sql.SQL("%s")
        for f in declared.fields
    ]
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        table(name),
        sql.SQL(", ").join(sql.Identifier(c) for c in declared.columns),
        sql.SQL(", ").join(placeholders),
        sql.Identifier(declared.id_field),
    )
    keys = []
    with conn.cursor() as cur:
        for row in rows:
            cur.execute(statement, [native_value(row.get(c)) for c in declared.columns])
            keys.append(int(cur.fetchone()[0]))
    return keys


def _dangling(conn: psycopg.Connection, names: list[str]) -> Report:
    """Every reference from or to the layers ``names`` that names no feature, as the validator reports it.

    The foreign keys would refuse the commit too, but only with the first offender.
    """
    report = Report(layers_checked=list(names))
    for layer, f, target, column in _references():
        if layer.name not in names and target not in names:
            continue
        label = sql.Identifier(layer.id_field) if layer.id_field else sql.SQL("NULL")
        rows = conn.execute(
            sql.SQL(
                "SELECT {label}, n, {ref} FROM (SELECT *, row_number() OVER (ORDER BY fid) AS n FROM {table}) c "
                "WHERE {ref} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.{column} = c.{ref}) "
                "ORDER BY n"
            ).format(
                label=label,
                ref=sql.Identifier(f.name),
                table=table(layer.name),
                target=table(target),
                column=sql.Identifier(column),
            )
        ).fetchall()
        for feature_id, n, value in rows:
            report.add(
                layer.name,
                feature_id or f"row {n}",
                "dangling_reference",
                f"{f.name} {value!r} names no feature of {target}.{column}",
            )
    return report


def _hazard(conn: psycopg.Connection, hazard_id: str, *, lock: bool) -> dict | None:
    """The stored hazard point (column -> value, plus ``geometry``), locked for this transaction with ``lock``."""
    statement = sql.SQL("{} WHERE hazard_id = %s{}").format(select(_POINTS), sql.SQL(" FOR UPDATE" if lock else ""))
    row = conn.execute(statement, [hazard_id]).fetchone()
    if row is None:
        return None
    return {**dict(zip(_POINTS.columns, row[:-1], strict=True)), "geometry": shapely.from_wkb(row[-1])}


def _point_frame(row: Mapping[str, object]) -> gpd.GeoDataFrame:
    """One hazard point as a layer, refused when it breaks the model on its own.

    Its references are checked once it is written, against the data set in the database.
    """
    frame = gpd.GeoDataFrame(
        [{column: row[column] for column in _POINTS.columns}], geometry=[row["geometry"]], crs=STORAGE_CRS
    )
    check_frames({"hazard_points": frame})
    return frame


def _finish_point_write(
    conn: psycopg.Connection, new: dict, *, user: str, action: str, diff: dict, versions: tuple[int | None, int]
) -> None:
    """Check the written point's references against the data set, then log the write in the same transaction."""
    refuse(_dangling(conn, ["hazard_points"]))
    audit = audit_row(new["updated_at"], user, "hazard_points", action, diff, new["hazard_id"], versions)
    _insert(conn, AUDIT_TABLE, [audit])
