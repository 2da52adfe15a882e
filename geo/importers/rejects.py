"""The rejected rows as a file to fix and import again: the source's own columns, the row number, the reasons."""

from __future__ import annotations

import io
import os
from pathlib import Path

import openpyxl
import pandas as pd

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


def write_rejected(plan: ImportPlan, path: str | os.PathLike) -> None:
    """Write the rejected rows to ``.csv`` (UTF-8 with BOM) or ``.xlsx``, by the file's suffix."""
    writers = {".csv": rejected_csv, ".xlsx": rejected_xlsx}
    writer = writers.get(Path(path).suffix.lower())
    if writer is None:
        raise ValueError(f"{path}: the rejected rows file must end in .csv or .xlsx")
    Path(path).write_bytes(writer(plan))
