"""Every hazard point of a township or a warning area in one zip: drill maps, cards and an index, for a drill season.

The routes are computed once for the whole batch (:class:`~geo.export.hazard.ExportData`), and the points are
drawn by a pool of worker processes, one per core: drawing is pure Python and matplotlib, which a thread pool
would run one at a time.  A single-threaded caller (the CLI) *forks* its workers, which then start at once with
the data in memory; a threaded one (a server) *spawns* them, fresh interpreters that import the modules and get
the data pickled, since a forked child of a threaded process can inherit a lock another thread held, and hang.

The zip holds::

    index.csv                        one row per point (UTF-8 with a BOM, so Excel shows the Chinese)
    index.html                       the same as a page, with links to the files
    演练图/<统一编号>_<名称>.pdf       drill maps
    明白卡/<统一编号>_<名称>.pdf       the two cards
"""

from __future__ import annotations

import csv
import html
import io
import multiprocessing
import os
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from geo.export import cards, drill_map
from geo.export.files import Target, file_stem, opened
from geo.export.hazard import ExportData, length_zh, minutes_zh
from geo.export.options import ExportSettings
from geo.export.page import BLANK, display
from geo.model.text import csv_field

#: ``progress(done, total, hazard_id)``, called after each point is written.
Progress = Callable[[int, int, str], None]
#: Below this many points a pool costs more to start than it saves.
POOL_THRESHOLD = 6
INDEX_COLUMNS = (
    "统一编号",
    "名称",
    "乡镇",
    "村",
    "灾害类型",
    "险情等级",
    "威胁人数",
    "避灾场所",
    "路线长度",
    "步行时间",
    "演练图",
    "明白卡",
)


@dataclass(frozen=True)
class BatchResult:
    """What a batch wrote: the number of points, the files in the zip, and how long it took."""

    points: int
    files: list[str]
    seconds: float
    workers: int


def write_batch(
    data: ExportData,
    hazard_ids: list[str],
    target: Target,
    settings: ExportSettings | None = None,
    *,
    paper: str = "A4",
    orientation: str = "landscape",
    progress: Progress | None = None,
    workers: int | None = None,
) -> BatchResult:
    """Write the drill map and cards of every hazard point in ``hazard_ids``, with an index, into one zip.

    Parameters
    ----------
    data
        The prepared layers and routes.
    hazard_ids
        Active hazard points, e.g. from :meth:`ExportData.select`.
    target
        The zip file (written atomically) or a binary stream.
    settings, paper, orientation
        As for the drill map and the cards.
    progress
        Called after each point with (points done, points in all, hazard id).
    workers
        Processes drawing in parallel; default one per core, and none (drawing in this process) for a few points.

    Raises
    ------
    ValueError
        No hazard point, or one unknown or inactive.
    FontError
        No usable CJK font.
    """
    if not hazard_ids:
        raise ValueError("no active hazard point to export")
    data.check(hazard_ids)  # before any work starts
    settings = settings or ExportSettings()
    workers = _workers(workers, len(hazard_ids))
    started = time.perf_counter()
    names: list[str] = []
    rows: list[dict[str, str]] = []
    # Stored, not deflated: the PDFs are compressed already, and deflating them again only costs time.
    with opened(target) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        jobs = _drawn(data, hazard_ids, settings, paper, orientation, workers)
        for done, (hazard_id, map_pdf, cards_pdf) in enumerate(jobs, start=1):
            row = _index_row(data, hazard_id)
            for name, content in ((row["演练图"], map_pdf), (row["明白卡"], cards_pdf)):
                archive.writestr(name, content)
                names.append(name)
            rows.append(row)
            if progress is not None:
                progress(done, len(hazard_ids), hazard_id)
        archive.writestr("index.csv", _csv(rows))
        archive.writestr("index.html", _html(rows, settings))
    return BatchResult(len(hazard_ids), ["index.csv", "index.html", *names], time.perf_counter() - started, workers)


def stderr_progress(done: int, total: int, hazard_id: str) -> None:
    """A progress line on stderr that rewrites itself: ``[ 12/84] 360202010003``."""
    width = len(str(total))
    end = "\n" if done == total else ""
    sys.stderr.write(f"\r[{done:>{width}}/{total}] {hazard_id}{end}")
    sys.stderr.flush()


def _workers(requested: int | None, points: int) -> int:
    if requested is not None:
        return max(1, requested)
    return 1 if points < POOL_THRESHOLD else min(os.cpu_count() or 1, points)


def _drawn(
    data: ExportData, hazard_ids: list[str], settings: ExportSettings, paper: str, orientation: str, workers: int
) -> Iterator[tuple[str, bytes, bytes]]:
    """(hazard id, drill map PDF, cards PDF) per point, in order, drawn here or by a pool."""
    job = (settings, paper, orientation)
    if workers == 1:
        _start_worker(data, *job)
        yield from map(_draw_point, hazard_ids)
        return
    forkable = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forkable else "spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(data, *job)) as pool:
        # Small chunks keep both workers busy to the end and the progress line moving.
        yield from pool.imap(_draw_point, hazard_ids, chunksize=2)


# What a worker process draws with, set once by the pool's initializer (in this process too, for one worker).
_JOB: dict = {}


def _start_worker(data: ExportData, settings: ExportSettings, paper: str, orientation: str) -> None:
    _JOB.update(data=data, settings=settings, paper=paper, orientation=orientation)


def _draw_point(hazard_id: str) -> tuple[str, bytes, bytes]:
    data, settings = _JOB["data"], _JOB["settings"]
    map_pdf, cards_pdf = io.BytesIO(), io.BytesIO()
    drill_map.write_drill_map(data, hazard_id, map_pdf, settings, _JOB["paper"], _JOB["orientation"])
    cards.write_cards(data, [hazard_id], cards_pdf, settings)
    return hazard_id, map_pdf.getvalue(), cards_pdf.getvalue()


def _index_row(data: ExportData, hazard_id: str) -> dict[str, str]:
    facts = data.facts(hazard_id)
    routes = facts.routes
    reached = routes[routes["reachable"]]
    stem = file_stem(hazard_id, facts.name)
    return {
        "统一编号": hazard_id,
        "名称": facts.name,
        "乡镇": display(facts.hazard.get("township")),
        "村": display(facts.hazard.get("village")),
        "灾害类型": facts.type_zh,
        "险情等级": facts.grade_zh,
        "威胁人数": display(facts.hazard.get("threatened_people")),
        "避灾场所": "、".join(dict.fromkeys(reached["shelter_name"].dropna())) or "未找到可通行路线",
        "路线长度": "、".join(length_zh(v) for v in reached["length_m"]) or BLANK,
        "步行时间": "、".join(minutes_zh(v) for v in reached["walk_minutes"]) or BLANK,
        "演练图": f"演练图/{stem}.pdf",
        "明白卡": f"明白卡/{stem}.pdf",
    }


def _csv(rows: list[dict[str, str]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=INDEX_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: csv_field(value) for key, value in row.items()} for row in rows)
    return text.getvalue().encode("utf-8-sig")


def _html(rows: list[dict[str, str]], settings: ExportSettings) -> bytes:
    def cell(column: str, value: str) -> str:
        if column in ("演练图", "明白卡"):
            return f'<td><a href="{html.escape(value, quote=True)}">{html.escape(column)}</a></td>'
        return f"<td>{html.escape(value)}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in INDEX_COLUMNS)
    body = "\n".join("<tr>" + "".join(cell(c, row[c]) for c in INDEX_COLUMNS) + "</tr>" for row in rows)
    title = f"地质灾害隐患点演练图及明白卡目录（{len(rows)} 处）"
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
th,td{{border:1px solid #999;padding:4px 8px}}th{{background:#eee}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>{html.escape(settings.issuing_unit)} {html.escape(settings.date_zh)} · 内部资料</p>
<table><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table></body></html>
"""
    return page.encode("utf-8")
