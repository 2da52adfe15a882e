"""What every page shares: the data set, cached analyses, the interface language and the error page.

Data and analyses are cached with Streamlit's caches keyed on a :class:`DataVersion`: the data source **and its
stamp** (a file's modification time, size and inode; a database's newest audit id), so an edit saved through
the store shows at once, while panning or filtering the map never re-reads the data or re-runs an analysis.

The version also says whether personal phone numbers are masked for the signed-in user (:mod:`geo.access.privacy`):
:func:`layers` hands a viewer's pages masked frames, so every map, table, download and export built from them is
masked, and the caches of the two views never mix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import streamlit as st

from geo import settings, store
from ui import auth
from ui.lang import LANGS, lang, language_switch, tr

__all__ = ["LANGS", "lang", "language_switch", "tr"]  # the language, for pages that take it from here
from geo.access import privacy
from geo.model import schema


@dataclass(frozen=True)
class DataVersion:
    """One state of the data set as one kind of user sees it: the cache key of everything computed from it.

    Attributes
    ----------
    source
        The data set (shown, it is named by ``source.label``, which never holds a password).
    stamp
        What changes when the data changes (:meth:`geo.store.Store.stamp`).
    masked
        Personal phone numbers are masked in this view.
    """

    source: store.Source
    stamp: tuple[int, ...]
    masked: bool = True


def data_version(where: str | None = None) -> DataVersion:
    """The current version of the data set (``HAZMAP_DATA`` or the demo file) for the signed-in user.

    Raises
    ------
    geo.store.StoreError
        The file is missing or the database cannot be reached.
    """
    source = store.Source.of(where)
    masked = not privacy.sees_contacts(auth.current_user())
    return DataVersion(source, store.open(source).stamp(), masked)


@st.cache_resource(show_spinner=False, max_entries=4)
def _stored(source: store.Source, stamp: tuple[int, ...]) -> dict[str, gpd.GeoDataFrame]:
    # cache_resource hands every session the same frames without pickling a copy per rerun: pages treat them
    # as read-only and copy before changing anything.
    return store.open(source).read_layers()


@st.cache_resource(show_spinner=False, max_entries=8)
def _layers_cached(version: DataVersion) -> dict[str, gpd.GeoDataFrame]:
    stored = _stored(version.source, version.stamp)
    return privacy.mask_layers(stored) if version.masked else stored


def layers(version: DataVersion | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the data set as the version's user may see it, read once per data version."""
    return _layers_cached(version or data_version())


@st.cache_resource(show_spinner=False, max_entries=4)
def _validation_cached(source: store.Source, stamp: tuple[int, ...]) -> schema.Report:
    return schema.validate_frames(_stored(source, stamp))


def validation(version: DataVersion | None = None) -> schema.Report:
    """The validator's report of the current data set, computed once per data version, masked for a viewer (its
    messages quote the values they refuse, phone numbers among them)."""
    version = version or data_version()
    report = _validation_cached(version.source, version.stamp)
    return privacy.mask_report(report) if version.masked else report


def show_data_error(exc: Exception) -> None:
    """A page that says what is wrong with the data file and how to fix it, instead of a traceback."""
    source = store.Source.of()
    where = source.label
    # A database error may quote the URL it was given: the password in it must not reach the page.
    reason = str(exc).replace(source.location, where)
    st.error(tr("无法打开数据文件", "The data file cannot be opened"))
    st.markdown(
        tr(
            f"**文件**：`{where}`\n\n**原因**：{reason}\n\n"
            "请检查环境变量 `HAZMAP_DATA` 指向的 GeoPackage，或在命令行运行 "
            "`python -m geo validate --data 文件` 查看全部问题。",
            f"**File**: `{where}`\n\n**Reason**: {reason}\n\n"
            "Check the GeoPackage that `HAZMAP_DATA` points to, or run "
            "`python -m geo validate --data FILE` to list every problem.",
        ),
        unsafe_allow_html=False,
    )
    if isinstance(exc, schema.SchemaError):
        report = exc.report if privacy.sees_contacts(auth.current_user()) else privacy.mask_report(exc.report)
        st.code(report.summary(), language=None)


def load_or_stop() -> tuple[DataVersion, dict[str, gpd.GeoDataFrame]]:
    """The data version and layers for a page; on any data problem, show the error page and stop the run."""
    try:
        version = data_version()
        return version, layers(version)
    except (store.StoreError, schema.SchemaError, OSError) as exc:
        show_data_error(exc)
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers the function never falls through


def demo_in_use() -> bool:
    """True when the app shows the embedded synthetic demo data."""
    return Path(settings.data_path()).resolve() == settings.DEMO_DATA.resolve()


def secret(name: str) -> object:
    """A value of ``.streamlit/secrets.toml``; None when it is not set or there is no such file."""
    try:
        return st.secrets.get(name)
    except FileNotFoundError:  # no secrets.toml: nothing configured
        return None


def tianditu_key() -> str | None:
    """The 天地图 key: ``tianditu_key`` in the secrets, else ``HAZMAP_TIANDITU_KEY``; None when neither is set."""
    key = secret("tianditu_key") or os.environ.get("HAZMAP_TIANDITU_KEY")
    return str(key) if key else None


def basemaps() -> list[str]:
    """The basemaps this installation may show: always ``none``, then the configured ones."""
    allow_osm = secret("allow_osm") is True or os.environ.get("HAZMAP_ALLOW_OSM") == "1"
    return ["none", *(["tianditu"] if tianditu_key() else []), *(["osm"] if allow_osm else [])]
