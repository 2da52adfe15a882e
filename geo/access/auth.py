"""Who may do what: roles and their actions, password hashes, and the user file.

hazmap runs on intranets that have no identity provider, so its users live in one small YAML file (``HAZMAP_USERS``,
default ``.streamlit/users.yaml``), kept out of git and written only through this module (``python -m geo users``
or the admin page)::

    # hazmap users: managed with `python -m geo users`; passwords are bcrypt hashes.
    users:
      wanggong:
        role: editor
        password_hash: $2b$12$...

Roles are declared as data (:data:`ROLES`), each with the actions it allows (:data:`ACTIONS`); :func:`can` reads
that table and :func:`require` raises :class:`PermissionError` naming the user, the role and the action refused.

Where roles are enforced
------------------------
The web app's functions that act for a user (saving edits, importing, managing users) call :func:`require` before
they touch anything.  :mod:`geo.store` and the CLI stay role-agnostic: the CLI is run on the server by trusted
staff who can read and write the data file anyway, and the store serves both.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import filelock
import yaml

from geo.settings import ROOT

#: The user file when ``HAZMAP_USERS`` is not set.
DEFAULT_USERS = ROOT / ".streamlit" / "users.yaml"
#: bcrypt work factor of new hashes: about a quarter to over a second per sign-in, slow enough to make guessing dear.
DEFAULT_ROUNDS = 12
#: bcrypt reads at most 72 bytes of a password (24 Chinese characters); longer ones are refused, not truncated.
MAX_PASSWORD_BYTES = 72
MIN_PASSWORD_CHARS = 8
#: Seconds a writer of the user file waits for another one.
LOCK_TIMEOUT_S = 30.0
#: Letters (any script), digits and ``_ . @ -``: a login name, or an e-mail address for single sign-on.
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_HEADER = "# hazmap users: managed with `python -m geo users`; passwords are bcrypt hashes.\n"

#: Action -> (Chinese, English) description, as :func:`require` words a refusal.
ACTIONS: dict[str, tuple[str, str]] = {
    "browse": ("浏览地图和表格", "browse the maps and tables"),
    "export": ("下载和导出", "download and export"),
    "contacts": ("查看完整联系电话", "see full phone numbers"),
    "edit": ("编辑隐患点", "edit hazard points"),
    "import": ("导入台账", "import inventories"),
    "admin": ("管理用户和设置", "manage users and settings"),
}


@dataclass(frozen=True)
class Role:
    """A role: its titles and the actions it allows."""

    title_zh: str
    title_en: str
    actions: frozenset[str]


_VIEW = frozenset({"browse", "export"})
_EDIT = _VIEW | {"contacts", "edit", "import"}
#: Role -> what it allows, from the least to the most.  Only editors and admins see full phone numbers: they are
#: the staff who call monitors; viewers (other departments, township staff browsing) see them masked.
ROLES: dict[str, Role] = {
    "viewer": Role("查看者", "viewer", _VIEW),
    "editor": Role("编辑者", "editor", _EDIT),
    "admin": Role("管理员", "admin", frozenset(ACTIONS)),
}


class UserFileError(ValueError):
    """The user file cannot be used; ``problems`` lists every reason."""

    def __init__(self, path: str | os.PathLike, problems: list[str]):
        self.problems = problems
        super().__init__(f"{os.fspath(path)}: " + "; ".join(problems))


@dataclass(frozen=True)
class User:
    """Who acts: a signed-in user, or the anonymous reader of an app that has no user file (a viewer)."""

    name: str
    role: str
    anonymous: bool = False


#: The reader of an app without a user file: may browse and export, nothing else.
ANONYMOUS = User("anonymous", "viewer", anonymous=True)


@dataclass(frozen=True)
class Account:
    """One entry of the user file."""

    name: str
    role: str
    password_hash: str


# --------------------------------------------------------------------------------------------------
# Roles


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; actions are {', '.join(ACTIONS)}")


def check_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`ROLES`, else raise ValueError naming the roles."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return role


def can(role: str, action: str) -> bool:
    """Whether ``role`` allows ``action``.

    Raises
    ------
    ValueError
        An unknown role or action: a typo must fail loudly, not quietly allow or deny.

    Examples
    --------
    >>> can("viewer", "export"), can("viewer", "edit"), can("admin", "edit")
    (True, False, True)
    """
    _check_action(action)
    return action in ROLES[check_role(role)].actions


def allowed(user: User | None, action: str) -> bool:
    """Whether ``user`` may do ``action``; nobody signed in (None) may do nothing."""
    _check_action(action)
    return user is not None and can(user.role, action)


def require(user: User | None, action: str) -> None:
    """Raise :class:`PermissionError` unless ``user`` may do ``action``.

    The message names the user, their role and the action, in Chinese and English.
    """
    if allowed(user, action):
        return
    zh, en = ACTIONS[action]
    if user is None:
        raise PermissionError(f"未登录，无权{zh} / not signed in: may not {en}")
    role = ROLES[user.role]
    raise PermissionError(
        f"用户 {user.name}（{role.title_zh}）无权{zh} / user {user.name} ({role.title_en}) may not {en}"
    )


# --------------------------------------------------------------------------------------------------
# Passwords


def check_password(password: str) -> None:
    """Raise ValueError unless ``password`` has at least 8 characters and at most 72 bytes of UTF-8."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"密码至少 {MIN_PASSWORD_CHARS} 个字符 / a password needs {MIN_PASSWORD_CHARS} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(
            f"密码最长 {MAX_PASSWORD_BYTES} 字节（约 24 个汉字）/ a password holds at most {MAX_PASSWORD_BYTES} bytes"
        )


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    """A bcrypt hash of ``password`` (checked by :func:`check_password`) with a fresh salt."""
    check_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a damaged hash or an over-long password."""
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode("ascii"))
    except ValueError:  # "Invalid salt" or longer than 72 bytes: neither can match
        return False


# What unknown names are checked against, so a wrong name takes as long as a wrong password and the time a sign-in
# takes does not tell which names exist: the hash, at the default work factor, of a random string nobody kept.
_DUMMY_HASH = "$2b$12$q6iJx1Hn0ykzVH0V8aCLKeqxTkAJG59RjB3fR.2DFj7VwLHJNWaUe"


def authenticate(accounts: Mapping[str, Account], name: str, password: str) -> User | None:
    """The user ``name`` if ``password`` is theirs, else None (the same for an unknown name)."""
    account = accounts.get(name.strip())
    if account is None:
        verify_password(password, _DUMMY_HASH)
        return None
    return User(account.name, account.role) if verify_password(password, account.password_hash) else None


# --------------------------------------------------------------------------------------------------
# The user file


def users_path(explicit: str | os.PathLike | None = None) -> Path:
    """The user file: an explicit path, else ``HAZMAP_USERS``, else ``.streamlit/users.yaml``."""
    return Path(explicit or os.environ.get("HAZMAP_USERS") or DEFAULT_USERS)


def check_name(name: str) -> str:
    """Return ``name`` if it is a usable login name (letters, digits, ``_ . @ -``; at most 64), else raise."""
    if not _NAME.match(name):
        raise ValueError(
            f"用户名 {name!r} 无效：只能包含文字、数字和 _ . @ -，最长 64 个字符 / invalid user name {name!r}: "
            "letters, digits and _ . @ - only, at most 64"
        )
    return name


def read_users(path: str | os.PathLike) -> dict[str, Account]:
    """Read the user file: name -> :class:`Account`.

    Raises
    ------
    FileNotFoundError
        There is no file at ``path``.
    UserFileError
        It is not YAML, or an entry has a bad name, an unknown role or no bcrypt hash; every problem is listed.
    """
    text = Path(path).read_text(encoding="utf-8")
    try:
        content = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UserFileError(path, [f"not YAML: {exc}"]) from exc
    entries = content.get("users") if isinstance(content, dict) else None
    if not isinstance(entries, dict):
        raise UserFileError(path, ["expected a mapping 'users:' of name -> {role, password_hash}"])
    accounts, problems = {}, []
    for name, entry in entries.items():
        name = str(name)
        entry = entry if isinstance(entry, dict) else {}
        role, hashed = entry.get("role"), entry.get("password_hash")
        if not _NAME.match(name):
            problems.append(f"{name!r}: invalid user name")
        if role not in ROLES:
            problems.append(f"{name}: role {role!r} is not one of {', '.join(ROLES)}")
        if not (isinstance(hashed, str) and hashed.startswith("$2")):
            problems.append(f"{name}: password_hash is not a bcrypt hash")
        accounts[name] = Account(name, str(role), str(hashed))
    if problems:
        raise UserFileError(path, problems)
    return accounts


def write_users(path: str | os.PathLike, accounts: Mapping[str, Account]) -> None:
    """Write the user file atomically: a complete file or the old one, readable by its owner only.

    The new content goes to a temporary file beside the old one, is flushed to disk, then renamed over it, so a
    reader (the app, on every page) never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"users": {a.name: {"role": a.role, "password_hash": a.password_hash} for a in accounts.values()}}
    text = _HEADER + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
    # mkstemp creates the file with mode 0600: the hashes are never readable by other users, even for a moment.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _lock(path: Path) -> filelock.FileLock:
    """The writers' lock of a user file: two admins changing users at once must not lose either change."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_S)


@contextmanager
def _editing(path: str | os.PathLike) -> Iterator[dict[str, Account]]:
    """Under the lock: the accounts as stored now, written back when the block ends without an exception."""
    path = Path(path)
    with _lock(path):
        accounts = read_users(path) if path.exists() else {}
        yield accounts
        write_users(path, accounts)


def _existing(accounts: Mapping[str, Account], name: str) -> Account:
    if name not in accounts:
        raise ValueError(f"没有用户 {name} / no user {name!r}")
    return accounts[name]


def add_user(path: str | os.PathLike, name: str, role: str, password: str, *, rounds: int = DEFAULT_ROUNDS) -> Account:
    """Add a user (creating the file if needed); ValueError if the name is taken or anything is invalid."""
    # Hashed before the lock is taken: bcrypt takes a second that other writers need not wait for.
    account = Account(check_name(name), check_role(role), hash_password(password, rounds))
    with _editing(path) as accounts:
        if name in accounts:
            raise ValueError(f"用户 {name} 已存在 / user {name!r} exists already")
        accounts[name] = account
    return account


def update_user(
    path: str | os.PathLike,
    name: str,
    *,
    role: str | None = None,
    password: str | None = None,
    rounds: int = DEFAULT_ROUNDS,
) -> Account:
    """Change the role and/or the password of a user; ValueError if there is no such user."""
    new_hash = hash_password(password, rounds) if password is not None else None
    if role is not None:
        check_role(role)
    with _editing(path) as accounts:
        old = _existing(accounts, name)
        accounts[name] = Account(name, role or old.role, new_hash or old.password_hash)
    return accounts[name]


def remove_user(path: str | os.PathLike, name: str) -> None:
    """Remove a user; ValueError if there is no such user."""
    with _editing(path) as accounts:
        _existing(accounts, name)
        del accounts[name]
