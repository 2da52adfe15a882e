"""Personal phone numbers: masked for viewers everywhere the app shows them, in full for editors.

The page runs search every byte the app sends to the browser (tables, text, the map's HTML) for the demo's full
numbers (199-0000-dddd); each search is checked to find them where they are allowed, so a search that could
not see them would fail rather than pass.
"""

from __future__ import annotations

import io
import json
import re
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest

from geo import store
from geo.access import auth, privacy
from geo.analysis import exposure
from geo.settings import DEMO_DATA
from tests.support.fixtures import tiny_dataset
from tests.support.users import FULL_PHONE, app, open_page, problems, rendered, write_users
from ui import warning_page, widgets

VIEWER = auth.User("v", "viewer")
EDITOR = auth.User("e", "editor")
MASKED = re.compile(rb"199\*{4}\d{4}")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("199-0000-4302", "199****4302"),
        ("19900004302", "199****4302"),
        ("199 0000 4302", "199****4302"),
        (" 199-0000-4302 ", " 199****4302 "),
        ("0798-1234567", "079****4567"),
        ("0798-12345678", "079*****5678"),
        ("8123-4567", "****4567"),
        ("1234567", "****567"),
        ("12345", "***45"),
        ("110", "**0"),
        ("7", "*"),
        ("13800000000（办）", "138****0000（办）"),
        ("199-0000-1111/0798-1234567", "199****1111/079****4567"),
        ("无", "无"),
        ("", ""),
        (19900004302, "199****4302"),
    ],
)
def test_a_phone_number_keeps_its_first_3_and_last_4_digits_at_most(value, masked):
    assert privacy.mask_phone(value) == masked


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_a_missing_phone_number_stays_missing(missing):
    assert privacy.mask_phone(missing) is missing


def test_a_masked_number_hides_at_least_4_digits_or_half_of_a_short_one():
    for n in range(1, 16):
        hidden = privacy.mask_phone("9" * n).count(privacy.MASK)
        assert hidden >= min(4, n - n // 2), n


def test_phone_changes_in_the_audit_log_are_masked_and_the_rest_kept():
    changes = json.dumps({"monitor_phone": ["199-0000-1111", "199-0000-2222"], "threatened_people": [10, 20]})
    masked = json.loads(privacy.mask_changes(changes))
    assert masked == {"monitor_phone": ["199****1111", "199****2222"], "threatened_people": [10, 20]}
    assert privacy.mask_changes("not json 199-0000-1111") == "not json 199****1111"
    assert privacy.mask_changes(None) is None


def test_mask_for_masks_for_viewers_and_nobody_but_not_for_editors_or_admins():
    points = tiny_dataset()["hazard_points"].assign(monitor_phone="199-0000-4302", responsible_phone="0798-1234567")
    for user in (VIEWER, auth.ANONYMOUS, None):
        masked = privacy.mask_for(user, points)
        assert set(masked["monitor_phone"]) == {"199****4302"} and set(masked["responsible_phone"]) == {"079****4567"}
        assert masked.crs == points.crs and masked.geometry.equals(points.geometry)
        assert masked.drop(columns=list(privacy.PHONE_COLUMNS)).equals(points.drop(columns=list(privacy.PHONE_COLUMNS)))
    assert set(points["monitor_phone"]) == {"199-0000-4302"}  # the frame given is never changed
    for user in (EDITOR, auth.User("a", "admin")):
        assert privacy.mask_for(user, points) is points


def test_warning_downloads_built_from_a_viewers_layers_hold_no_full_number():
    """The exposure analysis carries monitor and responsible phones into the Warning page's tables and files."""
    masked = privacy.mask_layers(store.open(DEMO_DATA).read_layers())
    tables = warning_page.result_tables(exposure.analyse(masked), "zh")
    assert MASKED.search(widgets.csv_bytes(tables["隐患点"]))
    assert not FULL_PHONE.search(b"".join(widgets.csv_bytes(t) for t in tables.values()))
    book = openpyxl.load_workbook(io.BytesIO(widgets.excel_bytes(tables)))
    cells = "\n".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row).encode()
    assert MASKED.search(cells) and not FULL_PHONE.search(cells)


# --------------------------------------------------------------------------------------------------
# The app as a viewer and as an editor


@pytest.fixture(scope="module")
def signed_in_app(tmp_path_factory):
    """A copy of the demo whose audit log holds a phone number change, and a user file with a viewer and an editor."""
    folder = tmp_path_factory.mktemp("privacy")
    data = folder / "demo.gpkg"
    shutil.copyfile(DEMO_DATA, data)
    first = store.open(data).read_layer("hazard_points").iloc[0]
    store.open(data).update_hazard_point(first["hazard_id"], {"monitor_phone": "199-0000-0001"}, user="fixture")
    users = write_users(folder / "users.yaml", {"viewer1": "viewer", "editor1": "editor"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAZMAP_DATA", str(data))
        patch.setenv("HAZMAP_USERS", str(users))
        yield first["hazard_id"]


def _every_page(user: str, hazard_id: str) -> dict[str, bytes]:
    """What each page sent to ``user``'s browser; the map with a hazard point's details open."""
    at = app(user)
    at.session_state["map_selected"] = hazard_id
    sent = {"map": rendered(at.run())}
    for page in ("warning", "evacuation", "pools", "data"):
        sent[page] = rendered(open_page(at, page))
    assert problems(at) == []
    return sent


def test_a_viewer_never_receives_a_full_phone_number(signed_in_app):
    sent = _every_page("viewer1", signed_in_app)
    assert {page: FULL_PHONE.findall(body) for page, body in sent.items() if FULL_PHONE.search(body)} == {}
    for page in ("map", "warning", "data"):  # the numbers are there, masked
        assert MASKED.search(sent[page]), page
    assert b"199****0001" in sent["data"]  # the audit log's record of the changed number


def test_an_editor_sees_the_full_numbers(signed_in_app):
    sent = _every_page("editor1", signed_in_app)
    for page in ("map", "warning", "data"):
        assert FULL_PHONE.search(sent[page]), page
    assert b"199-0000-0001" in sent["data"]


def test_validation_messages_about_phones_stored_as_numbers_are_masked_for_a_viewer(tmp_path, monkeypatch):
    # A GeoPackage made elsewhere may store phones as integers: the validator then quotes each number it refuses
    # (…= 19900004302: expected text), and those messages reach the Data page's 图层与校验 tab.
    data = tmp_path / "numbers.gpkg"
    shutil.copyfile(DEMO_DATA, data)
    points = store.open(data).read_layer("hazard_points")
    numbers = points["monitor_phone"].str.replace("-", "").astype("int64")
    pyogrio.write_dataframe(
        points.assign(monitor_phone=numbers), data, layer="hazard_points", layer_options={"OVERWRITE": "YES"}
    )
    report = store.open(data).validate()
    assert any(FULL_PHONE.search(p.message.encode()) for p in report.problems)  # the search can see them
    assert not any(FULL_PHONE.search(p.message.encode()) for p in privacy.mask_report(report).problems)
    users = write_users(tmp_path / "users.yaml", {"viewer1": "viewer", "editor1": "editor"})
    monkeypatch.setenv("HAZMAP_DATA", str(data))
    monkeypatch.setenv("HAZMAP_USERS", str(users))
    viewer = rendered(open_page(app("viewer1"), "data"))
    editor = rendered(open_page(app("editor1"), "data"))
    assert FULL_PHONE.search(editor) and MASKED.search(viewer)
    assert FULL_PHONE.findall(viewer) == []
