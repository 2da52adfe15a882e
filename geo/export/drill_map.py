"""The drill map (应急避险演练图) of a hazard point: print-ready, at a true scale, for the yearly drill (plan 6.6).

Plan 6.6 asks that threatened people learn the evacuation signal, the route and the shelter; the map shows exactly
those: the danger zone, the villages in it with their people, each route with arrows in the walking direction,
the assembly point where the route leaves the zone (:mod:`geo.export.hazard`), the shelter with its capacity, and
the roads and places to find the way.  The side panel repeats the inventory facts, the signal, the routes in words
and the legend; the map carries a scale bar, a north arrow and an overview inset that locates it in the district.

Coordinates: the map is drawn in the CGCS2000 3-degree Gauss-Krueger zone of the data (EPSG:4548, central meridian
117°E for the district).  Grid north (up the page) differs from true north by the meridian convergence, about
0.1° in the district; the north arrow points to true north and the note states the angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox
from shapely.geometry import LineString, box

from geo.export import cartography, fonts
from geo.export.cartography import STYLES, Labeller
from geo.export.files import Target
from geo.export.hazard import ExportData, HazardFacts
from geo.export.options import ExportSettings
from geo.export.page import BLANK, MM_PER_INCH, POINTS_PER_MM, Page, display, wrap, write_sheet
from geo.model import rules

MARGIN = 10.0
TITLE_H = 16.0
NORTH_ARROW_MM = 12.0
#: Room the scale bar takes in the lower-left corner of a map: width, height in millimetres.
SCALE_BAR_MM = (60.0, 22.0)
#: Text sizes of the panel (points) and its line height as a multiple of them.
BODY = 7.5
NOTE = 6.5
LEADING = 1.4
HEADING_H = 6.0
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
#: The legend: symbol kind (a key of STYLES, or road) and its label, two entries to a row.
LEGEND = (
    ("zone", "危险区"),
    ("other_zone", "其他隐患点危险区"),
    ("hazard", "隐患点"),
    ("village", "危险区内村庄（人数）"),
    ("route", "撤离路线及方向"),
    ("assembly", "集合点"),
    ("shelter", "避灾场所（容量）"),
    ("other_shelter", "其他避灾场所"),
    ("road", "道路"),
    ("township", "乡镇界"),
)
LEGEND_ROW = 5.0
LEGEND_H = HEADING_H + (len(LEGEND) + 1) // 2 * LEGEND_ROW + 1.0


@dataclass
class DrillMap:
    """A rendered drill map: the sheet, the map axes and the facts a test or a caller may check.

    Attributes
    ----------
    page : Page
    map_ax : matplotlib.axes.Axes
        The map, in metres of ``crs``.
    scale : int
        The map scale denominator (1:``scale``).
    scale_bar_m : float
        The scale bar's labelled length in metres.
    true_north_deg : float
        Angle from grid north to true north at the hazard point, east positive.
    """

    page: Page
    map_ax: Axes
    crs: str
    scale: int
    scale_bar_m: float
    true_north_deg: float


def crs_note(crs: str) -> str:
    """The coordinate system as the map states it."""
    from pyproj import CRS

    info = CRS.from_user_input(crs)
    cm = next((p.value for p in info.coordinate_operation.params if "longitude" in p.name.lower()), None)
    meridian = f"中央经线 {cm:g}°E，" if cm is not None else ""
    return f"坐标系：CGCS2000 国家大地坐标系，3度带高斯-克吕格投影，{meridian}{crs}"


def render(
    data: ExportData,
    hazard_id: str,
    settings: ExportSettings | None = None,
    paper: str = "A4",
    orientation: str = "landscape",
) -> DrillMap:
    """Draw the drill map of one active hazard point.

    Call inside :func:`geo.export.fonts.rendering`; :func:`write_drill_map` does.

    Raises
    ------
    ValueError
        Unknown or inactive hazard point, unknown paper or orientation.
    """
    settings = settings or ExportSettings()
    facts = data.facts(hazard_id)
    page = Page(paper, orientation)
    landscape = orientation == "landscape"
    width, height = page.width, page.height
    panel_w = width * 0.29 if landscape else 0.0
    map_x, map_y = MARGIN, MARGIN + TITLE_H + 2
    map_w = width - 2 * MARGIN - (panel_w + 4 if landscape else 0)
    map_h = (height - map_y - MARGIN - 6) if landscape else height * 0.56
    _title(page, facts)

    ax = page.axes(map_x, map_y, map_w, map_h)
    main = [
        *facts.zones,
        facts.point,
        *facts.villages.geometry,
        *facts.routes.geometry.dropna(),
        *facts.shelters.geometry,
    ]
    scale, centre = _fit(main, (map_w, map_h), min_size_m=400.0)
    cartography.set_scale(ax, centre, scale, (map_w, map_h))
    bar = cartography.draw_scale_bar(ax, scale)
    north = cartography.true_north(data.crs, facts.point.x, facts.point.y)
    corners = _Corners(page, ax, facts, (map_x, map_y, map_w, map_h))
    arrow = NORTH_ARROW_MM + 6.0
    ax0, ay0 = corners.emptiest(arrow, arrow, ("top-right", "top-left", "bottom-right"))
    reserved = [
        bar.box.get_window_extent(),
        cartography.draw_north_arrow(page, ax0 + arrow / 2, ay0 + arrow / 2 + 1.0, north, NORTH_ARROW_MM),
    ]
    detail = _detail_inset(page, ax, data, facts, scale, corners)
    if detail is not None:
        reserved.append(detail)
    _draw_map(ax, data, facts, reserved, context=True)

    if landscape:
        columns = [(width - MARGIN - panel_w, map_y, panel_w, height - MARGIN - 6)]
    else:
        top = map_y + map_h + 4
        half = (width - 2 * MARGIN - 6) / 2
        columns = [(MARGIN, top, half, height - MARGIN - 6), (MARGIN + half + 6, top, half, height - MARGIN - 6)]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    _panel(page, data, facts, columns, scale, north, (x0, y0, x1, y1))
    page.footer(settings, note=f"{rules.cite('6.6')}  ·  制图日期 {settings.date_zh}")
    return DrillMap(page, ax, data.crs, scale, bar.metres, north)


def write_drill_map(
    data: ExportData,
    hazard_id: str,
    target: Target,
    settings: ExportSettings | None = None,
    paper: str = "A4",
    orientation: str = "landscape",
) -> None:
    """Write the drill map of one active hazard point as PDF (fonts embedded) or PNG, by the file name.

    Parameters
    ----------
    data
        The prepared layers and routes (:meth:`ExportData.prepare`).
    hazard_id
        统一编号 of an active hazard point.
    target
        A ``.pdf`` or ``.png`` path (written atomically), or a binary stream (PDF unless its ``name`` ends in .png).
    settings
        Issuing unit, date, font folders.
    paper, orientation
        ``A4`` or ``A3``; ``landscape`` or ``portrait``.

    Raises
    ------
    FontError
        No usable CJK font, or a name the font cannot draw.
    ValueError
        Unknown or inactive hazard point, unknown paper, orientation or file type.
    """
    settings = settings or ExportSettings()
    font = fonts.for_text(fonts.cjk_font(settings.font_dirs), [data.characters])
    with fonts.rendering(font):
        drill = render(data, hazard_id, settings, paper, orientation)
        facts_name = drill.page.fig.get_label()
        write_sheet(drill.page, target, font, title=facts_name, author=settings.issuing_unit)


# --------------------------------------------------------------------------------------------------
# The map


def _title(page: Page, facts: HazardFacts) -> None:
    page.fig.set_label(f"{facts.name} 应急避险演练图")
    page.text(MARGIN, MARGIN, f"{facts.name} 地质灾害应急避险演练图", 16)
    subtitle = (
        f"统一编号 {facts.hazard_id}    {facts.place_zh}    {facts.type_zh}（规模 {facts.scale_zh}，"
        f"险情等级 {facts.grade_zh}）"
    )
    page.text(MARGIN, MARGIN + 8.5, subtitle, 9)
    page.line([MARGIN, page.width - MARGIN], [MARGIN + TITLE_H, MARGIN + TITLE_H], linewidth=1.2)


def _fit(geoms: list, frame_mm: tuple[float, float], min_size_m: float) -> tuple[int, tuple[float, float]]:
    """The map scale and centre that show ``geoms`` in the frame, showing at least ``min_size_m`` across."""
    xmin, ymin, xmax, ymax = shapely.GeometryCollection(geoms).bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half = min_size_m / 2
    padded = (min(xmin, cx - half), min(ymin, cy - half), max(xmax, cx + half), max(ymax, cy + half))
    return cartography.fit_scale(padded, frame_mm), (cx, cy)


class _Corners:
    """Where map furniture goes: the corner of the map frame that hides the fewest features, and is still free.

    Corners are tried in the order given and scored by how many of :func:`_crowd_points` a box there would cover;
    a box may not overlap one placed before, nor the scale bar in the lower left.
    """

    def __init__(self, page: Page, ax: Axes, facts: HazardFacts, frame: tuple[float, float, float, float]):
        self.frame = frame
        # The crowd in page millimetres, where the boxes are laid out.
        self.crowd = page.ax.transData.inverted().transform(ax.transData.transform(_crowd_points(facts)))
        x, y, _, h = frame
        self.taken = [(x, y + h - SCALE_BAR_MM[1], SCALE_BAR_MM[0], SCALE_BAR_MM[1])]

    def emptiest(self, w: float, h: float, names: tuple[str, ...]) -> tuple[float, float]:
        """The top-left corner (mm) of a ``w`` x ``h`` box in the best of the named corners, which it then takes."""
        x, y, fw, fh = self.frame
        pad = 3.0
        spots = {
            "top-left": (x + pad, y + pad),
            "top-right": (x + fw - pad - w, y + pad),
            "bottom-right": (x + fw - pad - w, y + fh - pad - h),
            "bottom-left": (x + pad, y + fh - pad - h),
        }
        free = [spots[n] for n in names if not any(_overlap((*spots[n], w, h), t) for t in self.taken)]
        # Below whatever holds the top corners (the north arrow), when both top corners are taken.
        free = free or [(x + fw - pad - w, max(t[1] + t[3] for t in self.taken if t[1] < y + fh / 2) + pad)]

        def covered(spot: tuple[float, float]) -> int:
            inside = (self.crowd[:, 0] >= spot[0]) & (self.crowd[:, 0] <= spot[0] + w)
            return int((inside & (self.crowd[:, 1] >= spot[1]) & (self.crowd[:, 1] <= spot[1] + h)).sum())

        best = min(free, key=covered)
        self.taken.append((*best, w, h))
        return best


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _detail_inset(
    page: Page, ax: Axes, data: ExportData, facts: HazardFacts, scale: int, corners: _Corners
) -> Bbox | None:
    """A larger-scale inset of the danger zone, in the emptiest free corner, when the map shows the zone too small.

    A zone of a hundred metres is 4 mm on a 1:25 000 map, under the hazard point's own marker; the drill needs the
    zone's edge and the way out of it.  The inset shows the zone, the villages in it and the assembly points at
    the scale that fits them, with its own scale bar; a frame on the map marks the area it enlarges.  Returns the
    area the inset covers (display units), or None where the map shows the zone well enough.
    """
    _, _, w, h = corners.frame
    inset_w, inset_h, band_h = w * 0.34, h * 0.34, 5.0
    near = [*facts.zones, facts.point, *facts.villages.geometry, *facts.assembly]
    detail_scale, centre = _fit(near, (inset_w, inset_h - band_h), min_size_m=100.0)
    if detail_scale * 2.5 > scale:
        return None
    cx, cy = corners.emptiest(inset_w, inset_h, ("top-left", "top-right", "bottom-right"))
    inset = page.axes(cx, cy + band_h, inset_w, inset_h - band_h)
    inset.set_zorder(ax.get_zorder() + 1)
    cartography.set_scale(inset, centre, detail_scale, (inset_w, inset_h - band_h))
    cartography.draw_scale_bar(inset, detail_scale, size=6.0)
    band = page.axes(cx, cy, inset_w, band_h)
    band.set_zorder(inset.get_zorder())
    band.set_xticks([])
    band.set_yticks([])
    band.text(0.5, 0.5, f"危险区放大图  {cartography.scale_text(detail_scale)}", fontsize=7.5, ha="center", va="center")
    _draw_map(inset, data, facts, [], context=False)
    (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
    ax.add_patch(
        Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#c62828", linewidth=0.9, linestyle="--", zorder=14)
    )
    return Bbox.union([inset.get_window_extent(), band.get_window_extent()])


def _crowd_points(facts: HazardFacts) -> np.ndarray:
    """Points standing for what an inset must not hide: route vertices every ~50 m and the features."""
    routes = [shapely.segmentize(line, 50.0) for line in facts.routes.geometry.dropna()]
    coords = [shapely.get_coordinates(g) for g in routes]
    features = [facts.point, *facts.zones.centroid, *facts.villages.geometry, *facts.shelters.geometry]
    # The zone and the shelters weigh most: hiding them would hide the map's point.
    coords += [np.repeat(shapely.get_coordinates(features), 20, axis=0)]
    return np.vstack(coords)


def _draw_map(ax: Axes, data: ExportData, facts: HazardFacts, reserved: list[Bbox], *, context: bool) -> None:
    """Draw the features of the drill map on ``ax`` and label them, keeping labels off ``reserved`` areas.

    ``context`` adds the villages and shelters around and the road names (the main map); the detail inset
    leaves them out.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = box(x0, y0, x1, y1)
    layers = data.layers

    def visible(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return gdf.iloc[gdf.sindex.query(view, predicate="intersects")] if len(gdf) else gdf

    ax.set_facecolor("#fbfaf6")
    roads = visible(layers["roads"])
    for road_class, (color, width) in cartography.ROAD_STYLES.items():
        lines = roads.loc[roads["road_class"] == road_class].geometry
        cartography.add_lines(ax, lines, colors=color, linewidths=width, zorder=3, capstyle="round")
    for layer, style in (("townships", "township"), ("district", "district")):
        cartography.add_lines(ax, visible(layers[layer]).boundary, zorder=4, **_line_style(style))

    zones = layers["danger_zones"]
    others = visible(zones[(zones["hazard_id"] != facts.hazard_id) & zones["hazard_id"].isin(data.active_ids())])
    # Each hazard point's zones as one union: overlapping zones drawn as one path would leave their overlap empty.
    cartography.add_polygons(ax, [others.geometry.union_all()], zorder=5, **STYLES["other_zone"])
    cartography.add_polygons(ax, [facts.zones.union_all()], zorder=6, **STYLES["zone"])

    labels = Labeller(ax, reserved)
    routes = facts.routes[facts.routes.geometry.notna()]
    tips = np.empty((0, 2))
    for line in routes.geometry:
        xy = np.asarray(line.coords)
        ax.plot(xy[:, 0], xy[:, 1], zorder=8, **STYLES["route"])
        labels.reserve_line(xy, 3)
        tips = _arrows(ax, line, tips)

    ax.plot(facts.point.x, facts.point.y, linestyle="none", zorder=12, **STYLES["hazard"])
    labels.reserve(facts.point.x, facts.point.y, 6)
    shelters = facts.shelters
    for row in shelters.itertuples():
        kind = "shelter" if row.used else "other_shelter"
        ax.plot(row.geometry.x, row.geometry.y, linestyle="none", zorder=12, **STYLES[kind])
        labels.reserve(row.geometry.x, row.geometry.y, 5)
    for v in facts.villages.geometry:
        ax.plot(v.x, v.y, linestyle="none", zorder=11, **STYLES["village"])
        labels.reserve(v.x, v.y, 4)
    for p in facts.assembly:
        ax.plot(p.x, p.y, linestyle="none", zorder=13, **STYLES["assembly"])
        labels.reserve(p.x, p.y, 4)

    # Labels, most important first: the labeller gives the free places to whoever comes first.
    labels.place(facts.point.x, facts.point.y, f"{facts.name}（隐患点）", size=8, color="#b71c1c", zorder=26)
    for row in shelters.itertuples():
        note = {"used": "", "assigned": "（预定，无安全路线可达）", "nearest": "（最近，无安全路线可达）"}[row.role]
        text = f"{row.name}{note}\n可容纳 {display(row.capacity)} 人"
        labels.place(row.geometry.x, row.geometry.y, text, size=7.5, color="#1b5e20")
    for n, p in enumerate(facts.assembly, start=1):
        labels.place(p.x, p.y, f"集合点{n}", size=7, color="#5d4037")
    for row in facts.villages.itertuples():
        labels.place(row.geometry.x, row.geometry.y, f"{row.name} {display(row.population)}人", size=7.5)

    if context:
        _context_labels(ax, labels, visible(layers["villages"]), facts, visible(layers["shelters"]), roads)
    for spine in ax.spines.values():
        spine.set_linewidth(1.0)


def _line_style(kind: str) -> dict:
    """A line style of :data:`STYLES` in the plural keywords a LineCollection takes."""
    style = STYLES[kind]
    return {"colors": style["color"], "linewidths": style["linewidth"], "linestyles": [style["linestyle"]]}


def _arrows(ax: Axes, line: LineString, tips: np.ndarray) -> np.ndarray:
    """Arrowheads along a route in the walking direction: one per ~35 mm of paper, at least one.

    Drawn as one collection of triangles sized in paper millimetres, rather than an arrow artist each.  Routes
    from several villages share their last stretch: an arrowhead within 5 mm of one of ``tips`` (those already
    drawn) is left out.  Returns ``tips`` with this route's added.
    """
    x0, x1 = ax.get_xlim()
    per_mm = (x1 - x0) / (ax.get_position().width * ax.figure.get_figwidth() * MM_PER_INCH)
    count = int(np.clip(line.length / per_mm / 35.0, 1, 12))
    at = line.length * (np.arange(count) + 0.5) / count
    ahead = shapely.get_coordinates(line.interpolate(np.minimum(at + per_mm, line.length)))
    behind = shapely.get_coordinates(line.interpolate(np.maximum(at - per_mm, 0.0)))
    unit = (ahead - behind) / np.linalg.norm(ahead - behind, axis=1, keepdims=True)
    tip = shapely.get_coordinates(line.interpolate(at)) + unit * 1.6 * per_mm
    base = tip - unit * 3.2 * per_mm
    side = np.column_stack([-unit[:, 1], unit[:, 0]]) * 1.3 * per_mm
    if len(tips):
        apart = np.hypot(*(tip[:, None, :] - tips[None, :, :]).transpose(2, 0, 1)).min(axis=1) > 5.0 * per_mm
        tip, base, side = tip[apart], base[apart], side[apart]
    triangles = np.stack([tip, base + side, base - side], axis=1)
    ax.add_collection(
        PolyCollection(triangles, facecolors=STYLES["route"]["color"], edgecolors="white", linewidths=0.4, zorder=9)
    )
    return np.vstack([tips, tip])


def _context_labels(
    ax: Axes,
    labels: Labeller,
    villages: gpd.GeoDataFrame,
    facts: HazardFacts,
    shelters: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
) -> None:
    """Other villages and shelters in view, and road names: drawn faintly, labelled only where there is room."""
    inside = set(facts.villages["village_id"])
    for row in villages[~villages["village_id"].isin(inside)].itertuples():
        ax.plot(row.geometry.x, row.geometry.y, linestyle="none", zorder=10, **STYLES["other_village"])
        labels.place(row.geometry.x, row.geometry.y, display(row.name), required=False, size=6.5, color="#616161")
    for row in shelters[~shelters["shelter_id"].isin(set(facts.shelters["shelter_id"]))].itertuples():
        ax.plot(row.geometry.x, row.geometry.y, linestyle="none", zorder=10, **STYLES["other_shelter"])
        labels.place(row.geometry.x, row.geometry.y, display(row.name), required=False, size=6.5, color="#2e7d32")
    view = box(*ax.get_xlim()[:1], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1])
    named = roads[roads["name"].notna() & (roads["name"].astype(str).str.strip() != "")]
    for name, group in named.groupby("name"):
        merged = shapely.line_merge(group.geometry.union_all().intersection(view))
        parts = [g for g in getattr(merged, "geoms", [merged]) if g.geom_type == "LineString"]
        if not parts:
            continue
        longest = max(parts, key=lambda g: g.length)
        mid = longest.interpolate(0.5, normalized=True)
        ahead = longest.interpolate(min(longest.length / 2 + 30.0, longest.length))
        behind = longest.interpolate(max(longest.length / 2 - 30.0, 0.0))
        angle = np.degrees(np.arctan2(ahead.y - behind.y, ahead.x - behind.x))
        labels.place_along((mid.x, mid.y), angle, str(name), color="#5d4037")


# --------------------------------------------------------------------------------------------------
# The side panel


class _Column:
    """Text flowing down a column of the panel."""

    def __init__(self, page: Page, x: float, y: float, width: float, bottom: float):
        self.page, self.x, self.y, self.width, self.bottom = page, x, y, width, bottom

    def height(self, text: str, size: float = BODY) -> float:
        """How far a paragraph of ``text`` would reach down the column, in millimetres."""
        return len(wrap(text, self.width, size)) * size * LEADING / POINTS_PER_MM

    def heading(self, text: str) -> None:
        self.page.text(self.x, self.y + 1.0, text, 9)
        self.y += HEADING_H
        self.page.line([self.x, self.x + self.width], [self.y - 1.2, self.y - 1.2], linewidth=0.4, color="0.5")

    def field(self, label: str, value: str, label_w: float = 16.0) -> None:
        self.page.text(self.x, self.y, label, BODY, color="0.3")
        self.y = self.page.paragraph(self.x + label_w, self.y, self.width - label_w, value, BODY, leading=LEADING)

    def paragraph(self, text: str, size: float = BODY, **kwargs) -> None:
        self.y = self.page.paragraph(self.x, self.y, self.width, text, size, leading=LEADING, **kwargs)


def _panel(
    page: Page,
    data: ExportData,
    facts: HazardFacts,
    columns: list[tuple[float, float, float, float]],
    scale: int,
    north: float,
    extent: tuple[float, float, float, float],
) -> None:
    first = _Column(page, *columns[0])
    _overview(page, data, facts, first, extent)
    col = first if len(columns) == 1 else _Column(page, *columns[1])
    h = facts.hazard
    col.heading("隐患点基本情况")
    col.field("统一编号", facts.hazard_id)
    col.field("位置", f"{facts.place_zh}  {facts.coordinates_zh}")
    col.field(
        "威胁对象",
        f"{display(h.get('threatened_households'))} 户 {display(h.get('threatened_people'))} 人，"
        f"财产 {display(h.get('threatened_property_10k_yuan'))} 万元",
    )
    col.field("监测人", f"{display(h.get('monitor_name'))}  {display(h.get('monitor_phone'))}")
    col.field("责任人", f"{display(h.get('responsible_name'))}  {display(h.get('responsible_phone'))}")
    col.field("预警信号", display(h.get("warning_signal")))

    notes = [
        f"比例尺 {cartography.scale_text(scale)}。{crs_note(data.crs)}。",
        f"指北针指向真北；图幅上方为坐标北，与真北夹角（子午线收敛角）{abs(north):.2f}°。",
        "集合点：撤离路线离开危险区的第一处，演练时在此清点人数。"
        f"步行时间按 {data.settings.walk_speed_kmh:g} 千米/小时计。",
        f"演练要求：{rules.ANNUAL_DRILL.purpose_zh}",
    ]
    # The routes get what the legend and the notes leave of the column; those that do not fit are counted.
    tail = HEADING_H + sum(col.height(note, NOTE) for note in notes) + (LEGEND_H if col is first else 0.0)
    col.heading("撤离路线")
    if facts.routes.empty:
        col.paragraph(BLANK)
    texts = [
        f"{CIRCLED[n] if n < len(CIRCLED) else f'({n + 1})'} {facts.route_zh(route)}"
        + (f"；集合点{route['assembly']}" if route["assembly"] else "")
        for n, route in facts.routes.iterrows()
    ]
    for n, text in enumerate(texts):
        more = f"……另有 {len(texts) - n} 条路线，见防灾工作明白卡"
        if col.y + col.height(text) + col.height(more) > col.bottom - tail:
            col.paragraph(more)
            break
        col.paragraph(text)
    _legend(first if len(columns) > 1 else col)

    col.heading("说明")
    for note in notes:
        col.paragraph(note, size=NOTE, color="0.2")


def _overview(
    page: Page, data: ExportData, facts: HazardFacts, col: _Column, extent: tuple[float, float, float, float]
) -> None:
    """The district with the townships, the map's frame and the hazard point: where on the district this is."""
    height = min(48.0, col.width * 0.62)
    page.text(col.x, col.y, "位置示意图", 8)
    ax = page.axes(col.x, col.y + 5, col.width, height)
    district, townships = data.layers["district"], data.layers["townships"]
    cartography.add_lines(ax, townships.boundary, colors="#9e9e9e", linewidths=0.4)
    cartography.add_lines(ax, district.boundary, colors="black", linewidths=0.9)
    for row in townships.itertuples():
        p = row.geometry.representative_point()
        ax.text(p.x, p.y, row.name, fontsize=5.5, ha="center", va="center", color="#616161")
    ax.plot(facts.point.x, facts.point.y, marker="^", color="#c62828", markersize=6, markeredgecolor="white")
    x0, y0, x1, y1 = extent
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#c62828", linewidth=1.0))
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    col.y += 5 + height + 2


def _legend(col: _Column) -> None:
    """Symbols drawn with the map's own styles, two to a row."""
    col.heading("图例")
    page = col.page
    half = col.width / 2
    for i, (kind, label) in enumerate(LEGEND):
        x = col.x + (i % 2) * half
        y = col.y + (i // 2) * LEGEND_ROW + 1.8
        _symbol(page, kind, x, y)
        page.text(x + 9, y, label, BODY - 0.5, va="center")
    col.y += LEGEND_H - HEADING_H


def _symbol(page: Page, kind: str, x: float, y: float) -> None:
    style = STYLES.get(kind, {})
    if kind in ("zone", "other_zone"):
        page.rect(x, y - 1.6, 7, 3.2, fill=True, **{k: v for k, v in style.items() if k != "linewidth"})
    elif kind == "road":
        color, width = cartography.ROAD_STYLES["secondary"]
        page.line([x, x + 7], [y, y], color=color, linewidth=width)
    elif kind in ("route", "township"):
        page.line([x, x + 7], [y, y], **style)
        if kind == "route":
            page.ax.annotate(
                "", xy=(x + 7.5, y), xytext=(x + 4, y), arrowprops={"arrowstyle": "-|>", "color": style["color"]}
            )
    else:
        page.ax.plot([x + 3.5], [y], linestyle="none", **style)
