"""The Map page (地图): every layer of the data set on one interactive map, filters, search and hazard-point details.

The page logic lives in plain functions, tested without Streamlit: :func:`filter_hazards` and :func:`map_view` pick
what the sidebar filters leave, :func:`search_hazards` finds a point by 统一编号 or name, :func:`build_map` draws the
view through :mod:`layers` (so every asset is served locally and every user text escaped), and
:func:`hazard_details` gathers what the page shows about the clicked point.  :func:`render` only wires them to
widgets.

Staying fast
------------
- Data and analyses come from the caches of :mod:`ui.common` and :mod:`ui.analysis`; the rendered map is cached
  on the data version and the sidebar's choices, so a click (which reruns the script) neither rebuilds nor
  re-renders it.
- A filter change swaps the map's layers in the browser, keeping the map, its controls and the reader's view
  (:mod:`layers.frame`); the view moves only when the township filter changes the extent.
- The map returns only ``last_active_drawing`` and the count of clicks: panning and zooming never rerun the
  script, a click on a feature does, once.
- Filters are applied here, in Python, before anything is sent to the browser; beyond a few thousand features
  a layer is thinned (roads by class, points by what they hold) and the page says what was left out (``LIMITS``).
  Hazard points are never thinned: they are clustered.
- Evacuation routes and pool coverage, the slow analyses, are drawn by default only at district scale
  (``LARGE_DATA``); on a larger data set the user switches them on.

Basemap
-------
None by default: the app runs on intranets that reach no tile server.  天地图 is offered when a key is configured
(``tianditu_key`` in ``.streamlit/secrets.toml`` or ``HAZMAP_TIANDITU_KEY``); OpenStreetMap only when explicitly
allowed (``allow_osm = true`` in the secrets or ``HAZMAP_ALLOW_OSM=1``), since its tiles come from abroad.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

import layers as maplayers
from geo.analysis import hazard
from geo.analysis.evacuation import EvacuationResult
from geo.analysis.exposure import ExposureResult
from geo.analysis.pools import PoolCoverage
from geo.model import rules
from geo.model.crs import STORAGE_CRS
from geo.model.schema import ROAD_CLASSES
from geo.settings import AnalysisSettings
from layers import i18n
from layers.base import MAX_ZOOM
from layers.common import METRES_PER_DEGREE, HazmapLayer, pixel_metres
from layers.escape import is_missing
from layers.frame import MapPayload, RenderedLayer
from ui import analysis, common, response, widgets

#: Value of the warning-level filter for points no warning area covers.
NOT_WARNED = "none"
#: Most features drawn per layer, and the column whose largest values are kept when there are more: the
#: people or places that matter most stay on the map.  Roads are thinned by class instead (``ROAD_LIMIT``).
LIMITS: dict[str, tuple[int, str]] = {
    "villages": (1000, "population"),
    "schools": (500, "students"),
    "pools": (500, "lanes"),
    "shelters": (500, "capacity"),
    "danger_zones": (2000, "threatened_people"),
    "routes": (1000, "people"),
    "coverage": (300, "grade4_students"),
}
#: Most road segments drawn: beyond it only the main classes that fit are drawn, highways first.
ROAD_LIMIT = 15_000
#: The road classes drawn when the map shows the whole district (no township picked): village roads and paths
#: are a third of the segments and, at that scale, a grey mesh; the evacuation routes show those that matter.
MAIN_ROADS = ("highway", "primary", "secondary")
#: Active hazard points above which the data set counts as large (a city or province, not a district).
LARGE_DATA = 2000
#: Townships above which their names are not written on the map (they would cover it).
LABELLED_TOWNSHIPS = 60
#: Zoom levels above the opening view at which simplified outlines still look exact: four at district scale; two
#: on a large map, where a reader who wants detail picks townships (and the outlines are most of the page).
ZOOM_HEADROOM = 4
ZOOM_HEADROOM_LARGE = 2
#: The popup fields of hazard points on a large map (as for ``DEFAULT_SHOWN_LARGE``); the inventory's other fields
#: show in the details below the map.  Each field of 10,000 popups adds about half a megabyte to the page.
POPUP_SUMMARY = ("hazard_id", "name", "hazard_type", "danger_grade", "status")
#: Layers on when the map opens: the hazard picture.  Schools, pools and pool coverage belong to the swimming plan
#: and would bury the hazard points under badges and circles; they are one click away in the layer control.
DEFAULT_SHOWN = (
    "warning_areas",
    "district",
    "townships",
    "roads",
    "danger_zones",
    "routes",
    "villages",
    "shelters",
    "hazard_points",
)
#: Layers on when a large data set opens (``LARGE_DATA``): at that scale the other point layers are a carpet of
#: badges over the hazard clusters.
DEFAULT_SHOWN_LARGE = ("warning_areas", "district", "townships", "roads", "danger_zones", "hazard_points")
#: Height of the map in pixels.
MAP_HEIGHT = 640
#: Zoom the map jumps to when a search picks a hazard point.
FOCUS_ZOOM = 16
_DEFAULTS = AnalysisSettings()


def _in(lang: str, zh: str, en: str) -> str:
    """The Chinese or English text, for functions told their language rather than reading the session's."""
    return zh if lang == "zh" else en


# --------------------------------------------------------------------------------------------------
# Filters


@dataclass(frozen=True)
class Filters:
    """What the sidebar lets through; an empty tuple means no restriction.

    Attributes
    ----------
    townships
        Township names: every layer is restricted to them.
    hazard_types, grades, statuses
        Codes of ``hazard_type``, ``danger_grade`` and ``status`` of the hazard points.
    warning_levels
        Highest warning level over a point (``blue`` ... ``red``), or ``NOT_WARNED``.
    """

    townships: tuple[str, ...] = ()
    hazard_types: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("active",)
    warning_levels: tuple[str, ...] = ()


def warning_levels(result: ExposureResult) -> pd.Series:
    """Return hazard_id -> the highest warning level covering the point, for the warned active points."""
    return pd.Series(result.hazard_points["level"].to_numpy(), index=result.hazard_points["hazard_id"].to_numpy())


def filter_hazards(hazards: gpd.GeoDataFrame, filters: Filters, levels: pd.Series) -> gpd.GeoDataFrame:
    """Return the hazard points the filters let through.

    Parameters
    ----------
    hazards
        The ``hazard_points`` layer.
    filters
        The sidebar's choices.
    levels
        hazard_id -> warning level, from :func:`warning_levels`; points not in it are ``NOT_WARNED``.
    """
    keep = np.ones(len(hazards), dtype=bool)
    for column, chosen in (
        ("township", filters.townships),
        ("hazard_type", filters.hazard_types),
        ("danger_grade", filters.grades),
        ("status", filters.statuses),
    ):
        if chosen:
            keep &= hazards[column].isin(chosen).to_numpy()
    if filters.warning_levels:
        level = hazards["hazard_id"].map(levels).fillna(NOT_WARNED)
        keep &= level.isin(filters.warning_levels).to_numpy()
    return hazards[keep]


def _in_townships(frame: gpd.GeoDataFrame, names: Sequence[str], townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The features of ``frame`` in the named townships: by its ``township`` column, else by location."""
    if not names:
        return frame
    if "township" in frame.columns:
        return frame[frame["township"].isin(names)]
    chosen = townships[townships["name"].isin(names)].to_crs(frame.crs)
    hits = np.unique(chosen.sindex.query(frame.geometry.to_numpy(), predicate="intersects")[0])
    return frame.iloc[hits]


def search_hazards(hazards: gpd.GeoDataFrame, query: str, limit: int = 20) -> gpd.GeoDataFrame:
    """Return the hazard points whose 统一编号 or name contains ``query`` (any case), best matches first.

    An exact 统一编号 comes first, then 编号 starting with the query, then any other match, each group in
    the layer's order.  At most ``limit`` rows.
    """
    text = query.strip().casefold()
    if not text:
        return hazards.iloc[:0]
    ids = hazards["hazard_id"].astype(str).str.casefold()
    names = hazards["name"].fillna("").astype(str).str.casefold()
    rank = np.select(
        [
            ids == text,
            ids.str.startswith(text),
            ids.str.contains(text, regex=False) | names.str.contains(text, regex=False),
        ],
        [0, 1, 2],
        default=3,
    )
    order = np.argsort(rank, kind="stable")
    order = order[rank[order] < 3][:limit]
    return hazards.iloc[order]


# --------------------------------------------------------------------------------------------------
# What the map draws


@dataclass(frozen=True)
class Thinned:
    """A layer drawn in part: ``shown`` of its ``total`` features, and how they were chosen."""

    layer: str
    shown: int
    total: int
    kept: str


@dataclass
class MapView:
    """The frames the map draws, after filtering and thinning, and where it opens.

    Attributes
    ----------
    frames
        Data-model layer name (and ``routes``, ``coverage`` for the analysis results) -> frame to draw.
    bounds
        (min lon, min lat, max lon, max lat) of the opening view.
    hazards_total
        Hazard points in the data set, before filtering.
    thinned
        The layers drawn in part.
    large
        The view holds more than ``LARGE_DATA`` hazard points, or more features than a layer's limit: the map
        then opens on the hazard picture alone (``DEFAULT_SHOWN_LARGE``).
    """

    frames: dict[str, gpd.GeoDataFrame]
    bounds: tuple[float, float, float, float]
    hazards_total: int
    thinned: list[Thinned] = field(default_factory=list)
    large: bool = False


def fit_zoom(bounds: Sequence[float], pixels: int = 900) -> int:
    """Return the deepest Web-Mercator zoom at which ``bounds`` fit in ``pixels`` screen pixels."""
    min_lon, min_lat, max_lon, max_lat = map(float, bounds)
    lat = (min_lat + max_lat) / 2
    span = max((max_lon - min_lon) * math.cos(math.radians(lat)), max_lat - min_lat) * METRES_PER_DEGREE
    zoom = math.floor(math.log2(pixel_metres(0, lat) * pixels / max(span, 1.0)))
    return int(np.clip(zoom, 1, MAX_ZOOM))


def _thin(
    frame: gpd.GeoDataFrame, name: str, weight: pd.Series | None = None
) -> tuple[gpd.GeoDataFrame, Thinned | None]:
    """Keep at most ``LIMITS[name]`` features of ``frame``, those of largest weight (default: the limit's column)."""
    limit, column = LIMITS[name]
    if len(frame) <= limit:
        return frame, None
    values = (weight if weight is not None else frame[column]).fillna(0).to_numpy()
    keep = np.sort(np.argsort(-values, kind="stable")[:limit])
    return frame.iloc[keep], Thinned(name, limit, len(frame), column)


def _main_roads(roads: gpd.GeoDataFrame, whole: bool) -> tuple[gpd.GeoDataFrame, Thinned | None]:
    """The roads to draw: the ``MAIN_ROADS`` classes when ``whole`` shows the whole district, else every class;
    and of those, when more than ``ROAD_LIMIT``, the main classes that fit (at least the highways)."""
    allowed = [c for c in ROAD_CLASSES if c in MAIN_ROADS or not whole]
    counts = roads["road_class"].value_counts().reindex(allowed, fill_value=0)
    fits = counts.cumsum() <= ROAD_LIMIT
    fits.iloc[0] = True
    classes = counts.index[fits].tolist()
    kept = roads[roads["road_class"].isin(classes)]
    if len(kept) == len(roads):
        return roads, None
    return kept, Thinned("roads", len(kept), len(roads), ",".join(classes))


def map_view(
    data: Mapping[str, gpd.GeoDataFrame],
    filters: Filters,
    levels: pd.Series,
    routes: EvacuationResult | None = None,
    coverage: PoolCoverage | None = None,
) -> MapView:
    """Return what the map draws under ``filters``, each layer thinned to its ``LIMITS``.

    The township filter restricts every layer; the hazard filters restrict the hazard points and, with them,
    their danger zones and evacuation routes.  The district outline and township boundaries are always whole.

    Parameters
    ----------
    data
        The data set's layers.
    filters, levels
        As for :func:`filter_hazards`.
    routes, coverage
        The evacuation and pool-coverage results to draw, or None to leave those layers out.
    """
    townships = data["townships"]
    hazards = filter_hazards(data["hazard_points"], filters, levels)
    ids = set(hazards["hazard_id"])
    people = hazards.set_index("hazard_id")["threatened_people"]
    zones = data["danger_zones"][data["danger_zones"]["hazard_id"].isin(ids)]
    frames: dict[str, gpd.GeoDataFrame] = {
        "district": data["district"],
        "townships": townships,
        "warning_areas": _in_townships(data["warning_areas"], filters.townships, townships),
        "hazard_points": hazards,
    }
    thinned: list[Thinned] = []

    def add(name: str, frame: gpd.GeoDataFrame, weight: pd.Series | None = None) -> None:
        frames[name], note = _thin(frame, name, weight)
        thinned.extend([note] if note else [])

    add("danger_zones", zones, zones["hazard_id"].map(people))
    for name in ("villages", "schools", "pools", "shelters"):
        add(name, _in_townships(data[name], filters.townships, townships))
    roads = _in_townships(data["roads"], filters.townships, townships)
    frames["roads"], note = _main_roads(roads, whole=not filters.townships)
    thinned.extend([note] if note else [])
    if routes is not None:
        add("routes", routes.routes[routes.routes["hazard_id"].isin(ids)])
    if coverage is not None:
        add("coverage", _in_townships(coverage.schools, filters.townships, townships))
    chosen = townships[townships["name"].isin(filters.townships)]
    outline = chosen if len(chosen) else data["district"] if len(data["district"]) else townships
    bounds = tuple(map(float, outline.to_crs(STORAGE_CRS).total_bounds))
    large = len(hazards) > LARGE_DATA or len(roads) > ROAD_LIMIT or any(n.layer in LIMITS for n in thinned)
    return MapView(frames, bounds, len(data["hazard_points"]), thinned, large)


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the map: what it depends on beyond the data version (``key``), and how to draw it.

    Equal keys draw equal layers, so the page renders a layer once and reuses it under every filter that leaves
    its features as they are (a hazard-type filter redraws three layers, not twelve).
    """

    key: tuple
    draw: Callable[[], HazmapLayer] = field(compare=False)


def _rows(frame: pd.DataFrame) -> tuple[int, str]:
    """Which rows of its layer ``frame`` holds (its index labels), as a short fingerprint."""
    hashed = pd.util.hash_pandas_object(frame.index.to_series(), index=False).to_numpy()
    return len(frame), hashlib.blake2b(hashed.tobytes(), digest_size=12).hexdigest()


def map_layers(
    view: MapView,
    *,
    lang: str = "zh",
    coverage: PoolCoverage | None = None,
    shown: Sequence[str] | None = None,
) -> list[LayerSpec]:
    """Return the layers of ``view``, bottom to top, each with its key (see :class:`LayerSpec`).

    Parameters
    ----------
    view
        From :func:`map_view`.
    lang
        ``zh`` or ``en``.
    coverage
        The pool-coverage result whose k nearest pools and service radius ``view.frames["coverage"]`` shows.
    shown
        Layers switched on when the map opens (the others are in the layer control, off); default
        ``DEFAULT_SHOWN``, or ``DEFAULT_SHOWN_LARGE`` for a large view.
    """
    frames = view.frames
    hazards = frames["hazard_points"]
    large = view.large
    on = set(shown if shown is not None else DEFAULT_SHOWN_LARGE if large else DEFAULT_SHOWN)
    lat = (view.bounds[1] + view.bounds[3]) / 2
    simplify = pixel_metres(fit_zoom(view.bounds) + (ZOOM_HEADROOM_LARGE if large else ZOOM_HEADROOM), lat)
    radius = coverage.radius_m if coverage is not None else _DEFAULTS.service_radius_m

    def spec(name: str, draw: Callable[[], HazmapLayer], *depends: object, simplified: bool = False) -> LayerSpec:
        key = (name, _rows(frames[name]), lang, name in on, simplify if simplified else None, *depends)
        return LayerSpec(key, draw)

    specs = [
        spec(
            "warning_areas",
            lambda: maplayers.warning_layer(
                frames["warning_areas"], lang=lang, simplify_m=simplify, show="warning_areas" in on
            ),
            simplified=True,
        ),
        spec(
            "townships",
            lambda: maplayers.township_layer(
                frames["townships"],
                labels=len(frames["townships"]) <= LABELLED_TOWNSHIPS,
                lang=lang,
                simplify_m=simplify,
                show="townships" in on,
            ),
            simplified=True,
        ),
        spec(
            "district",
            lambda: maplayers.district_layer(frames["district"], lang=lang, simplify_m=simplify, show="district" in on),
            simplified=True,
        ),
        spec(
            "roads",
            lambda: maplayers.road_layer(frames["roads"], lang=lang, simplify_m=simplify, show="roads" in on),
            simplified=True,
        ),
        spec(
            "danger_zones",
            lambda: maplayers.danger_zone_layer(
                frames["danger_zones"], hazards, lang=lang, simplify_m=simplify, show="danger_zones" in on
            ),
            _rows(hazards),
            simplified=True,
        ),
        spec(
            "pools",
            lambda: maplayers.pool_layer(frames["pools"], service_radius_m=radius, lang=lang, show="pools" in on),
            radius,
        ),
    ]
    if coverage is not None and "coverage" in frames:
        nearest = coverage.nearest[coverage.nearest["school_id"].isin(frames["coverage"]["school_id"])]
        specs.append(
            spec(
                "coverage",
                lambda: maplayers.coverage_layer(
                    frames["coverage"], coverage.pools, nearest, k=coverage.k, lang=lang, show="coverage" in on
                ),
                coverage.k,
                coverage.radius_m,
            )
        )
    if "routes" in frames:
        specs.append(
            spec(
                "routes",
                lambda: maplayers.route_layer(frames["routes"], lang=lang, simplify_m=simplify, show="routes" in on),
                simplified=True,
            )
        )
    specs += [
        spec("villages", lambda: maplayers.village_layer(frames["villages"], lang=lang, show="villages" in on)),
        spec("schools", lambda: maplayers.school_layer(frames["schools"], lang=lang, show="schools" in on)),
        spec("shelters", lambda: maplayers.shelter_layer(frames["shelters"], lang=lang, show="shelters" in on)),
        spec(
            "hazard_points",
            lambda: maplayers.hazard_layer(
                hazards[[*POPUP_SUMMARY, hazards.geometry.name]] if large else hazards,
                include_inactive=bool(set(hazards["status"]) - {"active"}),
                lang=lang,
                show="hazard_points" in on,
            ),
            large,
        ),
    ]
    return specs


def map_frame(view: MapView, *, lang: str = "zh", basemap: str = "none", tianditu_key: str | None = None) -> folium.Map:
    """Return the map without layers: controls and basemap, fitted to the view (see :func:`build_map`)."""
    frames = view.frames
    # The map opens on the whole district (so its frame is the same under every filter and the browser keeps it),
    # then fits the view's extent: the chosen townships.
    home = frames["district"] if len(frames["district"]) else frames["townships"]
    m = maplayers.base_map(
        home.to_crs(STORAGE_CRS).total_bounds, basemap, tianditu_key, lang, outline=frames["district"]
    )
    west, south, east, north = view.bounds
    m.fit_bounds([[south, west], [north, east]])
    return m


def build_map(
    view: MapView,
    *,
    lang: str = "zh",
    basemap: str = "none",
    tianditu_key: str | None = None,
    coverage: PoolCoverage | None = None,
    shown: Sequence[str] | None = None,
) -> folium.Map:
    """Draw ``view`` on one map with every control, one layer-control entry per layer, legend and local assets.

    The page itself renders the layers one by one (:func:`page_map`); this whole map is the same picture, for
    tests and for saving.  Parameters as for :func:`map_frame` and :func:`map_layers`.
    """
    m = map_frame(view, lang=lang, basemap=basemap, tianditu_key=tianditu_key)
    for spec in map_layers(view, lang=lang, coverage=coverage, shown=shown):
        spec.draw().add_to(m)
    return maplayers.finish_map(m, lang=lang)


def page_map(
    view: MapView,
    render: Callable[[LayerSpec], RenderedLayer] = lambda spec: maplayers.render_layer(spec.draw()),
    *,
    lang: str = "zh",
    basemap: str = "none",
    tianditu_key: str | None = None,
    coverage: PoolCoverage | None = None,
) -> MapPayload:
    """Return what the page sends for ``view``: the frame and the layers, each rendered by ``render``.

    The page passes a ``render`` that caches by :attr:`LayerSpec.key`; other parameters as for :func:`build_map`.
    """
    rendered = [render(spec) for spec in map_layers(view, lang=lang, coverage=coverage)]
    m = map_frame(view, lang=lang, basemap=basemap, tianditu_key=tianditu_key)
    return maplayers.split(maplayers.frame_map(m, rendered, lang=lang), rendered)


def map_focus(focus: gpd.GeoDataFrame) -> tuple[tuple[float, float] | None, int | None]:
    """Return the (lat, lon) and zoom to move the map to: the first point of ``focus`` (what a search found).

    None and None leave the map where the reader put it: streamlit-folium moves the map only when these change.
    """
    if focus.empty:
        return None, None
    point = focus.geometry.iloc[0]
    return (point.y, point.x), FOCUS_ZOOM


def clicked_hazard_id(state: Mapping | None, known: pd.Index) -> str | None:
    """Return the 统一编号 of the feature last clicked on the map, if it names a hazard point in ``known``.

    A hazard point, its danger zone and its evacuation route all carry ``hazard_id``, so clicking any of them
    selects the point.  Property values reach the browser HTML-escaped (:mod:`layers.escape`); they are
    unescaped here.
    """
    feature = (state or {}).get("last_active_drawing") or {}
    value = (feature.get("properties") or {}).get("hazard_id")
    if not isinstance(value, str):
        return None
    hazard_id = html.unescape(value)
    return hazard_id if hazard_id in known else None


def click_token(state: Mapping | None, frame_key: str) -> tuple[str, int]:
    """Return what tells one click on the map from the next: the map's frame and its count of clicks.

    The same feature clicked again reports the same ``last_active_drawing``; the count tells the second click
    apart, so a point clicked, then left for a search, then clicked again is selected again.  The count restarts
    with each map frame (a new iframe), hence the frame key.
    """
    return frame_key, int((state or {}).get("last_object_clicked_count") or 0)


# --------------------------------------------------------------------------------------------------
# Details of a hazard point


#: Route columns the details show; ``hazard_id`` and ``origin_id`` are the point's own and need no column.
_ROUTE_COLUMNS = [
    "origin_name",
    "origin_kind",
    "people",
    "shelter_id",
    "assigned_shelter_id",
    "length_m",
    "walk_minutes",
    "reachable",
    "reason",
]


def inventory_table(record: pd.Series, lang: str) -> pd.DataFrame:
    """The point's inventory (隐患点台账) fields as a two-column table of titles and readable values."""
    rows = []
    for column in maplayers.hazards.POPUP_COLUMNS:
        value = record.get(column)
        labels = i18n.enum_labels("hazard_points", column, lang)
        text = "" if is_missing(value) else labels.get(value, value)
        rows.append((i18n.column_title("hazard_points", column, lang), str(text)))
    point = record.geometry
    rows.append((_in(lang, "经度, 纬度", "Lon, lat"), f"{point.x:.6f}, {point.y:.6f}"))
    return pd.DataFrame(rows, columns=[_in(lang, "字段", "Field"), _in(lang, "内容", "Value")])


# --------------------------------------------------------------------------------------------------
# Settings and notes


def thinning_note(note: Thinned, lang: str) -> str:
    """One sentence saying how a layer was thinned, in ``lang``."""
    name = {"routes": i18n.ui("routes", lang), "coverage": i18n.ui("coverage", lang)}.get(note.layer)
    name = name or i18n.layer_title(note.layer, lang)
    if note.layer == "roads":
        labels = i18n.enum_labels("roads", "road_class", lang)
        kept = _in(lang, "、", ", ").join(labels[c] for c in note.kept.split(","))
        return _in(
            lang,
            f"{name}：共 {note.total:,} 条，只显示主要道路（{kept}）{note.shown:,} 条；选择乡镇可显示全部道路。",
            f"{name}: {note.total:,} segments; only the main roads ({kept}), {note.shown:,}, are drawn. "
            "Pick townships to see every road.",
        )
    title = i18n.column_title(note.layer, note.kept, lang)
    return _in(
        lang,
        f"{name}：共 {note.total:,} 个，只显示“{title}”最大的 {note.shown:,} 个；选择乡镇可显示全部。",
        f"{name}: {note.total:,} features; the {note.shown:,} with the largest “{title}” are drawn. "
        "Pick townships to see them all.",
    )


# --------------------------------------------------------------------------------------------------
# The page


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_map(
    version: common.DataVersion,
    filters: Filters,
    lang: str,
    basemap: str,
    with_routes: bool,
    with_coverage: bool,
) -> tuple[MapPayload, MapView]:
    """The rendered map of one data version and set of choices: a click reruns the page but reuses it."""
    data = common.layers(version)
    routes = analysis.routes(version, _DEFAULTS.walk_speed_kmh) if with_routes else None
    coverage = (
        analysis.coverage(version, _DEFAULTS.k_pools, _DEFAULTS.service_radius_m, "network") if with_coverage else None
    )
    view = map_view(data, filters, warning_levels(analysis.exposure(version)), routes, coverage)

    def render(spec: LayerSpec) -> RenderedLayer:
        return _rendered_layer(version, spec.key, spec.draw)

    payload = page_map(view, render, lang=lang, basemap=basemap, tianditu_key=common.tianditu_key(), coverage=coverage)
    return payload, view


# A dozen layers a map, a few maps' worth: at province scale a rendered layer is up to ~3 MB of script.
@st.cache_resource(show_spinner=False, max_entries=64)
def _rendered_layer(version: common.DataVersion, key: tuple, _draw: Callable[[], HazmapLayer]) -> RenderedLayer:
    """One layer of one data version, rendered once for every map that draws it (``key``: :class:`LayerSpec`)."""
    return maplayers.render_layer(_draw())


def _keyed(key: str, default: object) -> tuple[str, object]:
    """The widget key for the session's language, and the value to start from: the choice made in the other one.

    Streamlit keeps showing an option's label from when it was first drawn, so a widget whose options are worded
    in the interface language has one key per language; switching carries the choice across.
    """
    lang = common.lang()
    other = st.session_state.get(f"{key}_{'en' if lang == 'zh' else 'zh'}")
    return f"{key}_{lang}", default if other is None else other


def _multiselect(label: str, options: Mapping[str, str], key: str, default: Sequence[str] = ()) -> tuple[str, ...]:
    key, start = _keyed(key, list(default))
    return tuple(st.sidebar.multiselect(label, list(options), default=start, format_func=options.get, key=key))


def _sidebar_filters(data: Mapping[str, gpd.GeoDataFrame], lang: str) -> Filters:
    st.sidebar.subheader(common.tr("筛选", "Filters"))
    names = data["townships"]["name"].tolist()
    level_names = {code: (w.name_zh if lang == "zh" else w.name_en) for code, w in rules.WARNING_LEVELS.items()}
    return Filters(
        townships=_multiselect(
            common.tr("乡镇（街道）", "Township"), dict(zip(names, names, strict=True)), "map_townships"
        ),
        hazard_types=_multiselect(
            common.tr("灾害类型", "Hazard type"), i18n.enum_labels("hazard_points", "hazard_type", lang), "map_types"
        ),
        grades=_multiselect(
            common.tr("险情等级", "Danger grade"), i18n.enum_labels("hazard_points", "danger_grade", lang), "map_grades"
        ),
        statuses=_multiselect(
            common.tr("状态", "Status"), i18n.enum_labels("hazard_points", "status", lang), "map_status", ("active",)
        ),
        warning_levels=_multiselect(
            common.tr("预警等级", "Warning level"),
            {**level_names, NOT_WARNED: common.tr("未预警", "Not under warning")},
            "map_levels",
        ),
    )


def _select(hazard_id: str, focus: bool) -> None:
    """Show ``hazard_id``'s details; with ``focus``, also move the map to it (a search, not a click on the map)."""
    st.session_state["map_selected"] = hazard_id
    if focus:
        st.session_state["map_focus"] = hazard_id


def _sidebar_search(hazards: gpd.GeoDataFrame) -> None:
    """Search by 统一编号 or name; the first match is selected as the query is typed, another can be picked."""

    def typed() -> None:
        found = search_hazards(hazards, st.session_state["map_search"], limit=1)
        if len(found):
            _select(found["hazard_id"].iloc[0], focus=True)

    query = st.sidebar.text_input(
        common.tr("搜索隐患点", "Find a hazard point"),
        key="map_search",
        placeholder=common.tr("统一编号或名称", "统一编号 (id) or name"),
        on_change=typed,
    )
    if not query.strip():
        return
    found = search_hazards(hazards, query)
    if found.empty:
        st.sidebar.caption(common.tr("没有找到匹配的隐患点。", "No hazard point matches."))
        return
    labels = dict(zip(found["hazard_id"], found["name"].fillna("") + "（" + found["hazard_id"] + "）", strict=True))
    st.sidebar.selectbox(
        common.tr("匹配结果", "Matches"),
        list(labels),
        format_func=labels.get,
        key="map_search_pick",
        on_change=lambda: _select(st.session_state["map_search_pick"], focus=True),
    )


def _sidebar_options(large: bool, choices: list[str]) -> tuple[str, bool, bool]:
    st.sidebar.subheader(common.tr("图层与底图", "Layers and basemap"))
    names = {
        "none": common.tr("无底图（离线）", "None (offline)"),
        "tianditu": "天地图 Tianditu",
        "osm": "OpenStreetMap",
    }
    key, start = _keyed("map_basemap", "none")
    index = choices.index(start) if start in choices else 0
    basemap = st.sidebar.selectbox(common.tr("底图", "Basemap"), choices, index, format_func=names.get, key=key)
    with_routes = st.sidebar.checkbox(
        common.tr("计算并显示转移路线", "Compute and show evacuation routes"), not large, key="map_routes"
    )
    with_coverage = st.sidebar.checkbox(
        common.tr("计算并显示学校到最近游泳设施", "Compute and show schools to nearest pools"),
        not large,
        key="map_coverage",
    )
    if large:
        st.sidebar.caption(
            common.tr(
                "数据量较大：转移路线和游泳覆盖需首次计算数秒，默认不显示。",
                "Large data set: routes and pool coverage take seconds to compute the first time; off by default.",
            )
        )
    return basemap, with_routes, with_coverage


def _table(frame: pd.DataFrame, columns: Sequence[str], lang: str) -> None:
    st.dataframe(widgets.readable(widgets.present(frame, columns, lang)), hide_index=True, width="stretch")


def _show_details(details: hazard.HazardDetails, shown_on_map: bool, lang: str) -> None:
    record = details.record
    st.subheader(f"{common.tr('隐患点', 'Hazard point')} {widgets.md_escape(record['hazard_id'])}")
    st.markdown(f"**{widgets.md_escape(record['name'])}**")
    if not shown_on_map:
        st.caption(
            common.tr(
                "此点不在当前筛选结果中，地图上未显示。", "This point is outside the current filters; not on the map."
            )
        )
    left, right = st.columns([1, 1])
    with left:
        st.markdown(f"**{common.tr('台账', 'Inventory')}**")
        st.dataframe(inventory_table(record, lang), hide_index=True, width="stretch")
    with right:
        st.markdown(f"**{common.tr('预警与应对措施', 'Warning and required actions')}**")
        if details.level:
            w = rules.WARNING_LEVELS[details.level]
            ids = widgets.md_escape(common.tr("、", ", ").join(details.warning_ids))
            flags = widgets.md_escape(response.level_flags(w.code, lang))
            # No bold: CommonMark does not close ** right after a full-width bracket such as ）.
            where = common.tr(f"处于{w.name_zh}预警区（{ids}）。", f"Under a {w.name_en} warning ({ids}). ")
            st.markdown(where + flags)
            checklist = response.response_checklist(details.level, lang)
            _table(checklist, [c for c in response.CHECKLIST_COLUMNS if c != "level"], lang)
        else:
            st.write(common.tr("当前不在任何预警区内。", "Not under any warning."))
        st.markdown(f"**{common.tr('危险区', 'Danger zones')}**")
        st.write(
            common.tr(
                f"{details.zones} 个危险区，合计面积 {details.zone_area_m2 / 1e4:,.2f} 公顷；"
                f"区内村庄 {len(details.villages)} 个，人口 {details.people:,} 人。",
                f"{details.zones} danger zone(s), {details.zone_area_m2 / 1e4:,.2f} ha in all; "
                f"{len(details.villages)} village(s) inside, population {details.people:,}.",
            )
        )
        if len(details.villages):
            _table(details.villages, hazard.VILLAGE_COLUMNS, lang)
    st.markdown(f"**{common.tr('转移路线与避灾场所', 'Evacuation routes and shelters')}**")
    if details.routes is None:
        st.caption(
            common.tr(
                "转移路线未计算：在侧栏勾选“计算并显示转移路线”。", "Routes not computed: tick them in the sidebar."
            )
        )
    elif details.routes.empty:
        st.write(common.tr("此点不在册，无转移路线。", "Not an active point: no evacuation route."))
    else:
        _table(details.routes, _ROUTE_COLUMNS, lang)
    if len(details.shelters):
        _table(details.shelters, hazard.SHELTER_COLUMNS + hazard.LOAD_COLUMNS, lang)


def render() -> None:
    """The Map page."""
    version, data = common.load_or_stop()
    lang = common.lang()
    hazards = data["hazard_points"]
    large = int((hazards["status"] == "active").sum()) > LARGE_DATA
    filters = _sidebar_filters(data, lang)
    _sidebar_search(hazards)
    basemap, with_routes, with_coverage = _sidebar_options(large, common.basemaps())

    with st.spinner(common.tr("正在绘制地图…", "Drawing the map…")):
        payload, view = _cached_map(version, filters, lang, basemap, with_routes, with_coverage)
    st.caption(
        common.tr(
            f"显示隐患点 {len(view.frames['hazard_points']):,} 个（共 {view.hazards_total:,} 个）。"
            "点击隐患点、危险区或转移路线查看详情。",
            f"{len(view.frames['hazard_points']):,} of {view.hazards_total:,} hazard points shown. "
            "Click a hazard point, danger zone or route for its details.",
        )
    )
    if view.thinned:
        title = common.tr(f"{len(view.thinned)} 个图层只显示部分要素", f"{len(view.thinned)} layer(s) drawn in part")
        if view.large:
            title += common.tr("；数据量大，部分图层默认关闭", "; large data: some layers start switched off")
        with st.expander(f"ℹ️ {title}"):
            widgets.bullets([thinning_note(note, lang) for note in view.thinned])

    center, zoom = map_focus(hazards[hazards["hazard_id"] == st.session_state.get("map_focus")])
    state = widgets.show_map(
        payload,
        "hazmap_map",
        height=MAP_HEIGHT,
        returned_objects=["last_active_drawing", "last_object_clicked_count"],
        center=center,
        zoom=zoom,
    )
    clicked = clicked_hazard_id(state, pd.Index(hazards["hazard_id"]))
    click = click_token(state, payload.frame_key)
    if clicked and click != st.session_state.get("map_click"):
        st.session_state["map_click"] = click
        _select(clicked, focus=False)

    selected = st.session_state.get("map_selected")
    if selected not in set(hazards["hazard_id"]):
        st.info(
            common.tr(
                "点击地图上的隐患点，或在侧栏搜索，查看详情。",
                "Click a hazard point on the map, or search in the sidebar, for its details.",
            )
        )
        return
    routes = analysis.routes(version, _DEFAULTS.walk_speed_kmh) if with_routes else None
    details = hazard.hazard_details(selected, data, analysis.exposure(version), routes)
    _show_details(details, selected in set(view.frames["hazard_points"]["hazard_id"]), lang)
