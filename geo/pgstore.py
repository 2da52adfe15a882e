"""PostGIS storage of a hazmap data set, behind the names of :mod:`geo.store`, for many users at once.

``geo.store`` hands every call whose ``path`` is a ``postgresql://`` (or ``postgres://``) URL to the function of
the same name here, so the app, the CLI, the analyses, the exports and the importers work on either backend
unchanged.  What the GeoPackage gets from its lock file and atomic rename, the database gets from transactions:

- The tables are derived from :data:`geo.schema.LAYERS`, one per layer in the schema :data:`SCHEMA`, and carry the
  model's rules as constraints (NOT NULL, UNIQUE, enums and minimums as CHECKs, the geometry family, foreign keys)
  and its Chinese titles as comments, so a client that bypasses hazmap (psql, QGIS) cannot store what the
  validator would refuse.  The validator still runs first, because it names every problem at once.
- A layer write (``create``, ``write_layers``) is one transaction: readers see the old layers or the new ones.
- An edit of a hazard point is one transaction with optimistic locking on ``version``: the UPDATE only matches
  the version the edit was based on, and matching nothing means another user got there first
  (:class:`geo.store.ConflictError`, carrying the stored row).  Its audit row commits with it or not at all.
- Reads of several layers share one snapshot, so an analysis never mixes layers from before and after an edit.

Unlike a new GeoPackage, a database keeps its audit log when a data set is created over it again: the log is
the record of who changed what, and :func:`last_change` (its newest id) tells a cache that anything changed.

Columns a frame carries beyond the data model are not stored (a warning names them): table definitions come
from the model alone, never from user data.  Every value reaches the database as a bound parameter or through
COPY; identifiers come only from the model's fixed lists, quoted by :class:`psycopg.sql.Identifier`.

Two analyses run in the database, where the data already is and its spatial indexes answer: exposure by
warning area (:func:`exposure_counts`) and the nearest open pools by straight-line distance
(:func:`nearest_pools_straight`, a KNN search on an index of the metric projection).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import psycopg.errors
import shapely
from psycopg import sql

from geo import exposure, pools, rules, store
from geo.schema import AUDIT_TABLE, LAYERS, STORAGE_CRS, Field, Layer, Report, validate_frames
from geo.settings import is_database_url, redact
from geo.store import AUDIT_COLUMNS, ConflictError, StoreError

#: The PostgreSQL schema holding the tables of a data set.
SCHEMA = "hazmap"
#: SRID of every geometry column.
SRID = int(STORAGE_CRS.removeprefix("EPSG:"))
#: Seconds to wait for a connection before giving up.
CONNECT_TIMEOUT_S = 10

_SQL_TYPES = {"text": "text", "int": "bigint", "real": "double precision", "bool": "boolean"}
#: Pandas dtypes of the columns read, as the GeoPackage backend returns them; the nullable ones where a
#: column holds NULLs.
_DTYPES = {"text": "str", "int": "int64", "real": "float64", "bool": "bool"}
_NULLABLE_DTYPES = {"text": "str", "int": "Int64", "real": "float64", "bool": "boolean"}
#: ``GeometryType()`` names each declared geometry type accepts; SCHEMA.md allows the Multi* form everywhere.
_GEOMETRY_NAMES = {kind: (kind.upper(), "MULTI" + kind.upper()) for kind in ("Point", "LineString", "Polygon")}
_POINTS = LAYERS["hazard_points"]
#: An empty frame with the hazard points' columns, for the store's checks of edited keys.
_POINT_COLUMNS = pd.DataFrame(columns=_POINTS.columns)
_AUDIT_DDL = """CREATE TABLE IF NOT EXISTS {} (
    audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    "user" text NOT NULL,
    layer text NOT NULL,
    feature_id text,
    action text NOT NULL,
    version_before bigint,
    version_after bigint,
    changes jsonb)"""


def _table(name: str) -> sql.Identifier:
    return sql.Identifier(SCHEMA, name)


@contextmanager
def _connect(url: str, *, read_only: bool = False) -> Iterator[psycopg.Connection]:
    """A connection holding one transaction: committed when the block succeeds, rolled back when it raises.

    With ``read_only`` the transaction is REPEATABLE READ, so every layer read in it comes from one snapshot.
    Database errors become :class:`geo.store.StoreError` naming the database (never its password).
    """
    label = redact(url)
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            if read_only:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
            # A writer waits for another as long as a GeoPackage writer waits for the lock file.  JIT compiling
            # takes longer than any of hazmap's queries (0.7 s against 30 ms for the exposure of 2000 points).
            conn.execute(
                "SELECT set_config('lock_timeout', %s, true), set_config('jit', 'off', true)",
                [f"{store.LOCK_TIMEOUT_S:.0f}s"],
            )
            yield conn
    except psycopg.errors.LockNotAvailable:
        raise StoreError(f"{label}: another writer has held a lock for {store.LOCK_TIMEOUT_S:.0f} s") from None
    except psycopg.errors.IntegrityError as exc:
        raise StoreError(f"{label}: the database refused the write: {exc}") from exc
    except psycopg.Error as exc:
        raise StoreError(f"{label}: {exc}") from exc


def _tables(conn: psycopg.Connection) -> set[str]:
    """Data-model layers that have a table in :data:`SCHEMA`."""
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA]).fetchall()
    return {name for (name,) in rows if name in LAYERS}


def _require_tables(conn: psycopg.Connection, url: str, names: list[str]) -> None:
    missing = [name for name in names if name not in _tables(conn)]
    if missing:
        raise StoreError(
            f"{redact(url)}: no table {', '.join(map(repr, missing))} in schema {SCHEMA!r} "
            "(load a data set with `python -m geo db push`)"
        )


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
    """CREATE TABLE of a layer: ``fid`` (keeps the order rows were written in), the model's columns, ``geom``."""
    families = sql.SQL(", ").join(map(sql.Literal, _GEOMETRY_NAMES[layer.geometry]))
    geometry = sql.SQL(
        "geom geometry(Geometry, {srid}) NOT NULL CONSTRAINT {name} CHECK (GeometryType(geom) IN ({families}) "
        "AND NOT ST_IsEmpty(geom))"
    ).format(srid=sql.Literal(SRID), name=sql.Identifier(f"{layer.name}_geom_type"), families=families)
    columns = [
        sql.SQL("fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
        *(_column_ddl(layer, f) for f in layer.fields),
        geometry,
    ]
    return sql.SQL("CREATE TABLE {} ({})").format(_table(layer.name), sql.SQL(", ").join(columns))


def _references() -> list[tuple[Layer, Field, str, str]]:
    """Every reference of the model: (layer, field, target layer, target column)."""
    return [(layer, f, *f.ref.split(".")) for layer in LAYERS.values() for f in layer.fields if f.ref]


def _create_tables(conn: psycopg.Connection, metric_srid: int) -> None:
    """Replace the layer tables by empty ones built from the model; create the audit log if missing.

    The foreign keys are checked at commit, so a transaction may replace a layer and the layers that refer to
    it in any order.  ``metric_srid`` is the Gauss-Krueger zone of the data: the pools get a spatial index of
    their projection into it, which the nearest-pool search walks.
    """
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
    # One statement, so the references among the tables do not decide an order; without CASCADE, a view a
    # user built on them stops the drop rather than vanishing with it.
    tables = sql.SQL(", ").join(_table(name) for name in LAYERS)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tables))
    for layer in LAYERS.values():
        conn.execute(_table_ddl(layer))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(_table(layer.name)))
        conn.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(
                _table(layer.name), sql.Literal(f"{layer.title_zh} {layer.title_en}")
            )
        )
        for f in layer.fields:
            conn.execute(
                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    _table(layer.name), sql.Identifier(f.name), sql.Literal(f"{f.title_zh} {f.title_en}")
                )
            )
    for layer, f, target, column in _references():
        conn.execute(
            sql.SQL(
                "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
                "REFERENCES {target} ({target_column}) DEFERRABLE INITIALLY DEFERRED"
            ).format(
                table=_table(layer.name),
                name=sql.Identifier(f"{layer.name}_{f.name}_fkey"),
                column=sql.Identifier(f.name),
                target=_table(target),
                target_column=sql.Identifier(column),
            )
        )
        conn.execute(sql.SQL("CREATE INDEX ON {} ({})").format(_table(layer.name), sql.Identifier(f.name)))
    conn.execute(
        sql.SQL("CREATE INDEX pools_geom_metric ON {} USING gist (ST_Transform(geom, {}))").format(
            _table("pools"), sql.Literal(metric_srid)
        )
    )
    conn.execute(sql.SQL(_AUDIT_DDL).format(_table(AUDIT_TABLE)))
    conn.execute(sql.SQL("COMMENT ON TABLE {} IS '编辑审计日志 Audit log'").format(_table(AUDIT_TABLE)))


def _ensure_postgis(conn: psycopg.Connection, url: str) -> None:
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION postgis")
    except psycopg.errors.InsufficientPrivilege:
        raise StoreError(
            f"{redact(url)}: PostGIS is not installed in this database; ask its owner to run CREATE EXTENSION postgis"
        ) from None


def _metric_srid(layers: Mapping[str, gpd.GeoDataFrame]) -> int:
    """EPSG code of the CRS :func:`geo.pools.metric_crs` measures in: the zone of the district's centre."""
    return int(pools.metric_crs(layers).removeprefix("EPSG:"))


# --------------------------------------------------------------------------------------------------
# Reading


def _select(layer: Layer) -> sql.Composable:
    """SELECT of a layer's columns and its geometry as WKB, in the order the rows were written."""
    columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in layer.fields)
    return sql.SQL("SELECT {}, ST_AsBinary(geom) FROM {}").format(columns, _table(layer.name))


def _frame(layer: Layer, rows: list[tuple]) -> gpd.GeoDataFrame:
    columns = list(zip(*rows, strict=True)) or [()] * (len(layer.fields) + 1)
    data = {}
    for f, values in zip(layer.fields, columns[:-1], strict=True):
        dtype = (_NULLABLE_DTYPES if None in values else _DTYPES)[f.kind]
        data[f.name] = pd.array(list(values), dtype=dtype)
    geometry = shapely.from_wkb(np.array(columns[-1], dtype=object))
    return gpd.GeoDataFrame(data, geometry=geometry, crs=STORAGE_CRS)


def _read(conn: psycopg.Connection, layer: Layer) -> gpd.GeoDataFrame:
    return _frame(layer, conn.execute(sql.SQL("{} ORDER BY fid").format(_select(layer))).fetchall())


def read_layers(url: str, layers: list[str] | None = None, *, validate: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """Read layers of the data set in the database, from one snapshot; see :func:`geo.store.read_layers`.

    Parameters
    ----------
    url
        ``postgresql://user@host:port/database``; the password may come from the URL, ``PGPASSWORD`` or
        ``~/.pgpass``.
    layers
        Layers to read, in the order wanted; None reads every layer of the model the database has.
    validate
        Check what was read against the data model and raise :class:`geo.schema.SchemaError` on any error.

    Returns
    -------
    dict[str, geopandas.GeoDataFrame]
        Layer name -> frame in EPSG:4490, rows in the order they were written, columns typed as the GeoPackage
        backend returns them.
    """
    with _connect(url, read_only=True) as conn:
        available = _tables(conn)
        names = [name for name in LAYERS if name in available] if layers is None else list(layers)
        missing = [name for name in names if name not in available]
        if missing:
            has = ", ".join(sorted(available)) or "none"
            raise StoreError(f"{redact(url)}: no layer {', '.join(map(repr, missing))} (layers in the database: {has})")
        # Validation resolves references against the referenced layers even where they were not asked for.
        targets = store.reference_targets(names) if validate else set()
        extra = [name for name in LAYERS if name in targets and name in available and name not in names]
        gdfs = {name: _read(conn, LAYERS[name]) for name in [*names, *extra]}
    if validate:
        report = validate_frames(gdfs, required=None if layers is None else names)
        store.refuse(Report([p for p in report.problems if p.layer not in extra], names))
    return {name: gdfs[name] for name in names}


def _has_audit(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.{AUDIT_TABLE}"]).fetchone()[0] is not None


def read_audit(url: str) -> pd.DataFrame:
    """Return the audit log, oldest first, as :func:`geo.store.read_audit` does (``at`` as ISO-8601 UTC text)."""
    with _connect(url, read_only=True) as conn:
        if not _has_audit(conn):
            return pd.DataFrame(columns=AUDIT_COLUMNS)
        rows = conn.execute(
            sql.SQL(
                """SELECT audit_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), "user", layer,
                feature_id, action, version_before, version_after, changes::text FROM {} ORDER BY audit_id"""
            ).format(_table(AUDIT_TABLE))
        ).fetchall()
    log = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    return log.astype({"audit_id": "int64", "version_before": "Int64", "version_after": "Int64"})


def last_change(url: str) -> int:
    """Id of the newest audit row: every write adds one, so a changed number means changed data (0: none yet)."""
    with _connect(url, read_only=True) as conn:
        if not _has_audit(conn):
            return 0
        return conn.execute(
            sql.SQL("SELECT coalesce(max(audit_id), 0) FROM {}").format(_table(AUDIT_TABLE))
        ).fetchone()[0]


# --------------------------------------------------------------------------------------------------
# Writing whole layers


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
            stacklevel=4,
        )
    values = []
    for f in layer.fields:
        column = gdf[f.name].astype(store._PANDAS_TYPES[f.kind]).astype(object)
        values.append(column.where(column.notna(), None).tolist())
    # The frame was validated: its CRS is EPSG:4490, or EPSG:4326, which SCHEMA.md reads as CGCS2000.
    values.append(_ewkb(gdf.geometry.to_numpy(), hex=True))
    columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in layer.fields)
    statement = sql.SQL("COPY {} ({}, geom) FROM STDIN").format(_table(name), columns)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in zip(*values, strict=True):
            copy.write_row(row)


def _count(conn: psycopg.Connection, name: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_table(name))).fetchone()[0]


def _load(conn: psycopg.Connection, url: str, gdfs: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Copy the frames into their (empty) tables, check the row counts and the references, refresh statistics."""
    for name, gdf in gdfs.items():
        _copy_rows(conn, name, gdf)
        stored = _count(conn, name)
        if stored != len(gdf):
            raise StoreError(f"{redact(url)}: {name} holds {stored} rows after loading {len(gdf)}")
    store.refuse(_dangling(conn, list(gdfs)))
    for name in gdfs:
        conn.execute(sql.SQL("ANALYZE {}").format(_table(name)))


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
                table=_table(layer.name),
                target=_table(target),
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


def create(url: str, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
    """Write a complete new data set into the database in one transaction; see :func:`geo.store.create`.

    The layer tables are dropped and built again from the data model (PostGIS is installed when missing and
    the user may), so they always follow the current model; the audit log is kept and gets one
    ``replace_layer`` row per layer.

    Raises
    ------
    geo.schema.SchemaError
        The layers break the data model; nothing is written.
    StoreError
        The database cannot be reached or refuses the tables (e.g. a user's view depends on them).
    """
    store.check_names(gdfs)
    store.refuse(validate_frames(gdfs))
    ordered = {name: gdfs[name] for name in LAYERS}
    at = store.now_iso()
    audit = [
        store.audit_row(at, user, name, "replace_layer", {"features": [None, len(gdf)]})
        for name, gdf in ordered.items()
    ]
    with _connect(url) as conn:
        _ensure_postgis(conn, url)
        _create_tables(conn, _metric_srid(ordered))
        _load(conn, url, ordered)
        _insert_audit(conn, audit)


def rewrite_layer(url: str, name: str, rewrite: store.Rewrite) -> None:
    """PostGIS side of :func:`geo.store.rewrite_layer`: one transaction with the table locked against writers."""
    with _connect(url) as conn:
        _require_tables(conn, url, [name])
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(_table(name)))
        frame, audit = rewrite(_read(conn, LAYERS[name]))
        store.check_frames({name: frame})
        conn.execute(sql.SQL("DELETE FROM {}").format(_table(name)))
        _load(conn, url, {name: frame})
        _insert_audit(conn, audit)


def write_layers(url: str, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
    """Replace one or more layers in one transaction; see :func:`geo.store.write_layers`.

    Other writers of these layers wait until it commits (readers do not); references from and to the replaced
    layers are checked against the data set it leaves.
    """
    store.check_names(gdfs)
    store.check_frames(gdfs)
    names = list(gdfs)
    at = store.now_iso()
    with _connect(url) as conn:
        _require_tables(conn, url, names)
        tables = sql.SQL(", ").join(_table(name) for name in names)
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(tables))
        audit = [
            store.audit_row(at, user, name, "replace_layer", {"features": [_count(conn, name), len(gdf)]})
            for name, gdf in gdfs.items()
        ]
        for name in names:
            conn.execute(sql.SQL("DELETE FROM {}").format(_table(name)))
        _load(conn, url, gdfs)
        _insert_audit(conn, audit)


def _insert_audit(conn: psycopg.Connection, rows: list[dict]) -> None:
    statement = sql.SQL(
        'INSERT INTO {} (at, "user", layer, feature_id, action, version_before, version_after, changes) VALUES '
        "(%(at)s, %(user)s, %(layer)s, %(feature_id)s, %(action)s, %(version_before)s, %(version_after)s, "
        "%(changes)s::jsonb)"
    ).format(_table(AUDIT_TABLE))
    with conn.cursor() as cur:
        cur.executemany(statement, rows)


# --------------------------------------------------------------------------------------------------
# Editing hazard points


def _hazard(conn: psycopg.Connection, hazard_id: str, *, lock: bool) -> dict | None:
    """The stored hazard point (column -> value, plus ``geometry``), locked for this transaction with ``lock``."""
    statement = sql.SQL("{} WHERE hazard_id = %s{}").format(_select(_POINTS), sql.SQL(" FOR UPDATE" if lock else ""))
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
    store.check_frames({"hazard_points": frame})
    return frame


def _finish_point_write(
    conn: psycopg.Connection, new: dict, *, user: str, action: str, diff: dict, versions: tuple[int | None, int]
) -> None:
    """Check the written point's references against the data set, then log the write in the same transaction."""
    store.refuse(_dangling(conn, ["hazard_points"]))
    audit = store.audit_row(new["updated_at"], user, "hazard_points", action, diff, new["hazard_id"], versions)
    _insert_audit(conn, [audit])


def _conflict(url: str, hazard_id: str, base: int, current: dict | None) -> StoreError:
    if current is None:
        return StoreError(f"{redact(url)}: hazard point {hazard_id!r} was removed while it was being edited")
    return ConflictError(
        f"{redact(url)}: hazard point {hazard_id!r} is at version {current['version']}, the edit was based on "
        f"version {base}; reload it and edit again",
        current,
    )


def _edit_hazard(
    url: str,
    hazard_id: str,
    changes: Mapping[str, object],
    *,
    user: str,
    expected_version: int | None,
    action: str,
) -> dict:
    if "hazard_id" in changes:
        raise ValueError("hazard_id (统一编号) identifies the point and cannot be changed")
    store.check_keys(_POINT_COLUMNS, changes)
    with _connect(url) as conn:
        _require_tables(conn, url, ["hazard_points"])
        # Without a version to check against, the edit applies to what is stored now: lock the row so that
        # nobody changes it between this read and the UPDATE.
        current = _hazard(conn, hazard_id, lock=expected_version is None)
        if current is None:
            raise StoreError(f"{redact(url)}: hazard_points has no hazard_id {hazard_id!r}")
        base = current["version"] if expected_version is None else expected_version
        if current["version"] != base:
            raise _conflict(url, hazard_id, base, current)
        new = store.derive_row({**current, **changes}, version=base + 1)
        diff = store.diff_rows(current, new)
        if not diff:
            return current
        _point_frame(new)  # refuse a bad value before touching the table
        columns = [*diff, *store._BOOKKEEPING]
        assignments = sql.SQL(", ").join(
            sql.SQL("geom = ST_GeomFromEWKB(%s)")
            if column == "geometry"
            else sql.SQL("{} = %s").format(sql.Identifier(column))
            for column in columns
        )
        values = [
            _ewkb(np.array([new[column]]), hex=False)[0] if column == "geometry" else store.native_value(new[column])
            for column in columns
        ]
        # Matches only the version the edit was based on: when another edit committed since it was read, this
        # matches nothing, and the stored row, read again, tells the user what changed.
        updated = conn.execute(
            sql.SQL("UPDATE {} SET {} WHERE hazard_id = %s AND version = %s").format(
                _table("hazard_points"), assignments
            ),
            [*values, hazard_id, base],
        )
        if updated.rowcount != 1:
            raise _conflict(url, hazard_id, base, _hazard(conn, hazard_id, lock=False))
        _finish_point_write(conn, new, user=user, action=action, diff=diff, versions=(base, base + 1))
    return new


def update_hazard_point(
    url: str, hazard_id: str, changes: Mapping[str, object], *, user: str, expected_version: int | None = None
) -> dict:
    """Change columns (or, with key ``geometry``, the location) of one hazard point in one transaction.

    See :func:`geo.store.update_hazard_point`; the version check is done by the UPDATE itself, so two users
    editing the same version at the same moment get one success and one :class:`geo.store.ConflictError`.
    """
    return _edit_hazard(url, hazard_id, changes, user=user, expected_version=expected_version, action="update")


def set_hazard_status(url: str, hazard_id: str, status: str, *, user: str, expected_version: int | None = None) -> dict:
    """Mark a hazard point ``treated``, ``cancelled`` or ``active``; see :func:`geo.store.set_hazard_status`."""
    return _edit_hazard(
        url, hazard_id, {"status": status}, user=user, expected_version=expected_version, action="status"
    )


def add_hazard_point(url: str, row: Mapping[str, object], geometry: shapely.Geometry, *, user: str) -> dict:
    """Add a hazard point in one transaction; see :func:`geo.store.add_hazard_point`.

    Raises
    ------
    ConflictError
        A point with this ``hazard_id`` exists, or another user added one at the same moment.
    """
    if "geometry" in row:
        raise ValueError("pass the location as the geometry argument, not in the row")
    store.check_keys(_POINT_COLUMNS, row)
    hazard_id = row.get("hazard_id")
    new = store.derive_row({**dict.fromkeys(_POINTS.columns), "status": "active", **row}, version=1)
    new["geometry"] = geometry
    with _connect(url) as conn:
        _require_tables(conn, url, ["hazard_points"])
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
            raise ConflictError(f"{redact(url)}: hazard point {hazard_id!r} exists already", existing)
        _finish_point_write(conn, new, user=user, action="insert", diff=store.diff_rows({}, new), versions=(None, 1))
    return new


# --------------------------------------------------------------------------------------------------
# Moving a data set between a GeoPackage and the database


def push(path: str | os.PathLike, url: str, *, user: str) -> dict[str, int]:
    """Load a GeoPackage into the database, replacing the data set there; return the rows per layer.

    The file is validated first (nothing reaches the database when it breaks the model), then loaded by
    :func:`create` in one transaction that checks the row count of every table before it commits.
    """
    if is_database_url(path) or not is_database_url(url):
        raise ValueError("db push copies a GeoPackage file to a postgresql:// URL")
    layers = store.read_layers(path, validate=True)
    create(url, layers, user=user)
    return {name: len(gdf) for name, gdf in layers.items()}


def pull(url: str, path: str | os.PathLike, *, user: str) -> dict[str, int]:
    """Write the database's data set to a new GeoPackage (through :func:`geo.store.create`); return the rows."""
    if not is_database_url(url) or is_database_url(path):
        raise ValueError("db pull copies a postgresql:// URL to a GeoPackage file")
    layers = read_layers(url, validate=True)
    store.create(path, layers, user=user)
    return {name: len(gdf) for name, gdf in layers.items()}


# --------------------------------------------------------------------------------------------------
# Analyses in the database

#: Counts of :func:`exposure_counts`: those of :data:`geo.exposure.COUNT_COLUMNS` but the breakdowns by grade
#: and type.
EXPOSURE_COUNTS = exposure.HEADLINE_COUNTS

_EXPOSURE_SQL = """
WITH member AS (
    SELECT a.fid AS area, h.hazard_id, h.threatened_people, h.threatened_households
    FROM {areas} a JOIN {points} h ON h.status = 'active' AND ST_Intersects(a.geom, h.geom)
), zone AS (
    SELECT m.area, z.geom FROM member m JOIN {zones} z USING (hazard_id)
), village AS (
    -- DISTINCT: a village in several zones of an area's points is one village (the union of the zones).
    SELECT DISTINCT zone.area, v.fid, v.population, v.households
    FROM zone JOIN {villages} v ON ST_Intersects(zone.geom, v.geom)
), school AS (
    SELECT DISTINCT zone.area, s.fid, s.students FROM zone JOIN {schools} s ON ST_Intersects(zone.geom, s.geom)
)
SELECT a.warning_id, a.level,
    coalesce(m.points, 0), coalesce(m.people, 0), coalesce(m.households, 0),
    coalesce(v.villages, 0), coalesce(v.people, 0), coalesce(v.households, 0),
    coalesce(s.schools, 0), coalesce(s.students, 0)
FROM {areas} a
LEFT JOIN (
    SELECT area, count(*) AS points, sum(threatened_people)::bigint AS people,
        sum(threatened_households)::bigint AS households
    FROM member GROUP BY area
) m ON m.area = a.fid
LEFT JOIN (
    SELECT area, count(*) AS villages, sum(population)::bigint AS people, sum(households)::bigint AS households
    FROM village GROUP BY area
) v ON v.area = a.fid
LEFT JOIN (SELECT area, count(*) AS schools, sum(students)::bigint AS students FROM school GROUP BY area) s
    ON s.area = a.fid
ORDER BY array_position(%(levels)s::text[], a.level) DESC, a.warning_id
"""


def exposure_counts(url: str) -> pd.DataFrame:
    """Hazard points and what their danger zones threaten, per stored warning area, computed in PostGIS.

    The figures of :func:`geo.exposure.analyse` for the same areas (SCHEMA.md "Definitions the analyses use"):
    an active hazard point counts in every area it lies in or on; the villages and schools counted are those in
    or on any danger zone of the area's points, each once.  Predicates run on the stored CGCS2000 coordinates.

    Returns
    -------
    pandas.DataFrame
        ``warning_id``, ``level`` and :data:`EXPOSURE_COUNTS` (int64), one row per area, highest level first.
    """
    tables = {name: _table(name) for name in ("warning_areas", "danger_zones", "villages", "schools")}
    statement = sql.SQL(_EXPOSURE_SQL).format(
        areas=tables["warning_areas"],
        points=_table("hazard_points"),
        zones=tables["danger_zones"],
        villages=tables["villages"],
        schools=tables["schools"],
    )
    levels = sorted(rules.WARNING_LEVELS, key=rules.level_rank)
    with _connect(url, read_only=True) as conn:
        _require_tables(conn, url, ["hazard_points", *tables])
        rows = conn.execute(statement, {"levels": levels}).fetchall()
    counts = pd.DataFrame(rows, columns=["warning_id", "level", *EXPOSURE_COUNTS])
    return counts.astype(dict.fromkeys(EXPOSURE_COUNTS, "int64"))


_NEAREST_SQL = """
SELECT s.school_id, n.rank, n.pool_id, n.distance_m
FROM {schools} s
CROSS JOIN LATERAL (
    SELECT knn.pool_id, knn.distance_m, row_number() OVER (ORDER BY knn.distance_m, knn.fid) AS rank
    FROM (
        -- KNN: the index on the pools' projection hands out pools nearest first, so only k are measured.
        SELECT p.fid, p.pool_id,
            ST_Distance(ST_Transform(p.geom, %(srid)s), ST_Transform(s.geom, %(srid)s)) AS distance_m
        FROM {pools} p
        WHERE p.status = 'open'
        ORDER BY ST_Transform(p.geom, %(srid)s) <-> ST_Transform(s.geom, %(srid)s), p.fid
        LIMIT %(k)s
    ) knn
) n
WHERE NOT s.has_pool
ORDER BY s.fid, n.rank
"""


def nearest_pools_straight(url: str, k: int = 3) -> pd.DataFrame:
    """The k nearest open pools of every school without a pool, by straight-line distance, computed in PostGIS.

    The ``nearest`` table of :func:`geo.pools.pool_coverage` with ``metric="straight"``: distances in metres in
    the Gauss-Krueger zone of the district's centre (SCHEMA.md "Coordinates"), ties broken by pool order.

    Returns
    -------
    pandas.DataFrame
        ``school_id``, ``rank`` (1 = nearest), ``pool_id``, ``distance_m``, ``metric`` (``straight``).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    statement = sql.SQL(_NEAREST_SQL).format(schools=_table("schools"), pools=_table("pools"))
    with _connect(url, read_only=True) as conn:
        _require_tables(conn, url, ["district", "schools", "pools"])
        srid = _metric_srid({name: _read(conn, LAYERS[name]) for name in ("district", "schools")})
        rows = conn.execute(statement, {"srid": srid, "k": k}).fetchall()
    nearest = pd.DataFrame(rows, columns=["school_id", "rank", "pool_id", "distance_m"])
    return nearest.astype({"rank": "int64", "distance_m": "float64"}).assign(metric="straight")
