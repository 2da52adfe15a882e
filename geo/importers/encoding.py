"""Which text encoding a DBF (the attribute part of a shapefile) or a CSV file uses.

Shapefiles from Chinese desktop GIS are mostly GBK/GB18030, often without a ``.cpg`` file, and their DBF
"language driver" byte is as often wrong as right.  The order of evidence is: the user's choice; the ``.cpg``;
the language driver byte; then UTF-8 and GB18030 tried on the text itself.  A candidate wins when it decodes
every sampled byte string and the result does not read as mojibake (text decoded with the wrong table).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable

from geo.importers.base import Msg

#: DBF language driver ids (header byte 29) that name an encoding.  0x57 is "ANSI": Windows-1252 on paper,
#: but Chinese software writes it for GBK, so both are tried.
LDID_CODECS: dict[int, tuple[str, ...]] = {
    0x4D: ("gbk",),
    0x7A: ("gbk",),
    0x4F: ("big5",),
    0x78: ("big5",),
    0x57: ("gbk", "cp1252"),
    0x03: ("cp1252",),
    0x58: ("cp1252",),
}
#: Windows code page numbers that a ``.cpg`` may hold instead of a name.
_CODE_PAGES = {"65001": "utf-8", "936": "gbk", "54936": "gb18030", "950": "big5", "1252": "cp1252"}
#: Tried when nothing in the file names an encoding, in this order: strict UTF-8 rarely decodes anything else.
FALLBACK_CODECS = ("utf-8", "gb18030")
#: Share of suspicious characters among the non-ASCII ones above which decoded text counts as mojibake.
_MOJIBAKE_SHARE = 0.3
#: Runs of two or more Latin-1/Latin Extended letters and symbols: what GBK or UTF-8 decoded as Latin-1 looks like.
_LATIN_RUN = re.compile(r"[\u0080-\u024f]{2,}")


def codec_name(name: str) -> str:
    """Python's canonical name of an encoding; raises LookupError for an unknown one."""
    return codecs.lookup(name.strip()).name


def gdal_name(codec: str) -> str:
    """The encoding name to hand GDAL (iconv) for a Python codec name."""
    return codec.upper()


def cpg_codec(text: str) -> str | None:
    """The codec a ``.cpg`` file names (``UTF-8``, ``GBK``, ``936``, ``ANSI 936`` ...), or None if unknown."""
    value = text.strip().upper().removeprefix("ANSI").strip()
    value = _CODE_PAGES.get(value, f"cp{value}" if value.isdigit() else value)
    try:
        return codec_name(value)
    except LookupError:
        return None


def looks_like_mojibake(text: str) -> bool:
    """True when ``text`` reads like bytes decoded with the wrong table.

    Signs: replacement or C1 control characters, private-use characters (GB18030's home for undefined bytes),
    and a high share of CJK characters outside GB2312 (what UTF-8 bytes decoded as GBK give) or of runs of
    Latin-1 letters (what GBK or UTF-8 bytes decoded as Windows-1252 give).  Single accented letters in Latin
    text, and the odd rare character of a Jiangxi place name (塅, 墈), are fine.

    >>> looks_like_mojibake("枫林村滑坡"), looks_like_mojibake("·ãÁÖ´å»¬ÆÂ"), looks_like_mojibake("Café")
    (False, True, False)
    """
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return False
    if any(ch == "\ufffd" or "\x80" <= ch <= "\x9f" or "\ue000" <= ch <= "\uf8ff" for ch in non_ascii):
        return True
    rare_cjk = sum(1 for ch in non_ascii if unicodedata.category(ch) == "Lo" and not _in_gb2312(ch))
    latin_runs = sum(len(run) for run in _LATIN_RUN.findall(text))
    return (rare_cjk + latin_runs) / len(non_ascii) > _MOJIBAKE_SHARE


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def decodes_cleanly(samples: Iterable[bytes], codec: str) -> bool:
    """True when every sample decodes strictly with ``codec`` and the text does not look like mojibake.

    An incomplete character at the very end of a sample is let go: GDAL cuts DBF field names at 10 bytes and
    values at the field width, in the middle of a two-byte GBK character if need be.
    """
    try:
        text = "\n".join(codecs.getincrementaldecoder(codec)().decode(sample, final=False) for sample in samples)
    except UnicodeDecodeError:
        return False
    return not looks_like_mojibake(text)


def choose(samples: list[bytes], candidates: list[tuple[str, Msg]]) -> tuple[str, Msg] | None:
    """The first candidate ``(codec, why)`` that decodes the samples cleanly, or None."""
    return next(((codec, why) for codec, why in candidates if decodes_cleanly(samples, codec)), None)


# --------------------------------------------------------------------------------------------------
# DBF


def dbf_text_samples(head: bytes) -> list[bytes]:
    """The field names and character values in the first bytes of a DBF file that are not plain ASCII.

    Only these tell encodings apart.  ``head`` may stop in the middle of a record; whole records are used.
    """
    if len(head) < 32:
        return []
    header_length = int.from_bytes(head[8:10], "little")
    record_length = int.from_bytes(head[10:12], "little")
    fields, offset, pos = [], 1, 32  # offset 0 of a record is its deletion flag
    while pos + 32 <= min(header_length, len(head)) and head[pos] != 0x0D:
        descriptor = head[pos : pos + 32]
        width = descriptor[16]
        fields.append((descriptor[:11].split(b"\0")[0], descriptor[11:12], offset, width))
        offset += width
        pos += 32
    samples = [name for name, *_ in fields]
    if record_length > 0:
        for start in range(header_length, len(head) - record_length + 1, record_length):
            record = head[start : start + record_length]
            samples += [record[o : o + w].strip(b" \0") for _, kind, o, w in fields if kind in (b"C", b"M")]
    return [sample for sample in samples if any(byte > 127 for byte in sample)]


def dbf_candidates(ldid: int, cpg: str | None) -> list[tuple[str, Msg]]:
    """Encodings to try for a DBF, most trusted first, each with what it was taken from."""
    candidates: list[tuple[str, Msg]] = []
    if cpg is not None:
        codec = cpg_codec(cpg)
        if codec:
            candidates.append((codec, Msg(f".cpg 文件指明 {cpg.strip()}", f"the .cpg file says {cpg.strip()}")))
    for codec in LDID_CODECS.get(ldid, ()):
        candidates.append((codec, Msg(f"DBF 语言驱动字节 0x{ldid:02X}", f"DBF language driver byte 0x{ldid:02X}")))
    for codec in FALLBACK_CODECS:
        candidates.append((codec, Msg("按内容识别", "detected from the text")))
    return candidates
