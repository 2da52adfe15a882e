"""How text from the data is written into files that a spreadsheet opens: never as a formula.

A name typed into an inventory can start with ``=`` (``=HYPERLINK(...)``) or with another character a spreadsheet
reads as the start of a formula (``+``, ``-``, ``@``, a tab or a carriage return: ``+cmd|' /C calc'!A0``).  Every
export writes such text as text, through the two functions here, so the rule is decided once.
"""

from __future__ import annotations

#: What makes Excel, WPS or LibreOffice read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_field(value: object) -> object:
    """A CSV field that a spreadsheet shows as text: ``'`` before text that would start a formula.

    >>> csv_field("=HYPERLINK(1)"), csv_field("-3 m"), csv_field("枫林村"), csv_field(-3)
    ("'=HYPERLINK(1)", "'-3 m", '枫林村', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_text(cell) -> None:
    """Keep an openpyxl cell holding text a text cell: openpyxl stores a string starting with ``=`` as a formula.

    Other leading characters are safe in .xlsx, where a string cell is never evaluated.
    """
    if cell.data_type == "f":
        cell.data_type = "s"
