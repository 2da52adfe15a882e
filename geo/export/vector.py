"""Routes, danger zones and shelters for phones and GIS: KML (Google Earth, 奥维), GPX (两步路, 奥维), GeoJSON.

Every format is in WGS84 longitude/latitude, the only system these apps read; CGCS2000 coordinates are written as
they are, since the two differ by centimetres (docs/data-model.md).  Names and descriptions are Chinese, in UTF-8.

- KML: one folder per kind (危险区, 撤离路线, 避灾场所, 隐患点), with styles: red zones, blue routes, green shelters.
  Written with ``xml.etree`` rather than GDAL's KML driver, which cannot write styles per folder.
- GPX: each route a track (``<trk>``: apps draw a track as the line to follow, where a ``<rte>`` of many points
  is often re-routed), each shelter and hazard point a waypoint; zones have no GPX form.  Also ``xml.etree``:
  GDAL's GPX driver takes only its own field names.
- GeoJSON: one layer through GDAL (pyogrio), RFC 7946.

Files are written atomically (:func:`geo.export.files.opened`).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo.export.files import Target, opened, suffix
from geo.export.hazard import ExportData
from geo.export.options import VECTOR_FORMATS
from geo.export.page import display
from geo.model import crs as model_crs

FORMATS = ("kml", "gpx", "geojson")
KINDS = tuple(VECTOR_FORMATS)
WGS84 = "EPSG:4326"
#: KML colours (aabbggrr) and widths of the four folders, matching the drill map's styles.
_KML_STYLES = {
    "zone": {"LineStyle": {"color": "ff2828c6", "width": "2"}, "PolyStyle": {"color": "662828c6"}},
    "route": {"LineStyle": {"color": "ffc06515", "width": "5"}},
    "shelter": {"IconStyle": {"color": "ff327d2e", "scale": "1.2"}, "LabelStyle": {"color": "ff327d2e"}},
    "hazard": {"IconStyle": {"color": "ff2828c6", "scale": "1.1"}, "LabelStyle": {"color": "ff2828c6"}},
}


def export_format(target: Target, fmt: str | None) -> str:
    """The format to write: ``fmt`` if given, else the file name's ending.

    Raises
    ------
    ValueError
        Neither names one of :data:`FORMATS`.
    """
    chosen = fmt or suffix(target, "").lstrip(".")
    if chosen == "json":
        chosen = "geojson"
    if chosen not in FORMATS:
        raise ValueError(f"choose a format: kml, gpx or geojson (from --format or the file name), not {chosen!r}")
    return chosen


def routes_frame(data: ExportData, hazard_ids: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """The routes (reachable ones: a line to follow) in WGS84, with Chinese ``name`` and ``description``."""
    ids = _ids(data, hazard_ids)
    rows, geoms = [], []
    for hazard_id in ids:
        facts = data.facts(hazard_id)
        for n, route in facts.routes.iterrows():
            if not route["reachable"]:
                continue
            rows.append(
                {
                    "name": f"{facts.name} 撤离路线{n + 1}：{facts.origin_zh(route)}→{route['shelter_name']}",
                    "description": facts.route_zh(route),
                    "hazard_id": hazard_id,
                    "hazard_name": facts.name,
                    "origin_name": route["origin_name"],
                    "shelter_id": route["shelter_id"],
                    "shelter_name": route["shelter_name"],
                    "length_m": round(float(route["length_m"]), 1),
                    "walk_minutes": round(float(route["walk_minutes"]), 1),
                    "people": int(route["people"]),
                }
            )
            geoms.append(route.geometry)
    return _wgs84(rows, geoms, data.crs)


def zones_frame(data: ExportData, hazard_ids: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """The danger zones of the hazard points, in WGS84, named after them."""
    rows, geoms = [], []
    for hazard_id in _ids(data, hazard_ids):
        facts = data.facts(hazard_id)
        for zone in facts.zones:
            rows.append(
                {
                    "name": f"{facts.name} 危险区",
                    "description": (
                        f"统一编号 {hazard_id}；{facts.type_zh}，规模{facts.scale_zh}，险情等级{facts.grade_zh}；"
                        f"威胁 {display(facts.hazard.get('threatened_people'))} 人"
                    ),
                    "hazard_id": hazard_id,
                    "hazard_name": facts.name,
                }
            )
            geoms.append(zone)
    return _wgs84(rows, geoms, data.crs)


def shelters_frame(data: ExportData, hazard_ids: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Shelters in WGS84: every shelter of the layer, or those the routes of ``hazard_ids`` reach."""
    shelters = data.layers["shelters"]
    if hazard_ids is not None:
        used = {s for h in _ids(data, hazard_ids) for s in data.facts(h).shelters["shelter_id"]}
        shelters = shelters[shelters["shelter_id"].isin(used)]
    rows = [
        {
            "name": display(s.name),
            "description": f"避灾场所，可容纳 {display(s.capacity)} 人；{display(s.township)}",
            "shelter_id": s.shelter_id,
            "capacity": int(s.capacity),
        }
        for s in shelters.itertuples()
    ]
    return _wgs84(rows, list(shelters.geometry), data.crs)


def hazards_frame(data: ExportData, hazard_ids: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """The hazard points themselves, in WGS84, for the KML and GPX packages."""
    rows, geoms = [], []
    for hazard_id in _ids(data, hazard_ids):
        facts = data.facts(hazard_id)
        rows.append(
            {
                "name": facts.name,
                "description": (
                    f"统一编号 {hazard_id}；{facts.place_zh}；{facts.type_zh}；"
                    f"预警信号：{display(facts.hazard.get('warning_signal'))}；"
                    f"监测人：{display(facts.hazard.get('monitor_name'))} "
                    f"{display(facts.hazard.get('monitor_phone'))}"
                ),
                "hazard_id": hazard_id,
            }
        )
        geoms.append(facts.point)
    return _wgs84(rows, geoms, data.crs)


def write_vector(
    data: ExportData,
    kind: str,
    target: Target,
    fmt: str | None = None,
    hazard_ids: Iterable[str] | None = None,
) -> int:
    """Write routes, zones or shelters as KML, GPX or GeoJSON; returns the number of features of ``kind``.

    A KML or GPX of routes also carries what a phone needs with them: the zones (KML), the shelters and the hazard
    points.

    Parameters
    ----------
    data
        The prepared layers and routes (:meth:`ExportData.prepare`).
    kind
        ``routes``, ``zones`` or ``shelters``.
    target
        A path (written atomically) or a binary stream.
    fmt
        ``kml``, ``gpx`` or ``geojson``; default: from the file name.
    hazard_ids
        Only these active hazard points (default: every active one); for shelters, those their routes reach.

    Raises
    ------
    ValueError
        Unknown kind or format, a format the kind has no form in, or an unknown or inactive hazard point.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    fmt = export_format(target, fmt)
    if fmt not in VECTOR_FORMATS[kind]:
        raise ValueError(f"{kind} cannot be written as {fmt}: use {' or '.join(VECTOR_FORMATS[kind])}")
    ids = None if hazard_ids is None else list(hazard_ids)
    frames = {
        "routes": lambda: routes_frame(data, ids),
        "zones": lambda: zones_frame(data, ids),
        "shelters": lambda: shelters_frame(data, ids),
    }
    main = frames[kind]()
    if fmt == "geojson":
        content = _geojson(main, kind)
    elif fmt == "kml":
        extra = ("zones", "shelters") if kind == "routes" else ()
        folders = {kind: main, **{k: frames[k]() for k in extra}}
        if kind == "routes":
            folders["hazards"] = hazards_frame(data, ids)
        content = _kml(folders, _title(kind))
    else:
        waypoints = [shelters_frame(data, ids), hazards_frame(data, ids)] if kind == "routes" else [main]
        content = _gpx(main if kind == "routes" else None, waypoints, _title(kind))
    with opened(target) as stream:
        stream.write(content)
    return len(main)


def _ids(data: ExportData, hazard_ids: Iterable[str] | None) -> list[str]:
    ids = data.active_ids() if hazard_ids is None else list(hazard_ids)
    data.check(ids)
    return ids


def _wgs84(rows: list[dict], geoms: list, crs: str) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.GeoSeries(geoms, crs=crs))
    # Metric back to CGCS2000 exactly, then read as WGS84: they differ by centimetres (docs/data-model.md).
    return frame.to_crs(model_crs.STORAGE_CRS).set_crs(WGS84, allow_override=True)


def _title(kind: str) -> str:
    return {"routes": "地质灾害避险转移路线", "zones": "地质灾害危险区", "shelters": "避灾场所"}[kind]


def _geojson(frame: gpd.GeoDataFrame, layer: str) -> bytes:
    import pyogrio

    buffer = io.BytesIO()
    pyogrio.write_dataframe(frame, buffer, driver="GeoJSON", layer=layer, layer_options={"RFC7946": "YES"})
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# KML

_KML_NS = "http://www.opengis.net/kml/2.2"
_FOLDERS = {"zones": ("危险区", "zone"), "routes": ("撤离路线", "route"), "shelters": ("避灾场所", "shelter")}
_FOLDERS["hazards"] = ("隐患点", "hazard")


def _kml(folders: dict[str, gpd.GeoDataFrame], title: str) -> bytes:
    ET.register_namespace("", _KML_NS)
    root = ET.Element(f"{{{_KML_NS}}}kml")
    document = _sub(root, "Document")
    _sub(document, "name", title)
    for style_id, style in _KML_STYLES.items():
        node = _sub(document, "Style", id=style_id)
        for kind, values in style.items():
            part = _sub(node, kind)
            for key, value in values.items():
                _sub(part, key, value)
    for kind in ("zones", "routes", "shelters", "hazards"):
        if kind not in folders:
            continue
        name, style_id = _FOLDERS[kind]
        folder = _sub(document, "Folder")
        _sub(folder, "name", name)
        for row in folders[kind].itertuples():
            mark = _sub(folder, "Placemark")
            _sub(mark, "name", row.name)
            _sub(mark, "description", row.description)
            _sub(mark, "styleUrl", f"#{style_id}")
            _kml_geometry(mark, row.geometry)
    return _xml(root)


def _kml_geometry(parent: ET.Element, geom: BaseGeometry) -> None:
    parts = list(getattr(geom, "geoms", [geom]))
    holder = _sub(parent, "MultiGeometry") if len(parts) > 1 else parent
    for part in parts:
        if part.geom_type == "Point":
            _sub(_sub(holder, "Point"), "coordinates", _coords([part.coords[0]]))
        elif part.geom_type == "LineString":
            line = _sub(holder, "LineString")
            _sub(line, "tessellate", "1")
            _sub(line, "coordinates", _coords(part.coords))
        else:
            polygon = _sub(holder, "Polygon")
            for tag, ring in [("outerBoundaryIs", part.exterior), *(("innerBoundaryIs", r) for r in part.interiors)]:
                _sub(_sub(_sub(polygon, tag), "LinearRing"), "coordinates", _coords(ring.coords))


def _coords(coords: Iterable[Sequence[float]]) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y, *_ in coords)


# --------------------------------------------------------------------------------------------------
# GPX

_GPX_NS = "http://www.topografix.com/GPX/1/1"


def _gpx(tracks: gpd.GeoDataFrame | None, waypoints: list[gpd.GeoDataFrame], title: str) -> bytes:
    ET.register_namespace("", _GPX_NS)
    root = ET.Element(f"{{{_GPX_NS}}}gpx", version="1.1", creator="hazmap")
    _sub(_sub(root, "metadata", ns=_GPX_NS), "name", title, ns=_GPX_NS)
    # GPX orders waypoints before tracks.
    for frame, symbol in zip(waypoints, ("Shelter", "Danger Area"), strict=False):
        for row in frame.itertuples():
            point = _sub(root, "wpt", ns=_GPX_NS, lat=f"{row.geometry.y:.7f}", lon=f"{row.geometry.x:.7f}")
            _sub(point, "name", row.name, ns=_GPX_NS)
            _sub(point, "desc", row.description, ns=_GPX_NS)
            _sub(point, "sym", symbol, ns=_GPX_NS)
    for row in () if tracks is None else tracks.itertuples():
        track = _sub(root, "trk", ns=_GPX_NS)
        _sub(track, "name", row.name, ns=_GPX_NS)
        _sub(track, "desc", row.description, ns=_GPX_NS)
        segment = _sub(track, "trkseg", ns=_GPX_NS)
        for x, y, *_ in row.geometry.coords:
            _sub(segment, "trkpt", ns=_GPX_NS, lat=f"{y:.7f}", lon=f"{x:.7f}")
    return _xml(root)


def _sub(parent: ET.Element, tag: str, text: str | None = None, ns: str = _KML_NS, **attrs: str) -> ET.Element:
    """A child element; its text is escaped by ElementTree when written."""
    node = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
