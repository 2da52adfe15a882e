"""Formula prefixes in every export: text from the data is written as text, never as a spreadsheet formula.

Hostile-input issue, class 4: a name typed as ``=HYPERLINK(...)`` or ``+cmd|' /C calc'!A0`` must reach the reader
of an Excel report, a batch index or a table download as the text it is (geo.model.text decides how, once).
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from geo.analysis import exposure, pools
from geo.export import batch, reports
from geo.export.hazard import ExportData
from geo.model.text import FORMULA_START
from tests.support.exporting import SETTINGS
from tests.support.fixtures import tiny_dataset
from ui import widgets

HYPERLINK = '=HYPERLINK("http://example.invalid","点我")'
COMMAND = "+cmd|' /C calc'!A0"
AT = "@SUM(1,2)"
MINUS = "-1+1"


@pytest.fixture(scope="module")
def hostile() -> dict:
    layers = tiny_dataset()
    layers["hazard_points"]["name"] = [HYPERLINK, COMMAND, AT]
    layers["villages"]["name"] = [MINUS] * len(layers["villages"])
    layers["schools"]["name"] = [HYPERLINK] * len(layers["schools"])
    layers["pools"]["name"] = [COMMAND] * len(layers["pools"])
    return layers


def _formulas_and_texts(path) -> tuple[list[str], set[str]]:
    book = openpyxl.load_workbook(path)
    formulas, texts = [], set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(f"{ws.title}!{cell.coordinate}")
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    return formulas, texts


def test_formula_prefixes_the_warning_and_pools_workbooks_hold_text_only(hostile, tmp_path):
    warning, pooled = tmp_path / "warning.xlsx", tmp_path / "pools.xlsx"
    reports.write_warning_report(exposure.analyse(hostile), warning, SETTINGS)
    reports.write_pools_report(pools.pool_coverage(hostile), pooled, SETTINGS)
    for path, expected in ((warning, {HYPERLINK, COMMAND}), (pooled, {HYPERLINK})):
        formulas, texts = _formulas_and_texts(path)
        assert formulas == [], path.name
        assert expected <= texts, path.name  # the names are there, exactly as stored


def test_formula_prefixes_the_batch_index_quotes_every_field_a_spreadsheet_would_evaluate(hostile, tmp_path):
    path = tmp_path / "batch.zip"
    batch.write_batch(ExportData.prepare(hostile), ["H1", "H2"], path, SETTINGS, workers=1)
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    fields = [value for row in rows for value in row.values() if value]
    assert not [f for f in fields if f.startswith(FORMULA_START)]
    assert {"'" + HYPERLINK, "'" + COMMAND} <= set(fields)


def test_formula_prefixes_the_table_downloads_hold_text_only(tmp_path):
    frame = pd.DataFrame({"名称": [HYPERLINK, COMMAND, AT, MINUS, "枫林村"], "人数": [1, 2, 3, 4, 5]})
    path = tmp_path / "table.xlsx"
    path.write_bytes(widgets.excel_bytes({"表": frame}))
    formulas, texts = _formulas_and_texts(path)
    assert formulas == [] and {HYPERLINK, COMMAND, AT, MINUS} <= texts
    parsed = pd.read_csv(io.BytesIO(widgets.csv_bytes(frame)), encoding="utf-8-sig")
    assert parsed["名称"].tolist() == ["'" + HYPERLINK, "'" + COMMAND, "'" + AT, "'" + MINUS, "枫林村"]
