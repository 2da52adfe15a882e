"""The drill map (plan 6.6: the threatened learn the signal, the route and the shelter): content, paper, fonts,
a true scale bar, the north arrow, and the look against a stored reference render."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from geo.analysis import evacuation
from geo.export import drill_map, fonts
from geo.export.hazard import ExportData
from tests.support.exporting import (
    SETTINGS,
    difference,
    fonts_of,
    mean_difference,
    page_sizes_mm,
    pdf_text,
    reference,
    render_page,
)
from tests.support.fixtures import tiny_dataset

#: Mean absolute grey-level difference (0-255) a render may have from its reference at 30 dpi: text anti-aliasing
#: and poppler versions move a few pixels; a different map (another hazard point) differs by far more.
TOLERANCE = 2.0


@pytest.fixture(scope="module")
def tiny() -> ExportData:
    return ExportData.prepare(tiny_dataset())


@pytest.fixture(scope="module")
def pdf(tiny, tmp_path_factory):
    path = tmp_path_factory.mktemp("drill") / "H1.pdf"
    drill_map.write_drill_map(tiny, "H1", path, SETTINGS)
    return path


@pytest.fixture(scope="module")
def sheet(tiny):
    font = fonts.for_text(fonts.cjk_font(), [tiny.characters])
    with fonts.rendering(font):
        return drill_map.render(tiny, "H1", SETTINGS)


def test_pdf_names_the_hazard_its_id_shelter_and_route_length(pdf):
    text = pdf_text(pdf)[0].replace("\n", "")  # a wrapped sentence reads back with line breaks
    route = evacuation.evacuation_routes(tiny_dataset(), hazard_ids=["H1"]).routes.iloc[0]
    for expected in (
        "枫林村滑坡",
        "统一编号 H1",
        "枫林村委会",
        f"{round(route.length_m, -1):.0f} 米",
        "可容纳 300 人",
        "枫林村 320人",
        "集合点1",
        "EPSG:4548",
        "中央经线 117°E",
        "内部用图",
        "市自然资源和规划局昌江分局",
        "2024年6月1日",
        "6.6 应急演练",
    ):
        assert expected in text, expected


def test_fonts_are_embedded_truetype_with_unicode_maps(pdf):
    found = fonts_of(pdf)
    assert found
    for font in found:
        assert font["subtype"] == "/CIDFontType2", font
        assert font["files"] == ["/FontFile2"], font
        assert font["to_unicode"], font


@pytest.mark.parametrize(
    ("paper", "orientation", "size"), [("A4", "portrait", (210, 297)), ("A3", "portrait", (297, 420))]
)
def test_paper_sizes(pdf, tiny, tmp_path, paper, orientation, size):
    assert page_sizes_mm(pdf) == [(297, 210)]  # the default: A4 landscape
    path = tmp_path / "map.pdf"
    drill_map.write_drill_map(tiny, "H1", path, SETTINGS, paper, orientation)
    assert page_sizes_mm(path) == [size]


def test_png_is_the_paper_at_200_dpi(tiny, tmp_path):
    path = tmp_path / "map.png"
    drill_map.write_drill_map(tiny, "H1", path, SETTINGS)
    width, height = Image.open(path).size
    assert (width, height) == (pytest.approx(297 / 25.4 * 200, abs=1), pytest.approx(210 / 25.4 * 200, abs=1))


def test_scale_bar_length_on_paper_times_scale_is_its_label(sheet):
    ax = sheet.map_ax
    bar = next(p for p in ax.patches if p.get_gid() == "scalebar")
    label = next(t for t in ax.texts if t.get_gid() == "scalebar-label").get_text()
    number, unit = re.fullmatch(r"([\d.]+) (米|千米)", label).groups()
    labelled_m = float(number) * (1000 if unit == "千米" else 1)
    printed = next(t.get_text() for t in ax.texts if t.get_text().startswith("比例尺"))
    scale = int(printed.split(":")[1].replace(" ", ""))

    (x0, _), (x1, _) = ax.transData.transform([(bar.get_x(), 0), (bar.get_x() + bar.get_width(), 0)])
    length_pt = (x1 - x0) * 72 / ax.figure.dpi
    assert length_pt / 72 * 0.0254 * scale == pytest.approx(labelled_m, rel=0.01)
    # ... and the axes as drawn are at that scale in both directions: ground metres per inch of paper.
    box = ax.get_position()
    per_inch_x = np.ptp(ax.get_xlim()) / (box.width * ax.figure.get_figwidth())
    per_inch_y = np.ptp(ax.get_ylim()) / (box.height * ax.figure.get_figheight())
    assert per_inch_x == pytest.approx(scale * 0.0254, rel=0.01)
    assert per_inch_y == pytest.approx(scale * 0.0254, rel=0.01)
    assert sheet.scale == scale and sheet.scale_bar_m == labelled_m


def test_north_arrow_angle_is_the_meridian_convergence(sheet):
    # Close to the central meridian the convergence is (lon - 117°E) x sin(lat); H1 is at 117.25E 29.30N.
    expected = (117.25 - 117.0) * math.sin(math.radians(29.30))
    assert abs(sheet.true_north_deg) == pytest.approx(expected, rel=0.05)
    texts = [t.get_text() for t in sheet.page.fig.findobj(Text)]
    assert any(f"{abs(sheet.true_north_deg):.2f}°" in t for t in texts)


def test_map_labels_do_not_overlap(sheet):
    renderer = sheet.page.fig.canvas.get_renderer()
    labels = [t for t in sheet.map_ax.texts if t.get_bbox_patch() is not None]
    assert len(labels) >= 4  # hazard point, shelter, assembly point, village
    placed = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
    overlapping = [(a, b) for (a, p), (b, q) in itertools.combinations(placed, 2) if p.overlaps(q)]
    assert not overlapping


def test_render_matches_the_reference(pdf, tiny, tmp_path):
    image = render_page(pdf, dpi=30)
    assert difference(image, "drill_map_H1") < TOLERANCE
    # The comparison can tell maps apart: another hazard point's map is far from the reference.
    other = tmp_path / "H2.pdf"
    drill_map.write_drill_map(tiny, "H2", other, SETTINGS)
    assert mean_difference(render_page(other, dpi=30), reference("drill_map_H1")) > 2 * TOLERANCE


def test_an_unrouted_hazard_point_is_refused(tiny, tmp_path):
    with pytest.raises(ValueError, match="H3 \\(treated\\)"):
        drill_map.write_drill_map(tiny, "H3", tmp_path / "x.pdf", SETTINGS)
    with pytest.raises(ValueError, match="unknown hazard_id: NOPE"):
        drill_map.write_drill_map(tiny, "NOPE", tmp_path / "x.pdf", SETTINGS)


def test_a_route_that_cannot_be_made_is_printed_with_its_reason(tmp_path):
    layers = tiny_dataset()
    layers["shelters"] = layers["shelters"].iloc[:0]  # no shelter: no route for anyone
    data = ExportData.prepare(layers)
    path = tmp_path / "H1.pdf"
    drill_map.write_drill_map(data, "H1", path, SETTINGS)
    text = pdf_text(path)[0].replace("\n", "")
    assert "未找到可通行的撤离路线" in text
    # Plan 6.6: the drill map teaches residents the route; the reason there is none is theirs to read, in Chinese.
    assert "（预定避灾场所SH1不在避灾场所图层中；危险区外没有接入路网的避灾场所）" in text
    assert "shelter" not in text and "road" not in text
