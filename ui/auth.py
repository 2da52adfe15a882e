"""Sign-in for the web app: who uses this session, the sign-in page, who is signed in, sign-out.

Three ways the app runs, decided on every run from the configuration (never from anything the browser sends):

- **No user file** (``HAZMAP_USERS``, default ``.streamlit/users.yaml``, does not exist) and no single sign-on:
  read-only.  Everyone is :data:`geo.access.auth.ANONYMOUS`, a viewer, and a banner on every page says so.
- **A user file**: users sign in with a name and password checked against its bcrypt hashes.  The session
  remembers only the name (``SESSION_KEY``, which is no widget's key, so no browser message can set it); the role is
  read from the file on every run, so a changed role or a removed user takes effect at the next click.
- **Single sign-on**: when ``[auth]`` is configured in ``.streamlit/secrets.toml``, a button signs in through
  Streamlit's OpenID Connect (``st.login``; needs the Authlib package).  Such a user has the role of the entry of the
  user file named by their e-mail address, else viewer.

A form rather than streamlit-authenticator (0.4.2): the form is a few lines over ``bcrypt`` and the roles live in
one module, while that package brings its own user-file format and roles, a cookie component, JWT, captcha and
e-mail features, and six more packages than bcrypt and PyYAML, none of which an intranet app needs.  The price:
reloading the browser tab starts a new session, which signs in again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import streamlit as st

from geo.access import auth, throttle
from ui import widgets
from ui.lang import tr

#: Session-state key of the signed-in user's name.
SESSION_KEY = "auth_user"
#: Session-state keys kept when a user signs in or out; everything else of the session is forgotten.
_KEPT = ("lang",)


@st.cache_resource(show_spinner=False, max_entries=4)
def _accounts_cached(path: str, mtime_ns: int, size: int) -> dict[str, auth.Account]:
    return auth.read_users(path)


def accounts(path: Path) -> dict[str, auth.Account]:
    """The user file's accounts, read again only when the file changed; empty when there is no file."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    return _accounts_cached(str(path), stat.st_mtime_ns, stat.st_size)


def _auth_secrets() -> Mapping:
    try:
        return st.secrets.get("auth") or {}
    except FileNotFoundError:  # no secrets.toml: nothing configured
        return {}


def oidc_configured() -> bool:
    """Whether single sign-on is configured (an ``[auth]`` section in the secrets)."""
    return bool(_auth_secrets())


def current_user() -> auth.User | None:
    """The user of this session; :data:`geo.access.auth.ANONYMOUS` when the app has no users; None until one signs in.

    Raises
    ------
    geo.access.auth.UserFileError
        The user file is broken (:func:`gate` shows it).
    """
    path = auth.users_path()
    known = accounts(path)
    if oidc_configured() and st.user.is_logged_in:
        email = str(st.user.get("email") or st.user.get("sub"))
        return auth.User(email, known[email].role if email in known else "viewer")
    if not path.exists() and not oidc_configured():
        return auth.ANONYMOUS
    name = st.session_state.get(SESSION_KEY)
    account = known.get(name) if isinstance(name, str) else None
    return auth.User(account.name, account.role) if account else None


def _forget_session() -> None:
    """Drop everything the session holds but the language: nothing of one user is left for the next."""
    for key in list(st.session_state):
        if key not in _KEPT:
            del st.session_state[key]


def sign_in(user: auth.User) -> None:
    """Make ``user`` (checked by :func:`geo.access.auth.authenticate`) the user of this session."""
    _forget_session()
    st.session_state[SESSION_KEY] = user.name


def sign_out() -> None:
    """Sign the session's user out (of single sign-on too)."""
    _forget_session()
    if oidc_configured() and st.user.is_logged_in:
        st.logout()


#: The wrong-password counts of this server process, shared by every session (geo.access.throttle).
THROTTLE = throttle.Throttle()


def login_page() -> None:
    """The only page until someone signs in: the name and password form, and single sign-on when configured."""
    st.header(tr("登录", "Sign in"))
    path = auth.users_path()
    if path.exists():
        with st.form("login", clear_on_submit=True):
            name = st.text_input(tr("用户名", "User name"), key="login_name")
            password = st.text_input(tr("密码", "Password"), type="password", key="login_password")
            submitted = st.form_submit_button(tr("登录", "Sign in"), type="primary")
        if submitted:
            client = st.context.ip_address
            wait = THROTTLE.wait_s(name, client)
            if wait > 0:
                minutes = max(1, round(wait / 60))
                st.error(
                    tr(
                        f"密码错误次数过多，请 {minutes} 分钟后再试。",
                        f"Too many wrong passwords: try again in {minutes} minute(s).",
                    )
                )
                return
            user = auth.authenticate(accounts(path), name, password)
            if user is not None:
                THROTTLE.succeeded(name, client)
                sign_in(user)
                st.rerun()
            THROTTLE.failed(name, client)
            st.error(tr("用户名或密码错误。", "Wrong user name or password."))
    if oidc_configured() and st.button(tr("使用单位统一身份登录", "Sign in with your organisation account")):
        st.login()


def _read_only_banner() -> None:
    where = widgets.md_escape(auth.users_path())
    st.warning(
        tr(
            f"只读模式：未找到用户文件 {where}。所有人只能浏览和导出，联系电话已隐藏。"
            "管理员可在服务器上运行 `python -m geo users add 用户名 --role admin` 创建用户，之后须登录使用。",
            f"Read-only: no user file at {where}. Everyone may browse and export; phone numbers are masked. "
            "An administrator creates users on the server with `python -m geo users add NAME --role admin`; "
            "from then on, users sign in.",
        ),
        icon=":material/lock:",
    )


def _signed_in_box(user: auth.User) -> None:
    role = auth.ROLES[user.role]
    st.sidebar.caption(
        tr(
            f"当前用户：{widgets.md_escape(user.name)}（{role.title_zh}）",
            f"Signed in: {widgets.md_escape(user.name)} ({role.title_en})",
        )
    )
    st.sidebar.button(tr("退出登录", "Sign out"), on_click=sign_out, key="auth_sign_out")


def gate() -> auth.User | None:
    """The user of this session, after showing who it is (sidebar) or the read-only banner.

    None while nobody is signed in: the app then shows only :func:`login_page`.  A broken user file stops the
    app with its problems listed, rather than letting anyone in.
    """
    try:
        user = current_user()
    except auth.UserFileError as exc:
        st.error(tr("用户文件有误，无法登录：", "The user file is broken; nobody can sign in:"))
        st.code("\n".join(exc.problems), language=None)
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers the function never falls through
    if user is None:
        return None
    if user.anonymous:
        _read_only_banner()
    else:
        _signed_in_box(user)
    return user
