"""What the exports print that the data does not hold: who issues them, when, and whom to call."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

#: The unit that issues drill maps and cards by default: the district branch of the city natural-resources bureau,
#: the geological-hazard authority the emergency plan names.
DEFAULT_ISSUING_UNIT = "市自然资源和规划局昌江分局"
#: The vector exports and the formats each can be written in: zones are areas, which GPX cannot hold.
VECTOR_FORMATS = {
    "routes": ("kml", "gpx", "geojson"),
    "zones": ("kml", "geojson"),
    "shelters": ("kml", "gpx", "geojson"),
}


@dataclass(frozen=True)
class ExportSettings:
    """Settings of the printed exports; each is a CLI option.

    Attributes
    ----------
    issuing_unit : str
        Printed on every page (制图单位 / 发卡单位).
    issue_date : datetime.date or None
        The date printed; None prints today's.  Tests fix it, so that renders compare with stored references.
    duty_phone, rescue_unit, security_unit, medical_unit : str or None
        值班电话, 抢险单位, 治安保卫单位 and 医疗救护单位 of the 防灾工作明白卡; the data model holds none of
        them, so None prints a blank line to fill in by hand.
    font_dirs : tuple of str or None
        Folders to look for the CJK font in; None: ``$HAZMAP_FONT_DIRS``, else the system font folders.
    """

    issuing_unit: str = DEFAULT_ISSUING_UNIT
    issue_date: dt.date | None = None
    duty_phone: str | None = None
    rescue_unit: str | None = None
    security_unit: str | None = None
    medical_unit: str | None = None
    font_dirs: tuple[str | os.PathLike, ...] | None = None

    @property
    def date(self) -> dt.date:
        """The date to print."""
        return self.issue_date or dt.date.today()

    @property
    def date_zh(self) -> str:
        """The date as Chinese documents write it: 2024年6月1日."""
        d = self.date
        return f"{d.year}年{d.month}月{d.day}日"
