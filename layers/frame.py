"""A finished map cut in two for streamlit-folium: a frame the browser keeps, and data layers it swaps in place.

Why
---
``st_folium`` keys its iframe on a hash of the map's whole script.  Any change of the map -- a filter that leaves
out some hazard points -- therefore throws the iframe away: the browser fetches Leaflet and every plugin again,
runs the whole script, and the reader loses the view they had panned to.  streamlit-folium's frontend can also
change a live map: when its ``feature_group`` argument changes it evaluates that JavaScript in the map's page,
without reloading anything.

:func:`split` renders a map once and cuts it along that line:

- the **frame** -- the Leaflet map object, its controls (scale bar, full screen, measure, coordinates, overview
  map) and basemap tiles, with the page header (stylesheets), the page HTML and the lists of scripts and
  stylesheets to load.  :attr:`MapPayload.frame_key` hashes all of it: the iframe lives as long as that key;
- the **data** -- every layer, the layer control and the legend, as one script that first removes what the
  previous data script added, then draws the new layers, switched on or off as the reader had them, then fits the
  view to the data's extent if that extent changed (so a filter on hazard type keeps the reader's view and layers,
  a filter on township moves to the townships).

The frame's element names are made positional (``fullscreen_f3``), so two builds of the same frame are the same
text; the data's names stay folium's random ones, each data script being evaluated on its own.

The payload is plain strings: pages cache it (one render per data version and set of choices), so a rerun of
the page sends the same strings and the browser does nothing.

Layers rendered apart
---------------------
Rendering is most of a filter change's cost on the server, and most layers do not change with a filter (roads,
villages, schools under a hazard-type filter).  :func:`render_layer` renders one layer on its own, as a
:class:`RenderedLayer` the page caches by what the layer depends on; ``split(frame_map(m, rendered), rendered)``
assembles the page from the frame ``m`` and those layers, writing their layer control and legend.

streamlit-folium evaluates the data script with ``eval`` inside its own strict-mode code; the page is given it as
the body of a sloppy-mode function (:attr:`MapPayload.data_call`), as folium's templates expect.  Either way the
variables a data script declares live and die with that call, which is why the script records what it added to the
map in ``window.hazmapData`` for the next one to remove.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink
from folium.elements import JSCSSMixin
from folium.map import FitBounds, Layer, LayerControl
from folium.plugins import Draw, Fullscreen, MeasureControl, MiniMap, MousePosition

from layers.assets import DEFAULT_BASE_URL, bundled, make_offline
from layers.base import MetricScale, OutlineMiniMap
from layers.common import HazmapLayer, HazmapStyles, walk
from layers.legend import Legend, layer_html, wrap_legend

#: Children of the map that belong to the frame: made with the map, kept while only the data changes.
FRAME_TYPES = (
    folium.TileLayer,
    Fullscreen,
    MeasureControl,
    MousePosition,
    MiniMap,
    OutlineMiniMap,
    MetricScale,
    HazmapStyles,
    # What the reader draws stays while the data changes; streamlit-folium reads it from window.drawnItems.
    Draw,
)
#: Data elements the data script keeps a handle on, to remove them when the next data script runs.
REMOVABLE_TYPES = (Layer, LayerControl, Legend)
#: streamlit-folium's page holds ``<div id="map_div">`` and runs ``window.map = map_div`` after the frame script.
MAP_ID = "div"
_ASSET_LINKS = (JavascriptLink, CssLink)


@dataclass(frozen=True)
class MapPayload:
    """What streamlit-folium's component needs to show a map, with the data apart from the frame.

    Attributes
    ----------
    script
        Creates ``map_div`` and its frame controls.
    header, html
        Page header (styles) and body HTML the frame needs.
    js_links, css_links
        Scripts (loaded in order) and stylesheets of every element, frame and data.
    data
        Removes the previous data layers, draws these, and fits the view when the extent changed.
    bounds
        [[south, west], [north, east]] the data script fits to, or None.
    """

    script: str
    header: str
    html: str
    js_links: tuple[str, ...]
    css_links: tuple[str, ...]
    data: str
    bounds: tuple[tuple[float, float], tuple[float, float]] | None

    @cached_property
    def data_call(self) -> str:
        """:attr:`data` as streamlit-folium's page must be given it: run as the body of a sloppy-mode function.

        The page evaluates what it is given with ``eval`` inside its own strict-mode code; folium writes its
        templates for a plain page, and one (AntPath) assigns an undeclared variable, which strict mode refuses.
        A ``Function`` body runs in sloppy mode, as on folium's own pages, and its variables stay its own.
        """
        return f"new Function({json.dumps(self.data, ensure_ascii=False)})();"

    @property
    def frame_key(self) -> str:
        """A hash of everything the iframe loads once; equal keys mean the data script alone can move it along."""
        digest = hashlib.sha256()
        for part in (self.script, self.header, self.html, *self.js_links, "|", *self.css_links):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()[:20]


def _rename(elements: Iterable[Element], prefix: str) -> None:
    """Give ``elements`` (and the elements they hold as attributes, e.g. a MiniMap's tile layer) positional ids."""
    seen: set[int] = set()
    count = 0
    for element in elements:
        held = (v for k, v in vars(element).items() if k != "_parent" and isinstance(v, Element))
        for item in (element, *held):
            if id(item) not in seen:
                seen.add(id(item))
                item._id = f"{prefix}{count}"
                count += 1


def _links(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    js: list[str] = []
    css: list[str] = []
    for element in walk(m):
        if isinstance(element, JSCSSMixin):
            js += [url for _, url in element.default_js]
            css += [url for _, url in element.default_css]
    return tuple(dict.fromkeys(js)), tuple(dict.fromkeys(css))


def _switches_script(switches: Sequence[tuple[str, str]]) -> str:
    """Record the layers by title, and switch each on or off as the reader had it under the previous data.

    A layer the reader switched on (schools, say) stays on through a filter change; one new to the map takes its
    own ``show``.  The layer control reports each switch to the legend, which follows.
    """
    pairs = ", ".join(f"[{json.dumps(title)}, {name}]" for title, name in switches)
    return (
        f"window.hazmapSwitches = [{pairs}];\n"
        "window.hazmapSwitches.forEach(function (s) {\n"
        "    if (!(s[0] in hazmapWasOn) || hazmapWasOn[s[0]] === map_div.hasLayer(s[1])) { return; }\n"
        "    if (hazmapWasOn[s[0]]) { map_div.addLayer(s[1]); } else { map_div.removeLayer(s[1]); }\n"
        "});"
    )


def _fit_script(fit: FitBounds | None) -> str:
    if fit is None:
        return ""
    # Fit only when the extent differs from the one fitted last: a data change within the same extent keeps the
    # reader's view.
    return (
        "(function (bounds, options) {\n"
        "    var key = JSON.stringify(bounds);\n"
        "    if (window.hazmapFitted !== key) { window.hazmapFitted = key; map_div.fitBounds(bounds, options); }\n"
        f"}})({json.dumps(fit.bounds)}, {json.dumps(fit.options)});"
    )


def split(m: folium.Map, layers: Sequence[RenderedLayer] = ()) -> MapPayload:
    """Render ``m`` (a map from :func:`layers.base.base_map` ... :func:`layers.base.finish_map`) as a payload.

    ``m`` is renamed and rendered in the process: build a map per payload.

    Parameters
    ----------
    m
        The map.  With ``layers``, a map from :func:`frame_map`: the frame, fitted, with the legend of ``layers``.
    layers
        Layers rendered apart by :func:`render_layer` (and cached by the caller): drawn first, in order, and listed
        in a layer control of their own.

    Raises
    ------
    ValueError
        If ``m`` was rendered before (its page already holds scripts).
    """
    figure = m.get_root()
    if not isinstance(figure, Figure) or len(figure.script._children):
        raise ValueError("split() needs a freshly built map, not one rendered already")
    children = list(m._children.values())
    frame = [e for c in children if isinstance(c, FRAME_TYPES) for e in walk(c)]
    fits = [c for c in children if isinstance(c, FitBounds)]
    _rename(frame, "f")
    m._id = MAP_ID
    figure.render()

    frame_names = {m.get_name(), *(e.get_name() for e in frame)}
    fit_names = {f.get_name() for f in fits}
    scripts = figure.script._children
    removable = [layer.name for layer in layers] + [c.get_name() for c in children if isinstance(c, REMOVABLE_TYPES)]
    switches = [(layer.title, layer.name) for layer in layers] + [
        (c.title, c.get_name()) for c in children if isinstance(c, HazmapLayer)
    ]
    control = _layer_control(m, layers) if layers else ""
    if control:
        removable.append(_CONTROL)
    data_script = "\n".join(
        [
            # Which layers the reader has on, by title, before the previous ones go.
            "var hazmapWasOn = {};",
            "(window.hazmapSwitches || []).forEach(function (s) { hazmapWasOn[s[0]] = map_div.hasLayer(s[1]); });",
            # Leaflet's remove() detaches a layer or control from the map; a no-op for one switched off.
            "(window.hazmapData || []).forEach(function (item) { item.remove(); });",
            # streamlit-folium removes the layers in window.feature_group before running this: none of ours.
            "window.feature_group = [];",
            *(layer.script for layer in layers),
            control,
            *(e._template_str for name, e in scripts.items() if name not in frame_names | fit_names),
            f"window.hazmapData = [{', '.join(removable)}];",
            _switches_script(switches),
            _fit_script(fits[-1] if fits else None),
        ]
    )
    js_links, css_links = _links(m)
    header = [e._template_str for e in figure.header._children.values() if not isinstance(e, _ASSET_LINKS)]
    return MapPayload(
        script="\n".join(
            [
                *(e._template_str for name, e in scripts.items() if name in frame_names),
                *(f"window.drawnItems = drawnItems_{e.get_name()};" for e in frame if isinstance(e, Draw)),
            ]
        ),
        header=_unique([*header, *(text for layer in layers for text in layer.header)]),
        # The map's own <div> is in streamlit-folium's page already.
        html=_unique(e._template_str for name, e in figure.html._children.items() if name != m.get_name()),
        js_links=tuple(bundled(dict.fromkeys([*js_links, *(url for layer in layers for url in layer.js_links)]))),
        css_links=tuple(dict.fromkeys([*css_links, *(url for layer in layers for url in layer.css_links)])),
        data=data_script,
        bounds=tuple(map(tuple, fits[-1].bounds)) if fits else None,
    )


# --------------------------------------------------------------------------------------------------
# Layers rendered one by one, so that a page can cache each


@dataclass(frozen=True)
class RenderedLayer:
    """One :class:`~layers.common.HazmapLayer` rendered for the map page, on its own.

    Attributes
    ----------
    name
        The JavaScript variable holding the layer (unique: folium's random id).
    title, show
        Its name in the layer control, and whether it is on when drawn.
    script
        Creates the layer (and adds it to ``map_div`` when ``show``).
    header, js_links, css_links
        The stylesheets it puts in the page header, and the scripts and stylesheets it loads.
    legend
        Its entry in the legend (:func:`layers.legend.layer_html`).
    """

    name: str
    title: str
    show: bool
    script: str
    header: tuple[str, ...]
    js_links: tuple[str, ...]
    css_links: tuple[str, ...]
    legend: str


def render_layer(layer: HazmapLayer, base_url: str = DEFAULT_BASE_URL) -> RenderedLayer:
    """Render ``layer`` alone, as part of a map named like the page's (``map_div``).

    ``layer`` is rendered in the process: build a layer per rendering.  ``base_url`` is as for
    :func:`layers.assets.make_offline`, which also refuses here what it refuses on a map.
    """
    host = folium.Map(tiles=None)
    host._id = MAP_ID
    host.add_child(layer)
    make_offline(host, base_url)
    figure = host.get_root()
    figure.render()
    js_links, css_links = _links(layer)
    name = layer.get_name()
    scripts = figure.script._children
    contents = "\n".join(e._template_str for key, e in scripts.items() if key not in (host.get_name(), name))
    if not layer.show:
        # A layer off at first gets its features when first switched on: a map opens with schools, pools and
        # their coverage in the layer control, and need not build thousands of symbols nobody has asked to see.
        contents = f"{name}.once('add', function () {{\n{contents}\n}});"
    return RenderedLayer(
        name=name,
        title=layer.title,
        show=layer.show,
        script=f"{scripts[name]._template_str}\n{contents}",
        header=tuple(
            e._template_str
            for name, e in figure.header._children.items()
            if name != host.get_name() and not isinstance(e, _ASSET_LINKS) and e._template_str
        ),
        js_links=js_links,
        css_links=css_links,
        legend=layer_html(layer),
    )


def frame_map(m: folium.Map, layers: Sequence[RenderedLayer], *, lang: str = "zh") -> folium.Map:
    """Finish ``m`` (a map from :func:`layers.base.base_map`, with no layers) for :func:`split` with ``layers``.

    Adds the legend of ``layers`` where :func:`layers.base.finish_map` puts it, and points the assets at the
    local copies; returns ``m``.
    """
    if layers:
        m.add_child(Legend(wrap_legend([layer.legend for layer in layers], lang), position="topright"))
    return make_offline(m)


#: The variable of the layer control :func:`split` writes for layers rendered apart.
_CONTROL = "hazmap_layer_control"


def _layer_control(m: folium.Map, layers: Sequence[RenderedLayer]) -> str:
    """The layer switcher of ``layers`` (and of ``m``'s own switchable tile layers), as folium's LayerControl."""
    bases = [t for t in m._children.values() if isinstance(t, folium.TileLayer) and t.control and not t.overlay]
    base = ", ".join(f"{json.dumps(t.layer_name)}: {t.get_name()}" for t in bases)
    overlays = ", ".join(f"{json.dumps(layer.title)}: {layer.name}" for layer in layers)
    options = json.dumps({"position": "topright", "collapsed": False, "autoZIndex": True})
    return f"var {_CONTROL} = L.control.layers({{{base}}}, {{{overlays}}}, {options}).addTo(map_div);"


def _unique(texts: Iterable[str | None]) -> str:
    """Join the distinct ``texts`` in order: every popup and tooltip brings the same stylesheet under its own name,
    and a frame must not change with the names of its data."""
    return "\n".join(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
