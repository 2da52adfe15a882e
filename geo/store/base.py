"""The interface every store backend implements: one abstract class, one subclass per kind of storage.

A caller never picks a backend: :func:`geo.store.open` does, from the data source.  What the backends share
above their own reads and writes (which layers to read with which, how a partial read is validated, the audit
log's typing, the report of :meth:`Store.validate`) is written here once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

import geopandas as gpd
import pandas as pd
import shapely

from geo.model.schema import AUDIT_TABLE, LAYERS, Report, validate_frames
from geo.store.errors import StoreError
from geo.store.rows import Rewrite, reference_targets, refuse
from geo.store.source import Source


class Store(ABC):
    """One hazmap data set: its layers, its attribute tables (the audit log among them) and their writes.

    Every write is atomic (all of it lands or none), validated against the data model before anything is
    stored, and recorded in the audit log.  Messages name the data set by :attr:`label`, never by a password.
    """

    #: ``gpkg`` or ``postgis``.
    kind: str

    def __init__(self, source: Source):
        self.source = source
        self.location = source.location
        self.label = source.label

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    # ----------------------------------------------------------------------------------------------
    # Reading

    def read_layers(self, layers: list[str] | None = None, *, validate: bool = False) -> dict[str, gpd.GeoDataFrame]:
        """Read layers of the data set, all from one state of it.

        Parameters
        ----------
        layers
            Layers to read, in the order wanted; None reads every layer of the data model the data set has.
        validate
            Check what was read against the data model and raise :class:`geo.model.schema.SchemaError` on any
            error.  With ``layers=None`` every layer of the model must be present; references are checked
            against the referenced layers even where those were not asked for.

        Returns
        -------
        dict[str, geopandas.GeoDataFrame]
            Layer name -> frame in EPSG:4490, rows in the order they were written; declared int and bool
            columns as int64 and bool (nullable types where a column holds NULLs).

        Raises
        ------
        StoreError
            The data set cannot be opened, is damaged, or lacks a requested layer.
        """
        with self._reader() as (available, read):
            return self._read_layers(available, read, layers, validate)

    def _read_layers(self, available, read, layers, validate) -> dict[str, gpd.GeoDataFrame]:
        if layers is None:
            names = [name for name in LAYERS if name in available]
        else:
            names = list(layers)
            missing = [name for name in names if name not in available]
            if missing:
                has = ", ".join(sorted(available)) or "none"
                raise StoreError(f"{self.label}: no layer {', '.join(map(repr, missing))} (layers here: {has})")
        targets = reference_targets(names) if validate else set()
        extra = [name for name in LAYERS if name in targets and name in available and name not in names]
        gdfs = {name: read(name) for name in [*names, *extra]}
        if validate:
            report = validate_frames(gdfs, required=None if layers is None else names)
            # Layers read only to resolve references answer for their own problems when they are read themselves.
            refuse(Report([p for p in report.problems if p.layer not in extra], names))
        return {name: gdfs[name] for name in names}

    def read_layer(self, name: str) -> gpd.GeoDataFrame:
        """Read one layer; see :meth:`read_layers`."""
        return self.read_layers([name])[name]

    def read_audit(self) -> pd.DataFrame:
        """The audit log, oldest first, with the columns of :data:`geo.store.rows.AUDIT_COLUMNS`.

        ``at`` is ISO-8601 UTC text; ``changes`` is JSON text ``{column: [old, new]}`` (geometries as WKT). A
        data set never written by the store has an empty log.
        """
        return self.read_table(AUDIT_TABLE)

    def validate(self) -> Report:
        """Check the whole data set against the data model; an unreadable one is a report of one problem."""
        try:
            gdfs = self.read_layers()
        except StoreError as exc:
            report = Report()
            report.add(self.label, None, "unreadable", str(exc))
            return report
        return validate_frames(gdfs)

    def layer_names(self) -> set[str]:
        """The layers of the data model that the data set holds."""
        with self._reader() as (available, _):
            return available

    @abstractmethod
    def _reader(self) -> AbstractContextManager[tuple[set[str], Callable[[str], gpd.GeoDataFrame]]]:
        """One state of the data set: the model's layers it holds, and a function reading one of them."""

    @abstractmethod
    def read_table(self, name: str) -> pd.DataFrame:
        """Every row of attribute table ``name`` of :data:`geo.model.schema.TABLES`, in the order appended.

        The columns are the table's key, then its declared columns (see :func:`geo.store.rows.table_frame`);
        a table never written is empty.
        """

    @abstractmethod
    def stamp(self) -> tuple[int, ...]:
        """What changes whenever the data set changes: the key of every cache of what is computed from it."""

    # ----------------------------------------------------------------------------------------------
    # Writing

    @abstractmethod
    def create(self, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
        """Write a complete new data set (every layer of the model), replacing what is there, atomically.

        Layers in EPSG:4326 are stored as EPSG:4490 with their coordinates unchanged.  Each layer gets a
        ``replace_layer`` audit row.  Raises :class:`geo.model.schema.SchemaError`, writing nothing, when the
        layers break the data model.
        """

    @abstractmethod
    def write_layers(self, gdfs: Mapping[str, gpd.GeoDataFrame], *, user: str) -> None:
        """Replace one or more layers of an existing data set, atomically, with one audit row per layer.

        Raises :class:`geo.model.schema.SchemaError` when a layer, or the data set it would leave (references
        included), breaks the data model; :class:`StoreError` when the data set is missing or damaged, or
        another writer holds it too long.  Either way nothing is written.
        """

    @abstractmethod
    def rewrite_layer(self, name: str, rewrite: Rewrite) -> None:
        """Replace layer ``name`` by ``rewrite(stored layer)`` while no other writer can change it.

        For batch changes that must land together and be checked against what is stored at the moment of
        writing (an import of hundreds of rows).  Whatever ``rewrite`` or the validation raises, nothing is
        written.
        """

    @abstractmethod
    def append(self, table: str, rows: list[Mapping[str, object]], *, user: str) -> list[int]:
        """Append rows to attribute table ``table`` and return the keys the store gave them, in order.

        The rows are checked against the table's declaration first (:class:`geo.model.schema.SchemaError`,
        nothing written); one ``append`` audit row records them, except in the audit log itself.
        """

    @abstractmethod
    def edit(self, table: str, key: int, changes: Mapping[str, object], *, user: str) -> dict:
        """Change columns of row ``key`` of attribute table ``table``; return the stored row after the edit.

        Audited with the columns' old and new values; an edit that changes nothing writes nothing.  Raises
        :class:`StoreError` when there is no such row.
        """

    @abstractmethod
    def add_hazard_point(self, row: Mapping[str, object], geometry: shapely.Geometry, *, user: str) -> dict:
        """Add a hazard point; ``row`` holds ``hazard_id`` and the other columns, ``geometry`` a Point in EPSG:4490.

        ``status`` defaults to ``active``; ``version`` (1), ``updated_at`` and ``danger_grade`` are set by the
        store.  Returns the stored row with ``geometry``; raises :class:`geo.store.errors.ConflictError` when a
        point with this ``hazard_id`` exists (``current`` is that point).
        """

    def update_hazard_point(
        self, hazard_id: str, changes: Mapping[str, object], *, user: str, expected_version: int | None = None
    ) -> dict:
        """Change columns (or, with key ``geometry``, the location) of one hazard point.

        The store bumps ``version``, sets ``updated_at`` and derives ``danger_grade`` from the threatened
        people and property (plan 3.2); these three, like ``hazard_id``, cannot be changed directly.  When
        ``expected_version`` differs from the stored version, :class:`geo.store.errors.ConflictError` is raised
        and nothing is written.  An edit that changes nothing writes nothing.  Returns the stored row after
        the edit, with ``geometry``.
        """
        return self._edit_hazard(hazard_id, changes, user=user, expected_version=expected_version, action="update")

    def set_hazard_status(self, hazard_id: str, status: str, *, user: str, expected_version: int | None = None) -> dict:
        """Mark a hazard point ``treated`` or ``cancelled`` (or ``active`` again): points are never deleted.

        See :meth:`update_hazard_point`; the audit row's action is ``status``.
        """
        return self._edit_hazard(
            hazard_id, {"status": status}, user=user, expected_version=expected_version, action="status"
        )

    @abstractmethod
    def _edit_hazard(
        self, hazard_id: str, changes: Mapping[str, object], *, user: str, expected_version: int | None, action: str
    ) -> dict:
        """The edit behind :meth:`update_hazard_point` and :meth:`set_hazard_status`."""
