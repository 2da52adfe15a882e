"""Sign-in throttling (hostile-input issue, class 9): wrong passwords are counted per user and per client,
refused for a while after a few, and logged."""

from __future__ import annotations

import logging

import pytest

from geo.access import throttle
from tests.support.users import PASSWORD, app, pages, write_users
from ui import auth as signin


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_sign_in_throttling_a_name_is_refused_after_five_wrong_passwords_until_the_lockout_ends(clock, caplog):
    gate = throttle.Throttle(max_failures=5, window_s=300, lockout_s=600, clock=clock)
    with caplog.at_level(logging.WARNING, logger="hazmap.access"):
        for _ in range(4):
            gate.failed("wanggong", "10.1.1.1")
            assert gate.wait_s("wanggong", "10.1.1.2") == 0
        gate.failed("wanggong", "10.1.1.1")
        assert gate.wait_s("wanggong", "10.1.1.2") == 600  # from any client
        clock.now += 599
        assert gate.wait_s("wanggong", None) == pytest.approx(1)
        clock.now += 2
        assert gate.wait_s("wanggong", None) == 0
    logged = [r.getMessage() for r in caplog.records]
    assert sum("wrong password: user 'wanggong'" in m for m in logged) == 5
    assert any("locked out" in m for m in logged) and any("sign-in refused" in m for m in logged)


def test_sign_in_throttling_one_client_guessing_many_names_is_refused(clock):
    gate = throttle.Throttle(max_failures=3, window_s=300, lockout_s=60, clock=clock)
    for name in ("a", "b", "c"):
        gate.failed(name, "10.9.9.9")
    assert gate.wait_s("d", "10.9.9.9") == 60  # a name it never tried, from the same client
    assert gate.wait_s("d", "10.1.1.1") == 0


def test_sign_in_throttling_counts_only_within_the_window_and_a_right_password_starts_again(clock):
    gate = throttle.Throttle(max_failures=3, window_s=100, lockout_s=60, clock=clock)
    gate.failed("lisi", None)
    gate.failed("lisi", None)
    clock.now += 101  # those two are older than the window
    gate.failed("lisi", None)
    assert gate.wait_s("lisi", None) == 0
    gate.failed("lisi", None)
    gate.succeeded("lisi", None)
    gate.failed("lisi", None)
    assert gate.wait_s("lisi", None) == 0
    gate.failed("LiSi ", None)  # the same name, however it is typed
    gate.failed("lisi", None)
    assert gate.wait_s("lisi", None) == 60


@pytest.fixture
def users(tmp_path, monkeypatch):
    """A user file with one editor, in HAZMAP_USERS (the app shows the demo data)."""
    path = write_users(tmp_path / "users.yaml", {"editor1": "editor"})
    monkeypatch.setenv("HAZMAP_USERS", str(path))
    return path


def test_sign_in_throttling_the_sign_in_page_refuses_even_the_right_password_after_too_many(users, monkeypatch):
    monkeypatch.setattr(signin, "THROTTLE", throttle.Throttle(max_failures=3))
    at = app()
    for _ in range(3):
        at.text_input(key="login_name").input("editor1")
        at.text_input(key="login_password").input("wrong password")
        at.button[0].click().run()
    at.text_input(key="login_name").input("editor1")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["密码错误次数过多，请 5 分钟后再试。"] and pages(at) == [""]
