"""Checks that run before GDAL or openpyxl opens a file: its size, and whether an archive is safe to read.

Zipped shapefiles, KMZ and XLSX are zip archives.  Nothing here extracts them to disk (GDAL reads them in place
through ``/vsizip/``); the checks refuse what a hostile archive uses against a reader anyway: member names that
climb out of a folder or are absolute, links, too many members, and members that expand far beyond their size.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import PurePosixPath

from geo.importers.base import ImportLimits, Msg, SourceError


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def check_size(path: str, size: int, limits: ImportLimits) -> None:
    """Refuse a file (or a shapefile's set of files) of ``size`` bytes above the import limit."""
    if size > limits.max_bytes:
        cap = _megabytes(limits.max_bytes)
        raise SourceError(
            path,
            Msg(
                f"文件大小 {_megabytes(size)} 超过导入上限 {cap}", f"{_megabytes(size)} is over the {cap} import limit"
            ),
        )


def unsafe_member_name(name: str) -> bool:
    """True for a member name that is absolute, climbs with ``..``, names a drive, or holds control characters.

    Backslashes count as separators: zips made on Windows sometimes use them, and a reader may honour them.

    >>> [unsafe_member_name(n) for n in ["shp/点.shp", "../evil.shp", "/etc/passwd", "C:/x.shp", "a\\\\..\\\\b"]]
    [False, True, True, True, True]
    """
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return (
        name.startswith(("/", "\\"))
        or ".." in parts
        or (len(name) > 1 and name[1] == ":")
        or any(ord(ch) < 32 for ch in name)
    )


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def check_archive(path: str, limits: ImportLimits) -> list[str]:
    """Check a zip archive without extracting it and return the names of its file members.

    Raises
    ------
    SourceError
        The archive is damaged or encrypted, has too many members, an unsafe member name or a link, expands
        beyond ``limits.max_bytes``, or holds a member with a zip-bomb compression ratio.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise SourceError(
            path, Msg(f"不是有效的 zip 压缩包（损坏或不完整）：{exc}", f"not a valid zip archive: {exc}")
        ) from exc
    if len(infos) > limits.max_members:
        raise SourceError(
            path,
            Msg(
                f"压缩包有 {len(infos)} 个成员，超过上限 {limits.max_members}",
                f"the archive has {len(infos)} members, more than {limits.max_members}",
            ),
        )
    for info in infos:
        if unsafe_member_name(info.filename) or _is_link(info):
            raise SourceError(
                path,
                Msg(
                    f"压缩包成员 {info.filename!r} 的路径不安全（绝对路径、'..' 或链接），拒绝读取",
                    f"member {info.filename!r} has an unsafe path (absolute, '..' or a link); refused",
                ),
            )
        if info.flag_bits & 0x1:
            raise SourceError(
                path, Msg(f"压缩包成员 {info.filename!r} 已加密", f"member {info.filename!r} is encrypted")
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise SourceError(
                path,
                Msg(
                    f"压缩包成员 {info.filename!r} 的压缩比 {ratio:.0f}:1 异常（疑似压缩炸弹），拒绝读取",
                    f"member {info.filename!r} expands {ratio:.0f}:1, a probable zip bomb; refused",
                ),
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_bytes:
        cap = _megabytes(limits.max_bytes)
        raise SourceError(
            path,
            Msg(
                f"压缩包解压后共 {_megabytes(total)}，超过上限 {cap}",
                f"the archive expands to {_megabytes(total)}, over {cap}",
            ),
        )
    return [info.filename for info in infos if not info.is_dir()]


def file_size(path: str) -> int:
    """Size of a regular file; anything else (missing, a folder, a device, a GDAL ``/vsi`` path) is refused."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SourceError(path, Msg("文件不存在或无法读取", f"no such file or unreadable ({exc.strerror})")) from exc
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(path, Msg("不是普通文件", "not a regular file"))
    return info.st_size
