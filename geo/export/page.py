"""A printed sheet and what every sheet carries: paper sizes, text that wraps, borders, the footer, PDF/PNG output.

Sheets are laid out in millimetres from the top-left corner of the paper, the way a form is designed, on one
full-sheet matplotlib axes; maps are further axes placed on it.  Figures are made with ``matplotlib.figure.Figure``,
not pyplot, so a batch of hundreds of sheets keeps no global figure list and every sheet is freed when dropped.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.textpath import TextToPath

from geo.export import files, fonts
from geo.export.options import ExportSettings

#: Paper sizes (ISO 216), portrait width x height in millimetres.
PAPERS_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
ORIENTATIONS = ("portrait", "landscape")
#: What a missing inventory value prints as: a line to fill in by hand, never "None" or "nan".
BLANK = "________"
#: Every drill map and card is for internal use by the responsible units (内部用图).
INTERNAL_USE = "内部用图"
MM_PER_INCH = 25.4
POINTS_PER_MM = 72.0 / MM_PER_INCH
#: Full-width punctuation that may not start a line (禁则): it stays at the end of the line before.
_NO_LINE_START = set("，。、；：？！）》」』”’%")

_measure = TextToPath()


def paper_mm(paper: str, orientation: str) -> tuple[float, float]:
    """Width and height of the paper in millimetres.

    Raises
    ------
    ValueError
        Unknown paper or orientation.
    """
    if paper not in PAPERS_MM:
        raise ValueError(f"paper must be one of {', '.join(PAPERS_MM)}, not {paper!r}")
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be portrait or landscape, not {orientation!r}")
    short, long = PAPERS_MM[paper]
    return (short, long) if orientation == "portrait" else (long, short)


def text_width_mm(text: str, size: float) -> float:
    """Width of one line of ``text`` at ``size`` points in the current default font, in millimetres."""
    return sum(_token_width(token, size, _family()) for token in _tokens(text))


def _family() -> str:
    return rcParams["font.family"][0]


@functools.lru_cache(maxsize=8)
def _font_height_em(family: str | None = None) -> float:
    """Ascent plus descent of the default font, in em (the unit of matplotlib's line spacing)."""
    font = get_font(findfont(FontProperties(family=family or _family())))
    os2 = font.get_sfnt_table("OS/2")
    return (os2["sTypoAscender"] - os2["sTypoDescender"]) / font.units_per_EM


@functools.lru_cache(maxsize=4096)
def _token_width(token: str, size: float, family: str) -> float:
    # Widths add up token by token (kerning between tokens is ignored: a fraction of a millimetre on a line), so a
    # long paragraph is measured once per distinct character rather than once per candidate line.
    prop = FontProperties(family=family, size=size)
    width, _, _ = _measure.get_text_width_height_descent(token, prop, ismath=False)
    return width / POINTS_PER_MM


def wrap(text: str, width_mm: float, size: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width_mm``.

    Chinese breaks between any two characters; a run of Latin letters and digits (a phone number, an id) is kept
    whole where it fits on a line; punctuation that may not start a line stays at the end of the one before.
    Newlines in ``text`` are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for token in _tokens(paragraph):
            width = _token_width(token, size, _family())
            if line and used + width > width_mm and token[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                line, used = token.lstrip(), width
            else:
                line, used = line + token, used + width
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Break points of ``text``: each CJK character alone, each run of ASCII letters/digits whole."""
    tokens: list[str] = []
    for ch in text:
        if tokens and ch.isascii() and ch.isalnum() and tokens[-1][-1].isascii() and tokens[-1][-1].isalnum():
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


class Page:
    """One sheet of paper: a figure of the paper's size and an axes over all of it that draws in millimetres.

    ``x`` runs right and ``y`` runs *down* from the top-left corner of the paper, like a form designer's ruler.
    """

    def __init__(self, paper: str = "A4", orientation: str = "portrait"):
        self.width, self.height = paper_mm(paper, orientation)
        self.paper, self.orientation = paper, orientation
        self.fig = Figure(figsize=(self.width / MM_PER_INCH, self.height / MM_PER_INCH))
        # An Agg canvas gives the renderer that label placement measures text with; saving as PDF swaps it briefly.
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        self.ax.set_xlim(0, self.width)
        self.ax.set_ylim(self.height, 0)
        self.ax.set_axis_off()
        # Above any map axes placed later, so furniture drawn on the sheet (a north arrow) shows over the map.
        self.ax.set_zorder(10)

    def axes(self, x: float, y: float, w: float, h: float, **kwargs) -> Axes:
        """A new axes over the rectangle ``w`` x ``h`` mm whose top-left corner is at (``x``, ``y``)."""
        rect = (x / self.width, 1.0 - (y + h) / self.height, w / self.width, h / self.height)
        return self.fig.add_axes(rect, **kwargs)

    def text(self, x: float, y: float, s: str, size: float = 9.0, **kwargs) -> Text:
        """Text anchored at (``x``, ``y``) mm; by default its top-left corner."""
        kwargs.setdefault("va", "top")
        kwargs.setdefault("ha", "left")
        return self.ax.text(x, y, s, fontsize=size, **kwargs)

    def lines(self, x: float, y: float, lines: list[str], size: float = 9.0, leading: float = 1.4, **kwargs) -> float:
        """Lines of text from their top at ``y``, ``leading`` times ``size`` apart; returns the ``y`` below them.

        One text artist of several lines, not one per line: every artist costs a font lookup and a layout when
        the sheet is drawn.
        """
        if lines:
            # Matplotlib puts lines ``linespacing`` times the font's ascent plus descent apart.
            self.text(x, y, "\n".join(lines), size, linespacing=leading / _font_height_em(), **kwargs)
        return y + len(lines) * size * leading / POINTS_PER_MM

    def paragraph(
        self, x: float, y: float, width: float, s: str, size: float = 9.0, leading: float = 1.4, **kwargs
    ) -> float:
        """Wrapped text in a column ``width`` mm wide, from its top at ``y``; returns the ``y`` below its last line."""
        return self.lines(x, y, wrap(s, width, size), size, leading, **kwargs)

    def rect(self, x: float, y: float, w: float, h: float, **kwargs) -> Rectangle:
        """A rectangle ``w`` x ``h`` mm with its top-left corner at (``x``, ``y``); unfilled, thin black by default."""
        kwargs.setdefault("fill", False)
        kwargs.setdefault("linewidth", 0.6)
        kwargs.setdefault("edgecolor", "black")
        return self.ax.add_patch(Rectangle((x, y), w, h, **kwargs))

    def line(self, xs: Sequence[float], ys: Sequence[float], **kwargs) -> None:
        """A polyline through the given millimetre coordinates; thin black by default."""
        kwargs.setdefault("linewidth", 0.5)
        kwargs.setdefault("color", "black")
        self.ax.plot(xs, ys, **kwargs)

    def footer(self, settings: ExportSettings, note: str = "", margin: float = 10.0, size: float = 7.0) -> None:
        """The line every sheet ends with: issuing unit and date on the left, a note in the middle, 内部用图 right."""
        y = self.height - margin + 2.0
        self.text(margin, y, f"{settings.issuing_unit}  {settings.date_zh}", size, va="bottom")
        if note:
            self.text(self.width / 2, y, note, size, va="bottom", ha="center", color="0.25")
        self.text(self.width - margin, y, INTERNAL_USE, size, va="bottom", ha="right")


def display(value: object) -> str:
    """A data value as printed: text as it is, whole numbers without ``.0``, anything missing as :data:`BLANK`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return BLANK
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text if text and text.lower() not in ("nan", "none", "<na>") else BLANK


def _texts(page: Page) -> list[str]:
    # Every text drawn is a figure text or an axes text (annotations included); figure.findobj would find the same
    # but first build every tick of every axes, which costs more than drawing the page.
    return [t.get_text() for t in (*page.fig.texts, *(t for ax in page.fig.axes for t in ax.texts))]


def write_pdf(pages: Sequence[Page], target: files.Target, font: fonts.CJKFont, title: str, author: str) -> None:
    """Save sheets as one PDF, fonts embedded, with no timestamp (the same input gives the same file).

    Call inside :func:`geo.export.fonts.rendering`, which also made the sheets.

    Raises
    ------
    FontError
        A sheet holds a character the font has no glyph for.
    """
    for page in pages:
        fonts.check_text(font, _texts(page))
    metadata = {"Title": title, "Author": author, "Creator": "hazmap", "CreationDate": None, "ModDate": None}
    with files.opened(target) as stream, PdfPages(stream, metadata=metadata) as pdf:
        for page in pages:
            pdf.savefig(page.fig)


def write_png(page: Page, target: files.Target, font: fonts.CJKFont, dpi: float = 200.0) -> None:
    """Save one sheet as a PNG image; see :func:`write_pdf`."""
    fonts.check_text(font, _texts(page))
    with files.opened(target) as stream:
        page.fig.savefig(stream, format="png", dpi=dpi, metadata={"Software": "hazmap"})


def write_sheet(page: Page, target: files.Target, font: fonts.CJKFont, title: str, author: str) -> None:
    """Save one sheet as PDF or PNG, chosen by the file name (a stream without a name gets PDF)."""
    kind = files.suffix(target, ".pdf")
    if kind == ".png":
        write_png(page, target, font)
    elif kind == ".pdf":
        write_pdf([page], target, font, title, author)
    else:
        raise ValueError(f"cannot write a sheet to a {kind} file: use .pdf or .png")
