"""The response a warning level calls for (plan 4.5), as the Warning page and the Map page's hazard details show it.

Both pages list the same checklist and the same one-line duties; this module, not a page, holds them, so no page
imports another.
"""

from __future__ import annotations

import pandas as pd

from geo.model import rules
from ui import widgets

CHECKLIST_COLUMNS = ("level", "unit", "action", "from_level", "conditional", "section")


def response_checklist(level: str, lang: str) -> pd.DataFrame:
    """What plan 4.5 asks at ``level``: its actions and those of every lower level, grouped by responsible unit.

    Units are listed in the order the plan first names them; within a unit, the actions keep the plan's order
    (lowest level first), so a tightened action (巡查重点 -> 巡查全部) reads after the one it tightens.
    """
    zh = lang == "zh"
    rows = [
        {
            "level": level,
            "unit": a.responsible if zh else a.responsible_en,
            "action": a.text_zh if zh else a.text_en,
            "from_level": rules.WARNING_LEVELS[a.level].name_zh if zh else rules.WARNING_LEVELS[a.level].name_en,
            "conditional": a.conditional,
            "section": rules.cite(a.section, lang),
        }
        for a in rules.warning_actions(level)
    ]
    frame = pd.DataFrame(rows, columns=list(CHECKLIST_COLUMNS))
    order = {unit: n for n, unit in enumerate(dict.fromkeys(frame["unit"]))}
    return frame.sort_values("unit", key=lambda units: units.map(order), kind="stable").reset_index(drop=True)


def level_flags(level: str, lang: str) -> str:
    """One line of what a level sets in motion: patrol scope, evacuation, rescue teams."""
    w = rules.WARNING_LEVELS[level]
    labels = {column: widgets.value_labels(column, lang) for column in ("patrol", "evacuate", "rescue_teams")}
    if lang == "zh":
        return (
            f"巡查：{labels['patrol'][w.patrol]}；转移：{labels['evacuate'][w.evacuate]}；"
            f"救援队伍：{labels['rescue_teams'][w.rescue_teams]}（{rules.cite(w.section, lang)}）"
        )
    return (
        f"Patrol: {labels['patrol'][w.patrol]}; evacuation: {labels['evacuate'][w.evacuate]}; "
        f"rescue teams: {labels['rescue_teams'][w.rescue_teams]} ({rules.cite(w.section, lang)})"
    )
