"""The storage front: :func:`open` a data source and get a :class:`Store` that reads, writes and edits it.

Callers never ask whether data live in a GeoPackage or in PostGIS.  :class:`Source` tells the two apart (the
only code that does); :func:`open` hands back the backend's :class:`Store`; both backends implement the same
interface (:mod:`geo.store.base`), share their row logic (:mod:`geo.store.rows`) and errors
(:mod:`geo.store.errors`), and never import each other.  ``psycopg`` is imported only when a database is opened.

>>> from geo.settings import DEMO_DATA
>>> store = open(DEMO_DATA)
>>> store.kind, sorted(store.read_layers(["townships"]))
('gpkg', ['townships'])
"""

from __future__ import annotations

import os

from geo.store.base import Store
from geo.store.errors import ConflictError, StoreError
from geo.store.rows import AUDIT_COLUMNS, Rewrite, audit_row, derive_row, diff_rows, now_iso
from geo.store.source import Source

__all__ = [
    "AUDIT_COLUMNS",
    "ConflictError",
    "Rewrite",
    "Source",
    "Store",
    "StoreError",
    "audit_row",
    "derive_row",
    "diff_rows",
    "now_iso",
    "open",
]


def open(source: Source | str | os.PathLike | None = None) -> Store:
    """The store of a data source: a path or URL, a :class:`Source`, or None for ``HAZMAP_DATA`` / the demo.

    Opening reads nothing: a missing file or an unreachable database is reported by the first read or write,
    as a :class:`StoreError`.
    """
    source = Source.of(source)
    if source.is_database:
        from geo.store.postgis import PostGISStore  # psycopg only where a database is

        return PostGISStore(source)
    from geo.store.gpkg import GeoPackageStore

    return GeoPackageStore(source)
