"""Helpers of the export tests: reading PDFs back, rendering them with poppler, comparing with reference images."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from geo.export.options import ExportSettings
from geo.settings import ROOT

DATA = ROOT / "tests" / "data"
#: Every render in the tests prints this date, so it compares with the stored references.
SETTINGS = ExportSettings(issue_date=dt.date(2024, 6, 1))
#: Set to 1 to write the reference images anew from the current renders (then look at them before committing).
UPDATE_ENV = "HAZMAP_UPDATE_REFERENCES"
POINTS_PER_MM = 72 / 25.4


def reader(pdf: bytes | Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)


def pdf_text(pdf: bytes | Path) -> list[str]:
    """The text of each page, as a PDF reader extracts it (through the fonts' ToUnicode maps)."""
    return [page.extract_text() for page in reader(pdf).pages]


def page_sizes_mm(pdf: bytes | Path) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width) / POINTS_PER_MM), round(float(p.mediabox.height) / POINTS_PER_MM))
        for p in reader(pdf).pages
    ]


def fonts_of(pdf: bytes | Path) -> list[dict]:
    """Every font the pages use: base font, subtype, and which font file stream (if any) its descriptor embeds."""
    found = {}
    for page in reader(pdf).pages:
        resources = page["/Resources"].get_object()
        for font in resources.get("/Font", {}).get_object().values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            files = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
            found[str(font["/BaseFont"])] = {
                "subtype": str(descendant["/Subtype"]),
                "files": files,
                "to_unicode": "/ToUnicode" in font,
            }
    return [{"name": name, **info} for name, info in found.items()]


def render_page(pdf: Path, dpi: int, page: int = 1) -> np.ndarray:
    """Page ``page`` of a PDF rendered by poppler's pdftoppm, as a grayscale array."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.fail("pdftoppm not found: install poppler-utils (scripts/setup.sh test does)")
    png = subprocess.run(
        [tool, "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray", "-png", str(pdf)],
        check=True,
        capture_output=True,
    ).stdout
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)


def difference(image: np.ndarray, name: str) -> float:
    """Mean absolute difference (0-255) between ``image`` and the reference ``tests/data/<name>.png``.

    With ``HAZMAP_UPDATE_REFERENCES=1`` the reference is written from ``image`` first (the difference is then 0).
    """
    path = DATA / f"{name}.png"
    if os.environ.get(UPDATE_ENV) == "1":
        DATA.mkdir(exist_ok=True)
        Image.fromarray(image.astype(np.uint8), mode="L").save(path, optimize=True)
    return mean_difference(image, reference(name))


def reference(name: str) -> np.ndarray:
    """The reference image ``tests/data/<name>.png`` in grayscale."""
    path = DATA / f"{name}.png"
    if not path.exists():
        pytest.fail(f"no reference image {path}; run the tests once with {UPDATE_ENV}=1 and look at it")
    return np.asarray(Image.open(path).convert("L"), dtype=np.float64)


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, f"images differ in size: {a.shape} and {b.shape}"
    return float(np.abs(a - b).mean())
