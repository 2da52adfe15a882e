"""Editors working at once lose no edit, on PostGIS and on a GeoPackage (issue "Many users at once").

Editor processes start together and edit the same three hazard points over and over, the way the app's editing
page does: read the point, then save a change based on the version read.  Every edit adds 1 to
``threatened_households`` and appends a token of its own to ``warning_signal``.  The store either accepts an edit
(and returns the new row) or refuses it with a ConflictError because another edit landed since it read.

Afterwards the data must hold exactly the accepted edits: each point's households grew by its accepted edits, its
text holds their tokens in the order of the versions they made and no refused token, its versions count them
one by one, and the audit log has one row for each of them and no other.  A lost update would show as a missing
token or a count short; a refused edit that wrote anyway, as a token too many.
"""

from __future__ import annotations

import multiprocessing
import traceback

import pandas as pd
import pytest

from geo import store
from tests.support.fixtures import tiny_dataset

WORKERS = 4
#: The points edited; fewer than the workers, so that edits collide.
POINTS = ["H1", "H2", "H3"]
#: Seconds to wait for the editors; far above what they need.
TIMEOUT_S = 120


def _editor(path: str, worker: int, edits: int, barrier, results) -> None:
    """Make ``edits`` read-then-save edits; report each one's outcome (or the traceback of a failure)."""
    try:
        barrier.wait()
        outcomes = []
        for i in range(edits):
            hazard_id = POINTS[(worker + i) % len(POINTS)]
            row = store.open(path).read_layer("hazard_points").set_index("hazard_id").loc[hazard_id]
            token = f"w{worker}e{i:02d}"
            signal = row["warning_signal"]
            change = {
                "threatened_households": int(row["threatened_households"]) + 1,
                "warning_signal": token if pd.isna(signal) else f"{signal} {token}",
            }
            outcome = {"hazard_id": hazard_id, "token": token, "user": f"editor{worker}", "read": int(row["version"])}
            try:
                new = store.open(path).update_hazard_point(
                    hazard_id, change, user=outcome["user"], expected_version=outcome["read"]
                )
                outcome |= {"accepted": True, "version": new["version"]}
            except store.ConflictError as exc:
                outcome |= {"accepted": False, "current": exc.current_version}
            outcomes.append(outcome)
        results.put(outcomes)
    except Exception:
        results.put(traceback.format_exc())
        raise


def run_editors(path: str, edits: int) -> pd.DataFrame:
    """Run WORKERS editor processes (spawned: no state shared but the data set) and collect every outcome."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    workers = [
        ctx.Process(target=_editor, args=(path, worker, edits, barrier, results), daemon=True)
        for worker in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=TIMEOUT_S) for _ in workers]
    for worker in workers:
        worker.join(timeout=TIMEOUT_S)
    failures = [report for report in reports if isinstance(report, str)]
    assert not failures, "\n".join(failures)
    return pd.DataFrame([outcome for report in reports for outcome in report])


def assert_every_accepted_edit_and_no_other(path: str, edits: int) -> None:
    before = store.open(path).read_layer("hazard_points").set_index("hazard_id")
    logged = len(store.open(path).read_audit())
    outcomes = run_editors(path, edits)
    after = store.open(path).read_layer("hazard_points").set_index("hazard_id")
    log = store.open(path).read_audit().iloc[logged:]

    assert len(outcomes) == WORKERS * edits
    accepted, refused = outcomes[outcomes["accepted"]], outcomes[~outcomes["accepted"]]
    # Both outcomes must occur, or the editors never raced and the test proves nothing.
    assert len(accepted) and len(refused)
    # A refused edit was told of the newer version that beat it.
    assert (refused["current"] > refused["read"]).all()
    for hazard_id in POINTS:
        mine = accepted[accepted["hazard_id"] == hazard_id].sort_values("version")
        first = int(before.loc[hazard_id, "version"])
        assert mine["version"].tolist() == list(range(first + 1, first + 1 + len(mine)))
        assert mine["read"].tolist() == list(range(first, first + len(mine)))
        point = after.loc[hazard_id]
        assert point["version"] == first + len(mine)
        assert point["threatened_households"] == before.loc[hazard_id, "threatened_households"] + len(mine)
        signal = before.loc[hazard_id, "warning_signal"]
        assert point["warning_signal"] == " ".join([*([] if pd.isna(signal) else [signal]), *mine["token"]])
        audited = log[log["feature_id"] == hazard_id]
        assert audited["version_after"].tolist() == mine["version"].tolist()
        assert audited["user"].tolist() == mine["user"].tolist()
    assert len(log) == len(accepted) and set(log["action"]) == {"update"}


@pytest.mark.postgis
def test_parallel_editors_lose_no_edit_on_postgis(cluster):
    store.open(cluster).create(tiny_dataset(), user="fixture")
    assert_every_accepted_edit_and_no_other(cluster, edits=25)


def test_parallel_editors_lose_no_edit_on_a_geopackage(tmp_path):
    # Fewer edits: every GeoPackage edit rewrites and re-validates the whole file under the writers' lock.
    path = tmp_path / "data.gpkg"
    store.open(path).create(tiny_dataset(), user="fixture")
    assert_every_accepted_edit_and_no_other(str(path), edits=6)
