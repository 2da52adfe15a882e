"""Serve folium's JavaScript and CSS from ``static/vendor`` instead of CDNs, so the map works with no internet.

folium elements name their assets as CDN URLs in ``default_js``/``default_css``.  :func:`make_offline` walks
a map's element tree and sets, on each element, lists naming the copies that ``scripts/vendor_assets.sh``
put under ``static/vendor``; an element naming a URL with no local copy (a plugin added without vendoring
its assets) raises :class:`OfflineAssetError`, so nothing loads from a CDN by accident.

How the map loads inside Streamlit
----------------------------------
streamlit-folium renders the map in a component iframe served at
``<app base path>/component/streamlit_folium.st_folium/index.html``.  Its frontend bundle fetches nothing
remote; it adds one ``<script src>`` per URL of the ``js_links`` it is given (in order, each awaited) and one
``<link>`` per ``css_links`` entry.  Python side, ``st_folium`` gathers those lists from the ``default_js``
and ``default_css`` of every element of the map (reading the instance attributes :func:`make_offline` set)
and strips the ``<script src>``/``<link>`` tags from the header it passes on.  It also prepends two d3 CDN
URLs when the map holds a branca ColorMap, which is why :func:`make_offline` refuses those.

With ``server.enableStaticServing = true`` Streamlit serves ``./static`` at ``<app base path>/app/static/``.
The URLs handed to the iframe are therefore **relative to the iframe's own address**:
``../../app/static/vendor/...`` climbs from ``component/streamlit_folium.st_folium/`` to the app's root,
whatever base path (``server.baseUrlPath``, or a reverse proxy's prefix) the app is served under.  An absolute
``/app/static/...`` would break as soon as a base path is set.  Streamlit serves ``.js`` and ``.css`` with their
proper types (required: it sends ``X-Content-Type-Options: nosniff``).  CSS ``url()`` references (Leaflet's
images, fonts) resolve against the stylesheet's own URL, so they follow along.

For a map saved as a file, :func:`standalone_html` inlines every script and stylesheet (images as data URIs)
so the file opens offline from anywhere.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import folium
from branca.colormap import ColorMap
from folium.elements import JSCSSMixin

from layers.common import walk

#: ``static/vendor`` of this checkout, written by ``scripts/vendor_assets.sh``.
VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
#: Where a page inside streamlit-folium's component iframe finds ``static/vendor`` (see the module docstring).
DEFAULT_BASE_URL = "../../app/static/vendor"

#: CDN URL named by folium or a plugin -> its copy, relative to ``static/vendor``.
CDN_TO_LOCAL: dict[str, str] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": "jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "bootstrap-glyphicons/bootstrap-glyphicons.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome-free/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet.awesome-markers/leaflet.awesome-markers.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet.awesome-markers/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "folium/leaflet.awesome.rotate.css"
    ),
    # folium.plugins.MarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster/MarkerCluster.Default.css"
    ),
    # folium.plugins.Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "leaflet.fullscreen/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "leaflet.fullscreen/Control.FullScreen.css"
    ),
    # folium.plugins.MeasureControl
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js": (
        "leaflet-measure/leaflet-measure.min.js"
    ),
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css": (
        "leaflet-measure/leaflet-measure.css"
    ),
    # folium.plugins.MiniMap
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.js": (
        "leaflet-minimap/Control.MiniMap.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.css": (
        "leaflet-minimap/Control.MiniMap.min.css"
    ),
    # folium.plugins.MousePosition
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.js": (
        "leaflet-mouse-position/L.Control.MousePosition.js"
    ),
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.css": (
        "leaflet-mouse-position/L.Control.MousePosition.css"
    ),
    # folium.plugins.Draw
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": "leaflet-draw/leaflet.draw.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": "leaflet-draw/leaflet.draw.css",
    # folium.plugins.PolyLineTextPath (and the route arrows of layers.routes)
    "https://cdn.jsdelivr.net/npm/leaflet-textpath@1.2.3/leaflet.textpath.min.js": (
        "leaflet-textpath/leaflet.textpath.js"
    ),
    # folium.plugins.AntPath
    "https://cdn.jsdelivr.net/npm/leaflet-ant-path@1.1.2/dist/leaflet-ant-path.min.js": (
        "leaflet-ant-path/leaflet-ant-path.js"
    ),
}
_LOCAL_FILES = frozenset(CDN_TO_LOCAL.values())
#: Elements whose scripts call jQuery (folium.Popup wraps its HTML with ``$``) or need Font Awesome and
#: awesome-markers (folium.Icon): usable only on a map that still loads folium's default assets.
_NEEDS_JQUERY = (folium.Icon, folium.Popup)
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
#: Base URL of the assets while :func:`standalone_html` renders; replaced by the inlined files.
_INLINE = "hazmap-inline:/"


#: The map page's scripts joined in one file (:func:`write_bundle` writes it; committed).  streamlit-folium's
#: page loads its scripts one after another, each waiting for the last, so seven files are seven round trips before
#: the map can start; one file is one.  Leaflet first: the plugins extend it.
BUNDLE = "bundle/map.js"
BUNDLED = (
    "leaflet/leaflet.js",
    "leaflet.fullscreen/Control.FullScreen.js",
    "leaflet-measure/leaflet-measure.min.js",
    "leaflet-mouse-position/L.Control.MousePosition.js",
    "leaflet-minimap/Control.MiniMap.min.js",
    "leaflet-textpath/leaflet.textpath.js",
    "leaflet.markercluster/leaflet.markercluster.js",
)


def bundle_text() -> str:
    """The text of :data:`BUNDLE`: the :data:`BUNDLED` files in order, each ended so the next starts a statement."""
    parts = [f"/* {rel} */\n{(VENDOR_DIR / rel).read_text(encoding='utf-8')}\n;\n" for rel in BUNDLED]
    head = "/* hazmap: Leaflet and plugins, joined by layers.assets.write_bundle(); licences in LICENSES.txt */\n"
    return head + "".join(parts)


def bundled(js_links: Iterable[str]) -> list[str]:
    """Return ``js_links`` with the links to :data:`BUNDLED` files replaced by one link to :data:`BUNDLE`.

    The bundle takes the place of the first bundled link (Leaflet's, on a map); links to other files keep their
    order after it.  Links are compared by the vendored file they name, whatever their base URL.
    """
    out: list[str] = []
    for url in js_links:
        rel = vendored_path(url)
        if rel not in BUNDLED:
            out.append(url)
        elif not any(link.endswith("/" + BUNDLE) for link in out):
            out.append(url.removesuffix(rel) + BUNDLE)
    return out


class OfflineAssetError(ValueError):
    """A map names assets with no local copy; ``problems`` lists each (element, URL)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "these map elements load assets that are not vendored under static/vendor (add them to "
            "scripts/vendor_assets.sh and layers.assets.CDN_TO_LOCAL, or drop the element):\n  " + "\n  ".join(problems)
        )


def vendored_path(url: str) -> str | None:
    """Return the ``static/vendor``-relative path of ``url``: a known CDN URL, or a local URL of a vendored file."""
    if url in CDN_TO_LOCAL:
        return CDN_TO_LOCAL[url]
    if _REMOTE.match(url):
        return None
    return next((rel for rel in _LOCAL_FILES if url == rel or url.endswith("/" + rel)), None)


def _localised(links: list[tuple[str, str]], base: str, owner: str, problems: list[str]) -> list[tuple[str, str]]:
    local = []
    for name, url in links:
        rel = vendored_path(url)
        if rel is None:
            problems.append(f"{owner} {name}: {url}")
        else:
            local.append((name, f"{base}/{rel}"))
    return local


def make_offline(m: folium.Map, base_url: str = DEFAULT_BASE_URL) -> folium.Map:
    """Point every element of ``m`` at the vendored copies of its assets under ``base_url``; returns ``m``.

    Safe to call again (with the same or another ``base_url``) and before or after adding more elements;
    call it after the last element is added.

    Parameters
    ----------
    m
        The map; its whole page (the root figure) is walked.
    base_url
        URL of ``static/vendor`` as the page sees it (see the module docstring for streamlit-folium).

    Raises
    ------
    OfflineAssetError
        If an element names an asset that has no local copy, the map holds a branca ColorMap
        (streamlit-folium adds d3 from a CDN for those), or a ``folium.Icon``/``folium.Popup`` on a map that
        does not load jQuery (:func:`layers.base.base_map` leaves it out).  Nothing is changed then.
    """
    base = base_url.rstrip("/")
    problems: list[str] = []
    jquery = any(name == "jquery" for name, _ in getattr(m, "default_js", []))
    changes = []
    for element in walk(m.get_root()):
        owner = type(element).__name__
        if isinstance(element, ColorMap):
            problems.append(f"{owner}: streamlit-folium loads d3 from a CDN for colormaps; draw a legend instead")
        if isinstance(element, _NEEDS_JQUERY) and not jquery:
            problems.append(
                f"{owner}: needs jQuery/Font Awesome, which a hazmap map does not load; use layers.common "
                "badge markers and GeoJSON popups"
            )
        if isinstance(element, JSCSSMixin):
            js = _localised(element.default_js, base, owner, problems)
            css = _localised(element.default_css, base, owner, problems)
            changes.append((element, js, css))
    if problems:
        raise OfflineAssetError(problems)
    # Set on the instance: the class lists are shared by every element of the class (and folium's
    # add_js_link mutates them in place).
    for element, js, css in changes:
        element.default_js = js
        element.default_css = css
    return m


# --------------------------------------------------------------------------------------------------
# Standalone HTML

_SCRIPT_TAG = re.compile(r'<script src="' + re.escape(_INLINE) + r'([^"]+)"></script>')
_LINK_TAG = re.compile(r'<link rel="stylesheet" href="' + re.escape(_INLINE) + r'([^"]+)"/>')
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_FONTS = (".woff2", ".woff", ".ttf", ".otf", ".eot")
#: Media types of the files vendored stylesheets reference.
_MEDIA_TYPES = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml", ".woff2": "font/woff2"}
#: An empty resource: what a font or missing file becomes in a standalone page, so nothing is fetched.
_EMPTY = "url(data:,)"


def _data_uri(path: Path) -> str:
    kind = _MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return f"url(data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"


def _inline_css(rel: str, embed_fonts: bool) -> str:
    """Return the stylesheet ``rel`` with its ``url()`` references replaced by data URIs."""
    sheet = VENDOR_DIR / rel

    def replace(match: re.Match) -> str:
        target = match.group(2).strip()
        if target.startswith(("data:", "#")):
            return match.group(0)
        path = (sheet.parent / re.split(r"[?#]", target)[0]).resolve()
        if not path.is_file() or (path.suffix in _FONTS and not embed_fonts):
            return _EMPTY
        return _data_uri(path)

    return _CSS_URL.sub(replace, sheet.read_text(encoding="utf-8"))


@contextmanager
def _assets_at(m: folium.Map, base_url: str) -> Iterator[None]:
    """Point the assets of ``m`` at ``base_url`` for the duration, then restore what each element had."""
    saved = [(e, dict(vars(e))) for e in walk(m.get_root()) if isinstance(e, JSCSSMixin)]
    make_offline(m, base_url)
    try:
        yield
    finally:
        for element, attributes in saved:
            for name in ("default_js", "default_css"):
                if name in attributes:
                    setattr(element, name, attributes[name])
                else:
                    vars(element).pop(name, None)


def standalone_html(m: folium.Map, *, embed_fonts: bool = False) -> str:
    """Return ``m`` as one HTML page that needs no network: scripts and stylesheets inline, images as data URIs.

    Parameters
    ----------
    m
        A map built with the layers (with or without :func:`make_offline` applied).
    embed_fonts
        Also embed the icon fonts (Font Awesome, Glyphicons; ~400 kB).  hazmap's own symbols use no icon
        font, so by default they are left out and ``folium.Icon`` glyphs would not show.

    Raises
    ------
    OfflineAssetError
        As :func:`make_offline`.
    """
    with _assets_at(m, _INLINE):
        page = m.get_root().render()

    def script(match: re.Match) -> str:
        # "</script" inside a script would end the tag; "<\/" means the same to JavaScript.
        code = (VENDOR_DIR / match.group(1)).read_text(encoding="utf-8").replace("</script", "<\\/script")
        return f"<script>{code}</script>"

    def stylesheet(match: re.Match) -> str:
        return f"<style>{_inline_css(match.group(1), embed_fonts)}</style>"

    return _LINK_TAG.sub(stylesheet, _SCRIPT_TAG.sub(script, page))


_REMOTE_REFERENCES = (
    re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?((?:[a-z][a-z0-9+.-]*:)?//[^"'\s>]+)""", re.IGNORECASE),
    re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?((?:[a-z][a-z0-9+.-]*:)?//[^"'\s>]+)""", re.IGNORECASE),
    re.compile(r"""url\(\s*["']?((?:[a-z][a-z0-9+.-]*:)?//[^"')\s]+)""", re.IGNORECASE),
    re.compile(r"""@import\s+(?:url\()?\s*["']?((?:[a-z][a-z0-9+.-]*:)?//[^"')\s;]+)""", re.IGNORECASE),
)


def remote_references(page: str) -> list[str]:
    """Return the remote URLs ``page`` loads through script or link tags, CSS ``url()`` or ``@import``.

    Tile URL templates of a configured basemap live in script code and are not listed: they are the one
    remote access a map may make, and only when a basemap is chosen.
    """
    return [match.group(1) for pattern in _REMOTE_REFERENCES for match in pattern.finditer(page)]


def _licences() -> str:
    lines = ["The files joined in map.js, each under its own licence (the file named beside it):", ""]
    for rel in BUNDLED:
        package = VENDOR_DIR / rel.split("/")[0]
        licence = next(iter(sorted(package.glob("*LICEN[CS]E*"))), None)
        lines.append(f"{rel}: ../{package.name}/{licence.name if licence else '(none)'}")
    return "\n".join(lines) + "\n"


def write_bundle() -> Path:
    """Write :data:`BUNDLE` and the list of its parts' licences beside it; return its path.

    ``scripts/vendor_assets.sh`` calls it after vendoring; a test checks the committed file is up to date.
    """
    target = VENDOR_DIR / BUNDLE
    target.parent.mkdir(exist_ok=True)
    target.write_text(bundle_text(), encoding="utf-8")
    (target.parent / "LICENSES.txt").write_text(_licences(), encoding="utf-8")
    return target
