"""The import panel of the Data page: upload an inventory, choose how to read it, preview, confirm.

Thin by design: reading, mapping, previewing and writing are :mod:`geo.importers`; this module saves the upload to
a temporary folder under safe names, keeps the preview in the session between reruns, and shows it.  Everything
that came from the file (notes naming its columns, values, reasons) is shown as text or in tables, never as
Markdown, so a hostile header or value reads as the characters it holds.

Only a user whose role allows ``import`` gets the panel, and :func:`apply_import` refuses anyone else
(:func:`geo.access.auth.require`) before it writes; the audit log records the signed-in user's name.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo import importers, store
from geo.access import auth
from geo.model.schema import LAYERS
from ui import common

#: The session key of the current preview: (upload and options fingerprint, plan).
_PLAN = "import_plan"
_AUTO = "auto"
#: Encodings offered besides automatic detection: what Chinese inventories actually come in.
ENCODINGS = (_AUTO, "GBK", "GB18030", "UTF-8")
#: Parts of a shapefile uploaded beside the .shp.
_SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_name(name: str) -> str:
    """A file name from an upload, usable in a temporary folder: no folders, no characters a shell or GDAL reads.

    >>> safe_name("../../台账 (2024).xlsx"), safe_name("/etc/passwd"), safe_name("..")
    ('台账__2024_.xlsx', 'passwd', 'upload')
    """
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.-]", "_", base).lstrip(".")
    return cleaned or "upload"


def save_uploads(files: list, folder: Path) -> Path:
    """Write uploaded files into ``folder`` and return the one to import (a shapefile's parts go beside it).

    Raises
    ------
    ValueError
        No importable file, or more than one.
    """
    main = []
    for upload in files:
        target = folder / safe_name(upload.name)
        target.write_bytes(upload.getvalue())
        if target.suffix.lower() in importers.SUPPORTED_SUFFIXES:
            main.append(target)
    if len(main) != 1:
        raise ValueError(
            common.tr(
                "请上传一个数据文件（Shapefile 的 .shp/.shx/.dbf/.prj/.cpg 一起上传，或打包为 .zip）",
                "upload one data file (a shapefile's .shp/.shx/.dbf/.prj/.cpg together, or zipped)",
            )
        )
    return main[0]


def _options(choices: list[str], workbook: bool, key: str) -> importers.ImportOptions:
    """The reading options, as widgets; ``choices`` are the sheets of a workbook or the layers of a vector file."""
    left, middle, right = st.columns(3)
    layer = left.selectbox(
        common.tr("导入到图层", "Import into layer"),
        importers.IMPORTABLE,
        index=importers.IMPORTABLE.index("hazard_points"),  # what inventories are mostly about
        format_func=lambda name: (
            f"{LAYERS[name].title_zh if common.lang() == 'zh' else LAYERS[name].title_en} ({name})"
        ),
        key=f"{key}_layer",
    )
    chosen = None
    if len(choices) > 1:
        chosen = middle.selectbox(common.tr("工作表 / 图层", "Sheet / layer"), choices, key=f"{key}_choice")
    encoding = right.selectbox(common.tr("文字编码", "Text encoding"), ENCODINGS, key=f"{key}_encoding")
    left, middle, right = st.columns(3)
    crs = left.text_input(
        common.tr("坐标系（EPSG:N，留空自动识别）", "CRS (EPSG:N, empty: detect)"), key=f"{key}_crs"
    ).strip()
    gcj = middle.checkbox(common.tr("坐标取自高德地图（GCJ-02）", "Lon/lat from Gaode maps (GCJ-02)"), key=f"{key}_gcj")
    return importers.ImportOptions(
        layer,
        source_layer=None if workbook else chosen,
        sheet=chosen if workbook else None,
        encoding=None if encoding == _AUTO else encoding,
        crs=crs or None,
        from_gcj02=gcj,
    )


def _preview(files: list, path: store.Source, key: str) -> importers.ImportPlan | None:
    """The preview of the uploads, computed once per upload and options and kept in the session."""
    with tempfile.TemporaryDirectory(prefix="hazmap-import-") as tmp:
        source = save_uploads(files, Path(tmp))
        choices = importers.source_choices(source)
        options = _options(choices, source.suffix.lower() in (".xlsx", ".xlsm"), key)
        fingerprint = (tuple((f.file_id, f.size) for f in files), options, common.data_version(path))
        kept = st.session_state.get(_PLAN)
        if kept is not None and kept[0] == fingerprint:
            return kept[1]
        plan = importers.preview_import(source, path, options)
    st.session_state[_PLAN] = (fingerprint, plan)
    return plan


def _tables(plan: importers.ImportPlan) -> None:
    added = pd.DataFrame(
        [{"row": e.row, "id": e.feature_id, "name": e.new.get("name"), **_position(e.new)} for e in plan.added]
    )
    updated = pd.DataFrame(
        [
            {"row": e.row, "id": e.feature_id, "column": column, "old": _text(old), "new": _text(new)}
            for e in plan.updated
            for column, (old, new) in e.changes.items()
        ]
    )
    rejected = pd.DataFrame(
        [{"row": r.row, "id": r.feature_id, "reasons": "；".join(map(str, r.reasons))} for r in plan.rejected]
    )
    tabs = st.tabs(
        [
            common.tr(f"新增 {len(plan.added)}", f"Added {len(plan.added)}"),
            common.tr(f"更新 {len(plan.updated)}", f"Updated {len(plan.updated)}"),
            common.tr(f"拒绝 {len(plan.rejected)}", f"Rejected {len(plan.rejected)}"),
        ]
    )
    for tab, table in zip(tabs, (added, updated, rejected), strict=True):
        with tab:
            st.dataframe(table, hide_index=True, width="stretch")
    st.caption(common.tr(f"未变 {len(plan.unchanged)} 行", f"{len(plan.unchanged)} rows unchanged"))


def _position(row: dict) -> dict:
    geom = row.get("geometry")
    return {"lon": round(geom.x, 6), "lat": round(geom.y, 6)} if getattr(geom, "geom_type", "") == "Point" else {}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _downloads(plan: importers.ImportPlan) -> None:
    if not plan.rejected:
        return
    left, right = st.columns(2)
    left.download_button(
        common.tr("下载被拒绝的行（Excel）", "Download rejected rows (Excel)"),
        data=importers.rejected_xlsx(plan),
        file_name="rejected_rows.xlsx",
        mime=_XLSX,
        on_click="ignore",
        key="import_rejected_xlsx",
    )
    right.download_button(
        common.tr("下载被拒绝的行（CSV）", "Download rejected rows (CSV)"),
        data=importers.rejected_csv(plan),
        file_name="rejected_rows.csv",
        mime="text/csv",
        on_click="ignore",
        key="import_rejected_csv",
    )


def apply_import(plan: importers.ImportPlan, user: auth.User | None, *, partial: bool) -> importers.ImportResult:
    """Write a previewed import for ``user`` (see :func:`geo.importers.apply_plan`).

    Raises
    ------
    PermissionError
        ``user``'s role may not import; nothing is written.
    """
    auth.require(user, "import")
    return importers.apply_plan(plan, user=user.name, partial=partial)


def _confirm(plan: importers.ImportPlan, user: auth.User) -> None:
    left, right = st.columns(2, vertical_alignment="bottom")
    partial = left.checkbox(
        common.tr("只导入有效的行", "Import the valid rows only"), key="import_partial", disabled=not plan.rejected
    )
    writable = bool(plan.added or plan.updated) and not plan.blocked(partial)
    if plan.blocked(partial):
        st.warning(
            common.tr(
                "有被拒绝的行：修改后重新上传，或勾选“只导入有效的行”。",
                "Some rows were rejected: fix them and upload again, or tick “Import the valid rows only”.",
            )
        )
    if right.button(common.tr("确认导入", "Confirm import"), type="primary", disabled=not writable, key="import_go"):
        try:
            result = apply_import(plan, user, partial=partial)
        except (store.StoreError, ValueError) as exc:
            _error(exc)
            return
        st.session_state.pop(_PLAN, None)
        st.success(
            common.tr(
                f"已导入：新增 {len(result.added)}，更新 {len(result.updated)}（已记入审计日志）",
                f"Imported: {len(result.added)} added, {len(result.updated)} updated (recorded in the audit log)",
            )
        )


def _error(exc: Exception) -> None:
    st.error(common.tr("无法导入", "Cannot import"))
    st.code(str(exc), language=None)  # the message may quote the file's own text: shown, never rendered


def render_import(data: store.Source | str | None = None, *, user: auth.User | None) -> None:
    """The import panel: upload, reading options, preview of added/updated/rejected rows, downloads, confirm.

    Parameters
    ----------
    data
        The data set to import into (default: ``HAZMAP_DATA``, else the demo file).
    user
        Who imports; a user whose role may not import gets a note instead of the panel.
    """
    if not auth.allowed(user, "import"):
        st.info(common.tr("导入台账需要编辑者权限。", "Importing needs the editor role."))
        return
    path = store.Source.of(data)
    st.subheader(common.tr("导入台账", "Import an inventory"))
    kinds = [s.lstrip(".") for s in (*importers.SUPPORTED_SUFFIXES, *_SHAPEFILE_PARTS)]
    files = st.file_uploader(
        common.tr(
            "Excel、CSV、Shapefile（.zip 或各部分）、GeoJSON、KML、GeoPackage；说明见 docs/import.md",
            "Excel, CSV, shapefile (.zip or its parts), GeoJSON, KML, GeoPackage; see docs/import.md",
        ),
        type=kinds,
        accept_multiple_files=True,
        key="import_files",
    )
    if not files:
        return
    limit = importers.DEFAULT_LIMITS.max_bytes
    if sum(f.size for f in files) > limit:
        _error(ValueError(common.tr(f"上传超过 {limit // 2**20} MB 上限", f"the upload is over {limit // 2**20} MB")))
        return
    try:
        plan = _preview(files, path, "import")
    except (store.StoreError, ValueError) as exc:
        _error(exc)
        return
    st.text("\n".join(f"• {note.zh if common.lang() == 'zh' else note.en}" for note in plan.notes))
    _tables(plan)
    _downloads(plan)
    _confirm(plan, user)
