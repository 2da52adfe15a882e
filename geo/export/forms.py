"""Bordered forms on printed sheets: rows of label and value cells that wrap, grow and continue on a new sheet."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from geo.export.page import POINTS_PER_MM, Page, text_width_mm, wrap

#: Line height as a multiple of the text size.
LEADING = 1.3
#: Fill of label cells and section bands: light enough to photocopy.
LABEL_FILL = "#eeeeee"
SECTION_FILL = "#d9d9d9"


class Form:
    """A table drawn row by row from ``top`` down, the full ``width`` of its column.

    Parameters
    ----------
    page
        The sheet to start on.
    x, top, width
        Left edge, top and width of the form in millimetres.
    bottom
        Lowest ``y`` a row may reach; a row that would pass it goes on a new sheet from ``new_page``.
    new_page
        Makes the next sheet and returns it with the ``y`` to continue from; None keeps to one sheet (a row that
        does not fit is drawn anyway).
    size
        Text size in points.
    label_w
        Width of the label cells in millimetres.
    pad
        Space between a cell's border and its text, in millimetres.
    """

    def __init__(
        self,
        page: Page,
        x: float,
        top: float,
        width: float,
        bottom: float,
        new_page: Callable[[], tuple[Page, float]] | None = None,
        size: float = 9.0,
        label_w: float = 24.0,
        pad: float = 1.3,
    ):
        self.page, self.x, self.y, self.width, self.bottom = page, x, top, width, bottom
        self.new_page, self.size, self.label_w = new_page, size, label_w
        self.top = top
        self.pad = pad
        # Cells are gathered and drawn as one collection per sheet: a patch each would cost more than the text.
        self._cells: list[Rectangle] = []
        self.line_h = size * LEADING / POINTS_PER_MM

    def section(self, title: str) -> None:
        """A shaded band across the form that names the rows below it."""
        h = self.line_h + 2 * self.pad
        self._room(h + self.line_h + 2 * self.pad)  # never leave a heading alone at the foot of a sheet
        self._cell(self.x, self.width, h, SECTION_FILL)
        self.page.text(self.x + 2, self.y + self.pad, title, self.size + 0.5)
        self.y += h

    def row(self, *cells: tuple[str, str], shares: tuple[float, ...] | None = None) -> None:
        """One row of ``(label, value)`` cells side by side; values wrap, and the row is as tall as its tallest cell.

        ``shares`` splits the width between the cells (default: equally).
        """
        label_w = self.label_w
        shares = shares or tuple(1.0 for _ in cells)
        widths = [self.width * s / sum(shares) for s in shares]
        texts = [
            (wrap(label, label_w - 2 * self.pad, self.size), wrap(value, w - label_w - 2 * self.pad, self.size))
            for (label, value), w in zip(cells, widths, strict=True)
        ]
        lines = max(max(len(a), len(b)) for a, b in texts)
        h = lines * self.line_h + 2 * self.pad
        self._room(h)
        x = self.x
        for (label_lines, value_lines), w in zip(texts, widths, strict=True):
            self._cell(x, label_w, h, LABEL_FILL)
            self._cell(x + label_w, w - label_w, h, "none")
            self._lines(x + self.pad, label_lines)
            self._lines(x + label_w + self.pad, value_lines)
            x += w
        self.y += h

    def text(self, value: str) -> None:
        """A row of text across the whole form."""
        lines = wrap(value, self.width - 2 * self.pad, self.size)
        h = len(lines) * self.line_h + 2 * self.pad
        self._room(h)
        self._cell(self.x, self.width, h, "none")
        self._lines(self.x + self.pad, lines)
        self.y += h

    def close(self) -> float:
        """Draw the cells and the heavier outer border on the current sheet; returns the ``y`` below the form."""
        self.page.ax.add_collection(
            PatchCollection(self._cells, match_original=True, edgecolor="black", linewidth=0.5), autolim=False
        )
        self._cells = []
        self.page.rect(self.x, self.top, self.width, self.y - self.top, linewidth=1.2)
        return self.y

    def _cell(self, x: float, w: float, h: float, fill: str) -> None:
        self._cells.append(Rectangle((x, self.y), w, h, facecolor=fill))

    def _lines(self, x: float, lines: list[str]) -> None:
        self.page.lines(x, self.y + self.pad, lines, self.size, LEADING)

    def _room(self, h: float) -> None:
        if self.y + h <= self.bottom or self.new_page is None or self.y == self.top:
            return
        self.close()
        self.page, self.y = self.new_page()
        self.top = self.y


def table(
    page: Page,
    x: float,
    y: float,
    widths: list[float],
    header: list[str],
    rows: list[list[str]],
    size: float = 8.0,
    align: list[str] | None = None,
) -> float:
    """A grid with a shaded header row; cells keep to one line, cut with … where too long.  Returns the ``y`` below.

    ``align`` gives each column's alignment (``left``, ``right`` or ``center``; default left).
    """
    align = align or ["left"] * len(widths)
    h = size * LEADING / POINTS_PER_MM + 2.0
    cells: list[Rectangle] = []
    for r, row in enumerate([header, *rows]):
        left = x
        for value, w, how in zip(row, widths, align, strict=True):
            cells.append(Rectangle((left, y), w, h, facecolor=LABEL_FILL if r == 0 else "none"))
            how = "center" if r == 0 else how
            anchor = {"left": left + 1.0, "right": left + w - 1.0, "center": left + w / 2}[how]
            page.text(anchor, y + h / 2, _fit(value, w - 2.0, size), size, va="center", ha=how)
            left += w
        y += h
    page.ax.add_collection(PatchCollection(cells, match_original=True, edgecolor="black", linewidth=0.5), autolim=False)
    return y


def _fit(text: str, width: float, size: float) -> str:
    """``text`` cut with … to one line of ``width`` mm."""
    lines = wrap(text, width, size)
    if len(lines) == 1:
        return text
    return wrap(lines[0], width - text_width_mm("…", size), size)[0] + "…"
