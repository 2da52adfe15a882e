"""Make user-supplied text inert wherever the map shows it.

Names, phone numbers and other text from a data file reach the browser in three ways, and one escape covers
all of them:

- as ``innerHTML`` of a popup, tooltip or label (GeoJsonPopup/GeoJsonTooltip build their table from feature
  properties and assign it unescaped), where ``<img src=x onerror=...>`` would run;
- inside a JavaScript template literal: folium writes ``folium.Popup``/``folium.Tooltip`` HTML into
  `` `...` `` and escapes only an unescaped backtick, so ``${alert(1)}``, ``\\``` or a backslash before
  a backtick would run code or break the whole map script;
- through streamlit-folium, which rewrites ``{{'name'}}`` in the script before the browser sees it.

:func:`escape_text` HTML-escapes (``< > & " '``) and turns every character that means something in a
template literal (backtick, ``$``, backslash, braces) into its numeric character reference.  The browser
decodes the references when it parses the HTML, so the user sees the text they typed.
"""

from __future__ import annotations

import html
import math

import pandas as pd

#: Characters that are syntax inside a JavaScript template literal (and braces, for Jinja and
#: streamlit-folium's ``{{'name'}}`` rewriting), as HTML numeric character references.
_TEMPLATE_LITERAL_SAFE = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


def is_missing(value: object) -> bool:
    """Return True for None, NaN and pandas' missing markers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def escape_text(value: object) -> str:
    """Return ``value`` as text safe for HTML and for a JavaScript template literal; missing values give "".

    >>> escape_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> escape_text("${alert(1)}`")
    '&#36;&#123;alert(1)&#125;&#96;'
    >>> escape_text(None)
    ''
    """
    if is_missing(value):
        return ""
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LITERAL_SAFE)
