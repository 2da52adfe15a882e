"""The legend: a map control listing the symbols of the hazmap layers on the map.

Each :class:`~layers.common.HazmapLayer` carries its legend sections; :func:`add_legend` lists those of the
layers on the map, in the order they were added.  When a layer is switched off in the layer control its entry
hides, and shows again when it is switched on: the legend describes what is visible.
"""

from __future__ import annotations

from branca.element import MacroElement
from folium import Map
from folium.template import Template

from layers import i18n
from layers.common import HazmapLayer, HazmapStyles, LegendSection
from layers.escape import escape_text


def _section_html(section: LegendSection) -> str:
    title = f'<div class="hazmap-legend-sub">{escape_text(section.title)}</div>' if section.title else ""
    items = "".join(
        f'<div class="hazmap-legend-item">{s.swatch_html()}<span>{escape_text(s.label)}</span></div>'
        for s in section.symbols
    )
    return title + items


def layer_html(layer: HazmapLayer) -> str:
    """Return the legend entry of ``layer``: its name and symbols, hidden while the layer is off."""
    hidden = "" if layer.show else ' style="display:none"'
    name = escape_text(layer.title)
    sections = "".join(_section_html(section) for section in layer.legend)
    return (
        f'<div class="hazmap-legend-layer" data-layer="{name}"{hidden}>'
        f'<div class="hazmap-legend-name">{name}</div>{sections}</div>'
    )


def legend_html(layers: list[HazmapLayer], lang: str = "zh") -> str:
    """Return the legend's HTML: a collapsible block with one entry per layer.

    Each entry carries its layer's name in ``data-layer``; the control's script matches it against the names
    the layer control reports when a layer is switched on or off.  Layers off at start start hidden.
    """
    return wrap_legend([layer_html(layer) for layer in layers], lang)


def wrap_legend(entries: list[str], lang: str = "zh") -> str:
    """Return the legend's HTML around ``entries`` (from :func:`layer_html`)."""
    return f"<details open><summary>{escape_text(i18n.ui('legend', lang))}</summary>{''.join(entries)}</details>"


class Legend(MacroElement):
    """A Leaflet control holding :func:`legend_html`, following the layer control's on/off switches."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }};
            var control = L.control({position: {{ this.position|tojavascript }}});
            function follow(shown) {
                return function (event) {
                    control.getContainer().querySelectorAll("[data-layer]").forEach(function (entry) {
                        if (entry.getAttribute("data-layer") === event.name) {
                            entry.style.display = shown ? "" : "none";
                        }
                    });
                };
            }
            var added = follow(true), removed = follow(false);
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "hazmap-legend");
                div.innerHTML = {{ this.html|tojavascript }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                map.on("overlayadd", added);
                map.on("overlayremove", removed);
                return div;
            };
            // A legend replaced by the next data (layers.frame) stops following the layer control.
            control.onRemove = function () {
                map.off("overlayadd", added);
                map.off("overlayremove", removed);
            };
            return control.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str, position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.html = html
        self.position = position
        self.add_child(HazmapStyles())


def add_legend(m: Map, *, lang: str = "zh", position: str = "bottomright") -> Legend | None:
    """Add a legend of the hazmap layers on ``m`` (none if it has none); call it after adding the layers.

    Parameters
    ----------
    m
        The map.
    lang
        ``zh`` or ``en``: the language of the legend's title (the entries are in the layers' language).
    position
        Leaflet control corner.
    """
    layers = [child for child in m._children.values() if isinstance(child, HazmapLayer)]
    if not layers:
        return None
    legend = Legend(legend_html(layers, lang), position)
    m.add_child(legend)
    return legend
