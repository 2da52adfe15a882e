"""The Data page (数据): what the data set holds, whether it passes validation, hazard-point editing, the audit log.

Edits never write the file directly: each changed row becomes one call of :func:`geo.store.update_hazard_point`
(or :func:`geo.store.set_hazard_status` when only the status changed) with the version the user started from, so
the store derives the danger grade, bumps the version, validates the whole data set, writes atomically and logs
the edit.  A row someone else saved meanwhile raises :class:`geo.store.ConflictError`: the page shows the stored
values next to the user's and merges nothing.  Hazard points are never deleted: their status becomes treated
(已治理) or cancelled (已核销).

The user edits a snapshot of the table taken when editing began (:func:`editable_table`); :func:`edit_diff` turns
the edited snapshot into row edits and :func:`save_edits` sends them to the store.  Saving replaces the file, its
modification time changes, and every cached layer and analysis of :mod:`ui.common` and :mod:`ui.analysis`
follows on the next run.

Roles: every user sees the overview, the hazard points and the audit log (a viewer with phone numbers masked, see
:mod:`geo.access.privacy`); only users whose role allows ``edit`` get the editor, and ``import`` the import panel.
:func:`save_edits` itself refuses a user without ``edit`` (:func:`geo.access.auth.require`), whatever called it, and
the audit log records the signed-in user's name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo import store
from geo.access import auth, privacy
from geo.model import schema
from layers import i18n
from layers.escape import is_missing
from ui import common, import_panel, widgets
from ui.auth import current_user

POINTS = schema.LAYERS["hazard_points"]
#: Shown but not editable: the type is part of the 统一编号, and the store derives the grade, version and time.
READ_ONLY = ("hazard_type", "danger_grade", "version", "updated_at")
#: Columns a user may change in the table: every other column of the data model but the id, in its order.
EDITABLE = tuple(f.name for f in POINTS.fields if f.name not in ("hazard_id", *READ_ONLY))
OVERVIEW_COLUMNS = ("layer", "title", "features", "geometry_types", "problems")
PROBLEM_COLUMNS = ("severity", "layer", "feature", "rule", "message")
AUDIT_COLUMNS = ("at", "user", "action", "layer", "feature_id", "version_before", "version_after", "changes")
AUDIT_ROWS = 50


# --------------------------------------------------------------------------------------------------
# Overview and validation


def layer_overview(data: Mapping[str, gpd.GeoDataFrame], report: schema.Report, lang: str) -> pd.DataFrame:
    """Every layer of the data model: its title, feature count, geometry types present and problems found."""
    zh = lang == "zh"
    problems = report.counts_by_layer()
    rows = []
    for name, spec in schema.LAYERS.items():
        gdf = data.get(name)
        kinds = "、".join(sorted(set(gdf.geom_type.dropna()))) if gdf is not None else ("缺失" if zh else "missing")
        rows.append(
            {
                "layer": name,
                "title": spec.title_zh if zh else spec.title_en,
                "features": 0 if gdf is None else len(gdf),
                "geometry_types": kinds,
                "problems": problems[name],
            }
        )
    return pd.DataFrame(rows, columns=list(OVERVIEW_COLUMNS))


def problems_table(report: schema.Report) -> pd.DataFrame:
    """The validator's problems, one row each: severity, layer, feature, rule, message."""
    rows = [{c: getattr(p, c) for c in PROBLEM_COLUMNS} for p in report.problems]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))


# --------------------------------------------------------------------------------------------------
# Editing


def editable_table(points: gpd.GeoDataFrame) -> pd.DataFrame:
    """The hazard points as the editor shows them: indexed by 统一编号, editable columns first, then read-only ones."""
    table = pd.DataFrame(points[["hazard_id", *EDITABLE, *READ_ONLY]]).set_index("hazard_id")
    # Object columns: the editor gives back None for a cleared cell, which pandas' string dtype would turn into NaN.
    return table.astype({c: object for c in table.columns if table[c].dtype.kind not in "iufb"})


def filter_table(
    table: pd.DataFrame, query: str = "", townships: Sequence[str] = (), statuses: Sequence[str] = ()
) -> pd.DataFrame:
    """Rows whose 统一编号, name or village contain ``query``, in ``townships`` and with ``statuses`` (empty: all)."""
    keep = pd.Series(True, index=table.index)
    if query.strip():
        text = table.index.to_series().astype(str) + " " + table["name"].fillna("") + " " + table["village"].fillna("")
        keep &= text.str.contains(query.strip(), case=False, regex=False)
    if townships:
        keep &= table["township"].isin(list(townships))
    if statuses:
        keep &= table["status"].isin(list(statuses))
    return table[keep]


@dataclass(frozen=True)
class RowEdit:
    """The changes to one hazard point, and the version they were made on."""

    hazard_id: str
    expected_version: int
    changes: dict[str, object]


def _normal(value: object, kind: str) -> object:
    """A cell as the store would compare it: None for empty, trimmed text, whole floats as ints for counts."""
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if kind == "text":
        return str(value).strip() or None
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "real" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def edit_diff(base: pd.DataFrame, edited: pd.DataFrame) -> list[RowEdit]:
    """One :class:`RowEdit` per row of ``edited`` whose editable cells differ from ``base`` (same index).

    Read-only columns are ignored even if changed, so only what the user may edit reaches the store.
    """
    kinds = {c: POINTS.field(c).kind for c in EDITABLE}
    edits = []
    for hazard_id in edited.index.intersection(base.index):
        changes = {}
        for column, kind in kinds.items():
            new = _normal(edited.at[hazard_id, column], kind)
            if new != _normal(base.at[hazard_id, column], kind):
                changes[column] = new
        if changes:
            edits.append(RowEdit(str(hazard_id), int(base.at[hazard_id, "version"]), changes))
    return edits


@dataclass(frozen=True)
class SaveOutcome:
    """What became of one row edit: ``saved`` (``row`` is the stored row), ``conflict`` (``row`` is the newer
    stored row), ``invalid`` (the validator refused it) or ``failed`` (the file could not be written)."""

    edit: RowEdit
    status: str
    message: str = ""
    row: dict = field(default_factory=dict)


def save_edits(
    source: store.Source | str | os.PathLike, edits: Sequence[RowEdit], user: auth.User | None
) -> list[SaveOutcome]:
    """Send each row edit to the store for ``user``, one call per row; a refused row does not stop the others.

    Raises
    ------
    PermissionError
        ``user``'s role may not edit; nothing is written.
    """
    auth.require(user, "edit")
    target = store.open(source)
    outcomes = []
    for edit in edits:
        try:
            if set(edit.changes) == {"status"}:
                row = target.set_hazard_status(
                    edit.hazard_id, edit.changes["status"], user=user.name, expected_version=edit.expected_version
                )
            else:
                row = target.update_hazard_point(
                    edit.hazard_id, edit.changes, user=user.name, expected_version=edit.expected_version
                )
            outcomes.append(SaveOutcome(edit, "saved", row=row))
        except store.ConflictError as exc:
            outcomes.append(SaveOutcome(edit, "conflict", str(exc), exc.current))
        except schema.SchemaError as exc:
            outcomes.append(SaveOutcome(edit, "invalid", "\n".join(map(str, exc.report.errors))))
        except (ValueError, store.StoreError) as exc:
            outcomes.append(SaveOutcome(edit, "failed", str(exc)))
    return outcomes


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)


def conflict_table(outcome: SaveOutcome, lang: str) -> pd.DataFrame:
    """The user's values next to the stored ones, for each column the user changed, and the two versions."""
    rows = [
        {
            "column": i18n.column_title("hazard_points", column, lang),
            "yours": _text(value),
            "stored": _text(outcome.row.get(column)),
        }
        for column, value in outcome.edit.changes.items()
    ]
    rows.append(
        {
            "column": i18n.column_title("hazard_points", "version", lang),
            "yours": str(outcome.edit.expected_version),
            "stored": _text(outcome.row.get("version")),
        }
    )
    return widgets.present(pd.DataFrame(rows), ["column", "yours", "stored"], lang)


def _changes_text(changes: str | None) -> str:
    """``{"name": ["A", "B"]}`` as ``name: A → B``."""
    try:
        parsed = json.loads(changes or "{}")
    except json.JSONDecodeError:
        return _text(changes)
    return "；".join(f"{column}: {_text(old) or '—'} → {_text(new) or '—'}" for column, (old, new) in parsed.items())


def audit_table(log: pd.DataFrame, limit: int = AUDIT_ROWS) -> pd.DataFrame:
    """The ``limit`` most recent rows of the audit log, newest first, with the changes as readable text."""
    recent = log.sort_values("audit_id", ascending=False).head(limit).reset_index(drop=True)
    return recent.assign(changes=recent["changes"].map(_changes_text))


# --------------------------------------------------------------------------------------------------
# The page


_GEN = "data_editor_generation"
_BASE = "data_editor_base"
_OUTCOMES = "data_save_outcomes"


def _editor_key() -> str:
    return f"hazard_editor_{st.session_state.get(_GEN, 0)}"


def _pending() -> bool:
    return bool((st.session_state.get(_editor_key()) or {}).get("edited_rows"))


def _restart_editing() -> None:
    """Forget the snapshot and the editor's state: the next run edits the file as it now is."""
    st.session_state[_GEN] = st.session_state.get(_GEN, 0) + 1
    st.session_state.pop(_BASE, None)


def _snapshot(version: common.DataVersion, points: gpd.GeoDataFrame) -> pd.DataFrame:
    """The table being edited: kept while edits are pending, even when the file changes meanwhile."""
    held = st.session_state.get(_BASE)
    if held is not None and (held[0] == version or _pending()):
        if held[0] != version:
            st.warning(
                common.tr(
                    "开始编辑后数据文件已被修改；保存时将逐条检查版本，冲突的修改不会被合并。",
                    "The file changed since you began editing; saving checks each row's version and merges nothing.",
                )
            )
        return held[1]
    table = editable_table(points)
    st.session_state[_BASE] = (version, table)
    return table


def _column_config(data: Mapping[str, gpd.GeoDataFrame], lang: str) -> dict:
    def label(column: str) -> str:
        return i18n.column_title("hazard_points", column, lang)

    def choice(column: str, options: Sequence[str], **kw) -> st.column_config.SelectboxColumn:
        labels = i18n.enum_labels("hazard_points", column, lang)
        return st.column_config.SelectboxColumn(
            label(column), options=list(options), format_func=lambda v: labels.get(v, v), **kw
        )

    config = {
        "_index": st.column_config.TextColumn(label("hazard_id")),
        "scale_class": choice("scale_class", schema.GRADES, required=True),
        "status": choice("status", schema.HAZARD_STATUS, required=True),
        "hazard_type": choice("hazard_type", schema.HAZARD_TYPES),
        "danger_grade": choice("danger_grade", schema.GRADES),
        "shelter_id": st.column_config.SelectboxColumn(
            label("shelter_id"), options=sorted(data["shelters"]["shelter_id"].dropna()) if "shelters" in data else []
        ),
        "threatened_property_10k_yuan": st.column_config.NumberColumn(
            label("threatened_property_10k_yuan"), min_value=0.0, step=0.1, format="%.1f"
        ),
        "version": st.column_config.NumberColumn(label("version"), format="%d"),
    }
    for column in ("threatened_households", "threatened_people"):
        config[column] = st.column_config.NumberColumn(label(column), min_value=0, step=1, format="%d")
    for column in (*EDITABLE, *READ_ONLY):
        config.setdefault(column, st.column_config.Column(label(column)))
    return config


def _show_outcomes(lang: str) -> None:
    for outcome in st.session_state.get(_OUTCOMES, []):
        hid = widgets.md_escape(outcome.edit.hazard_id)
        if outcome.status == "saved":
            grade = i18n.enum_labels("hazard_points", "danger_grade", lang).get(outcome.row.get("danger_grade"), "")
            st.success(
                common.tr(
                    f"{hid}：已保存，版本 {outcome.edit.expected_version} → {outcome.row.get('version')}，"
                    f"险情等级 {grade}。",
                    f"{hid}: saved, version {outcome.edit.expected_version} → {outcome.row.get('version')}, "
                    f"danger grade {grade}.",
                )
            )
        elif outcome.status == "conflict":
            st.error(
                common.tr(
                    f"{hid}：他人已修改此隐患点（现为版本 {outcome.row.get('version')}），您的修改未保存，也未合并。"
                    "请核对下表后重新编辑。",
                    f"{hid}: someone else changed this point (now version {outcome.row.get('version')}); your edit "
                    "was neither saved nor merged. Compare below and edit again.",
                )
            )
            st.dataframe(conflict_table(outcome, lang), hide_index=True)
        else:
            st.error(
                common.tr(f"{hid}：修改未保存，数据校验未通过：", f"{hid}: not saved, the data check failed:")
                if outcome.status == "invalid"
                else common.tr(f"{hid}：修改未保存：", f"{hid}: not saved:")
            )
            st.code(outcome.message, language=None)


def _save(source: store.Source, edits: Sequence[RowEdit]) -> None:
    with st.spinner(common.tr("正在保存…", "Saving…")):
        st.session_state[_OUTCOMES] = save_edits(source, edits, current_user())
    _restart_editing()
    st.rerun()


def _editor(version: common.DataVersion, data: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    base = _snapshot(version, data["hazard_points"])
    pending = _pending()
    cells = st.columns(3)
    query = cells[0].text_input(common.tr("搜索编号、名称、村", "Search ID, name, village"), disabled=pending)
    towns = cells[1].multiselect(
        common.tr("乡镇", "Townships"), sorted(base["township"].dropna().unique()), disabled=pending
    )
    labels = i18n.enum_labels("hazard_points", "status", lang)
    statuses = cells[2].multiselect(
        common.tr("状态", "Status"), list(schema.HAZARD_STATUS), format_func=labels.get, disabled=pending
    )
    if pending:
        st.caption(common.tr("有未保存的修改，筛选已锁定。", "Filters are locked while edits are unsaved."))
    shown = filter_table(base, query, towns, statuses)
    edited = st.data_editor(
        shown,
        key=_editor_key(),
        column_config=_column_config(data, lang),
        disabled=list(READ_ONLY),
        num_rows="fixed",
        width="stretch",
    )
    st.caption(
        common.tr(
            "险情等级、版本和更新时间由系统计算。隐患点不能删除：请将状态改为“已治理”或“已核销”。",
            "Danger grade, version and update time are set by the store. Points are never deleted: set their "
            "status to treated or cancelled.",
        )
    )
    left, right = st.columns([1, 5])
    if left.button(common.tr("保存修改", "Save edits"), type="primary", disabled=not pending):
        _save(version.source, edit_diff(shown, edited))
    if right.button(common.tr("放弃修改", "Discard edits"), disabled=not pending):
        st.session_state.pop(_OUTCOMES, None)
        _restart_editing()
        st.rerun()


def _status_form(version: common.DataVersion, lang: str) -> None:
    base = st.session_state[_BASE][1]
    labels = i18n.enum_labels("hazard_points", "status", lang)
    with st.form("data_status"):
        st.markdown(
            common.tr("**变更隐患点状态**（代替删除）", "**Change a hazard point's status** (instead of deleting)")
        )
        left, right = st.columns([3, 2])
        hazard_id = left.selectbox(
            common.tr("隐患点", "Hazard point"),
            list(base.index),
            format_func=lambda h: f"{h} {_text(base.at[h, 'name'])}（{labels.get(base.at[h, 'status'], '')}）",
        )
        status = right.radio(
            common.tr("新状态", "New status"), list(schema.HAZARD_STATUS), format_func=labels.get, horizontal=True
        )
        if st.form_submit_button(common.tr("变更状态", "Change status"), disabled=_pending()):
            version_shown = int(base.at[hazard_id, "version"])
            _save(version.source, [RowEdit(str(hazard_id), version_shown, {"status": status})])


def _overview(version: common.DataVersion, data: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    report = common.validation(version)
    st.dataframe(
        widgets.readable(widgets.present(layer_overview(data, report, lang), OVERVIEW_COLUMNS, lang)), hide_index=True
    )
    if report.ok:
        st.success(
            common.tr("数据通过校验。", "The data set passes validation.")
            + (
                common.tr(f"（{len(report.warnings)} 条提示）", f" ({len(report.warnings)} warning(s))")
                if report.warnings
                else ""
            )
        )
    else:
        st.error(
            common.tr(
                f"数据校验发现 {len(report.errors)} 个错误，请在 QGIS 中修正后重新加载。",
                f"Validation found {len(report.errors)} error(s); fix them in QGIS and reload.",
            )
        )
    if report.problems:
        st.dataframe(widgets.readable(widgets.present(problems_table(report), PROBLEM_COLUMNS, lang)), hide_index=True)


def _read_only_points(data: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    st.caption(common.tr("只读：修改隐患点需要编辑者权限。", "Read-only: editing hazard points needs the editor role."))
    st.dataframe(editable_table(data["hazard_points"]), column_config=_column_config(data, lang), width="stretch")


def render() -> None:
    """The Data page."""
    version, data = common.load_or_stop()
    user = current_user()
    lang = common.lang()
    st.header(common.tr("数据管理", "Data"))
    if common.demo_in_use():
        st.info(common.tr("当前显示的是内置演示数据（虚构）。", "The app shows the built-in synthetic demo data."))
    editor, importer = auth.allowed(user, "edit"), auth.allowed(user, "import")
    titles = [
        common.tr("图层与校验", "Layers and validation"),
        common.tr("隐患点编辑", "Edit hazard points") if editor else common.tr("隐患点", "Hazard points"),
        *([common.tr("导入台账", "Import")] if importer else []),
        common.tr("审计日志", "Audit log"),
    ]
    overview, points, *imports, audit = st.tabs(titles)
    with overview:
        _overview(version, data, lang)
    with points:
        if editor:
            _show_outcomes(lang)
            _editor(version, data, lang)
            _status_form(version, lang)
        else:
            _read_only_points(data, lang)
    for tab in imports:
        with tab:
            import_panel.render_import(version.source, user=user)
    with audit:
        # The log records old and new values of every edit, phone numbers too: masked like the layers.
        log = privacy.mask_for(user, store.open(version.source).read_audit())
        st.caption(common.tr(f"最近 {AUDIT_ROWS} 条，共 {len(log)} 条。", f"Latest {AUDIT_ROWS} of {len(log)} rows."))
        st.dataframe(widgets.present(audit_table(log), AUDIT_COLUMNS, lang), hide_index=True)
