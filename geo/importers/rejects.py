"""The rejected rows as a file to fix and import again: the source's own columns, the row number, the reasons."""

from __future__ import annotations

import io
import os
from pathlib import Path

import openpyxl
import pandas as pd

from geo import store
from geo.importers.aliases import REJECT_COLUMNS
from geo.importers.plan import ImportPlan

ROW_COLUMN, REASON_COLUMN = REJECT_COLUMNS
#: Column holding a rejected feature's geometry (vector sources), so nothing of the row is lost.
WKT_COLUMN = "geometry_wkt"


def rejected_frame(plan: ImportPlan) -> pd.DataFrame:
    """Rejected rows with every source column as given, their row number first and the reasons last.

    The two added columns are ignored on import, so the fixed file imports as it is.
    """
    rows = [r.row for r in plan.rejected]
    frame = plan.source_frame.loc[rows].copy()
    if plan.source_geometry is not None:
        frame[WKT_COLUMN] = [None if g is None else g.wkt for g in plan.source_geometry.loc[rows]]
    frame.insert(0, ROW_COLUMN, rows)
    frame[REASON_COLUMN] = ["；".join(str(m) for m in r.reasons) for r in plan.rejected]
    return frame.reset_index(drop=True)


def rejected_csv(plan: ImportPlan) -> bytes:
    """The rejected rows as CSV in UTF-8 with a byte-order mark, which Excel opens with Chinese intact.

    Values are written as given, without the ``'`` other downloads put before a leading ``=``: these rows are the
    uploader's own and must import again unchanged.  :func:`rejected_xlsx` is the formula-proof choice.
    """
    return rejected_frame(plan).to_csv(index=False).encode("utf-8-sig")


def rejected_xlsx(plan: ImportPlan) -> bytes:
    """The rejected rows as an Excel workbook; text stays text even where it starts with "=" (no formula)."""
    frame = rejected_frame(plan)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "rejected"
    sheet.append([str(c) for c in frame.columns])
    for record in frame.itertuples(index=False):
        sheet.append([None if v is None or v is pd.NA else v for v in record])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would store "=..." as a formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_WRITERS = {".csv": rejected_csv, ".xlsx": rejected_xlsx}


def check_rejected_out(
    path: str | os.PathLike, source: str | os.PathLike | None, data: store.Source | str | os.PathLike | None = None
) -> None:
    """Refuse ``path`` as the file for the rejected rows unless writing it can destroy nothing of the user's.

    It must end in ``.csv`` or ``.xlsx`` and be neither the ``source`` being imported nor the GeoPackage of the
    data set ``data``, under any spelling (``./``, another directory, a symbolic or hard link): writing the
    rejected rows there would overwrite the user's inventory or data set.  Raises ValueError naming both files.
    """
    if Path(path).suffix.lower() not in _WRITERS:
        raise ValueError(
            f"{path}: 拒绝行文件须以 .csv 或 .xlsx 结尾 / the rejected rows file must end in .csv or .xlsx"
        )
    if source is not None and _same_file(path, source):
        raise ValueError(
            f"{path}: 这是正在导入的源文件 {source}，写入拒绝行会覆盖它，请另选文件名 / this is the source file being "
            f"imported ({source}): writing the rejected rows would overwrite it; choose another file name"
        )
    data = store.Source.of(data) if data is not None else None
    if data is not None and not data.is_database and _same_file(path, data.location):
        raise ValueError(
            f"{path}: 这是数据集 {data.label}，写入拒绝行会覆盖它，请另选文件名 / this is the data set "
            f"({data.label}): writing the rejected rows would overwrite it; choose another file name"
        )


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): the same file only if both names resolve alike
        return os.path.realpath(a) == os.path.realpath(b)


def write_rejected(plan: ImportPlan, path: str | os.PathLike) -> None:
    """Write the rejected rows to ``.csv`` (UTF-8 with BOM) or ``.xlsx``, by the file's suffix.

    Refused with a ValueError, before anything is written, where ``path`` is the plan's source file or its data
    set (see :func:`check_rejected_out`).
    """
    check_rejected_out(path, plan.source_path, plan.data)
    Path(path).write_bytes(_WRITERS[Path(path).suffix.lower()](plan))
