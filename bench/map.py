"""The map page against plain streamlit-folium, in Chromium, on the same data in the same run.

hazmap's map page keeps the map in the browser and swaps only its layers on a filter, each layer rendered once
(`layers/frame.py`).  The peer is the way streamlit-folium is meant to be used: the same folium map, drawn by the
same code (`ui.map_page.build_map`), cached per filter with `st.cache_resource`, and handed to `st_folium` on every
run (a copy: st_folium renames the elements it is given).  Both apps serve the same data file with the same
Streamlit, one after the other, in alternating runs so that a busy moment of the machine hits both.

Measured, as in `tests/support/browser.py`: the first visit (a browser with nothing cached, until hazard points are
drawn) and a filter change (from the click on a hazard type until the new map shows hazard points).  Run 0 of
each app fills its server's caches and is left out of the medians.

    .venv/bin/python -m bench.map --runs 6                       # the demo district
    .venv/bin/python -m bench.map --runs 4 --data /tmp/prov.gpkg  # a `demo-data --scale 100` file
"""

from __future__ import annotations

import argparse
import json
import statistics
import textwrap
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from geo.settings import ROOT
from layers import i18n
from tests.support.browser import (
    HAZARD_MARKER,
    MAP_FRAME,
    change_filter,
    guard,
    launch_chromium,
    open_map,
    open_multiselect,
    pick_option,
    streamlit_app,
)

OUTPUT = Path(__file__).resolve().parent / "output"
#: The filter both apps change, by its sidebar label and the option picked.
FILTER = ("灾害类型", "滑坡")

PEER_APP = """
import copy
import sys

sys.path[:0] = [{root!r}]

import streamlit as st
from streamlit_folium import st_folium

from layers import i18n
from ui import analysis, common, map_page

st.set_page_config(layout="wide")
version, data = common.load_or_stop()
labels = i18n.enum_labels("hazard_points", "hazard_type", "zh")
types = st.sidebar.multiselect("灾害类型", list(labels), format_func=labels.get)
settings = map_page._DEFAULTS


@st.cache_resource(max_entries=8)
def build(version, types):
    routes = analysis.routes(version, settings.walk_speed_kmh)
    coverage = analysis.coverage(version, settings.k_pools, settings.service_radius_m, "network")
    filters = map_page.Filters(hazard_types=types, statuses=("active",))
    view = map_page.map_view(data, filters, map_page.warning_levels(analysis.exposure(version)), routes, coverage)
    return map_page.build_map(view, coverage=coverage)


st_folium(
    copy.deepcopy(build(version, tuple(types))),
    key="peer",
    height=map_page.MAP_HEIGHT,
    use_container_width=True,
    returned_objects=["last_active_drawing"],
)
"""


def peer_app(folder: Path) -> Path:
    """Write the peer app into ``folder`` with hazmap's static files and Streamlit settings; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("static", ".streamlit"):
        link = folder / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    (folder / "app.py").write_text(textwrap.dedent(PEER_APP.format(root=str(ROOT))), encoding="utf-8")
    return folder


def change_filter_reloading(page: Page, label: str, option: str) -> float:
    """As :func:`tests.support.browser.change_filter`, for a map that streamlit-folium mounts anew in a new iframe."""
    page.eval_on_selector_all(MAP_FRAME, "frames => frames.forEach(f => f.setAttribute('data-seen', '1'))")
    open_multiselect(page, label)
    start = time.perf_counter()
    pick_option(page, option)
    fresh = page.frame_locator(f"{MAP_FRAME}:not([data-seen])")
    fresh.locator(f"{HAZARD_MARKER}, .hazmap-cluster").first.wait_for(timeout=300_000)
    return time.perf_counter() - start


def measure(url: str, browser, swaps: bool) -> dict[str, float]:
    guarded = guard(browser)
    try:
        first = open_map(guarded.page, url)
        change = (change_filter if swaps else change_filter_reloading)(guarded.page, *FILTER)
        assert guarded.outside == [], guarded.outside
    finally:
        guarded.context.close()
    return {"first_visit_s": first, "filter_change_s": change}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.map", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="GeoPackage both apps serve (default: the demo data)")
    parser.add_argument("--runs", type=int, default=4, help="page loads per app; run 0 fills the caches")
    args = parser.parse_args(argv)
    assert i18n.enum_labels("hazard_points", "hazard_type", "zh")["landslide"] == FILTER[1]
    results: dict[str, list[dict[str, float]]] = {"hazmap": [], "peer": []}
    peer = peer_app(OUTPUT / "peer_app")
    with (
        streamlit_app(args.data) as hazmap_url,
        streamlit_app(args.data, cwd=peer) as peer_url,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        for run in range(args.runs):
            for name, url, swaps in (("hazmap", hazmap_url, True), ("peer", peer_url, False)):
                row = measure(url, browser, swaps)
                results[name].append(row)
                print(json.dumps({"app": name, "run": run, **{k: round(v, 3) for k, v in row.items()}}), flush=True)
        browser.close()
    summary = {}
    for name, rows in results.items():
        warm = rows[1:] or rows
        summary[name] = {key: round(statistics.median(r[key] for r in warm), 2) for key in rows[0]}
    ratios = {key: round(summary["peer"][key] / summary["hazmap"][key], 2) for key in summary["hazmap"]}
    report = {"data": args.data or "demo", "median_over_runs": max(args.runs - 1, 1), **summary, "peer/hazmap": ratios}
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "map-results.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
