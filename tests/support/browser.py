"""Real-browser test harness: the app served by ``streamlit run``, driven by headless Debian Chromium.

- :func:`streamlit_app` starts ``streamlit run app.py`` on a free port (optionally on another data file), waits
  until it answers its health check, yields the URL and stops the process group at the end.
- :func:`launch_chromium` starts ``/usr/bin/chromium`` through Playwright (the pip package, whose wheel carries
  the driver; its own browser download is never used).  A missing Chromium fails the test with the command that
  installs it: a browser test that silently skips proves nothing.
- :func:`guard` routes every request of a browser context, WebSockets included: anything for a host other than
  127.0.0.1/localhost is recorded in :attr:`Guarded.outside` and aborted, so a test asserts the app works with no
  internet and that it tried to reach nothing.
- :func:`open_map` and :func:`change_filter` time the first map and a filter change; ``python -m tests.support.browser
  [--data FILE]`` prints those timings for any data file (the README quotes them).

The pytest fixtures at the end are session-scoped (one server and one browser for every browser test); test
modules import them explicitly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FrameLocator,
    Page,
    Playwright,
    Route,
    WebSocketRoute,
    sync_playwright,
)

from geo.settings import ROOT

#: Screenshots and timings of the browser tests (git-ignored).
OUTPUT = ROOT / "tests" / "output"
CHROMIUM = Path("/usr/bin/chromium")
#: No GPU and no sandbox (containers, CI); and none of Chromium's own calls home, which would count as
#: requests leaving the machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
#: Schemes that never touch the network.
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "file"})
#: The iframe streamlit-folium draws the map in.
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
#: A hazard-point badge (layers.hazards): a circle badge whose character is a hazard type.
HAZARD_MARKER = ".leaflet-marker-icon .hazmap-badge.hazmap-circle"
SERVER_START_TIMEOUT_S = 60
VIEWPORT = {"width": 1600, "height": 1100}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def streamlit_app(data: str | os.PathLike | None = None, *, cwd: str | os.PathLike = ROOT) -> Iterator[str]:
    """Serve the app on a free port; yield its URL; stop it at the end.

    Parameters
    ----------
    data
        GeoPackage to serve (``HAZMAP_DATA``); None serves the embedded demo data.
    cwd
        Folder holding the ``app.py`` to run (its ``static/`` is what Streamlit serves).

    Raises
    ------
    RuntimeError
        If the server exits or does not answer within ``SERVER_START_TIMEOUT_S``; the message holds its log.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "HAZMAP_DATA"}
    if data is not None:
        env["HAZMAP_DATA"] = os.fspath(data)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with tempfile.TemporaryFile("w+") as log:
        # Its own session, so the whole process group (streamlit and anything it spawned) is stopped at the end.
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"streamlit did not start at {url}:\n{log.read()}")
                time.sleep(0.2)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def launch_chromium(playwright: Playwright) -> Browser:
    """Launch Debian's headless Chromium; fail (never skip) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run `make test`, which installs the Debian package chromium", pytrace=False)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@dataclass
class Guarded:
    """A page whose context lets only local requests through, and the remote ones it tried."""

    context: BrowserContext
    page: Page
    outside: list[str] = field(default_factory=list)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


def guard(browser: Browser, locale: str = "zh-CN") -> Guarded:
    """Open a context and page on which every non-local request (HTTP or WebSocket) is recorded and aborted."""
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    guarded = Guarded(context, context.new_page())

    def route(r: Route) -> None:
        if _is_local(r.request.url):
            r.continue_()
        else:
            guarded.outside.append(r.request.url)
            r.abort()

    def refuse(ws: WebSocketRoute) -> None:
        guarded.outside.append(ws.url)
        ws.close()

    context.route("**/*", route)
    # Routes see no WebSocket; a routed WebSocket that is not connected to its server never reaches it.
    context.route_web_socket(lambda url: not _is_local(url), refuse)
    return guarded


def map_frame(page: Page) -> FrameLocator:
    """The (last rendered) map iframe of the page."""
    return page.frame_locator(MAP_FRAME).last


def wait_for_markers(page: Page, timeout_ms: float = 30_000) -> None:
    """Wait until the map iframe shows Leaflet with at least one hazard-point badge or cluster."""
    frame = map_frame(page)
    frame.locator("#map_div.leaflet-container").wait_for(timeout=timeout_ms)
    frame.locator(f"{HAZARD_MARKER}, .hazmap-cluster").first.wait_for(timeout=timeout_ms)


def open_multiselect(page: Page, label: str) -> None:
    """Open the list of the sidebar multiselect labelled ``label`` (nothing is chosen yet: no rerun)."""
    page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text=label).click()


def pick_option(page: Page, option: str) -> None:
    """Choose ``option`` in the open list (the app reruns), then close the list."""
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def sidebar_multiselect(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar multiselect labelled ``label``."""
    open_multiselect(page, label)
    pick_option(page, option)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``tests/output/<name>.png``, with fade-ins (clusters, tiles) finished."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path


def open_map(page: Page, url: str) -> float:
    """Open ``url`` and return the seconds until its map shows hazard points."""
    start = time.perf_counter()
    page.goto(url)
    wait_for_markers(page, timeout_ms=120_000)
    return time.perf_counter() - start


def change_filter(page: Page, label: str, option: str) -> float:
    """Pick ``option`` in the sidebar filter ``label``; return the seconds until the map shows the new hazard points.

    The time runs from the click on the option (the reader's choice; opening the list reruns nothing) until the map
    holds new data with hazard points drawn.  A filter change swaps the layers of the live map
    (:mod:`layers.frame`): the data the map holds is marked before the change.  The map's iframe must stay the
    one it was (a reload would lose the reader's view): :class:`AssertionError` otherwise.
    """
    frame = page.locator(MAP_FRAME).last
    frame.evaluate("f => { f.setAttribute('data-seen', '1'); f.contentWindow.hazmapData.seen = true; }")
    open_multiselect(page, label)
    start = time.perf_counter()
    pick_option(page, option)
    frame.evaluate(_NEW_DATA_DRAWN, {"marker": f"{HAZARD_MARKER}, .hazmap-cluster", "timeout": 120_000})
    elapsed = time.perf_counter() - start
    assert page.locator(f"{MAP_FRAME}[data-seen]").count() == 1, "the filter reloaded the map's iframe"
    return elapsed


#: Resolves once the map frame holds data it did not hold when marked, with hazard points drawn.
_NEW_DATA_DRAWN = """
(frame, {marker, timeout}) => new Promise((resolve, reject) => {
    const start = performance.now();
    (function poll() {
        const win = frame.contentWindow;
        if (win && win.hazmapData && !win.hazmapData.seen && win.document.querySelector(marker)) return resolve();
        if (performance.now() - start > timeout) return reject(new Error("the map did not redraw"));
        requestAnimationFrame(poll);
    })();
})
"""


# --------------------------------------------------------------------------------------------------
# pytest fixtures: import them explicitly in the test module (they are named by ``name=``).


@pytest.fixture(scope="session", name="app_url")
def app_url_fixture() -> Iterator[str]:
    """URL of the app serving the demo data, for the whole session."""
    with streamlit_app() as url:
        yield url


@pytest.fixture(scope="session", name="chromium")
def chromium_fixture() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(name="guarded")
def guarded_fixture(chromium: Browser) -> Iterator[Guarded]:
    """A fresh guarded page per test."""
    guarded = guard(chromium)
    yield guarded
    guarded.context.close()


def main(argv: list[str] | None = None) -> None:
    """Print the seconds to the first map and to a filter change, on the demo data or ``--data FILE``.

    Each run opens a new browser context (nothing cached: a first visit), opens the map again in it (the browser's
    cache filled: a returning reader), then changes a filter.  Run 0 also fills the server's caches (data read,
    analyses run); the medians are over the other runs.
    """
    parser = argparse.ArgumentParser(prog="python -m tests.support.browser", description=main.__doc__)
    parser.add_argument("--data", help="GeoPackage to serve (default: the demo data)")
    parser.add_argument("--runs", type=int, default=2, help="page loads; the first one fills the server's caches")
    args = parser.parse_args(argv)
    rows = []
    with streamlit_app(args.data) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for run in range(args.runs):
            guarded = guard(browser)
            first = open_map(guarded.page, url)
            returning = open_map(guarded.page, url)
            change = change_filter(guarded.page, "灾害类型", "滑坡")
            screenshot(guarded.page, f"measure-{run}")
            row = {"run": run, "first_map_s": first, "returning_map_s": returning, "filter_change_s": change}
            print(json.dumps({**row, "outside": guarded.outside}))
            rows.append(row)
            guarded.context.close()
        browser.close()
    warm = rows[1:] or rows
    medians = {key: round(statistics.median(r[key] for r in warm), 2) for key in rows[0] if key != "run"}
    print(json.dumps({"median_over_runs": len(warm), **medians}))


if __name__ == "__main__":
    main()
