"""Check that a vector file is what its name says before GDAL opens it, and tell GDAL which driver to use.

GDAL picks a driver by a file's content, not its name: a ``.geojson``, ``.kml``, ``.gpkg`` or ``.shp`` (or such a
member of a zip) that holds an OGR VRT (``<OGRVRTDataSource>``) or a GDAL algorithm (``gdal_streamed_alg``) would
be opened with that driver, which reads whatever files of the server, or URLs, it names, and the import preview
would show their rows.  So every file a user hands in is checked here first: its first bytes must carry the
signature of its kind, and it must not hold either marker anywhere in its head.  Where GDAL has a prefix that
pins the driver (``GeoJSON:``, ``GPKG:``), :func:`gdal_path` adds it, so even a file that passed the check is
never opened by another driver.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from geo.importers.base import Msg, SourceError

#: Bytes of a file's head that are checked: GDAL's drivers decide from the first kilobytes.
HEAD_BYTES = 64 * 1024
#: Markers of the GDAL formats that read other files or URLs, lower case.
_INDIRECT = (b"ogrvrtdatasource", b"vrtdataset", b"gdal_streamed_alg", b"gdal_alg")
_KINDS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".kml": "KML", ".gpkg": "GeoPackage", ".shp": "Shapefile"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian


def check(label: str, name: str, head: bytes) -> None:
    """Refuse ``head``, the first :data:`HEAD_BYTES` of a file called ``name``, unless it is that kind of file.

    Parameters
    ----------
    label
        The file as the user knows it, for the message (the zip, for a member of one).
    name
        The file's (or member's) name: its suffix says what it must be.
    head
        Its first bytes.

    Raises
    ------
    SourceError
        The content is not of the kind the name says, or it is a format that reads other files.
    """
    suffix = PurePosixPath(name).suffix.lower()
    kind = _KINDS.get(suffix)
    if kind is None:
        return
    lowered = head.lower()
    if any(marker in lowered for marker in _INDIRECT):
        raise SourceError(
            label,
            Msg(
                f"{PurePosixPath(name).name} 不是 {kind} 文件：其内容会让程序读取服务器上的其他文件"
                "（VRT/GDALG），已拒绝",
                f"{PurePosixPath(name).name} is not a {kind} file: its content would read other files of the server "
                "(VRT/GDALG); refused",
            ),
        )
    if not _signature_ok(suffix, head):
        raise SourceError(
            label,
            Msg(
                f"{PurePosixPath(name).name} 的内容不是 {kind} 格式（文件损坏或被改了名）",
                f"the content of {PurePosixPath(name).name} is not {kind} (damaged, or renamed)",
            ),
        )


def _signature_ok(suffix: str, head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix in (".geojson", ".json"):
        return text.startswith(b"{")
    if suffix == ".kml":
        return text.startswith(b"<") and b"<kml" in head.lower()
    if suffix == ".gpkg":
        return head.startswith(_SQLITE_MAGIC) and head[68:72] in (b"GPKG", b"GP10", b"GP11")
    return head.startswith(_SHP_MAGIC)  # .shp


def gdal_path(path: str) -> str:
    """``path`` with the prefix that makes GDAL open it with the driver of its suffix only, where GDAL has one."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return f"GeoJSON:{path}"
    if suffix == ".gpkg":
        # Quoted: the GeoPackage driver otherwise splits its name at colons (GPKG:file:table).
        return f'GPKG:"{path}"'
    return path
