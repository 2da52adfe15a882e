"""At-risk population by warning area, township and district (hazard x exposure x aggregation).

The warning areas are the aggregation layer of an InaSAFE-style exposure analysis: the active hazard points
(the hazard) are counted in every warning area that covers them, together with what their danger zones
threaten (the exposure: people in villages, schools and their students) and the shelters at hand; each area
carries the response actions the emergency plan sets for its level (plan 4.5, from ``geo.model.rules``).  Township
and district totals count each hazard point once, at the highest level that covers it (docs/data-model.md
"Definitions the analyses use").

Everything here is a pure function of GeoDataFrames; reading files is the caller's business (``geo.cli``).
The result lists the assumptions it rests on, so a report built from it can print them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.model import crs as model_crs
from geo.model import rules, schema
from geo.model.rules import parse_level

__all__ = [
    "INPUT_LAYERS",
    "ExposureResult",
    "analyse",
    "area_ids",
    "parse_assignments",
    "parse_level",
    "township_warnings",
]

#: Layers ``analyse`` reads besides the warning areas.
INPUT_LAYERS = ("hazard_points", "danger_zones", "villages", "schools", "shelters", "townships")
#: Where a warned hazard point lies in no township polygon and has no ``township`` attribute.
UNKNOWN_TOWNSHIP = "未知乡镇 (unknown)"
#: Columns of the hazard-point list copied from the inventory where the layer has them: whom to call.
_CONTACT_COLUMNS = ("shelter_id", "monitor_name", "monitor_phone", "responsible_name", "responsible_phone")
_GRADE_COLUMNS = [f"danger_grade_{g}" for g in rules.GRADE_ORDER]
_TYPE_COLUMNS = [f"hazard_type_{t}" for t in schema.HAZARD_TYPES]
#: The counts every row (area, township, level, district) carries, in output order.
COUNT_COLUMNS = [
    "hazard_points",
    "threatened_people",
    "threatened_households",
    *_GRADE_COLUMNS,
    *_TYPE_COLUMNS,
    "villages_in_danger_zones",
    "people_in_danger_zones",
    "households_in_danger_zones",
    "schools_in_danger_zones",
    "students_in_danger_zones",
]
#: The headline counts: ``COUNT_COLUMNS`` without the breakdowns by danger grade and hazard type.
HEADLINE_COUNTS = [c for c in COUNT_COLUMNS if c not in (*_GRADE_COLUMNS, *_TYPE_COLUMNS)]


# --------------------------------------------------------------------------------------------------
# Warning levels and warning areas


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """Turn ``["丽阳镇=orange", "鲇鱼山镇=红色"]`` into ``{township: level code}``.

    A full-width ＝ is accepted too, since a Chinese input method types it.

    Raises
    ------
    ValueError
        If an item is not ``name=level``, names an unknown level, or gives one township two levels.
    """
    assignments: dict[str, str] = {}
    for item in items:
        name, sep, level = item.replace("＝", "=").partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--warning {item!r}: expected TOWNSHIP=LEVEL, e.g. 丽阳镇=orange")
        code = parse_level(level)
        if assignments.get(name, code) != code:
            raise ValueError(f"township {name!r} is given two levels: {assignments[name]} and {code}")
        assignments[name] = code
    return assignments


def township_warnings(
    assignments: Mapping[str, str],
    townships: gpd.GeoDataFrame,
    issued_at: str | None = None,
    valid_until: str | None = None,
) -> gpd.GeoDataFrame:
    """Build a ``warning_areas`` layer that puts whole townships under a warning.

    Parameters
    ----------
    assignments
        Township name -> level, in any spelling ``parse_level`` accepts.
    townships
        The ``townships`` layer; its polygons become the warning areas.
    issued_at, valid_until
        Copied to every area (ISO-8601 text); None leaves them empty.

    Returns
    -------
    geopandas.GeoDataFrame
        ``warning_id`` (``TW-<township_code>``), ``level``, ``issued_at``, ``valid_until``, ``township`` and the
        township polygon, in the townships' CRS.

    Raises
    ------
    ValueError
        If a level is unknown or a township is not in the layer; every bad entry is named at once.
    """
    known = set(townships["name"])
    problems = [f"unknown township {name!r}" for name in assignments if name not in known]
    levels = {}
    for name, level in assignments.items():
        try:
            levels[name] = parse_level(level)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise ValueError("; ".join(problems) + f" (townships: {', '.join(sorted(known))})")
    chosen = townships[townships["name"].isin(list(levels))]
    return gpd.GeoDataFrame(
        {
            "warning_id": "TW-" + chosen["township_code"].astype(str),
            "level": chosen["name"].map(levels),
            "issued_at": issued_at,
            "valid_until": valid_until,
            "township": chosen["name"],
        },
        geometry=chosen.geometry.values,
        crs=townships.crs,
    ).reset_index(drop=True)


def _warning_areas(sources: Sequence[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Check and merge warning areas: levels normalised, ids present and unique, polygons only.

    A defensive check: what users give (a file, drawn polygons) comes through :mod:`geo.importers.warning_areas`,
    which refuses all of this, and more, in Chinese and feature by feature; what it returns passes here unchanged.
    """
    parts = []
    for n, gdf in enumerate(sources, start=1):
        if "level" not in gdf.columns:
            raise ValueError(f"warning areas #{n} have no 'level' column")
        parts.append(model_crs.in_storage_crs(gdf, f"warning areas #{n}"))
    areas = pd.concat(parts, ignore_index=True) if parts else gpd.GeoDataFrame(geometry=[], crs=model_crs.STORAGE_CRS)
    areas = gpd.GeoDataFrame(areas, geometry=areas.geometry.name, crs=model_crs.STORAGE_CRS)
    problems = []
    levels = []
    for value in areas.get("level", pd.Series(dtype=object)):
        try:
            levels.append(parse_level(value))
        except ValueError as exc:
            problems.append(str(exc))
            levels.append(None)
    ids = area_ids(areas)
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        problems.append(f"warning_id not unique: {', '.join(duplicated)}")
    kinds = set(areas.geometry.geom_type.dropna()) - {"Polygon", "MultiPolygon"}
    if kinds or areas.geometry.isna().any() or areas.geometry.is_empty.any():
        problems.append(f"warning areas must be non-empty polygons (found {sorted(kinds) or 'empty geometry'})")
    if problems:
        raise ValueError("invalid warning areas: " + "; ".join(problems))
    return gpd.GeoDataFrame(
        {
            "warning_id": ids,
            "level": levels,
            "issued_at": _optional_text(areas, "issued_at"),
            "valid_until": _optional_text(areas, "valid_until"),
        },
        geometry=areas.geometry.values,
        crs=model_crs.STORAGE_CRS,
    )


def area_ids(areas: pd.DataFrame) -> list[str]:
    """The ``warning_id`` of each area, ``W001``, ``W002`` ... by position where it has none.

    A hand-drawn GeoJSON seldom has ids; its areas are numbered rather than refused.  The reader of warning-area
    files (:mod:`geo.importers.warning_areas`) numbers them with this too, so it refuses the same duplicates.
    """
    ids = areas["warning_id"] if "warning_id" in areas.columns else [None] * len(areas)
    return [str(v) if isinstance(v, str) and v.strip() else f"W{pos + 1:03d}" for pos, v in enumerate(ids)]


def _optional_text(gdf: pd.DataFrame, column: str) -> list[str | None]:
    if column not in gdf.columns:
        return [None] * len(gdf)
    return [str(v) if isinstance(v, str) or not pd.isna(v) else None for v in gdf[column]]


# --------------------------------------------------------------------------------------------------
# Exposure of the active hazard points


@dataclass(frozen=True)
class _Exposure:
    """What each active hazard point threatens, as pairs of positions, so any grouping can sum it once."""

    hazards: pd.DataFrame
    hazard_villages: pd.DataFrame
    hazard_schools: pd.DataFrame
    villages: pd.DataFrame
    schools: pd.DataFrame


def _pairs(tree: gpd.GeoDataFrame, query: gpd.GeoSeries, left: str, right: str) -> pd.DataFrame:
    """Positions of (query, tree) geometries that intersect — for a point and a polygon: in or on it."""
    q, t = tree.sindex.query(query.values, predicate="intersects")
    return pd.DataFrame({left: q, right: t})


def _lists(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """The sorted values of each key, as lists on an index of the keys.

    A vectorised stand-in for ``groupby(keys).agg(sorted)``, which calls Python once per group and took
    most of the run time at province scale.
    """
    frame = pd.DataFrame({"key": keys, "value": values}).sort_values(["key", "value"], kind="stable")
    k, v = frame["key"].to_numpy(), frame["value"].to_numpy()
    if not len(k):
        return pd.Series([], dtype=object)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    return pd.Series([chunk.tolist() for chunk in np.split(v, starts[1:])], index=k[starts], dtype=object)


def _exposure(hazards: gpd.GeoDataFrame, layers: Mapping[str, gpd.GeoDataFrame]) -> tuple[_Exposure, gpd.GeoDataFrame]:
    """Join villages and schools to the danger zones of the active hazard points.

    Returns the exposure and the shelters that lie outside every active danger zone: a shelter inside one
    is no refuge from it (docs/data-model.md "Evacuation route" sends people only to such shelters).
    """
    position = pd.Series(np.arange(len(hazards)), index=hazards["hazard_id"].to_numpy())
    zones = model_crs.in_storage_crs(layers["danger_zones"], "danger_zones")
    zones = zones[zones["hazard_id"].isin(position.index)].reset_index(drop=True)
    zone_hazard = position.reindex(zones["hazard_id"].to_numpy()).to_numpy()
    villages = model_crs.in_storage_crs(layers["villages"], "villages").reset_index(drop=True)
    schools = model_crs.in_storage_crs(layers["schools"], "schools").reset_index(drop=True)
    shelters = model_crs.in_storage_crs(layers["shelters"], "shelters")

    # A village in two zones, or in two zones of one point, is one village: pairs are made unique per point,
    # and each grouping makes them unique again per group, which is the "union of the zones" of docs/data-model.md.
    def threatened(exposed: gpd.GeoDataFrame, name: str) -> pd.DataFrame:
        pairs = _pairs(zones, exposed.geometry, name, "zone")
        pairs["hpos"] = zone_hazard[pairs["zone"].to_numpy()]
        return pairs[["hpos", name]].drop_duplicates().reset_index(drop=True)

    endangered = np.zeros(len(shelters), dtype=bool)
    endangered[_pairs(zones, shelters.geometry, "spos", "zone")["spos"].to_numpy()] = True
    exposure = _Exposure(
        hazards=pd.DataFrame(hazards.drop(columns=hazards.geometry.name)),
        hazard_villages=threatened(villages, "vpos"),
        hazard_schools=threatened(schools, "spos"),
        villages=pd.DataFrame(villages[["village_id", "population", "households"]]),
        schools=pd.DataFrame(schools[["school_id", "students"]]),
    )
    return exposure, shelters[~endangered].reset_index(drop=True)


def _tally(members: pd.DataFrame, key: str, keys: Sequence, exposure: _Exposure) -> pd.DataFrame:
    """Count the hazard points of each group and what their danger zones threaten.

    Parameters
    ----------
    members
        Columns ``key`` and ``hpos``: which active hazard point (by position) belongs to which group.
    key
        The grouping column.
    keys
        Every group to report, in order; a group without members gets zeros.
    exposure
        From ``_exposure``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``keys``: ``COUNT_COLUMNS`` and ``school_ids`` (sorted list).
    """
    hz = exposure.hazards.iloc[members["hpos"].to_numpy()]
    flags = {f"danger_grade_{g}": hz["danger_grade"].eq(g) for g in rules.GRADE_ORDER}
    flags |= {f"hazard_type_{t}": hz["hazard_type"].eq(t) for t in schema.HAZARD_TYPES}
    points = pd.DataFrame(
        {
            key: members[key].to_numpy(),
            "hazard_points": 1,
            "threatened_people": hz["threatened_people"].to_numpy(),
            "threatened_households": hz["threatened_households"].to_numpy(),
            **{name: flag.to_numpy().astype(int) for name, flag in flags.items()},
        }
    )
    out = points.groupby(key).sum()

    villages = members.merge(exposure.hazard_villages, on="hpos")[[key, "vpos"]].drop_duplicates()
    village_rows = exposure.villages.iloc[villages["vpos"].to_numpy()]
    people = pd.DataFrame(
        {
            key: villages[key].to_numpy(),
            "villages_in_danger_zones": 1,
            "people_in_danger_zones": village_rows["population"].to_numpy(),
            "households_in_danger_zones": village_rows["households"].to_numpy(),
        }
    ).groupby(key)
    schools = members.merge(exposure.hazard_schools, on="hpos")[[key, "spos"]].drop_duplicates()
    school_rows = exposure.schools.iloc[schools["spos"].to_numpy()]
    pupils = pd.DataFrame(
        {
            key: schools[key].to_numpy(),
            "schools_in_danger_zones": 1,
            "students_in_danger_zones": school_rows["students"].to_numpy(),
        }
    ).groupby(key)
    out = out.join(people.sum()).join(pupils[["schools_in_danger_zones", "students_in_danger_zones"]].sum())
    out = out.reindex(pd.Index(keys, name=key))[COUNT_COLUMNS].fillna(0).astype("int64")
    ids = _lists(schools[key].to_numpy(), school_rows["school_id"].to_numpy()).reindex(out.index)
    out["school_ids"] = [v if isinstance(v, list) else [] for v in ids]
    return out


def _townships(hazards: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The township each hazard point rolls up to, and a mask of the points no township polygon holds.

    The polygon decides, because a whole-township warning is that polygon: a point it covers must roll up to
    it even where the inventory's ``township`` text says otherwise.  A point on a border between two
    townships goes to the one with the lower ``township_code``, so the answer does not depend on row order.
    """
    ordered = model_crs.in_storage_crs(townships, "townships").sort_values("township_code").reset_index(drop=True)
    pairs = _pairs(ordered, hazards.geometry, "hpos", "tpos").sort_values(["hpos", "tpos"])
    first = pairs.drop_duplicates("hpos")
    names = hazards["township"].astype(object).to_numpy(copy=True)
    outside = np.ones(len(hazards), dtype=bool)
    outside[first["hpos"].to_numpy()] = False
    names[first["hpos"].to_numpy()] = ordered["name"].to_numpy()[first["tpos"].to_numpy()]
    names = np.array([n if isinstance(n, str) and n else UNKNOWN_TOWNSHIP for n in names], dtype=object)
    return names, outside


# --------------------------------------------------------------------------------------------------
# The analysis


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: native numbers, None for missing values."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


@dataclass
class ExposureResult:
    """Who and what is at risk under the current warnings.

    Attributes
    ----------
    areas : pandas.DataFrame
        One row per warning area, highest level first: ``warning_id``, ``level``, ``level_zh``, ``issued_at``,
        ``valid_until``, ``area_km2``, ``COUNT_COLUMNS``, ``school_ids``, ``shelters``, ``shelter_capacity``
        and ``actions`` (the plan 4.5 actions of the level and every level below it, as dicts).
    townships : pandas.DataFrame
        One row per township with a warned hazard point: ``township``, ``level`` (highest over its points),
        ``level_zh``, ``hazard_points_<level>`` and ``COUNT_COLUMNS``; each point counted once.
    district : dict
        ``warning_areas``, ``level``, the ``COUNT_COLUMNS`` over every warned point (each once, at its highest
        level), ``school_ids``, ``shelters``, ``shelter_capacity`` and ``by_level``: level -> the same counts
        with the level's ``patrol`` and ``evacuate`` duties (``geo.model.rules.WarningLevel``).
    hazard_points : pandas.DataFrame
        The warned active hazard points to patrol, and whose people to move, one row each at its highest
        level, most urgent first.
    assumptions : list of str
        What the figures rest on, for a report to print with them.
    """

    areas: pd.DataFrame
    townships: pd.DataFrame
    district: dict
    hazard_points: pd.DataFrame
    assumptions: list[str]

    def to_json_dict(self) -> dict:
        """Return the result as plain JSON types (the ``python -m geo exposure --json`` contract)."""
        return {
            "areas": _records(self.areas),
            "townships": _records(self.townships),
            "district": self.district,
            "hazard_points_list": _records(self.hazard_points),
            "assumptions": list(self.assumptions),
        }

    def to_text(self, max_points: int = 20) -> str:
        """Return readable Chinese/English tables: areas, townships, district, points, actions, assumptions.

        Parameters
        ----------
        max_points
            Hazard points listed before the list is cut (the JSON has them all).
        """
        count_titles = {
            "hazard_points": "隐患点 points",
            "threatened_people": "威胁人数 threatened",
            "people_in_danger_zones": "危险区内人口 in zones",
            "schools_in_danger_zones": "学校 schools",
            "students_in_danger_zones": "学生 students",
        }
        sections = [
            _table(
                "预警区 Warning areas",
                self.areas,
                {
                    "warning_id": "预警编号 warning",
                    "level_zh": "等级 level",
                    **count_titles,
                    "shelters": "避灾场所 shelters",
                    "shelter_capacity": "容量 capacity",
                },
            ),
            _table(
                "乡镇 Townships",
                self.townships,
                {"township": "乡镇 township", "level_zh": "等级 level", **count_titles},
            ),
            _table(
                "全区（每个隐患点按最高等级计一次） District (each point once, at its highest level)",
                pd.DataFrame([{**self.district, "level": "合计 total"}, *self._levels()]),
                {"level": "等级 level", **count_titles},
            ),
            _table(
                "预警区内隐患点 Hazard points under warning",
                self.hazard_points.head(max_points),
                {
                    "hazard_id": "统一编号 id",
                    "name": "名称 name",
                    "township": "乡镇 township",
                    "level_zh": "等级 level",
                    "danger_grade": "险情 grade",
                    "threatened_people": "威胁人数 threatened",
                    "people_in_danger_zones": "危险区内人口 in zones",
                    "evacuate": "转移 evacuate",
                },
            ),
        ]
        if len(self.hazard_points) > max_points:
            sections.append(f"… {len(self.hazard_points) - max_points} more (--json lists them all)")
        for level in rules.LEVELS_DOWN:
            if level in set(self.areas["level"]):
                w = rules.WARNING_LEVELS[level]
                lines = [
                    f"{w.name_zh} {w.name_en}: plan {w.section}（在下一级响应的基础上 / on top of the levels below）"
                ]
                lines += [f"  - {a.text_zh}（{a.responsible}） {a.text_en}" for a in w.actions]
                sections.append("\n".join(lines))
        sections.append("\n".join(["假设 Assumptions:", *(f"  - {note}" for note in self.assumptions)]))
        return "\n\n".join(sections)

    def _levels(self) -> list[dict]:
        return [
            {"level": _name_zh(code), **counts}
            for code, counts in self.district["by_level"].items()
            if counts["hazard_points"]
        ]


def _table(title: str, df: pd.DataFrame, columns: Mapping[str, str]) -> str:
    if df.empty:
        return f"{title}\n  (无 none)"
    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 250):
        return f"{title}\n" + df[list(columns)].rename(columns=columns).to_string(index=False)


def analyse(
    layers: Mapping[str, gpd.GeoDataFrame],
    warning_areas: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None = None,
) -> ExposureResult:
    """Count the hazard points, people, schools and shelters under each warning, plan 4.4–4.5.

    Parameters
    ----------
    layers
        Layer name -> GeoDataFrame, with at least ``INPUT_LAYERS`` (and ``warning_areas`` when
        ``warning_areas`` is not given), following docs/data-model.md.
    warning_areas
        The warnings to analyse instead of ``layers["warning_areas"]``: a layer with ``level`` (any spelling
        ``parse_level`` accepts) and, optionally, ``warning_id``, ``issued_at``, ``valid_until``; or several
        such layers, e.g. a file and ``township_warnings``.  Any CRS; areas without ``warning_id`` are
        numbered ``W001``, ``W002`` ...

    Returns
    -------
    ExposureResult

    Raises
    ------
    ValueError
        If a layer is missing, a layer has no CRS, or the warning areas are invalid (bad level, duplicate
        id, geometry that is not a polygon).
    """
    missing = [name for name in INPUT_LAYERS if name not in layers]
    if warning_areas is None:
        warning_areas = layers.get("warning_areas")
        if warning_areas is None:
            missing.append("warning_areas")
    if missing:
        raise ValueError(f"the exposure analysis needs the layer(s) {', '.join(missing)}")
    sources = [warning_areas] if isinstance(warning_areas, pd.DataFrame) else list(warning_areas)
    areas = _warning_areas(sources)
    # Highest level first, so the first area of a point in position order is the highest that covers it.
    areas["rank"] = [rules.level_rank(level) for level in areas["level"]]
    areas = areas.sort_values(["rank", "warning_id"], ascending=[False, True], kind="stable").reset_index(drop=True)

    points = model_crs.in_storage_crs(layers["hazard_points"], "hazard_points")
    hazards = points[points["status"] == "active"].reset_index(drop=True)
    exposure, shelters = _exposure(hazards, layers)
    townships, outside = _townships(hazards, layers["townships"])

    members = _pairs(hazards, areas.geometry, "apos", "hpos")
    highest = members.sort_values(["hpos", "apos"]).drop_duplicates("hpos").reset_index(drop=True)
    highest["level"] = areas["level"].to_numpy()[highest["apos"].to_numpy()]
    highest["township"] = townships[highest["hpos"].to_numpy()]

    refuges = _pairs(shelters, areas.geometry, "apos", "spos")
    refuges["capacity"] = shelters["capacity"].to_numpy()[refuges["spos"].to_numpy()]

    warned = highest["hpos"].to_numpy()
    inventory = hazards["township"].to_numpy()[warned]
    differ = sum(isinstance(a, str) and a != b for a, b in zip(inventory, townships[warned], strict=True))
    return ExposureResult(
        areas=_area_table(areas, members, refuges, exposure),
        townships=_township_table(highest, exposure),
        district=_district(areas, highest, refuges, exposure),
        hazard_points=_hazard_list(hazards, highest, members, areas, exposure),
        assumptions=_assumptions(model_crs.metric_crs(areas), int(outside[warned].sum()), int(differ)),
    )


def _name_zh(level: str) -> str:
    return rules.WARNING_LEVELS[level].name_zh


def _area_table(
    areas: gpd.GeoDataFrame, members: pd.DataFrame, refuges: pd.DataFrame, exposure: _Exposure
) -> pd.DataFrame:
    positions = range(len(areas))
    sheltered = (
        refuges.assign(shelters=1)
        .groupby("apos")[["shelters", "capacity"]]
        .sum()
        .reindex(positions, fill_value=0)
        .rename(columns={"capacity": "shelter_capacity"})
    )
    table = pd.DataFrame(
        {
            "warning_id": areas["warning_id"].to_numpy(),
            "level": areas["level"].to_numpy(),
            "level_zh": [_name_zh(level) for level in areas["level"]],
            "issued_at": areas["issued_at"].to_numpy(),
            "valid_until": areas["valid_until"].to_numpy(),
            "area_km2": (areas.to_crs(model_crs.metric_crs(areas)).area / 1e6).round(3).to_numpy(),
        }
    )
    counts = _tally(members, "apos", positions, exposure).reset_index(drop=True)
    table = pd.concat([table, counts, sheltered.reset_index(drop=True)], axis=1)
    table["patrol"] = [rules.WARNING_LEVELS[level].patrol for level in areas["level"]]
    table["evacuate"] = [rules.WARNING_LEVELS[level].evacuate for level in areas["level"]]
    # One list per level, shared by the areas of that level: 500 areas would otherwise copy 10 000 dicts.
    actions = {level: [asdict(a) for a in rules.warning_actions(level)] for level in set(areas["level"])}
    table["actions"] = [actions[level] for level in areas["level"]]
    return table


def _township_table(highest: pd.DataFrame, exposure: _Exposure) -> pd.DataFrame:
    names = highest["township"].unique()
    per_level = pd.DataFrame(
        {f"hazard_points_{level}": highest["level"].eq(level).to_numpy().astype("int64") for level in rules.LEVELS_DOWN}
    ).groupby(highest["township"].to_numpy())
    table = _tally(highest, "township", names, exposure).join(per_level.sum()).reset_index()
    rank = highest.assign(rank=highest["level"].map(rules.level_rank)).groupby("township")["rank"].max()
    by_rank = {w.rank: w.code for w in rules.WARNING_LEVELS.values()}
    table.insert(1, "level", rank.reindex(names).map(by_rank).to_numpy())
    table.insert(2, "level_zh", [_name_zh(level) for level in table["level"]])
    table["rank"] = table["level"].map(rules.level_rank)
    table = table.sort_values(["rank", "hazard_points", "township"], ascending=[False, False, True])
    return table.drop(columns="rank").reset_index(drop=True)


def _district(areas: gpd.GeoDataFrame, highest: pd.DataFrame, refuges: pd.DataFrame, exposure: _Exposure) -> dict:
    total = _tally(highest.assign(district=0), "district", [0], exposure)
    by_level = _tally(highest, "level", rules.LEVELS_DOWN, exposure)
    refuge = refuges.drop_duplicates("spos")
    level = rules.highest_level(areas["level"])
    return {
        "warning_areas": len(areas),
        "level": level,
        "level_zh": None if level is None else _name_zh(level),
        **_records(total)[0],
        "shelters": len(refuge),
        "shelter_capacity": int(refuge["capacity"].sum()),
        "by_level": {
            code: {
                **row,
                "patrol": rules.WARNING_LEVELS[code].patrol,
                "evacuate": rules.WARNING_LEVELS[code].evacuate,
            }
            for code, row in zip(by_level.index, _records(by_level), strict=True)
        },
    }


def _hazard_list(
    hazards: gpd.GeoDataFrame,
    highest: pd.DataFrame,
    members: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    exposure: _Exposure,
) -> pd.DataFrame:
    rows = highest["hpos"].to_numpy()
    inventory = hazards.iloc[rows].reset_index(drop=True)
    levels = highest["level"].to_numpy()
    ids = areas["warning_id"].to_numpy()
    covering = _lists(members["hpos"].to_numpy(), members["apos"].to_numpy()).reindex(rows)
    hv = exposure.hazard_villages
    people = pd.Series(exposure.villages["population"].to_numpy()[hv["vpos"].to_numpy()]).groupby(hv["hpos"].to_numpy())
    columns = {
        "hazard_id": inventory["hazard_id"],
        "name": inventory["name"],
        "township": highest["township"],
        "village": inventory["village"],
        "level": levels,
        "level_zh": [_name_zh(level) for level in levels],
        "warning_ids": [ids[apos].tolist() for apos in covering],
        "hazard_type": inventory["hazard_type"],
        "danger_grade": inventory["danger_grade"],
        "threatened_people": inventory["threatened_people"],
        "threatened_households": inventory["threatened_households"],
        "people_in_danger_zones": people.sum().reindex(rows, fill_value=0).to_numpy(),
        "patrol": [rules.WARNING_LEVELS[level].patrol for level in levels],
        "evacuate": [rules.WARNING_LEVELS[level].evacuate for level in levels],
    }
    contacts = [c for c in _CONTACT_COLUMNS if c in inventory.columns]
    table = pd.concat([pd.DataFrame(columns), inventory[contacts]], axis=1)
    # Most urgent first: highest level, then worst danger grade, then most people.
    order = pd.DataFrame(
        {
            "level": [rules.level_rank(v) for v in table["level"]],
            "grade": [rules.grade_rank(v) for v in table["danger_grade"]],
            "people": table["threatened_people"].to_numpy(),
            "id": table["hazard_id"].to_numpy(),
        },
        index=table.index,
    ).sort_values(["level", "grade", "people", "id"], ascending=[False, False, False, True])
    return table.loc[order.index].reset_index(drop=True)


def _assumptions(metric_crs: str, outside: int, differ: int) -> list[str]:
    notes = [
        "只计在册隐患点（status = active）；已治理、已核销的隐患点及其危险区不计。"
        " Only active hazard points (status = 'active') count; treated and cancelled points and their danger zones"
        " are left out.",
        "隐患点位于预警区内或边界上即计入该预警区（intersects）。"
        " A hazard point counts in a warning area when it lies inside it or on its boundary (predicate 'intersects').",
        "重叠的预警区各自计入同一隐患点；乡镇和全区合计中每个隐患点只计一次，取覆盖它的最高预警等级。"
        " Overlapping warning areas each count a hazard point in their own row; township and district totals count"
        " it once, at the highest level covering it.",
        "每个预警区都计入，不论其发布时间和有效期。"
        " Every warning area given counts, whatever its issued_at and valid_until.",
        "威胁人数、威胁户数取自隐患点台账，按隐患点累加；同一批群众受两个隐患点威胁时计两次。"
        " threatened_people and threatened_households are the inventory figures summed over hazard points; people"
        " threatened by two points count twice.",
        "危险区内人口：所计隐患点危险区并集内（含边界）村庄的人口之和，每个村庄只计一次；学校及学生同理。"
        " People in danger zones: the population of the villages lying in or on the union of the counted points'"
        " danger zones, each village once; schools and students likewise.",
        "按等级分列（by_level）时各等级分别去重：同一村庄受不同等级隐患点威胁时在各等级都计入，各等级之和可大于合计。"
        " by_level counts each level's union on its own: a village in the danger zones of points at two levels counts"
        " in both, so the levels may add up to more than the total.",
        "隐患点按其所在的乡镇面（townships 图层）汇总，位于两镇边界上的归乡镇代码较小者；"
        "不在任何乡镇面内的按 township 属性。"
        " Township totals roll a hazard point up to the township polygon it lies in (on a border: the lower"
        " township_code); a point in no polygon falls back to its township attribute.",
        "可用避灾场所：位于预警区内（含边界）且不在任何在册隐患点危险区内的避灾场所。"
        " Shelters available in an area: those in or on it that lie in no active hazard point's danger zone.",
        f"空间判断使用存储的 CGCS2000 经纬度坐标（{model_crs.STORAGE_CRS}）；"
        f"预警区面积（area_km2）在 {metric_crs} 中计算。"
        f" Spatial predicates run on the stored CGCS2000 longitude/latitude ({model_crs.STORAGE_CRS}); area_km2 is"
        f" measured in {metric_crs}.",
    ]
    if outside:
        notes.append(
            f"{outside} 个预警区内隐患点不在任何乡镇面内，按 township 属性汇总。"
            f" {outside} warned hazard point(s) lie in no township polygon and were rolled up by their township"
            " attribute."
        )
    if differ:
        notes.append(
            f"{differ} 个预警区内隐患点的 township 属性与所在乡镇面不一致，按乡镇面汇总。"
            f" {differ} warned hazard point(s) have a township attribute that differs from the polygon they lie in;"
            " the polygon was used."
        )
    return notes
