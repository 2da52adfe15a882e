"""Fixtures every test module gets."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.support import pgcluster

# The browser fixtures live with the browser harness; registered here once, so every module shares one Chromium
# (two Playwright instances in one process collide on its event loop).
from tests.support.browser import app_url_fixture, chromium_fixture, guarded_fixture  # noqa: F401


@pytest.fixture(autouse=True)
def keep_main_module(monkeypatch):
    """Put the real ``__main__`` back after each test.

    AppTest leaves its script as ``sys.modules["__main__"]``; a later test that spawns processes (the store's
    concurrent writers) would re-run that script, the whole app, in each child.
    """
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


@pytest.fixture(autouse=True, scope="session")
def no_user_file(tmp_path_factory):
    """No test reads the developer's own ``.streamlit/users.yaml``: unless a test names a user file, there is none."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAZMAP_USERS", str(tmp_path_factory.mktemp("users") / "none.yaml"))
        yield


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """URL of a throwaway PostgreSQL 15/PostGIS cluster for one test module; fails, never skips, without it."""
    missing = pgcluster.missing_binaries()
    if missing:
        pytest.fail(f"PostgreSQL 15/PostGIS missing ({', '.join(missing)}): run `make test`", pytrace=False)
    with pgcluster.throwaway_cluster() as url:
        yield url
