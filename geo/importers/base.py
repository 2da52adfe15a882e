"""What every step of an import shares: bilingual messages, the import error, and the limits on input files."""

from __future__ import annotations

from dataclasses import dataclass

from geo.model.schema import Field


@dataclass(frozen=True)
class Msg:
    """A message for staff in Chinese and English; ``str()`` gives both, so a log or a CSV cell reads either way."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


class SourceError(ValueError):
    """A source file cannot be imported at all: missing, too big, damaged, unsafe, or of an unknown shape.

    The message names the file and what is wrong with it; nothing has been written when it is raised.
    """

    def __init__(self, source: str, msg: Msg):
        self.source = source
        self.msg = msg
        super().__init__(f"{source}: {msg}")


@dataclass(frozen=True)
class ImportLimits:
    """Bounds on what an import reads, so a hostile or mistaken upload cannot exhaust memory or disk.

    ``max_bytes`` caps both the file as uploaded and what an archive in it (zip, KMZ, XLSX) expands to.  A member
    above ``ratio_floor_bytes`` that compresses better than ``max_ratio`` : 1 is refused as a probable zip bomb;
    smaller members cannot do harm whatever their ratio (DBF text fields padded with spaces compress very well).
    """

    max_bytes: int = 50 * 1024 * 1024
    max_members: int = 100
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024


DEFAULT_LIMITS = ImportLimits()


class BadValue(ValueError):
    """One value of one row cannot be read; ``msg`` says why, for the row's list of reasons."""

    def __init__(self, msg: Msg):
        self.msg = msg
        super().__init__(str(msg))


def field_msg(f: Field, problem: Msg) -> Msg:
    """``problem`` prefixed with the column it is about, by its Chinese title and its name."""
    return Msg(f"{f.title_zh}（{f.name}）：{problem.zh}", f"{f.name} ({f.title_zh}): {problem.en}")
