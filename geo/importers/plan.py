"""The preview of an import: which rows would add a feature, update one (and how), change nothing, or be rejected.

Building a plan reads nothing and writes nothing: it takes the source table and the data set's layers, so the
CLI, the app and the tests preview exactly what :func:`geo.importers.commit.apply_plan` would write.  Features are
matched by the layer's id (``hazard_id``, ``village_id`` ...); an import never deletes one.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

from geo import store
from geo.importers.aliases import DEFAULTS, DERIVED
from geo.importers.base import Msg, field_msg
from geo.importers.readers import SourceTable
from geo.importers.rows import Converted, PositionOptions, convert_rows
from geo.importers.values import clean
from geo.model.crs import STORAGE_CRS
from geo.model.schema import LAYERS, Layer, validate_frames

#: A position that moved less than this (degrees, about 1 mm) has not moved: re-projection noise is no edit.
SAME_POSITION_DEG = 1e-8


@dataclass(frozen=True)
class Entry:
    """One source row that matches the model: ``action`` is ``add``, ``update`` or ``unchanged``.

    ``new`` is the whole feature after the import (``geometry`` included), ``base`` the stored feature it
    changes (None for an addition), ``changes`` maps column -> [old, new] (geometries as WKT) as the audit
    log records it.
    """

    row: int
    feature_id: str
    action: str
    new: dict
    base: dict | None
    changes: dict[str, list]


@dataclass(frozen=True)
class Rejection:
    """A source row that cannot be imported, and every reason why."""

    row: int
    feature_id: str | None
    reasons: tuple[Msg, ...]


@dataclass
class ImportPlan:
    """What importing a source into one layer of a data set would do; nothing is written until it is applied."""

    layer: str
    source: str
    data: store.Source
    entries: list[Entry]
    rejected: list[Rejection]
    notes: list[Msg]
    columns: dict[str, str]
    source_frame: pd.DataFrame = field(repr=False)
    source_geometry: gpd.GeoSeries | None = field(default=None, repr=False)
    #: The source file's path as given; a file written for the user (the rejected rows) must never be it.
    source_path: str | None = field(default=None, repr=False)

    def _of(self, action: str) -> list[Entry]:
        return [e for e in self.entries if e.action == action]

    @property
    def added(self) -> list[Entry]:
        return self._of("add")

    @property
    def updated(self) -> list[Entry]:
        return self._of("update")

    @property
    def unchanged(self) -> list[Entry]:
        return self._of("unchanged")

    def blocked(self, partial: bool = False) -> bool:
        """True when rejected rows stop the write: they do unless a partial import was asked for."""
        return bool(self.rejected) and not partial

    def to_dict(self) -> dict:
        """The plan as JSON-ready data (the CLI's ``--json`` contract)."""
        return {
            "source": self.source,
            "layer": self.layer,
            "data": self.data.label,
            "columns": self.columns,
            "notes": [n.to_dict() for n in self.notes],
            "counts": {
                "added": len(self.added),
                "updated": len(self.updated),
                "unchanged": len(self.unchanged),
                "rejected": len(self.rejected),
            },
            "added": [{"row": e.row, "id": e.feature_id, "values": _jsonable(e.changes)} for e in self.added],
            "updated": [
                {
                    "row": e.row,
                    "id": e.feature_id,
                    "version": _versions(e),
                    "changes": _jsonable(e.changes),
                }
                for e in self.updated
            ],
            "unchanged": [{"row": e.row, "id": e.feature_id} for e in self.unchanged],
            "rejected": [
                {"row": r.row, "id": r.feature_id, "reasons": [m.to_dict() for m in r.reasons]} for r in self.rejected
            ],
        }

    def to_text(self) -> str:
        """A readable preview, row by row, as the CLI prints it."""
        layer = LAYERS[self.layer]
        out = [f"导入预览 / import preview: {self.source} → {self.layer} ({layer.title_zh}) in {self.data.label}"]
        if self.columns:
            out.append("列 / columns: " + ", ".join(f"{src} → {dst}" for src, dst in self.columns.items()))
        out += [f"  * {note}" for note in self.notes]
        out.append(f"\n新增 added: {len(self.added)}")
        for e in self.added:
            grade = f"danger_grade={e.new['danger_grade']}" if "danger_grade" in e.new else ""
            parts = [f"row {e.row}", e.feature_id, e.new.get("name") or "", _position(e.new.get("geometry")), grade]
            out.append("  " + "  ".join(part for part in parts if part))
        out.append(f"\n更新 updated: {len(self.updated)}")
        for e in self.updated:
            versions = _versions(e)
            head = f"  row {e.row}  {e.feature_id}" + (f"  (version {versions[0]} → {versions[1]})" if versions else "")
            out.append(head)
            out += [f"      {column}: {_show(old)} → {_show(new)}" for column, (old, new) in e.changes.items()]
        out.append(f"\n未变 unchanged: {len(self.unchanged)}")
        out.append(f"\n拒绝 rejected: {len(self.rejected)}")
        for r in self.rejected:
            out.append(f"  row {r.row}  {r.feature_id or '—'}")
            out += [f"      {reason}" for reason in r.reasons]
        return "\n".join(out)


def _versions(entry: Entry) -> list[int] | None:
    if entry.base is None or "version" not in entry.base:
        return None
    return [entry.base["version"], entry.new["version"]]


def _jsonable(changes: dict[str, list]) -> dict[str, list]:
    return {column: [clean(old), clean(new)] for column, (old, new) in changes.items()}


def _position(geom: object) -> str:
    if isinstance(geom, shapely.Point):
        return f"({geom.x:.6f}, {geom.y:.6f})"
    return "" if geom is None else str(getattr(geom, "geom_type", ""))


def _show(value: object) -> str:
    """A value in a preview line: WKT of a point as lon, lat; text quoted so blanks and hostile text stay visible."""
    if value is None:
        return "（空 empty）"
    if isinstance(value, str) and value.startswith("POINT"):
        return _position(shapely.from_wkt(value))
    return repr(value) if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------------------------------
# Building the plan


def district_longitude(layers: dict[str, gpd.GeoDataFrame], layer_name: str) -> float | None:
    """Longitude of the data set's centre (the district outline, else the layer), for a zone-less easting."""
    for name in ("district", layer_name):
        gdf = layers.get(name)
        if gdf is not None and len(gdf) and not gdf.geometry.is_empty.all():
            xmin, _, xmax, _ = gdf.total_bounds
            return float(xmin + xmax) / 2
    return None


def build_plan(
    table: SourceTable,
    layers: dict[str, gpd.GeoDataFrame],
    layer_name: str,
    positions: PositionOptions,
    data: store.Source | str | os.PathLike,
) -> ImportPlan:
    """Preview importing ``table`` into ``layers[layer_name]``; ``data`` names the data set for the write."""
    layer = LAYERS[layer_name]
    converted = convert_rows(table, layer_name, positions)
    reasons = {row: list(msgs) for row, msgs in converted.rejected.items()}
    notes = [*converted.notes, *_resolve_references(converted, layer, layers, reasons)]
    current = layers[layer_name]
    stored = stored_rows(current, layer)
    entries = []
    for row, values in converted.rows.iterrows():
        entry = _entry(int(row), values, converted, layer, stored.get(values[layer.id_field]), reasons)
        if entry is not None and row not in reasons:
            entries.append(entry)
    entries, more = _check_result(current, entries, layers, layer, reasons)
    notes += more
    rejected = [
        Rejection(row, _source_id(converted, table, layer, row), tuple(msgs)) for row, msgs in sorted(reasons.items())
    ]
    columns = {src: dst for dst, src in converted.match.fields.items()}
    columns |= {src: f"@{role}" for role, src in converted.match.coords.items()}
    return ImportPlan(
        layer_name,
        table.label,
        store.Source.of(data),
        entries,
        rejected,
        notes,
        columns,
        table.frame,
        table.geometry,
        table.path,
    )


def _source_id(converted: Converted, table: SourceTable, layer: Layer, row: int) -> str | None:
    """The id a rejected row gave, as written (it may itself be what is wrong)."""
    column = converted.match.fields.get(layer.id_field)
    value = table.frame.at[row, column] if column is not None else None
    return None if value is None else str(value)


def stored_rows(current: gpd.GeoDataFrame, layer: Layer) -> dict[str, dict]:
    """Stored features by id, as plain values with ``geometry``."""
    geometry_name = current.geometry.name
    records = pd.DataFrame(current.drop(columns=geometry_name)).to_dict("records")
    rows = {}
    for record, geom in zip(records, current.geometry, strict=True):
        row = {column: clean(value) for column, value in record.items()}
        row["geometry"] = geom
        rows[row[layer.id_field]] = row
    return rows


def _entry(
    row: int, values: pd.Series, converted: Converted, layer: Layer, base: dict | None, reasons: dict
) -> Entry | None:
    """The add, update or no-op a valid source row makes, or None after recording why it cannot be imported."""
    given = {column: clean(values[column]) for column in converted.provided}
    geom = values.geometry if isinstance(values.geometry, shapely.Geometry) else None  # a row may give no position
    if base is None:
        missing = [
            f for f in layer.fields
            if not f.nullable and f.name not in given and f.name not in DEFAULTS.get(layer.name, {})
            and f.name not in DERIVED.get(layer.name, ())
        ]  # fmt: skip
        problems = [
            Msg(
                f"新要素缺少必填列 {f.title_zh}（{f.name}），文件中没有这一列",
                f"a new feature needs {f.name} ({f.title_zh}), which the file has no column for",
            )
            for f in missing
        ]
        if geom is None:
            problems.append(Msg("新要素没有坐标", "a new feature needs a position"))
        if problems:
            reasons.setdefault(row, []).extend(problems)
            return None
        new = {column: None for column in layer.columns} | DEFAULTS.get(layer.name, {}) | given | {"geometry": geom}
        new = derive(layer.name, new, 1)
        return Entry(row, given[layer.id_field], "add", new, None, store.diff_rows({}, new))
    if geom is not None and shapely.equals_exact(geom, base["geometry"], tolerance=SAME_POSITION_DEG):
        geom = base["geometry"]
    new = base | given | {"geometry": geom if geom is not None else base["geometry"]}
    new = derive(layer.name, new, (base.get("version") or 0) + 1)
    changes = store.diff_rows(base, new)
    return Entry(row, given[layer.id_field], "update" if changes else "unchanged", new, base, changes)


def derive(layer_name: str, row: dict, version: int) -> dict:
    """Set what the store owns on a feature of ``layer_name`` (hazard points: version, updated_at, danger grade)."""
    return store.derive_row(row, version) if layer_name in DERIVED else row


def _resolve_references(
    converted: Converted, layer: Layer, layers: dict[str, gpd.GeoDataFrame], reasons: dict
) -> list[Msg]:
    """Check reference columns against the data set; a value naming a referenced feature by its name is replaced by
    that feature's id (an inventory's 避险场所 column holds the shelter's name)."""
    notes = []
    rows = converted.rows
    for f in layer.fields:
        if f.ref is None or f.name not in converted.provided:
            continue
        target_layer, target_column = f.ref.split(".")
        target = layers.get(target_layer, pd.DataFrame(columns=[target_column, "name"]))
        ids = set(target[target_column].dropna())
        names = Counter(target["name"].dropna())
        by_name = dict(zip(target["name"], target[target_column], strict=True))
        renamed = 0
        for row, raw in rows[f.name].items():
            value = clean(raw)
            if value is None or value in ids:
                continue
            if names.get(value) == 1:
                rows.at[row, f.name] = by_name[value]
                renamed += 1
                continue
            problem = (
                Msg(
                    f"{value!r} 对应多个{LAYERS[target_layer].title_zh}，请改填编号",
                    f"{value!r} names several {target_layer}; give the id",
                )
                if names.get(value, 0) > 1
                else Msg(
                    f"{value!r} 不是已有{LAYERS[target_layer].title_zh}的编号或名称",
                    f"{value!r} is neither the id nor the name of a feature of {target_layer}",
                )
            )
            reasons.setdefault(int(row), []).append(field_msg(f, problem))
        if renamed:
            notes.append(
                Msg(
                    f"{renamed} 行的{f.title_zh}按名称匹配为编号",
                    f"{renamed} rows name their {f.name} by name; matched to ids",
                )
            )
    return notes


def merged_layer(current: gpd.GeoDataFrame, entries: list[Entry], layer: Layer) -> gpd.GeoDataFrame:
    """The layer as it would be stored: updated features replaced in place, added ones appended."""
    stored = stored_rows(current, layer)
    replaced = {e.feature_id: e.new for e in entries if e.action == "update"}
    records = [replaced.get(fid, row) for fid, row in stored.items()]
    records += [e.new for e in entries if e.action == "add"]
    columns = list(dict.fromkeys([*(c for c in current.columns if c != current.geometry.name), *layer.columns]))
    attributes = [{c: r.get(c) for c in columns} for r in records]
    return gpd.GeoDataFrame(
        pd.DataFrame(attributes, columns=columns, dtype=object),
        geometry=[r["geometry"] for r in records],
        crs=STORAGE_CRS,
    )


def _check_result(
    current: gpd.GeoDataFrame, entries: list[Entry], layers: dict, layer: Layer, reasons: dict
) -> tuple[list[Entry], list[Msg]]:
    """Validate the layer the import would leave; a broken rule of an imported feature rejects its row.

    The conversion already enforces each rule, so this finds nothing today; it keeps the preview honest when the
    data model grows a rule the importer does not yet know.
    """
    refs = {f.ref.split(".")[0] for f in layer.fields if f.ref}
    frames = {layer.name: merged_layer(current, entries, layer)} | {n: layers[n] for n in refs if n in layers}
    report = validate_frames(frames, required=[])
    by_id = {e.feature_id: e for e in entries}
    notes, dropped = [], set()
    for problem in report.errors:
        entry = by_id.get(problem.feature) if problem.layer == layer.name else None
        if entry is not None and entry.action != "unchanged":
            reasons.setdefault(entry.row, []).append(Msg(problem.message, problem.message))
            dropped.add(entry.feature_id)
        else:
            notes.append(
                Msg(
                    f"数据集本身有问题，写入会被拒绝：{problem}",
                    f"the data set itself breaks a rule; a write will be refused: {problem}",
                )
            )
    return [e for e in entries if e.feature_id not in dropped], notes
