"""The CJK font: TrueType outlines (embeddable as /FontFile2), a clear error without one, never boxes for text."""

from __future__ import annotations

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont

from geo.export import cards, drill_map, fonts
from geo.export.hazard import ExportData
from tests.support.exporting import SETTINGS
from tests.support.fixtures import tiny_dataset


def _cff_font(path, chars: str) -> None:
    """A font with CFF outlines (as Noto Sans CJK has) covering ``chars``: found, but not usable."""
    names = [".notdef", *(f"uni{ord(c):04X}" for c in chars)]
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in chars})
    builder.setupCFF(
        "FakeCJK", {"FullName": "Fake CJK"}, {n: T2CharStringPen(1000, None).getCharString() for n in names}, {}
    )
    builder.setupHorizontalMetrics({n: (1000, 0) for n in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "Fake CJK", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(path)


def test_the_font_found_has_truetype_outlines_and_chinese():
    font = fonts.cjk_font()
    assert set(map(ord, fonts.SAMPLE)) <= font.codepoints
    collection = font.path.suffix.lower() == ".ttc"
    with TTFont(font.path, fontNumber=font.face_index if collection else -1, lazy=True) as face:
        assert "glyf" in face


def test_no_font_gives_a_clear_error_naming_the_fix(tmp_path):
    with pytest.raises(fonts.FontError) as caught:
        fonts.cjk_font([tmp_path])
    message = str(caught.value)
    assert str(tmp_path) in message and "fonts-wqy-microhei" in message and fonts.FONT_DIRS_ENV in message


def test_a_cff_only_cjk_font_is_named_as_skipped(tmp_path):
    _cff_font(tmp_path / "FakeCJK.otf", fonts.SAMPLE)
    with pytest.raises(fonts.FontError, match=r"CFF outlines.*FakeCJK\.otf"):
        fonts.cjk_font([tmp_path])


def test_the_font_folders_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.FONT_DIRS_ENV, str(tmp_path))
    assert fonts.font_dirs() == (tmp_path,)
    with pytest.raises(fonts.FontError):
        drill_map.write_drill_map(ExportData.prepare(tiny_dataset()), "H1", tmp_path / "x.pdf", SETTINGS)
    assert not (tmp_path / "x.pdf").exists()


def test_the_cut_covers_the_data_and_drops_hinting_and_layout():
    font = fonts.cjk_font()
    cut = fonts.for_text(font, ["鲇鱼山镇"])
    assert cut.family != font.family and ord("鲇") in cut.codepoints
    assert len(cut.codepoints) < len(font.codepoints) / 3
    with TTFont(cut.path, lazy=True) as face:
        assert "glyf" in face and not {"fpgm", "prep", "GSUB", "GPOS"} & set(face.keys())


def test_text_the_font_cannot_draw_is_refused_not_printed_as_boxes(tmp_path):
    font = fonts.cjk_font()
    assert fonts.for_text(font, ["\ue000"]) is font  # nothing to cut when the font itself lacks a character
    with pytest.raises(fonts.FontError, match="U\\+E000"):
        fonts.check_text(font, ["枫林村\ue000滑坡"])
    layers = tiny_dataset()
    layers["hazard_points"].loc[0, "name"] = "枫林村\ue000滑坡"
    # Matplotlib warns as it measures the text; the export then refuses to print it.
    with pytest.warns(UserWarning, match="missing from font"), pytest.raises(fonts.FontError, match="U\\+E000"):
        cards.write_cards(ExportData.prepare(layers), ["H1"], tmp_path / "cards.pdf", SETTINGS)
