"""The admin page (管理): the users of the app and their roles, and the settings the app runs with.

Only listed for admins (``app.py``); the functions that change users check the acting user's role themselves
(:func:`geo.access.auth.require`), whoever calls them.  An admin cannot remove or demote themselves, so the app always
keeps the admin who made the last change.  Users and passwords can also be managed on the server with
``python -m geo users`` (which needs no role: whoever runs it can edit the file anyway).

Settings are shown, not edited here: they live in environment variables and ``.streamlit/secrets.toml`` on the
server, where a change takes effect at the next start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import streamlit as st

from geo import settings, store
from geo.access import auth
from ui import auth as signin
from ui import common, widgets


def create_user(actor: auth.User | None, path: Path, name: str, role: str, password: str) -> auth.Account:
    """Add a user for ``actor``; PermissionError unless an admin, ValueError for a taken name or bad input."""
    auth.require(actor, "admin")
    return auth.add_user(path, name, role, password)


def change_user(
    actor: auth.User | None, path: Path, name: str, *, role: str | None = None, password: str | None = None
) -> auth.Account:
    """Change a user's role and/or password for ``actor``; an admin cannot demote themselves."""
    auth.require(actor, "admin")
    if name == actor.name and role not in (None, actor.role):
        raise ValueError("不能修改自己的角色 / you cannot change your own role")
    return auth.update_user(path, name, role=role, password=password)


def delete_user(actor: auth.User | None, path: Path, name: str) -> None:
    """Remove a user for ``actor``; an admin cannot remove themselves."""
    auth.require(actor, "admin")
    if name == actor.name:
        raise ValueError("不能删除自己 / you cannot remove yourself")
    auth.remove_user(path, name)


def users_table(accounts: Mapping[str, auth.Account], lang: str) -> pd.DataFrame:
    """The users and their roles, as a reader sees them (no hashes)."""
    zh = lang == "zh"
    rows = [(a.name, auth.ROLES[a.role].title_zh if zh else auth.ROLES[a.role].title_en) for a in accounts.values()]
    return pd.DataFrame(rows, columns=["用户名", "角色"] if zh else ["User", "Role"])


def settings_table() -> pd.DataFrame:
    """What the app runs with: the data set (without password), user file, sign-on, basemaps, analysis defaults."""
    yes, no = common.tr("是", "yes"), common.tr("否", "no")
    source = store.Source.of()
    rows = [
        (common.tr("数据集", "Data set"), source.label),
        (common.tr("存储", "Storage"), "PostGIS" if source.is_database else "GeoPackage"),
        (common.tr("用户文件", "User file"), str(auth.users_path())),
        (common.tr("统一身份登录（OIDC）", "Single sign-on (OIDC)"), yes if signin.oidc_configured() else no),
        (common.tr("可用底图", "Basemaps"), "、".join(common.basemaps())),
    ]
    rows += [(name, str(value)) for name, value in asdict(settings.AnalysisSettings()).items()]
    return pd.DataFrame(rows, columns=[common.tr("设置", "Setting"), common.tr("值", "Value")])


def _role_label(role: str) -> str:
    return common.tr(auth.ROLES[role].title_zh, auth.ROLES[role].title_en)


def _attempt(action: Callable[[], object], done: str) -> None:
    """Run a user change; say what happened, or why not, in the page."""
    try:
        action()
    except (ValueError, PermissionError) as exc:
        st.error(widgets.md_escape(exc))
    else:
        st.success(done)


def _add_form(actor: auth.User, path: Path) -> None:
    with st.form("admin_add", clear_on_submit=True):
        st.markdown(common.tr("**添加用户**", "**Add a user**"))
        cells = st.columns(4)
        name = cells[0].text_input(common.tr("用户名", "User name"), key="admin_add_name").strip()
        role = cells[1].selectbox(common.tr("角色", "Role"), list(auth.ROLES), format_func=_role_label)
        password = cells[2].text_input(common.tr("密码", "Password"), type="password", key="admin_add_password")
        again = cells[3].text_input(common.tr("再次输入密码", "Repeat it"), type="password", key="admin_add_again")
        if st.form_submit_button(common.tr("添加", "Add")):
            if password != again:
                st.error(common.tr("两次输入的密码不一致。", "The passwords differ."))
                return
            _attempt(
                lambda: create_user(actor, path, name, role, password),
                common.tr(f"已添加 {widgets.md_escape(name)}。", f"Added {widgets.md_escape(name)}."),
            )


def _change_form(actor: auth.User, path: Path, names: list[str]) -> None:
    with st.form("admin_change", clear_on_submit=True):
        st.markdown(common.tr("**修改角色或重设密码**", "**Change a role or reset a password**"))
        cells = st.columns(3)
        name = cells[0].selectbox(common.tr("用户", "User"), names, key="admin_change_name")
        role = cells[1].selectbox(
            common.tr("新角色（不选则不变）", "New role (empty: keep)"),
            [None, *auth.ROLES],
            format_func=lambda r: "—" if r is None else _role_label(r),
            key="admin_change_role",
        )
        password = cells[2].text_input(
            common.tr("新密码（留空则不变）", "New password (empty: keep)"), type="password", key="admin_change_pw"
        )
        if st.form_submit_button(common.tr("修改", "Change")):
            _attempt(
                lambda: change_user(actor, path, name, role=role, password=password or None),
                common.tr(f"已修改 {widgets.md_escape(name)}。", f"Changed {widgets.md_escape(name)}."),
            )


def _remove_form(actor: auth.User, path: Path, names: list[str]) -> None:
    with st.form("admin_remove"):
        st.markdown(common.tr("**删除用户**", "**Remove a user**"))
        left, right = st.columns(2, vertical_alignment="bottom")
        name = left.selectbox(common.tr("用户", "User"), names, key="admin_remove_name")
        sure = right.checkbox(common.tr("确认删除", "Yes, remove"), key="admin_remove_sure")
        if st.form_submit_button(common.tr("删除", "Remove")) and sure:
            _attempt(
                lambda: delete_user(actor, path, name),
                common.tr(f"已删除 {widgets.md_escape(name)}。", f"Removed {widgets.md_escape(name)}."),
            )


def render() -> None:
    """The admin page."""
    actor = signin.current_user()
    st.header(common.tr("用户与设置", "Users and settings"))
    if not auth.allowed(actor, "admin"):
        st.error(common.tr("此页面仅限管理员。", "This page is for admins only."))
        return
    lang = common.lang()
    path = auth.users_path()
    users, config = st.tabs([common.tr("用户", "Users"), common.tr("设置", "Settings")])
    with users:
        _add_form(actor, path)
        names = list(signin.accounts(path))
        _change_form(actor, path, names)
        _remove_form(actor, path, names)
        st.dataframe(users_table(signin.accounts(path), lang), hide_index=True)
        st.caption(
            common.tr(
                "角色：查看者可浏览和导出（联系电话隐藏）；编辑者还可编辑、导入并查看完整电话；管理员还可管理用户。",
                "Roles: viewers browse and export (phone numbers masked); editors also edit, import and see full "
                "numbers; admins also manage users.",
            )
        )
    with config:
        st.dataframe(settings_table(), hide_index=True)
        st.caption(
            common.tr(
                "设置在服务器上修改：环境变量 HAZMAP_DATA、HAZMAP_USERS 与 .streamlit/secrets.toml，重启后生效。",
                "Settings are changed on the server: the HAZMAP_DATA and HAZMAP_USERS environment variables and "
                ".streamlit/secrets.toml; they take effect at the next start.",
            )
        )
