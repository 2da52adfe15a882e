"""Writing a previewed import through the store: one locked, validated write with an audit row per feature.

The store's public edits (``add_hazard_point``, ``update_hazard_point``) write one feature each; an import of
hundreds of rows must land all together or not at all, and must be checked against the stored features while no
one else can write.  :func:`geo.store.rewrite_layer` does that read-check-write on either backend (its lock and
atomic replace for a GeoPackage, one table-locking transaction for PostGIS, validation); this module supplies the
rewrite: the plan applied to what is stored now, with an audit row per feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from geo import store
from geo.importers.plan import Entry, ImportPlan, derive, merged_layer, stored_rows
from geo.model.schema import LAYERS


class ImportBlocked(ValueError):
    """Rejected rows stop the write; fix them, or ask for a partial import of the valid rows."""


@dataclass(frozen=True)
class ImportResult:
    """What an applied import wrote: ids added and updated, and how many rejected rows it left out."""

    layer: str
    added: list[str]
    updated: list[str]
    skipped: int

    def to_dict(self) -> dict:
        return {"layer": self.layer, "added": self.added, "updated": self.updated, "skipped_rejected": self.skipped}


def apply_plan(plan: ImportPlan, *, user: str, partial: bool = False) -> ImportResult:
    """Write a previewed import into ``plan.data``.

    Added hazard points get version 1, updated ones their version + 1, both ``updated_at`` and the danger grade
    derived by the store (plan 3.2); every added or updated feature gets an audit row (``insert``/``update``),
    and the import one ``import`` row naming the source.

    Parameters
    ----------
    plan
        From :func:`geo.importers.preview_import`.
    user
        Who imports, for the audit log.
    partial
        Write the valid rows even though others were rejected.

    Raises
    ------
    ImportBlocked
        Rows were rejected and ``partial`` is false; nothing is written.
    geo.store.ConflictError
        A feature the plan adds or updates changed in the data set since the preview; nothing is written.
    geo.model.schema.SchemaError, geo.store.StoreError
        The store refused the result or the data set; nothing is written.
    """
    if plan.blocked(partial):
        raise ImportBlocked(
            f"{plan.source}: {len(plan.rejected)} row(s) rejected, nothing written; fix them "
            "(see the rejected rows file) or import the valid rows only (partial import)"
        )
    edits = plan.added + plan.updated
    if edits:
        store.open(plan.data).rewrite_layer(plan.layer, lambda current: _rewrite(plan, edits, current, user))
    return ImportResult(
        plan.layer, [e.feature_id for e in plan.added], [e.feature_id for e in plan.updated], len(plan.rejected)
    )


def _rewrite(
    plan: ImportPlan, edits: list[Entry], current: gpd.GeoDataFrame, user: str
) -> tuple[gpd.GeoDataFrame, list[dict]]:
    """The layer with the plan's edits applied to what is stored now, and their audit rows."""
    layer = LAYERS[plan.layer]
    _check_unchanged(plan, edits, stored_rows(current, layer))
    at = store.now_iso()
    final, audit = [], []
    for entry in edits:
        before = None if entry.base is None else entry.base.get("version")
        new = derive(plan.layer, dict(entry.new), (before or 0) + 1)
        versions = (before, new["version"]) if "version" in new else (None, None)
        changes = store.diff_rows(entry.base or {}, new)
        action = "insert" if entry.action == "add" else "update"
        audit.append(store.audit_row(at, user, plan.layer, action, changes, entry.feature_id, versions))
        final.append(Entry(entry.row, entry.feature_id, entry.action, new, entry.base, changes))
    summary = {
        "source": [None, plan.source],
        "added": [None, len(plan.added)],
        "updated": [None, len(plan.updated)],
        "rejected_left_out": [None, len(plan.rejected)],
    }
    audit.append(store.audit_row(at, user, plan.layer, "import", summary))
    return merged_layer(current, final, layer), audit


def _check_unchanged(plan: ImportPlan, edits: list[Entry], stored: dict[str, dict]) -> None:
    """Refuse the write when a feature the plan touches was added or edited by someone else since the preview."""
    for entry in edits:
        current = stored.get(entry.feature_id)
        if entry.base is None and current is None:
            continue
        if (
            entry.base is not None
            and current is not None
            and not store.diff_rows(entry.base, current)
            and entry.base.get("version") == current.get("version")
        ):
            continue
        what = "was added" if entry.base is None else "changed or was removed"
        raise store.ConflictError(
            f"{plan.data.label}: {plan.layer} {entry.feature_id!r} {what} since the preview; preview the import again",
            current or {},
        )
