"""Personal phone numbers, masked for whoever may not see them in full.

The phone numbers of the monitors (监测人) and responsible persons (责任人) of hazard points are personal data.
Users whose role allows the ``contacts`` action (editors, admins: the staff who call them) see them in full; everyone
else sees ``199****4302``.  Masking happens on the server, on the frames themselves, before a page, a map popup, a
table, a download or an export is built from them, so a full number never reaches a viewer's browser.

>>> mask_phone("199-0000-4302"), mask_phone("0798-1234567"), mask_phone("12345")
('199****4302', '079****4567', '***45')
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping

import pandas as pd

from geo.access.auth import User, allowed
from geo.model.schema import Report

#: Columns holding a person's phone number, in any layer or result table that carries them.
PHONE_COLUMNS = ("monitor_phone", "responsible_phone")
#: The audit log's column of JSON ``{column: [old, new]}``: an edit of a phone number records both numbers.
CHANGES_COLUMN = "changes"
MASK = "*"
#: A run of digits, possibly split by spaces or dashes (199-0000-4302, 0798 1234567): one number to mask.
_NUMBER = re.compile(r"\d(?:[\d\s-]*\d)?")
#: Digits of a number at least this long keep 3 at the front (a mobile's carrier, a landline's area code).
_LONG = 11
#: Digits of a number at least this long keep 4 at the end; a shorter one keeps fewer, never half of it.
_MEDIUM = 8


def _mask_number(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    n = len(digits)
    head = 3 if n >= _LONG else 0
    tail = 4 if n >= _MEDIUM else n // 2
    return digits[:head] + MASK * (n - head - tail) + digits[n - tail :]


def mask_phone(value: object) -> object:
    """``value`` with every number in it masked: the first 3 and last 4 digits of a long number kept.

    Separators inside a number are dropped (``199-0000-4302`` -> ``199****4302``); text around numbers stays
    (``13800000000（办）`` -> ``138****0000（办）``).  Numbers of 8 to 10 digits keep only their last 4, shorter ones
    at most half their digits, at the end.  A missing value (None, NaN) is returned as it is.

    >>> mask_phone(None), mask_phone("19900004302"), mask_phone("13800000000（办）"), mask_phone("无")
    (None, '199****4302', '138****0000（办）', '无')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    return _NUMBER.sub(_mask_number, str(value))


def mask_changes(changes: object) -> object:
    """An audit row's ``changes`` (JSON ``{column: [old, new]}``) with the phone numbers in it masked.

    Text that is not such JSON (a row written by another tool) has every number in it masked.
    """
    if changes is None or (not isinstance(changes, str) and pd.isna(changes)):
        return changes
    try:
        parsed = json.loads(changes)
    except (TypeError, json.JSONDecodeError):
        parsed = None
    if not isinstance(parsed, dict):
        return mask_phone(changes)
    masked = {
        column: [mask_phone(v) for v in values] if column in PHONE_COLUMNS and isinstance(values, list) else values
        for column, values in parsed.items()
    }
    return json.dumps(masked, ensure_ascii=False)


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its phone columns (and an audit log's ``changes``) masked; ``frame`` itself when it
    has none of them.  Works on GeoDataFrames, keeping their geometry and CRS."""
    phones = [c for c in PHONE_COLUMNS if c in frame.columns]
    if not phones and CHANGES_COLUMN not in frame.columns:
        return frame
    masked = frame.copy()
    for column in phones:
        masked[column] = frame[column].map(mask_phone)
    if CHANGES_COLUMN in frame.columns:
        masked[CHANGES_COLUMN] = frame[CHANGES_COLUMN].map(mask_changes)
    return masked


def sees_contacts(user: User | None) -> bool:
    """Whether ``user`` may see full phone numbers (the ``contacts`` action of their role)."""
    return allowed(user, "contacts")


def mask_for(user: User | None, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as ``user`` may see it: unchanged for editors and admins, phone numbers masked for anyone else."""
    return frame if sees_contacts(user) else mask_frame(frame)


def mask_layers(layers: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every layer of a data set with its phone numbers masked (layers without any are passed through)."""
    return {name: mask_frame(frame) for name, frame in layers.items()}


def mask_report(report: Report) -> Report:
    """A validation report as a viewer may read it: the numbers in every problem about a phone column masked.

    The validator quotes the value it refuses (``monitor_phone (监测人电话) = 19900006262: expected text``, where a file
    stores phones as numbers), so a report is masked like the layers before any of its text reaches a viewer.

    >>> from geo.model.schema import Problem
    >>> mask_report(Report([Problem("hazard_points", "H1", "type", "monitor_phone = 19900006262: expected text")]))
    ... # doctest: +ELLIPSIS
    Report(problems=[Problem(..., message='monitor_phone = 199****6262: expected text', ...)], layers_checked=[])
    """
    problems = [
        dataclasses.replace(p, message=mask_phone(p.message)) if any(c in p.message for c in PHONE_COLUMNS) else p
        for p in report.problems
    ]
    return Report(problems, list(report.layers_checked))
