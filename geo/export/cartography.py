"""Map furniture for printed maps in a metric CRS: a true map scale, the scale bar, the north arrow, labels, styles.

A printed map is at a stated scale (1:10 000), not "whatever fits": :func:`fit_scale` picks the largest round
scale at which the features fit the map frame, and :func:`set_scale` sets the axes limits so that one millimetre
of paper is exactly ``scale`` millimetres of ground in both directions.  The scale bar is drawn in ground metres
on the same axes, so its printed length and its label agree by construction (and a test measures it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.patches import Circle, PathPatch, Rectangle
from matplotlib.path import Path
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.export.page import Page

#: Map scales a printed map may take (the denominators), as topographic series use them.
SCALES = (1000, 2000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000)

#: How each kind of feature is drawn; the legend draws its symbols from the same styles.
STYLES: dict[str, dict] = {
    "zone": {"facecolor": "#ef9a9a", "edgecolor": "#c62828", "hatch": "////", "linewidth": 1.2, "alpha": 0.55},
    "other_zone": {"facecolor": "#eeeeee", "edgecolor": "#9e9e9e", "hatch": "....", "linewidth": 0.6},
    "route": {"color": "#1565c0", "linewidth": 2.6, "solid_capstyle": "round"},
    "hazard": {"marker": "^", "color": "#c62828", "markersize": 10, "markeredgecolor": "white"},
    "village": {"marker": "o", "color": "black", "markersize": 6, "markeredgecolor": "white"},
    "other_village": {"marker": "o", "color": "#9e9e9e", "markersize": 3.5, "markeredgecolor": "none"},
    "shelter": {"marker": "s", "color": "#2e7d32", "markersize": 9, "markeredgecolor": "white"},
    "other_shelter": {"marker": "s", "color": "#a5d6a7", "markersize": 5, "markeredgecolor": "#2e7d32"},
    "assembly": {"marker": "D", "color": "#f9a825", "markersize": 7.5, "markeredgecolor": "black"},
    "district": {"color": "#616161", "linewidth": 1.4, "linestyle": (0, (6, 2, 1, 2))},
    "township": {"color": "#9e9e9e", "linewidth": 0.7, "linestyle": (0, (4, 2))},
}
#: Road styles by ``road_class``: (colour, line width in points).
ROAD_STYLES = {
    "highway": ("#e65100", 2.2),
    "primary": ("#ef6c00", 1.7),
    "secondary": ("#8d6e63", 1.2),
    "rural": ("#a1887f", 0.8),
    "path": ("#bcaaa4", 0.6),
}


def _parts(geoms: Iterable[BaseGeometry | None]) -> list[BaseGeometry]:
    """The simple parts of some geometries (a MultiPolygon's polygons ...), skipping missing and empty ones."""
    return [part for g in geoms if g is not None and not g.is_empty for part in getattr(g, "geoms", [g])]


def add_lines(ax: Axes, geoms: Iterable[BaseGeometry | None], **style) -> None:
    """Draw lines (or polygon outlines: pass their ``boundary``) as one collection.

    Geopandas' ``plot`` would do, but it redraws the whole figure on an Agg canvas after every call, which cost
    most of a drill map's time.
    """
    segments = [np.asarray(part.coords)[:, :2] for part in _parts(geoms)]
    ax.add_collection(LineCollection(segments, **style))


def add_polygons(ax: Axes, geoms: Iterable[BaseGeometry | None], **style) -> None:
    """Draw polygons, holes included, as one patch."""
    rings = [ring for poly in _parts(geoms) for ring in (poly.exterior, *poly.interiors)]
    if rings:
        path = Path.make_compound_path(*(Path(np.asarray(r.coords)[:, :2], closed=True) for r in rings))
        ax.add_patch(PathPatch(path, **style))


def fit_scale(bounds: Sequence[float], frame_mm: tuple[float, float], margin: float = 0.08) -> int:
    """The largest-detail scale of :data:`SCALES` at which ``bounds`` (metres), plus a margin, fit the frame.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` of what must show, in metres.
    frame_mm
        Width and height of the map frame on paper.
    margin
        Share of the frame kept free on each side.
    """
    xmin, ymin, xmax, ymax = bounds
    usable = (frame_mm[0] * (1 - 2 * margin), frame_mm[1] * (1 - 2 * margin))
    needed = max((xmax - xmin) / usable[0], (ymax - ymin) / usable[1]) * 1000.0  # ground mm per paper mm
    return next((s for s in SCALES if s >= needed), SCALES[-1])


def set_scale(ax: Axes, centre: tuple[float, float], scale: int, frame_mm: tuple[float, float]) -> None:
    """Set the limits of ``ax`` (a frame of ``frame_mm`` on paper) so the map is at 1:``scale`` around ``centre``."""
    half_w = frame_mm[0] * scale / 1000.0 / 2.0
    half_h = frame_mm[1] * scale / 1000.0 / 2.0
    ax.set_xlim(centre[0] - half_w, centre[0] + half_w)
    ax.set_ylim(centre[1] - half_h, centre[1] + half_h)
    ax.set_aspect("auto")  # already equal: both axes are 1:scale by construction
    ax.set_xticks([])
    ax.set_yticks([])


def scale_text(scale: int) -> str:
    """``1:10 000`` — thousands grouped by a space, as Chinese maps print them."""
    return f"1:{scale:,}".replace(",", " ")


def nice_length(max_m: float) -> float:
    """The longest 1, 2 or 5 x 10^n metres not above ``max_m``."""
    power = 10.0 ** math.floor(math.log10(max_m))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= max_m)


def distance_zh(metres: float) -> str:
    """A scale-bar distance: metres below a kilometre, else kilometres (``500 米``, ``2 千米``)."""
    return f"{metres:g} 米" if metres < 1000 else f"{metres / 1000:g} 千米"


@dataclass(frozen=True)
class ScaleBar:
    """A drawn scale bar: its length in ground metres, its outline and its background box (map data units)."""

    metres: float
    outline: Rectangle
    box: Rectangle


def draw_scale_bar(ax: Axes, scale: int, size: float = 7.0) -> ScaleBar:
    """A four-segment scale bar in the lower-left corner of the map, with the map scale below it.

    The bar is about a fifth of the map width, rounded down to a 1-2-5 length, and drawn in ground metres on the
    map axes, so its printed length is exact.
    """
    x0, x1 = ax.get_xlim()
    y0, _ = ax.get_ylim()
    per_mm = scale / 1000.0  # ground metres per paper millimetre
    length = nice_length((x1 - x0) * 0.2)
    left, bottom = x0 + 6 * per_mm, y0 + 9 * per_mm
    height = 1.6 * per_mm
    background = ax.add_patch(
        Rectangle(
            (left - 3 * per_mm, bottom - 7.5 * per_mm),
            length + 11 * per_mm,
            15 * per_mm,
            facecolor="white",
            edgecolor="#616161",
            linewidth=0.4,
            alpha=0.9,
            zorder=20,
        )
    )
    quarter = length / 4
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (left + i * quarter, bottom),
                quarter,
                height,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="none",
                zorder=21,
            )
        )
    outline = ax.add_patch(
        Rectangle((left, bottom), length, height, fill=False, edgecolor="black", linewidth=0.6, zorder=22)
    )
    outline.set_gid("scalebar")
    style = {"fontsize": size, "zorder": 23, "va": "bottom"}
    ax.text(left, bottom + height + 0.6 * per_mm, "0", ha="center", **style)
    ax.text(left + length / 2, bottom + height + 0.6 * per_mm, f"{length / 2:g}", ha="center", **style)
    ax.text(
        left + length, bottom + height + 0.6 * per_mm, distance_zh(length), ha="left", gid="scalebar-label", **style
    )
    ax.text(
        left + length / 2,
        bottom - 1.2 * per_mm,
        f"比例尺 {scale_text(scale)}",
        ha="center",
        va="top",
        fontsize=size,
        zorder=23,
    )
    return ScaleBar(length, outline, background)


def true_north(crs: str, x: float, y: float) -> float:
    """The angle from grid north to true north at (``x``, ``y``), in degrees, east positive.

    Found by stepping a little north along the meridian and projecting: no sign convention to get wrong.  In
    the 3-degree Gauss-Krueger zone the angle is the meridian convergence, under a quarter of a degree in
    Changjiang District.
    """
    to_geo = Transformer.from_crs(crs, "EPSG:4490", always_xy=True)
    to_map = Transformer.from_crs("EPSG:4490", crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    nx, ny = to_map.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(nx - x, ny - y))


def draw_north_arrow(page: Page, x: float, y: float, angle_deg: float, size_mm: float = 12.0) -> Bbox:
    """A north arrow centred at (``x``, ``y``) mm on the page, pointing ``angle_deg`` east of the page's up.

    Returns the area it covers, in display units, for the labels to keep off.
    """
    r = size_mm * 0.75
    page.ax.add_patch(Circle((x, y - 1.0), r, facecolor="white", edgecolor="#9e9e9e", linewidth=0.4, alpha=0.9))
    a = math.radians(angle_deg)
    # Unit vectors of the arrow's axis and its perpendicular, on a page whose y runs down.
    ux, uy = math.sin(a), -math.cos(a)
    px, py = -uy, ux
    h = size_mm / 2
    tip = (x + ux * h, y + uy * h)
    tail = (x - ux * h, y - uy * h)
    left = (tail[0] + px * h * 0.45, tail[1] + py * h * 0.45)
    right = (tail[0] - px * h * 0.45, tail[1] - py * h * 0.45)
    notch = (x - ux * h * 0.45, y - uy * h * 0.45)
    page.ax.fill([tip[0], left[0], notch[0]], [tip[1], left[1], notch[1]], color="black", linewidth=0.5, zorder=30)
    page.ax.fill(
        [tip[0], right[0], notch[0]],
        [tip[1], right[1], notch[1]],
        facecolor="white",
        edgecolor="black",
        linewidth=0.5,
        zorder=30,
    )
    page.text(tip[0] + ux * 1.2, tip[1] + uy * 1.2, "北", 8, ha="center", va="bottom", zorder=30)
    (x0, y0), (x1, y1) = page.ax.transData.transform([(x - r, y - 1.0 + r), (x + r, y - 1.0 - r)])
    return Bbox.from_extents(x0, y0, x1, y1)


class Labeller:
    """Places map labels next to their features without overlapping each other, the features or the frame edge.

    Greedy, most important label first: each label tries eight positions around its anchor and takes the first
    free one.  A required label that finds none goes to its first position anyway (a shelter name must print);
    an optional one (a road name, a village outside the zone) is left out.
    """

    #: Offsets in points and the alignment that keeps the text clear of the anchor.
    _POSITIONS = (
        (6, 0, "left", "center"),
        (0, 7, "center", "bottom"),
        (-6, 0, "right", "center"),
        (0, -7, "center", "top"),
        (5, 5, "left", "bottom"),
        (-5, 5, "right", "bottom"),
        (5, -5, "left", "top"),
        (-5, -5, "right", "top"),
    )

    def __init__(self, ax: Axes, reserved: Sequence[Bbox] = ()):
        self.ax = ax
        self.renderer = ax.figure.canvas.get_renderer()
        self.frame = ax.get_window_extent(self.renderer).extents
        self.px_per_pt = ax.figure.dpi / 72.0
        # What labels must keep off, as rows of (x0, y0, x1, y1) in display units: checked against in one go.
        self.taken = np.array([b.extents for b in reserved], dtype=float).reshape(-1, 4)

    def reserve(self, x: float, y: float, radius_pt: float) -> None:
        """Keep labels off a marker at data point (``x``, ``y``)."""
        cx, cy = self.ax.transData.transform((x, y))
        r = radius_pt * self.px_per_pt
        self._take([cx - r, cy - r, cx + r, cy + r])

    def reserve_line(self, xy: np.ndarray, width_pt: float) -> None:
        """Keep labels off a line (vertices in data units), segment box by segment box."""
        points = self.ax.transData.transform(xy)
        r = width_pt * self.px_per_pt
        a, b = points[:-1], points[1:]
        self._take(np.hstack([np.minimum(a, b) - r, np.maximum(a, b) + r]))

    def place(
        self, x: float, y: float, text: str, *, required: bool = True, size: float = 7.5, **style
    ) -> Annotation | None:
        """Label the point (``x``, ``y``); returns the label, or None for an optional one that did not fit.

        A required label with no free position takes the one it overlaps least.  The label is measured once; its
        box at each position follows from the offset and the alignment.
        """
        probe = self._annotate(x, y, text, *self._POSITIONS[0], size, style)
        extent = probe.get_window_extent(self.renderer)
        probe.remove()
        w, h = extent.width, extent.height
        cx, cy = self.ax.transData.transform((x, y))
        tried = []
        for dx, dy, ha, va in self._POSITIONS:
            x0 = cx + dx * self.px_per_pt - {"left": 0.0, "center": w / 2, "right": w}[ha]
            y0 = cy + dy * self.px_per_pt - {"bottom": 0.0, "center": h / 2, "top": h}[va]
            box = (x0, y0, x0 + w, y0 + h)
            clash = self._clash(box)
            if clash == 0.0:
                return self._keep(x, y, text, (dx, dy, ha, va), size, style, box)
            tried.append((clash, (dx, dy, ha, va), box))
        if not required:
            return None
        _, position, box = min(tried, key=lambda t: t[0])
        return self._keep(x, y, text, position, size, style, box)

    def place_along(self, xy: tuple[float, float], angle_deg: float, text: str, size: float = 6.5, **style) -> bool:
        """An optional label centred on a line at ``xy``, turned along it; False where it would overlap."""
        angle = (angle_deg + 90.0) % 180.0 - 90.0  # keep the text upright
        label = self.ax.text(
            *xy,
            text,
            fontsize=size,
            rotation=angle,
            rotation_mode="anchor",
            ha="center",
            va="center",
            clip_on=True,
            zorder=15,
            **style,
        )
        box = tuple(label.get_window_extent(self.renderer).extents)
        if self._clash(box) == 0.0:
            self._take(box)
            return True
        label.remove()
        return False

    def _annotate(self, x, y, text, dx, dy, ha, va, size, style) -> Annotation:
        return self.ax.annotate(
            text,
            (x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=size,
            annotation_clip=False,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            **{"zorder": 25, **style},
        )

    def _keep(self, x, y, text, position, size, style, box) -> Annotation:
        self._take(box)
        return self._annotate(x, y, text, *position, size, style)

    def _take(self, boxes) -> None:
        self.taken = np.vstack([self.taken, np.asarray(boxes, dtype=float).reshape(-1, 4)])

    def _clash(self, box: tuple[float, float, float, float]) -> float:
        """How badly a label box collides: the area it shares with what is taken, plus its area outside the frame."""
        x0, y0, x1, y1 = box
        t = self.taken
        shared = np.clip(np.minimum(t[:, 2], x1) - np.maximum(t[:, 0], x0), 0, None)
        shared *= np.clip(np.minimum(t[:, 3], y1) - np.maximum(t[:, 1], y0), 0, None)
        f0, g0, f1, g1 = self.frame
        inside = max(min(f1, x1) - max(f0, x0), 0.0) * max(min(g1, y1) - max(g0, y0), 0.0)
        return float(shared.sum()) + (x1 - x0) * (y1 - y0) - inside
