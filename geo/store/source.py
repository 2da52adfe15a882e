"""Where a data set lives: the one place that tells a GeoPackage from a PostGIS database.

A :class:`Source` is made once, from ``--data`` or ``HAZMAP_DATA`` (else the embedded demo file), and handed on;
nothing else in hazmap looks at the string.  It also names the data set for people: a database URL without its
password or options.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from geo import settings

#: URL schemes of a PostgreSQL database; anything else is a GeoPackage path.
DATABASE_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Source:
    """A data set's location and the kind of storage it is.

    Attributes
    ----------
    location
        The GeoPackage's path, or the database URL exactly as given (it may hold a password: show
        :attr:`label` instead).
    kind
        ``gpkg`` or ``postgis``.
    """

    location: str
    kind: str

    @classmethod
    def of(cls, where: Source | str | os.PathLike | None = None) -> Source:
        """The source named by ``where``; None means ``HAZMAP_DATA``, else the demo GeoPackage."""
        if isinstance(where, Source):
            return where
        location = os.fspath(where) if where else settings.data_path()
        kind = "postgis" if location.startswith(DATABASE_SCHEMES) else "gpkg"
        return cls(location, kind)

    @property
    def is_database(self) -> bool:
        return self.kind == "postgis"

    @property
    def label(self) -> str:
        """The source as shown in messages, pages and JSON output: a URL loses its password and options."""
        if not self.is_database:
            return self.location
        parts = urlsplit(self.location)
        host = parts.netloc.rpartition("@")[2]
        netloc = f"{parts.username}@{host}" if parts.username else host
        return urlunsplit(parts._replace(netloc=netloc, query=""))

    def __str__(self) -> str:
        return self.label
