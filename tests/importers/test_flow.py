"""Preview before write: what an import would add, update, leave and reject, row by row; the write through the
store (versions, audit rows, the danger grade recomputed per plan 3.2); partial imports only when asked; the
rejected rows file that imports again once fixed; and the ``python -m geo import`` command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from geo import cli, importers, store
from tests.support.importing import by_id, fresh_copy, make_template, sha256

HEADER = ["统一编号", "名称", "灾害类型", "规模等级", "乡镇", "村", "经度", "纬度", "威胁户数", "威胁人数",
          "威胁财产（万元）", "避险场所", "险情等级"]  # fmt: skip
#: Row 2: an update of H1 (150 -> 600 people: danger grade medium -> large); row 3: H2 as stored; row 4: a new
#: point; rows 5 and 6: broken.  Row numbers count the header, as a spreadsheet shows them.
ROWS = [
    ["H1", "枫林村滑坡", "滑坡", "小型", "鲇鱼山镇", "枫林村", "117.25", "29.30", "40", "600", "80", "SH1", "小型"],
    ["H2", "新安村崩塌", "崩塌", "小型", "鲇鱼山镇", "新安村", "117.30", "29.35", "5", "12", "30", "", ""],
    ["N9", "新村滑坡", "滑坡", "中型", "鲇鱼山镇", "新村", "117°16′", "29°19′", "3", "10", "600", "西郊中学操场", ""],
    ["N10", "火山口", "火山", "小型", "鲇鱼山镇", "新村", "117.2", "29.3", "3", "很多", "5", "", ""],
    ["N11", "", "滑坡", "小型", "鲇鱼山镇", "新村", "", "", "3", "4", "5", "SH9", ""],
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def data(template, tmp_path) -> Path:
    return fresh_copy(template, tmp_path)


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows([header, *rows])
    return path


@pytest.fixture
def inventory(tmp_path) -> Path:
    return write_csv(tmp_path / "台账.csv", ROWS)


def preview(source: Path, data: Path, layer: str = "hazard_points", **options) -> importers.ImportPlan:
    return importers.preview_import(source, data, importers.ImportOptions(layer, **options))


def test_preview_lists_adds_updates_unchanged_and_rejects_by_row(data, inventory):
    before = sha256(data)
    plan = preview(inventory, data)
    assert [(e.row, e.feature_id) for e in plan.added] == [(4, "N9")]
    assert [(e.row, e.feature_id) for e in plan.updated] == [(2, "H1")]
    assert plan.updated[0].changes == {"threatened_people": [150, 600], "danger_grade": ["medium", "large"]}
    assert [(e.row, e.feature_id) for e in plan.unchanged] == [(3, "H2")]
    rejected = {r.row: [m.en for m in r.reasons] for r in plan.rejected}
    assert list(rejected) == [5, 6]
    assert any("hazard_type" in m and "'火山'" in m for m in rejected[5])
    assert any("threatened_people" in m and "'很多'" in m for m in rejected[5])
    assert any("name (名称): required but empty" in m for m in rejected[6])
    assert any("'SH9' is neither the id nor the name" in m for m in rejected[6])
    assert any("needs a position" in m for m in rejected[6])
    added = plan.added[0].new
    assert added["shelter_id"] == "SH2"  # named by its name 西郊中学操场
    assert added["danger_grade"] == "medium"  # 600 万元 (plan 3.2)
    assert (added["geometry"].x, added["geometry"].y) == pytest.approx((117 + 16 / 60, 29 + 19 / 60))
    assert sha256(data) == before  # a preview writes nothing


def test_text_and_json_previews_say_the_same(data, inventory):
    plan = preview(inventory, data)
    text = plan.to_text()
    assert "row 2  H1  (version 1 → 2)" in text
    assert "threatened_people: 150 → 600" in text
    assert "row 5  N10" in text
    as_json = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    assert as_json["counts"] == {"added": 1, "updated": 1, "unchanged": 1, "rejected": 2}
    assert as_json["updated"][0]["version"] == [1, 2]


def test_rejected_rows_block_the_write_unless_partial(data, inventory):
    before = sha256(data)
    plan = preview(inventory, data)
    with pytest.raises(importers.ImportBlocked, match="2 row"):
        importers.apply_plan(plan, user="tester")
    assert sha256(data) == before
    result = importers.apply_plan(plan, user="tester", partial=True)
    assert (result.added, result.updated, result.skipped) == (["N9"], ["H1"], 2)


def test_write_goes_through_the_store_with_versions_and_audit_rows(data, inventory):
    audit_before = len(store.open(data).read_audit())
    importers.apply_plan(preview(inventory, data), user="王工", partial=True)
    points = by_id(store.open(data).read_layer("hazard_points"), "hazard_id")
    assert (points["N9"]["version"], points["H1"]["version"], points["H2"]["version"]) == (1, 2, 1)
    assert points["H1"]["danger_grade"] == "large"  # recomputed; the file's 小型 is ignored (plan 3.2)
    assert points["H1"]["updated_at"] != points["H2"]["updated_at"]
    assert points["N9"]["status"] == "active"  # the one default a new point gets
    log = store.open(data).read_audit().iloc[audit_before:]
    columns = log[["feature_id", "action", "version_before", "version_after"]].astype(object)
    assert columns.where(columns.notna(), None).values.tolist() == [
        ["N9", "insert", None, 1],
        ["H1", "update", 1, 2],
        [None, "import", None, None],
    ]
    assert set(log["user"]) == {"王工"}
    assert json.loads(log.iloc[1]["changes"]) == {"threatened_people": [150, 600], "danger_grade": ["medium", "large"]}
    summary = json.loads(log.iloc[2]["changes"])
    assert summary["source"] == [None, "台账.csv"] and summary["rejected_left_out"] == [None, 2]
    assert store.open(data).read_layers(validate=True)  # the whole data set still follows the model


def test_other_layers_are_written_with_audit_rows_too(data, tmp_path):
    header = ["村庄编号", "村名", "乡镇", "人口", "户数", "经度", "纬度"]
    rows = [
        ["V1", "枫林村", "鲇鱼山镇", "330", "96", "117.252", "29.301"],
        ["V9", "新村", "鲇鱼山镇", "45", "12", "117.21", "29.31"],
    ]
    source = write_csv(tmp_path / "村庄.csv", rows, header)
    plan = preview(source, data, "villages")
    assert plan.updated[0].changes == {"population": [320, 330], "households": [95, 96]}
    importers.apply_plan(plan, user="tester")
    villages = by_id(store.open(data).read_layer("villages"), "village_id")
    assert villages["V9"]["population"] == 45 and villages["V1"]["population"] == 330
    log = store.open(data).read_audit()
    assert log[log["layer"] == "villages"]["action"].tolist()[-3:] == ["insert", "update", "import"]


def test_a_table_without_coordinates_updates_attributes_and_keeps_positions(data, tmp_path):
    source = write_csv(tmp_path / "监测人.csv", [["H1", "张三", "13900000000"]], ["统一编号", "监测人", "联系电话"])
    plan = preview(source, data)
    assert plan.updated[0].changes == {
        "monitor_name": ["王监测", "张三"],
        "monitor_phone": ["13800000001", "13900000000"],
    }
    importers.apply_plan(plan, user="tester")
    h1 = by_id(store.open(data).read_layer("hazard_points"), "hazard_id")["H1"]
    assert (h1["geometry"].x, h1["geometry"].y, h1["threatened_people"]) == (117.25, 29.30, 150)


def test_a_new_feature_needs_every_required_column(data, tmp_path):
    source = write_csv(tmp_path / "新点.csv", [["N1", "新点", "117.2", "29.3"]], ["统一编号", "名称", "经度", "纬度"])
    (rejection,) = preview(source, data).rejected
    missing = " ".join(m.en for m in rejection.reasons)
    for column in ("hazard_type", "scale_class", "threatened_households", "threatened_people"):
        assert column in missing
    assert "status" not in missing  # defaults to active


def test_an_id_given_twice_rejects_both_rows(data, tmp_path):
    rows = [ROWS[2], [*ROWS[2][:1], "别的名字", *ROWS[2][2:]]]
    plan = preview(write_csv(tmp_path / "重复.csv", rows), data)
    assert [r.row for r in plan.rejected] == [2, 3] and not plan.entries
    assert "repeats on rows 2、3" in plan.rejected[0].reasons[0].en


def test_an_edit_since_the_preview_stops_the_write(data, inventory):
    plan = preview(inventory, data)
    store.open(data).update_hazard_point("H1", {"monitor_name": "别人"}, user="someone")
    before = sha256(data)
    with pytest.raises(store.ConflictError, match="'H1' changed or was removed since the preview"):
        importers.apply_plan(plan, user="tester", partial=True)
    assert sha256(data) == before


def test_importing_the_same_file_twice_changes_nothing_the_second_time(data, inventory):
    importers.apply_plan(preview(inventory, data), user="tester", partial=True)
    again = preview(inventory, data)
    assert not again.added and not again.updated
    assert {e.feature_id for e in again.unchanged} == {"H1", "H2", "N9"}


# --------------------------------------------------------------------------------------------------
# The rejected rows file


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rejected_rows_file_fixed_imports_again(data, inventory, tmp_path, suffix):
    plan = preview(inventory, data)
    out = tmp_path / f"rejected{suffix}"
    importers.write_rejected(plan, out)
    if suffix == ".csv":
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows the Chinese
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    else:
        rows = [["" if v is None else str(v) for v in row] for row in openpyxl.load_workbook(out).active.values]
    header, *body = rows
    assert header[0] == "源文件行号" and header[-1] == "错误原因" and header[1:-1] == HEADER
    assert [row[0] for row in body] == ["5", "6"]
    assert "threatened_people" in body[0][-1] and "威胁人数" in body[0][-1]
    # The user fixes the two rows in place and imports the file as it is.
    body[0][HEADER.index("灾害类型") + 1], body[0][HEADER.index("威胁人数") + 1] = "泥石流", "9"
    body[1][1 + HEADER.index("名称")] = "新点十一"
    body[1][1 + HEADER.index("避险场所")] = "SH1"
    body[1][1 + HEADER.index("经度")], body[1][1 + HEADER.index("纬度")] = "117.21", "29.31"
    fixed = write_csv(tmp_path / "fixed.csv", body, header)
    plan = preview(fixed, data)
    assert plan.rejected == [] and [e.feature_id for e in plan.added] == ["N10", "N11"]


# --------------------------------------------------------------------------------------------------
# The command line


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_previews_by_default_and_writes_nothing(data, inventory, capsys):
    before = sha256(data)
    code, out, _ = run(capsys, str(inventory), "--layer", "hazard_points", "--data", str(data))
    assert code == 1  # rows were rejected
    assert "row 2  H1  (version 1 → 2)" in out and "dry run: nothing written" in out
    assert sha256(data) == before


def test_cli_yes_is_blocked_by_rejected_rows_and_writes_them_out(data, inventory, tmp_path, capsys):
    before = sha256(data)
    out_file = tmp_path / "rejected.csv"
    args = [str(inventory), "--layer", "hazard_points", "--data", str(data), "--yes", "--rejected-out", str(out_file)]
    code, out, _ = run(capsys, *args)
    assert code == 1 and "nothing written" in out and sha256(data) == before
    assert "错误原因" in out_file.read_text(encoding="utf-8-sig")


def test_cli_partial_writes_the_valid_rows(data, inventory, capsys):
    args = [str(inventory), "--layer", "hazard_points", "--data", str(data), "--yes", "--partial", "--user", "王工"]
    code, out, _ = run(capsys, *args)
    assert code == 1 and "written to" in out and "1 added, 1 updated" in out
    assert "N9" in set(store.open(data).read_layer("hazard_points")["hazard_id"])
    assert store.open(data).read_audit()["user"].iloc[-1] == "王工"


def test_cli_json_output(data, tmp_path, capsys):
    source = write_csv(tmp_path / "ok.csv", ROWS[:3])
    code, out, _ = run(capsys, str(source), "--layer", "hazard_points", "--data", str(data), "--yes", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["written"] and result["result"]["added"] == ["N9"]
    assert result["counts"] == {"added": 1, "updated": 1, "unchanged": 1, "rejected": 0}


def test_cli_dry_run_and_yes_exclude_each_other(data, inventory, capsys):
    with pytest.raises(SystemExit):
        cli.main(["import", str(inventory), "--layer", "hazard_points", "--data", str(data), "--dry-run", "--yes"])
    capsys.readouterr()


def test_cli_refuses_a_layer_that_cannot_be_imported(data, inventory, capsys):
    code, _, err = run(capsys, str(inventory), "--layer", "roads", "--data", str(data))
    assert code == 2 and "importable layers: townships, hazard_points" in err
