"""The CJK font every export draws its text in, embedded in the PDF so it prints and reads back anywhere.

Why a TrueType-outline font, and which
--------------------------------------
Matplotlib embeds text in a PDF in one of two ways: ``pdf.fonttype = 3`` draws each glyph as a PDF procedure (a
Type 3 font, which Acrobat reports as "not embedded" and print shops refuse), ``pdf.fonttype = 42`` embeds a subset
of the font file as a CID font with a ``/FontFile2`` stream, which the PDF standard reserves for TrueType (``glyf``)
outlines.  Debian's Noto Sans CJK (``fonts-noto-cjk``) has CFF outlines: matplotlib 3.11 still puts its CFF subset
in a ``/FontFile2`` stream, and poppler reports "Mismatch between font type and embedded font file" (matplotlib
issue #20870).  So the exports look for a CJK font with TrueType outlines: WenQuanYi Micro Hei (Debian
``fonts-wqy-microhei``, a sans-serif that reads well at map-label sizes) first, then the other Debian TrueType CJK
fonts.  The text stays extractable: matplotlib writes a ``/ToUnicode`` map with every embedded subset.

No CJK font means an export that would print boxes (tofu) instead of names; :func:`cjk_font` raises
:class:`FontError` with the fix instead, and :func:`check_text` refuses any text the font cannot draw.

Why a cut of the font
---------------------
Matplotlib subsets the font file for every PDF it writes, and a 34 600-glyph CJK font takes most of a second to
load and cut: more than drawing the page.  FreeType, for its part, runs the font's hinting programs and assembles
composite glyphs from their components at every text layout.  :func:`compact` makes, once per data set and cached
on disk, a copy cut down to the exports' own words (GB 2312 level 1 and symbols) plus every character of the data
(so a rare character in a village name is never lost), without hinting programs or layout tables, and with its
composite glyphs flattened, which halves the time FreeType takes to lay text out.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fontTools import subset
    from fontTools.ttLib import TTFont

#: Folders to search, separated by ``os.pathsep``; overrides :data:`SYSTEM_FONT_DIRS`.
FONT_DIRS_ENV = "HAZMAP_FONT_DIRS"
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
#: TrueType-outline CJK fonts packaged by Debian, best first (file name, Debian package).
PREFERRED_FONTS = (
    ("wqy-microhei.ttc", "fonts-wqy-microhei"),
    ("wqy-zenhei.ttc", "fonts-wqy-zenhei"),
    ("DroidSansFallbackFull.ttf", "fonts-droid-fallback"),
    ("uming.ttc", "fonts-arphic-uming"),
    ("ukai.ttc", "fonts-arphic-ukai"),
)
#: Characters a font must have to count as a Chinese font: the district's name and the words every map uses.
SAMPLE = "昌江区地质灾害隐患点危险区避灾场所撤离路线明白卡监测责任人"
_FONT_SUFFIXES = {".ttf", ".ttc", ".otf"}

#: Matplotlib settings of every export: TrueType (Type 42) embedding, an ASCII hyphen for minus signs, and no
#: hinting (a grid-fitting aid for screens that costs most of the text layout time and does nothing on paper).
_RC_BASE = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "axes.unicode_minus": False,
    "pdf.compression": 6,
    "text.hinting": "no_hinting",
}
# rcParams are global; a Streamlit server renders in several threads, so a render holds the lock throughout.
_RENDER_LOCK = threading.RLock()


class FontError(RuntimeError):
    """No usable CJK font, or text the font cannot draw."""


@dataclass(frozen=True)
class CJKFont:
    """A TrueType-outline font face that covers Chinese.

    Attributes
    ----------
    path : Path
        The font file (``.ttf`` or a ``.ttc`` collection).
    face_index : int
        The face inside a collection.
    family : str
        The family name matplotlib knows it by.
    codepoints : frozenset of int
        Every character the face maps to a glyph.
    """

    path: Path
    face_index: int
    family: str
    codepoints: frozenset[int]

    def missing(self, text: str) -> str:
        """The characters of ``text`` the face has no glyph for (whitespace aside), each once, in order."""
        gone = dict.fromkeys(ch for ch in text if not ch.isspace() and ord(ch) not in self.codepoints)
        return "".join(gone)


def font_dirs(dirs: Iterable[str | os.PathLike] | None = None) -> tuple[Path, ...]:
    """The folders searched for a font: ``dirs``, else ``$HAZMAP_FONT_DIRS``, else the system font folders."""
    if dirs is None:
        env = os.environ.get(FONT_DIRS_ENV)
        dirs = env.split(os.pathsep) if env is not None else SYSTEM_FONT_DIRS
    return tuple(Path(d).expanduser() for d in dirs if str(d))


def cjk_font(dirs: Iterable[str | os.PathLike] | None = None) -> CJKFont:
    """Find the CJK font the exports use, searching :func:`font_dirs`.

    Raises
    ------
    FontError
        No font with TrueType outlines covering Chinese is in those folders; the message names the folders, any
        CJK font skipped because its outlines are CFF, and the Debian package to install.
    """
    return _find(font_dirs(dirs))


@functools.lru_cache(maxsize=8)
def _find(dirs: tuple[Path, ...]) -> CJKFont:
    files = sorted({p for d in dirs if d.is_dir() for p in d.rglob("*") if p.suffix.lower() in _FONT_SUFFIXES})
    rank = {name: i for i, (name, _) in enumerate(PREFERRED_FONTS)}
    files.sort(key=lambda p: rank.get(p.name, len(rank)))
    cff = []
    for path in files:
        for face, outlines in _faces(path):
            if not set(map(ord, SAMPLE)) <= face.codepoints:
                continue
            if outlines == "glyf":
                return face
            if outlines:
                cff.append(path.name)
    where = ", ".join(map(str, dirs)) or "(no folder)"
    skipped = (
        f" Skipped CJK font(s) with CFF outlines, which a PDF cannot embed as TrueType: {', '.join(sorted(set(cff)))}."
        if cff
        else ""
    )
    raise FontError(
        f"no Chinese font with TrueType outlines in {where}; the exports would print boxes instead of Chinese."
        f"{skipped} Install the Debian package {PREFERRED_FONTS[0][1]} (scripts/setup.sh run does), or point "
        f"{FONT_DIRS_ENV} at a folder holding one of {', '.join(name for name, _ in PREFERRED_FONTS)}."
    )


def _faces(path: Path) -> Iterator[tuple[CJKFont, str | None]]:
    """Every face of a font file, with the kind of its outlines: ``glyf`` (TrueType), ``CFF`` or None (bitmaps)."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        faces = TTCollection(path, lazy=True).fonts if path.suffix.lower() == ".ttc" else [TTFont(path, lazy=True)]
    except (TTLibError, OSError, AssertionError):
        return
    for index, face in enumerate(faces):
        outlines = next((tag for tag in ("glyf", "CFF ", "CFF2") if tag in face), None)
        family = face["name"].getBestFamilyName() or path.stem
        yield CJKFont(path, index, family, frozenset(face.getBestCmap() or {})), outlines and outlines.strip()


def _base_charset() -> frozenset[int]:
    """What the exports' own words need: GB 2312 symbols and level-1 characters, Latin-1, punctuation, shapes."""
    rows = [*range(0xA1, 0xAA), *range(0xB0, 0xD8)]  # GB 2312 rows: symbols, then the 3 755 level-1 characters
    chars = set()
    for lead in rows:
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(ord(bytes((lead, trail)).decode("gb2312")))
    blocks = [(0x20, 0x250), (0x2000, 0x2800), (0x3000, 0x3100), (0x3200, 0x3400), (0xFE30, 0xFE50), (0xFF00, 0xFFF0)]
    return frozenset(chars.union(*(range(a, b) for a, b in blocks)))


#: Bump when the cut changes, so cached cuts are rebuilt.
_CUT_VERSION = 6
#: Cuts kept per font file; older ones (made for data since edited) are deleted.
_CUTS_KEPT = 8


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hazmap" / "fonts"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.gettempdir()) / "hazmap-fonts"
        base.mkdir(parents=True, exist_ok=True)
    return base


@functools.lru_cache(maxsize=8)
def compact(font: CJKFont, extra: frozenset[int] = frozenset()) -> CJKFont:
    """A copy of ``font`` cut down to what the exports print, under a family name of its own.

    The cut holds GB 2312's symbols and level-1 characters (every word the exports write themselves), Latin,
    punctuation and shapes, and the ``extra`` characters (the data's); it has no hinting programs, no layout tables
    and no composite glyphs (module docstring).  Made once per font and character set, in a few seconds, and kept
    in ``$XDG_CACHE_HOME/hazmap/fonts`` (else a temporary folder).
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from geo.export import files

    wanted = sorted((_base_charset() | extra) & font.codepoints)
    stat = font.path.stat()
    key = f"{font.path}|{font.face_index}|{stat.st_size}|{stat.st_mtime_ns}|{_CUT_VERSION}|{wanted}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    folder = _cache_dir()
    path = folder / f"{font.path.stem}-{font.face_index}-cut-{digest}.ttf"
    family = f"{font.family} hazmap {digest}"
    if not path.exists():
        options = subset.Options(font_number=font.face_index, name_IDs=["*"])
        # Neither hinting programs nor OpenType layout tables: print and PDF need neither (matplotlib kerns from the
        # glyph metrics), and without them FreeType lays text out, and matplotlib cuts each PDF's subset, several
        # times faster.  FFTM is FontForge's timestamp, which fontTools cannot cut and says so.
        options.hinting = False
        options.layout_features = []
        options.drop_tables += ["FFTM", "GSUB", "GPOS", "GDEF"]
        cut = subset.load_font(str(font.path), options)
        _cut(cut, wanted, options)
        _flatten(cut)
        _cut(cut, wanted, options)  # drops the components no glyph refers to any more
        # A family name of its own, so matplotlib's font list never confuses the cut with the font or another cut.
        names = cut["name"]
        for record in list(names.names):
            if record.nameID in (1, 4, 16):
                names.setName(family, record.nameID, record.platformID, record.platEncID, record.langID)
            elif record.nameID == 6:
                names.setName(family.replace(" ", ""), 6, record.platformID, record.platEncID, record.langID)
        with files.opened(path) as stream:
            cut.save(stream)
        old = sorted(folder.glob(f"{font.path.stem}-{font.face_index}-cut-*.ttf"), key=lambda p: p.stat().st_mtime)
        for stale in old[:-_CUTS_KEPT]:
            with contextlib.suppress(OSError):
                stale.unlink()
    with TTFont(path, lazy=True) as cut:
        codepoints = frozenset(cut.getBestCmap())
    return CJKFont(path, 0, family, codepoints)


def _cut(font: TTFont, unicodes: list[int], options: subset.Options) -> None:
    from fontTools import subset

    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)


def _flatten(font: TTFont) -> None:
    """Draw the components of every composite glyph into a simple glyph of its own.

    Many CJK glyphs are built from shared components (radicals); FreeType then loads several glyphs for one
    character, and text layout took twice as long.  Flat glyphs cost some file size in the cut, none in a PDF.
    """
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    glyf, glyphs = font["glyf"], font.getGlyphSet()
    for name in font.getGlyphOrder():
        if glyf[name].isComposite():
            recording = DecomposingRecordingPen(glyphs)
            glyphs[name].draw(recording)
            pen = TTGlyphPen(None)
            recording.replay(pen)
            glyph = pen.glyph()
            glyph.recalcBounds(glyf)
            glyf[name] = glyph


def for_text(font: CJKFont, texts: Iterable[str]) -> CJKFont:
    """A cut of ``font`` (:func:`compact`) that can draw ``texts`` besides the exports' own words.

    Where ``font`` itself lacks a character of ``texts`` there is nothing to cut: ``font`` comes back, and
    :func:`check_text` names the character when a sheet holds it.
    """
    needed = frozenset(ord(ch) for text in texts for ch in text if not ch.isspace())
    return compact(font, needed) if needed <= font.codepoints else font


def _register(font: CJKFont) -> None:
    from matplotlib import font_manager

    # addfont takes every face of a collection; adding a file twice only duplicates a list entry, so once.
    if not any(entry.fname == str(font.path) for entry in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(font.path))


@contextlib.contextmanager
def rendering(font: CJKFont) -> Iterator[None]:
    """Draw and save figures with ``font`` as the default family and TrueType embedding.

    Holds a process-wide lock, since matplotlib's settings are global and the app renders in several threads.
    """
    import matplotlib

    with _RENDER_LOCK:
        _register(font)
        with matplotlib.rc_context({**_RC_BASE, "font.family": [font.family]}):
            yield


def check_text(font: CJKFont, texts: Iterable[str]) -> None:
    """Refuse text the font cannot draw, rather than print boxes in its place.

    Raises
    ------
    FontError
        Naming each character missing from the font and the first text it occurs in.
    """
    problems = {}
    for text in texts:
        for ch in font.missing(text):
            problems.setdefault(ch, text)
    if problems:
        listed = "; ".join(f"{ch!r} (U+{ord(ch):04X}) in {text!r}" for ch, text in list(problems.items())[:10])
        raise FontError(f"{font.family} ({font.path.name}) has no glyph for {listed}; replace or remove them")
