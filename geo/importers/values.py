"""Reading one cell as the type its column declares, or saying in both languages why it cannot be read.

Text is kept exactly as written apart from surrounding whitespace: a name like ``<img src=x onerror=...>`` or
``'; DROP TABLE ...`` is data, stored as given; escaping it is the job of whatever displays it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from geo.importers.aliases import FALSE_WORDS, TRUE_WORDS, normalize_key, value_index
from geo.importers.base import BadValue, Msg
from geo.model.schema import Field

#: Units that inventories write after a count or an amount ("150人", "80万元").
_UNITS = "人次|人|户|名|个|间|座|条|道|所|万元|万|元"
_NUMBER = re.compile(rf"^([+-]?\d+(?:\.\d+)?)\s*(?:{_UNITS})?$")
_TRUE = {normalize_key(w) for w in TRUE_WORDS}
_FALSE = {normalize_key(w) for w in FALSE_WORDS}


def clean(value: object) -> object:
    """A cell as a plain Python value, or None when empty (None, NaN, NA, blank text)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        value = value.strip()  # str.strip also drops the ideographic space U+3000
        return value or None
    return value


def to_text(value: object) -> str:
    """Text of a non-empty cell; whole numbers typed into Excel (ids, phone numbers) lose no digits and gain no ``.0``.

    >>> to_text(13800000001.0), to_text("H1"), to_text(dt.date(2024, 5, 1))
    ('13800000001', 'H1', '2024-05-01')
    """
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.time)):  # datetime and pandas' Timestamp are dates too
        return value.isoformat()
    return str(value)


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise BadValue(Msg(f"{value!r} 不是数字", f"{value!r} is not a number"))
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise BadValue(Msg(f"{value!r} 不是有限数字", f"{value!r} is not a finite number"))
        return float(value)
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip()
    match = _NUMBER.match(text)
    if not match:
        raise BadValue(Msg(f"{value!r} 不是数字", f"{value!r} is not a number"))
    return float(match[1])


def to_count(value: object, minimum: float | None) -> int:
    """A whole number (thousands separators and a unit such as 人 or 户 allowed) at or above ``minimum``.

    >>> to_count("1,200人", 0), to_count(40.0, 0)
    (1200, 40)
    """
    number = _number(value)
    if not number.is_integer():
        raise BadValue(Msg(f"{value!r} 不是整数", f"{value!r} is not a whole number"))
    _check_minimum(value, number, minimum)
    return int(number)


def to_real(value: object, minimum: float | None) -> float:
    """A number (a unit such as 万元 allowed) at or above ``minimum``."""
    number = _number(value)
    _check_minimum(value, number, minimum)
    return number


def _check_minimum(value: object, number: float, minimum: float | None) -> None:
    if minimum is not None and number < minimum:
        raise BadValue(Msg(f"{value!r} 小于 {minimum:g}", f"{value!r} is below {minimum:g}"))


def to_bool(value: object) -> bool:
    """是/否, 有/无, yes/no, true/false, 1/0, √/× and the like."""
    key = normalize_key(to_text(value) if not isinstance(value, bool) else ("1" if value else "0"))
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise BadValue(Msg(f"{value!r} 不是“是/否”", f"{value!r} is not yes/no"))


def to_code(value: object, layer_name: str, field: Field) -> str:
    """The stored code of a coded value given as its code, its Chinese label or another known spelling."""
    code = value_index(layer_name, field.name).get(normalize_key(to_text(value)))
    if code is None:
        labels = "、".join(field.enum.values()) if field.enum else ""
        raise BadValue(
            Msg(f"{value!r} 不是可用的值（可填：{labels}）", f"{value!r} is not one of {'|'.join(field.enum or ())}")
        )
    return code


def convert(value: object, layer_name: str, field: Field) -> object:
    """Read a non-empty cell as ``field`` declares: text, coded text, whole number, number or yes/no."""
    if field.enum is not None:
        return to_code(value, layer_name, field)
    if field.kind == "int":
        return to_count(value, field.minimum)
    if field.kind == "real":
        return to_real(value, field.minimum)
    if field.kind == "bool":
        return to_bool(value)
    return to_text(value)
