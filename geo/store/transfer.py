"""``db push`` and ``db pull``: move a data set between a GeoPackage and a PostGIS database.

Each side is read and written through the store front, so a transfer gets the same validation and atomicity as
any other write: nothing reaches the target when the source breaks the data model, and the target is replaced in
one transaction (database) or one rename (file).  The target's audit log records the transfer; it does not
inherit the source's log.
"""

from __future__ import annotations

import os

from geo.store import open as open_store
from geo.store.source import Source


def push(path: Source | str | os.PathLike, url: Source | str, *, user: str) -> dict[str, int]:
    """Load a GeoPackage into the database, replacing the data set there; return the rows per layer."""
    source, target = Source.of(path), Source.of(url)
    if source.is_database or not target.is_database:
        raise ValueError("db push copies a GeoPackage file to a postgresql:// URL")
    return _copy(source, target, user)


def pull(url: Source | str, path: Source | str | os.PathLike, *, user: str) -> dict[str, int]:
    """Write the database's data set to a new GeoPackage; return the rows per layer."""
    source, target = Source.of(url), Source.of(path)
    if not source.is_database or target.is_database:
        raise ValueError("db pull copies a postgresql:// URL to a GeoPackage file")
    return _copy(source, target, user)


def _copy(source: Source, target: Source, user: str) -> dict[str, int]:
    layers = open_store(source).read_layers(validate=True)
    open_store(target).create(layers, user=user)
    return {name: len(gdf) for name, gdf in layers.items()}
