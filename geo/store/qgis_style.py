"""Default QGIS styles (QML) of the hazmap layers, for the GeoPackage ``layer_styles`` table.

QGIS 3.22 (Debian 12) takes field aliases only from a layer's default style, so every style carries an
``<aliases>`` block with the Chinese title of each column, next to a simple renderer: hazard points by danger
grade and warning areas by level on the national blue/yellow/orange/red scale, every other layer one symbol.
Symbol properties are written as ``<prop k= v=>``, the form every QGIS 3 release reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from geo.model.schema import GRADES, WARNING_LEVEL_LABELS, Layer

#: Low to high: blue, yellow, orange, red (plan 4.4 warning colours; grades follow the same order).
_FOUR_COLOURS = ("30,111,217", "245,200,0", "255,128,0", "220,0,0")

#: Layer -> (column, {value: label}) for a categorised renderer, coloured low to high.
_CATEGORISED = {
    "hazard_points": ("danger_grade", GRADES),
    "warning_areas": ("level", WARNING_LEVEL_LABELS),
}

#: Layer -> colour of its single symbol; polygons without a fill are drawn as outlines.
_SINGLE = {
    "district": "60,60,60",
    "townships": "120,120,120",
    "danger_zones": "220,0,0",
    "villages": "150,90,40",
    "schools": "40,80,200",
    "pools": "0,170,200",
    "shelters": "0,150,60",
    "roads": "130,130,130",
}
_OUTLINE_ONLY = {"district", "townships"}
_MARKER_SHAPES = {"hazard_points": "triangle", "villages": "square", "schools": "star", "pools": "diamond"}

_SYMBOL_TYPE = {"Point": "marker", "LineString": "line", "Polygon": "fill"}
#: QGIS geometry type codes of <layerGeometryType>.
_GEOMETRY_CODE = {"Point": "0", "LineString": "1", "Polygon": "2"}


def _symbol_layer(layer: Layer, colour: str) -> dict[str, str]:
    """Return the class (key ``class``) and properties of the one symbol layer that draws ``layer``."""
    if layer.geometry == "Point":
        return {
            "class": "SimpleMarker",
            "name": _MARKER_SHAPES.get(layer.name, "circle"),
            "color": f"{colour},255",
            "outline_color": "35,35,35,255",
            "outline_width": "0.2",
            "size": "3.2",
        }
    if layer.geometry == "LineString":
        return {"class": "SimpleLine", "line_color": f"{colour},255", "line_width": "0.5", "capstyle": "round"}
    outline_only = layer.name in _OUTLINE_ONLY
    return {
        "class": "SimpleFill",
        "color": f"{colour},90",
        "style": "no" if outline_only else "solid",
        "outline_color": f"{colour},255",
        "outline_style": "dash" if layer.name == "townships" else "solid",
        "outline_width": "0.6" if outline_only else "0.3",
    }


def _add_symbol(parent: ET.Element, layer: Layer, name: str, colour: str) -> None:
    symbol = ET.SubElement(
        parent,
        "symbol",
        type=_SYMBOL_TYPE[layer.geometry],
        name=name,
        alpha="1",
        clip_to_extent="1",
        force_rhr="0",
    )
    props = _symbol_layer(layer, colour)
    sym_layer = ET.SubElement(
        symbol, "layer", {"class": props.pop("class"), "enabled": "1", "pass": "0", "locked": "0"}
    )
    for key, value in props.items():
        ET.SubElement(sym_layer, "prop", k=key, v=value)


def _renderer(layer: Layer) -> ET.Element:
    if layer.name in _CATEGORISED:
        column, labels = _CATEGORISED[layer.name]
        renderer = ET.Element("renderer-v2", type="categorizedSymbol", attr=column, symbollevels="0", forceraster="0")
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for index, ((value, label), colour) in enumerate(zip(labels.items(), _FOUR_COLOURS, strict=True)):
            ET.SubElement(categories, "category", render="true", symbol=str(index), value=value, label=label)
            _add_symbol(symbols, layer, str(index), colour)
        return renderer
    renderer = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", forceraster="0")
    _add_symbol(ET.SubElement(renderer, "symbols"), layer, "0", _SINGLE[layer.name])
    return renderer


def qml(layer: Layer) -> str:
    """Return the QML document of the default style of ``layer``.

    Parameters
    ----------
    layer
        A layer of :data:`geo.model.schema.LAYERS`.

    Returns
    -------
    str
        A QGIS style with a renderer and an alias (the Chinese title) for every column of the layer.

    Examples
    --------
    >>> from geo.model.schema import LAYERS
    >>> '<alias field="hazard_id" index="1" name="统一编号" />' in qml(LAYERS["hazard_points"])
    True
    """
    root = ET.Element("qgis", version="3.22.16-Białowieża", styleCategories="AllStyleCategories")
    root.append(_renderer(layer))
    aliases = ET.SubElement(root, "aliases")
    # A GeoPackage layer opens in QGIS with its fid as field 0, so the model's columns start at index 1.
    ET.SubElement(aliases, "alias", field="fid", index="0", name="")
    for index, field in enumerate(layer.fields, start=1):
        ET.SubElement(aliases, "alias", field=field.name, index=str(index), name=field.title_zh)
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_CODE[layer.geometry]
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")
