"""Sign-in and roles: password hashes, the user file, who may do what, the users CLI, and the app gated by role."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import sys
import threading

import pytest

from geo import cli, store
from geo.access import auth
from geo.settings import DEMO_DATA
from tests.support.users import FAST_ROUNDS, PASSWORD, app, open_page, pages, problems, write_users
from ui import admin_page, data_page, import_panel

#: What each role may do: the roles table of the README.
EXPECTED = {
    "viewer": {"browse", "export"},
    "editor": {"browse", "export", "contacts", "edit", "import"},
    "admin": {"browse", "export", "contacts", "edit", "import", "admin"},
}


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# --------------------------------------------------------------------------------------------------
# Passwords


def test_a_hash_verifies_its_password_and_nothing_else():
    hashed = auth.hash_password(PASSWORD, rounds=FAST_ROUNDS)
    assert hashed.startswith("$2b$04$") and PASSWORD not in hashed
    assert auth.verify_password(PASSWORD, hashed)
    assert not auth.verify_password(PASSWORD + "!", hashed)
    assert auth.hash_password(PASSWORD, rounds=FAST_ROUNDS) != hashed  # a fresh salt each time
    assert not auth.verify_password(PASSWORD, "not a hash")
    assert not auth.verify_password("x" * 100, hashed)  # over bcrypt's 72 bytes: cannot match, does not raise


def test_passwords_shorter_than_8_characters_or_over_72_bytes_are_refused():
    with pytest.raises(ValueError, match="8"):
        auth.hash_password("short", rounds=FAST_ROUNDS)
    assert auth.verify_password("密" * 24, auth.hash_password("密" * 24, rounds=FAST_ROUNDS))  # 72 bytes
    with pytest.raises(ValueError, match="72"):
        auth.hash_password("密" * 25, rounds=FAST_ROUNDS)


def test_authenticate_answers_the_same_for_a_wrong_password_and_an_unknown_name(tmp_path):
    accounts = auth.read_users(write_users(tmp_path / "users.yaml", {"王工": "editor"}))
    assert auth.authenticate(accounts, "王工", PASSWORD) == auth.User("王工", "editor")
    assert auth.authenticate(accounts, " 王工 ", PASSWORD) == auth.User("王工", "editor")
    assert auth.authenticate(accounts, "王工", "wrong password") is None
    assert auth.authenticate(accounts, "nobody", PASSWORD) is None


# --------------------------------------------------------------------------------------------------
# The user file


def test_the_user_file_round_trips_and_only_its_owner_can_read_it(tmp_path):
    path = write_users(tmp_path / "sub" / "users.yaml", {"王工": "editor", "li.si@example.cn": "viewer"})
    assert path.read_text(encoding="utf-8").startswith("# hazmap users")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = auth.read_users(path)
    assert {a.name: a.role for a in accounts.values()} == {"王工": "editor", "li.si@example.cn": "viewer"}
    auth.update_user(path, "王工", role="admin", password="new password", rounds=FAST_ROUNDS)
    auth.remove_user(path, "li.si@example.cn")
    accounts = auth.read_users(path)
    assert list(accounts) == ["王工"] and accounts["王工"].role == "admin"
    assert auth.authenticate(accounts, "王工", "new password") and not auth.authenticate(accounts, "王工", PASSWORD)
    with pytest.raises(ValueError, match="exists"):
        auth.add_user(path, "王工", "viewer", PASSWORD, rounds=FAST_ROUNDS)
    with pytest.raises(ValueError, match="no user"):
        auth.remove_user(path, "nobody")
    with pytest.raises(ValueError, match="invalid user name"):
        auth.add_user(path, "a b", "viewer", PASSWORD, rounds=FAST_ROUNDS)
    with pytest.raises(ValueError, match="unknown role"):
        auth.update_user(path, "王工", role="boss")


def test_a_failed_write_leaves_the_old_user_file_whole(tmp_path, monkeypatch):
    path = write_users(tmp_path / "users.yaml", {"a": "admin"})
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        auth.add_user(path, "b", "viewer", PASSWORD, rounds=FAST_ROUNDS)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["users.yaml", "users.yaml.lock"]  # no temporary file left


def test_users_added_at_the_same_time_are_all_kept(tmp_path):
    path = tmp_path / "users.yaml"
    names = [f"user{n}" for n in range(8)]
    threads = [
        threading.Thread(target=auth.add_user, args=(path, name, "viewer", PASSWORD), kwargs={"rounds": FAST_ROUNDS})
        for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(auth.read_users(path)) == names


def test_a_broken_user_file_is_refused_with_every_problem(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  a:\n    role: boss\n    password_hash: x\n  'b c':\n    role: viewer\n", "utf-8")
    with pytest.raises(auth.UserFileError) as caught:
        auth.read_users(path)
    assert len(caught.value.problems) == 4 and "boss" in str(caught.value)
    path.write_text("users: [unclosed", encoding="utf-8")
    with pytest.raises(auth.UserFileError, match="not YAML"):
        auth.read_users(path)


# --------------------------------------------------------------------------------------------------
# Roles


@pytest.mark.parametrize("action", list(auth.ACTIONS))
@pytest.mark.parametrize("role", list(auth.ROLES))
def test_each_role_may_do_exactly_its_actions(role, action):
    user = auth.User("someone", role)
    assert auth.can(role, action) is (action in EXPECTED[role])
    if action in EXPECTED[role]:
        auth.require(user, action)
    else:
        with pytest.raises(PermissionError, match=f"someone.*{auth.ROLES[role].title_zh}.*{auth.ACTIONS[action][0]}"):
            auth.require(user, action)


def test_nobody_signed_in_may_do_nothing_and_typos_fail_loudly():
    assert not auth.allowed(None, "browse")
    with pytest.raises(PermissionError, match="not signed in"):
        auth.require(None, "browse")
    with pytest.raises(ValueError, match="unknown action"):
        auth.can("admin", "delete_everything")
    with pytest.raises(ValueError, match="unknown role"):
        auth.can("root", "browse")


# --------------------------------------------------------------------------------------------------
# python -m geo users


def _cli(monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(["users", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_users_command_adds_lists_changes_and_removes_users(tmp_path, monkeypatch, capsys):
    path = str(tmp_path / "users.yaml")
    code, out, _ = _cli(monkeypatch, capsys, "list", "--file", path)
    assert code == 0 and "no users" in out
    add = ("add", "王工", "--role", "editor", "--password-stdin", "--file", path)
    code, out, _ = _cli(monkeypatch, capsys, *add, stdin=PASSWORD + "\n")
    assert code == 0 and "王工" in out
    assert auth.authenticate(auth.read_users(path), "王工", PASSWORD) == auth.User("王工", "editor")
    code, _, err = _cli(
        monkeypatch, capsys, "add", "王工", "--role", "viewer", "--password-stdin", "--file", path, stdin=PASSWORD
    )
    assert code == cli.EXIT_USAGE and "exists" in err
    assert _cli(monkeypatch, capsys, "set", "王工", "--role", "admin", "--file", path)[0] == 0
    code, out, _ = _cli(monkeypatch, capsys, "list", "--json", "--file", path)
    assert json.loads(out)["users"] == [{"name": "王工", "role": "admin"}]
    assert _cli(monkeypatch, capsys, "remove", "王工", "--file", path)[0] == 0
    assert auth.read_users(path) == {}


def test_the_users_command_takes_the_file_from_hazmap_users(tmp_path, monkeypatch, capsys):
    path = write_users(tmp_path / "users.yaml", {"a": "admin"})
    monkeypatch.setenv("HAZMAP_USERS", str(path))
    code, out, _ = _cli(monkeypatch, capsys, "list")
    assert code == 0 and out.split() == ["a", "admin"]


# --------------------------------------------------------------------------------------------------
# The app


@pytest.fixture
def demo_copy(tmp_path, monkeypatch):
    """A copy of the demo file in HAZMAP_DATA (and no user file: see conftest)."""
    path = tmp_path / "demo.gpkg"
    shutil.copyfile(DEMO_DATA, path)
    monkeypatch.setenv("HAZMAP_DATA", str(path))
    return path


@pytest.fixture
def users(demo_copy, monkeypatch):
    """A user file with a viewer, an editor and an admin, in HAZMAP_USERS."""
    path = write_users(demo_copy.parent / "users.yaml", {"viewer1": "viewer", "editor1": "editor", "admin1": "admin"})
    monkeypatch.setenv("HAZMAP_USERS", str(path))
    return path


def _editors(at) -> list:
    """The data editors of the page (a data frame whose cells can be edited)."""
    return [frame for frame in at.dataframe if frame.proto.editing_mode]


def _labels(at) -> set[str]:
    return {b.label for b in at.button}


def test_without_a_user_file_the_app_is_read_only_and_says_so(demo_copy):
    at = app()
    assert problems(at) == []
    assert "只读模式" in at.warning[0].value
    assert pages(at) == ["", "warning", "evacuation", "pools", "data"]  # no admin page
    open_page(at, "data")
    assert problems(at) == []
    assert "只读模式" in at.warning[0].value
    assert _editors(at) == [] and not {"保存修改", "变更状态", "确认导入"} & _labels(at)
    assert [t.label for t in at.tabs] == ["图层与校验", "隐患点", "审计日志"]


def test_with_a_user_file_only_the_sign_in_page_shows_until_the_password_is_right(users):
    at = app()
    assert pages(at) == [""] and at.header[0].value == "登录"
    at.text_input(key="login_name").input("editor1")
    at.text_input(key="login_password").input("wrong password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["用户名或密码错误。"] and pages(at) == [""]
    at.text_input(key="login_name").input("editor1")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert problems(at) == [] and pages(at) == ["", "warning", "evacuation", "pools", "data"]
    assert "editor1" in at.sidebar.caption[0].value
    at.button(key="auth_sign_out").click().run()
    assert pages(at) == [""]


def test_a_viewer_gets_no_editor_and_cannot_save_or_import_by_calling_the_functions(users, demo_copy):
    at = open_page(app("viewer1"), "data")
    assert problems(at) == []
    assert _editors(at) == [] and not {"保存修改", "变更状态", "确认导入"} & _labels(at)
    before = _digest(demo_copy)
    viewer = auth.User("viewer1", "viewer")
    first = store.open(demo_copy).read_layer("hazard_points").iloc[0]
    edit = data_page.RowEdit(first["hazard_id"], int(first["version"]), {"name": "改名"})
    with pytest.raises(PermissionError, match="viewer1"):
        data_page.save_edits(demo_copy, [edit], viewer)
    with pytest.raises(PermissionError, match="导入"):
        import_panel.apply_import(None, viewer, partial=False)  # refused before the plan is even looked at
    assert _digest(demo_copy) == before


def test_an_editor_gets_the_editor_and_the_import_panel_but_no_admin_page(users):
    at = open_page(app("editor1"), "data")
    assert problems(at) == []
    assert len(_editors(at)) == 1 and {"保存修改", "变更状态"} <= _labels(at)
    assert [t.label for t in at.tabs] == ["图层与校验", "隐患点编辑", "导入台账", "审计日志"]
    assert "admin" not in pages(at)


def test_a_user_removed_from_the_file_is_signed_out_at_the_next_run(users):
    at = app("editor1")
    assert "data" in pages(at)
    auth.remove_user(users, "editor1")
    assert pages(at.run()) == [""]


def test_an_admin_manages_users_but_cannot_demote_or_remove_themselves(users):
    at = open_page(app("admin1"), "admin")
    assert problems(at) == []
    assert at.dataframe[0].value["用户名"].tolist() == ["viewer1", "editor1", "admin1"]
    admin, viewer = auth.User("admin1", "admin"), auth.User("viewer1", "viewer")
    admin_page.create_user(admin, users, "new1", "viewer", PASSWORD)
    admin_page.change_user(admin, users, "new1", role="editor")
    with pytest.raises(ValueError, match="own role"):
        admin_page.change_user(admin, users, "admin1", role="viewer")
    with pytest.raises(ValueError, match="yourself"):
        admin_page.delete_user(admin, users, "admin1")
    with pytest.raises(PermissionError, match="viewer1"):
        admin_page.create_user(viewer, users, "sneaky", "admin", PASSWORD)
    with pytest.raises(PermissionError):
        admin_page.delete_user(viewer, users, "admin1")
    admin_page.delete_user(admin, users, "new1")
    assert list(auth.read_users(users)) == ["viewer1", "editor1", "admin1"]
