"""Slow down password guessing: after a few wrong passwords, a user name or a client is refused for a while.

Both are counted, so that guessing one user's password from many clients and guessing many users' passwords from one
client are stopped alike.  Every wrong password and every refusal is logged (logger ``hazmap.access``), so the
server's log shows an attack.  The counts live in the server process: the web app is one process, and a restart
forgets them, which only gives an attacker back what the next few minutes would.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

LOG = logging.getLogger("hazmap.access")


@dataclass
class Throttle:
    """Wrong sign-ins per user name and per client within a window, and who is refused until when.

    Parameters
    ----------
    max_failures
        Wrong passwords allowed within ``window_s`` before the name or the client is refused.
    window_s
        Seconds over which failures are counted.
    lockout_s
        Seconds a name or a client is refused once it reached ``max_failures``.
    clock
        Seconds as a float; a test passes its own.
    """

    max_failures: int = 5
    window_s: float = 300.0
    lockout_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque] = field(default_factory=lambda: defaultdict(deque), repr=False)
    _until: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait_s(self, name: str, client: str | None) -> float:
        """Seconds until ``name`` from ``client`` may try again; 0 when it may now.  A refusal is logged."""
        now = self.clock()
        with self._lock:
            wait = max((self._until.get(key, 0.0) - now for key in _keys(name, client)), default=0.0)
        if wait > 0:
            LOG.warning(
                "sign-in refused for %.0f s more: user %r, client %s (too many wrong passwords)", wait, name, client
            )
        return max(wait, 0.0)

    def failed(self, name: str, client: str | None) -> None:
        """Count a wrong password of ``name`` from ``client``, and refuse either once it has had too many."""
        now = self.clock()
        LOG.warning("wrong password: user %r, client %s", name, client)
        with self._lock:
            for key in _keys(name, client):
                times = self._failures[key]
                times.append(now)
                while times and times[0] <= now - self.window_s:
                    times.popleft()
                if len(times) >= self.max_failures:
                    self._until[key] = now + self.lockout_s
                    times.clear()
                    LOG.warning("locked out for %.0f s: %s", self.lockout_s, key)

    def succeeded(self, name: str, client: str | None) -> None:
        """A right password: the name's count starts again (the client's stays, it may be guessing others)."""
        with self._lock:
            self._failures.pop(_user_key(name), None)


def _user_key(name: str) -> str:
    return f"user {name.strip().casefold()!r}"


def _keys(name: str, client: str | None) -> list[str]:
    return [_user_key(name), *([f"client {client}"] if client else [])]
