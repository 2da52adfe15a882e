"""What both store backends do to rows before they touch storage: checks, derived columns, diffs, audit rows.

Nothing here reads or writes a file or a database, so a GeoPackage write and a PostGIS write of the same edit
derive, check and log it identically.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.model.rules import danger_grade
from geo.model.schema import AUDIT_TABLE, LAYERS, TABLES, Report, SchemaError, validate_frames, validate_table

#: Seconds a writer waits for another writer (a lock file, or a database lock) before giving up.
LOCK_TIMEOUT_S = 120.0
#: Columns of the audit log as read back: its key, then its declared columns.
AUDIT_COLUMNS = [TABLES[AUDIT_TABLE].id_field, *TABLES[AUDIT_TABLE].columns]
#: Pandas dtypes a declared column is cast to before it is written (nullable where the kind allows NULL).
PANDAS_TYPES = {"text": object, "int": "Int64", "real": "Float64", "bool": "boolean", "time": object, "json": object}
#: Columns of a hazard point that the store sets itself on every edit.
DERIVED = ("danger_grade", "version", "updated_at")
#: Kept out of an audit row's ``changes``: the row records them in ``at`` and ``version_before/after``.
BOOKKEEPING = ("version", "updated_at")

#: Gets the stored layer; returns the layer to store and the audit rows to append, or raises to write nothing.
Rewrite = Callable[[gpd.GeoDataFrame], tuple[gpd.GeoDataFrame, list[dict]]]


def check_names(gdfs: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Raise :class:`ValueError` naming any key of ``gdfs`` that is not a layer of the data model."""
    unknown = sorted(set(gdfs) - set(LAYERS))
    if unknown:
        raise ValueError(f"not layers of the data model: {', '.join(unknown)}")


def check_table(name: str) -> None:
    """Raise :class:`ValueError` unless ``name`` is an attribute table of the data model."""
    if name not in TABLES:
        raise ValueError(f"not a table of the data model: {name} (tables: {', '.join(TABLES)})")


def check_frames(gdfs: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Refuse frames that break the model on their own; references are checked on the whole written result."""
    report = validate_frames(gdfs, required=[])
    refuse(Report([p for p in report.problems if p.rule != "dangling_reference"], report.layers_checked))


def refuse(report: Report) -> None:
    """Raise :class:`SchemaError` carrying ``report`` unless it is clean: every backend refuses a write this way."""
    if not report.ok:
        raise SchemaError(report)


def reference_targets(names: list[str]) -> set[str]:
    """The layers that columns of the layers ``names`` refer to (``shelter_id`` -> ``shelters``); both backends
    read them beside a partial write, to check its references."""
    return {f.ref.split(".")[0] for name in names if name in LAYERS for f in LAYERS[name].fields if f.ref}


def table_rows(name: str, rows: list[Mapping[str, object]]) -> pd.DataFrame:
    """Rows to append to table ``name``, as a frame of its declared columns, refused when they break the model.

    A column the table does not declare, or the key the store assigns, is a :class:`ValueError`; a declared
    column left out is empty.
    """
    check_table(name)
    table = TABLES[name]
    for row in rows:
        unknown = sorted(set(row) - set(table.columns))
        if unknown:
            raise ValueError(f"{name} has no column {', '.join(unknown)} (columns: {', '.join(table.columns)})")
    frame = pd.DataFrame([{column: row.get(column) for column in table.columns} for row in rows], columns=table.columns)
    refuse(validate_table(name, frame))
    return frame


def edited_row(name: str, current: Mapping[str, object], changes: Mapping[str, object]) -> dict:
    """One row of table ``name`` after ``changes``, refused when it breaks the model; the key cannot change."""
    table = TABLES[name]
    if table.id_field in changes:
        raise ValueError(f"{table.id_field} identifies a row of {name} and cannot be changed")
    unknown = sorted(set(changes) - set(table.columns))
    if unknown:
        raise ValueError(f"{name} has no column {', '.join(unknown)}")
    new = {**current, **changes}
    refuse(validate_table(name, pd.DataFrame([{c: new[c] for c in table.columns}], columns=table.columns)))
    return new


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


def check_keys(points: pd.DataFrame, values: Mapping[str, object]) -> None:
    """Refuse an edit of a hazard point that sets a derived column or names a column ``points`` does not have."""
    derived = sorted(set(values) & set(DERIVED))
    if derived:
        raise ValueError(f"{', '.join(derived)} of a hazard point are set by the store, not by an edit")
    unknown = sorted(set(values) - set(points.columns) - {"geometry"})
    if unknown:
        raise ValueError(f"hazard_points has no column {', '.join(unknown)}")


def derive_row(row: dict, version: int) -> dict:
    """Set the columns the store owns: version, updated_at and danger_grade (plan 3.2)."""
    row = {**row, "version": version, "updated_at": now_iso()}
    with contextlib.suppress(TypeError, ValueError):  # a bad count or amount: the validator names it
        row["danger_grade"] = danger_grade(row["threatened_people"], row["threatened_property_10k_yuan"])
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
        if column in BOOKKEEPING:
            continue
        if isinstance(value, shapely.Geometry) or isinstance(before, shapely.Geometry):
            before_wkt, after_wkt = (None if g is None else g.wkt for g in (before, value))
            if before_wkt != after_wkt:
                changed[column] = [before_wkt, after_wkt]
        elif native_value(before) != native_value(value):
            changed[column] = [native_value(before), native_value(value)]
    return changed


def table_frame(name: str, records: list[tuple]) -> pd.DataFrame:
    """Rows read from table ``name`` (key first, then the declared columns) as a frame both backends return.

    Whole numbers come back as nullable ``Int64`` and booleans as nullable ``boolean``, whatever the backend
    stored, so a caller never sees a float where the model says integer.
    """
    table = TABLES[name]
    frame = pd.DataFrame(records, columns=[table.id_field, *table.columns])
    types = {table.id_field: "int64"}
    types.update(
        {f.name: {"int": "Int64", "bool": "boolean", "real": "Float64"}.get(f.kind, object) for f in table.fields}
    )
    return frame.astype(types)
