"""Where an export goes: a file replaced atomically, or an open binary stream (the app's download buttons)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

#: An export's destination: a path (written atomically) or a writable binary file object.
Target = str | os.PathLike | BinaryIO


@contextlib.contextmanager
def opened(target: Target) -> Iterator[BinaryIO]:
    """Yield a binary stream for ``target``.

    A path is written to a temporary file beside it, which replaces the path only when the block ends without an
    error: a reader never sees half a file, and a failed export leaves the previous file as it was.  A stream is
    written as it is, left open.

    Raises
    ------
    FileNotFoundError
        The folder of the path does not exist.
    """
    if hasattr(target, "write"):
        yield target  # type: ignore[misc]
        return
    path = Path(target)
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); an export is a document to share.  (Reading the umask would mean
        # setting it, which races with other threads.)
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)
        raise


def suffix(target: Target, default: str) -> str:
    """The lower-case file name ending of ``target`` (``.pdf``), or ``default`` for a stream without a name."""
    name = getattr(target, "name", None) if hasattr(target, "write") else target
    ending = Path(os.fspath(name)).suffix.lower() if isinstance(name, str | os.PathLike) else ""
    return ending or default


def file_stem(hazard_id: str, name: str) -> str:
    """A file name for a hazard point that every system accepts: ``<统一编号>_<名称>``, no path characters."""
    return re.sub(r'[\\/:*?"<>|\s]+', "_", f"{hazard_id}_{name}").strip("_")
