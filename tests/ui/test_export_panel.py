"""The export buttons the Evacuation and Warning pages embed, run under Streamlit's AppTest on the tiny data set."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo import store
from geo.analysis import exposure, pools
from geo.export.hazard import ExportData
from tests.support.exporting import SETTINGS
from tests.support.fixtures import tiny_dataset
from ui import export_panel


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("panel") / "tiny.gpkg"
    store.open(path).create(tiny_dataset(), user="test")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HAZMAP_DATA", str(path))
        yield path


def _script() -> None:
    from ui import analysis, common, export_panel

    version = common.data_version()
    export_panel.settings_form()
    export_panel.drill_map_buttons(version, "H1")
    export_panel.cards_buttons(version, ["H1", "H2"])
    export_panel.route_file_buttons(version)
    export_panel.batch_button(version, township="鲇鱼山镇")
    export_panel.warning_report_buttons(analysis.exposure(version))
    export_panel.pools_report_button(analysis.coverage(version))


def _labels(at: AppTest) -> list[str]:
    return [element.proto.label for element in at.get("download_button")]


def test_panel_offers_every_export_and_builds_the_batch_with_a_progress_bar(tiny_file):
    at = AppTest.from_function(_script, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.run()
    assert [e.value for e in at.exception] == []
    labels = _labels(at)
    for expected in (
        "下载演练图（PDF）",
        "下载演练图（PNG）",
        "下载防灾明白卡（PDF）",
        "路线 KML",
        "路线 GPX",
        "路线 GEOJSON",
    ):
        assert expected in labels
    assert "受威胁人口报表（Excel）" in labels and "泳池覆盖报表（Excel）" in labels
    assert not any(label.startswith("下载 鲇鱼山镇") for label in labels)

    at.button(key="batch").click().run()
    assert [e.value for e in at.exception] == []
    assert "下载 鲇鱼山镇_演练图和明白卡.zip（2 处）" in _labels(at)
    _, content, points = at.session_state["batch_zip"]
    assert points == 2 and content.startswith(b"PK")


MAGIC = {"pdf": b"%PDF-", "png": b"\x89PNG", "xlsx": b"PK", "kml": b"<?xml", "gpx": b"<?xml", "geojson": b"{"}


def test_every_download_makes_its_file():
    data = ExportData.prepare(tiny_dataset())
    layers = tiny_dataset()
    downloads = [
        *export_panel.drill_map_downloads(data, "H1", SETTINGS, "A4", "portrait"),
        *export_panel.cards_downloads(data, ["H1"], SETTINGS),
        *export_panel.route_downloads(data, ["H1"]),
        *export_panel.warning_report_downloads(exposure.analyse(layers), SETTINGS),
        *export_panel.pools_report_downloads(pools.pool_coverage(layers), SETTINGS),
    ]
    assert len({d.file_name for d in downloads}) == len(downloads) == 9
    for download in downloads:
        ext = download.file_name.rsplit(".", 1)[1]
        assert download.mime == export_panel.MIME[ext]
        assert download.make().startswith(MAGIC[ext]), download.file_name
