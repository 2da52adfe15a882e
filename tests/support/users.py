"""Users, sessions and rendered pages for the sign-in and privacy tests.

User files are written with bcrypt's lowest work factor: the hashes are real, checking them takes milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from streamlit.testing.v1 import AppTest

from geo.access import auth
from geo.settings import ROOT
from ui import auth as signin

APP = ROOT / "app.py"
PASSWORD = "correct horse"
FAST_ROUNDS = 4
#: A full phone number of the demo data set (all are 199-0000-dddd): what a viewer must never receive.
FULL_PHONE = re.compile(rb"199-?0000-?\d{4}")


def write_users(path: Path, roles: Mapping[str, str]) -> Path:
    """A user file with one user per name -> role, each with :data:`PASSWORD`."""
    for name, role in roles.items():
        auth.add_user(path, name, role, PASSWORD, rounds=FAST_ROUNDS)
    return path


def app(user: str | None = None, lang: str = "zh") -> AppTest:
    """``app.py`` under AppTest, run once, with ``user`` signed in the way :mod:`ui.auth` keeps them."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    if user is not None:
        at.session_state[signin.SESSION_KEY] = user
    return at.run()


def pages(at: AppTest) -> list[str]:
    """The url paths of the pages the app registered in its last run ("" is the default page)."""
    return [info["url_pathname"] for info in at._registered_pages.values()]


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Run the page registered under ``url_path``.

    ``AppTest.switch_page`` finds only pages that are files; the app's pages are functions, so the page is chosen
    the way a browser does, by the hash of its url path that ``st.navigation`` registered.
    """
    at._page_hash = next(h for h, info in at._registered_pages.items() if info["url_pathname"] == url_path)
    return at.run()


def rendered(at: AppTest) -> bytes:
    """Everything the last run sent to the browser: every element's message, as serialised for the wire.

    Tables travel as Arrow (uncompressed UTF-8 strings), markdown and captions as text, the folium map as the HTML
    in its component's arguments: a phone number anywhere in them appears in these bytes.
    """
    nodes = [*at.main, *at.sidebar]
    return b"".join(node.proto.SerializeToString() for node in nodes if getattr(node, "proto", None) is not None)


def problems(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]
