"""The errors every store backend raises, so callers catch one family whatever holds the data."""

from __future__ import annotations


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
