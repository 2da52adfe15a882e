"""Read a source file into a table of raw values with row numbers, plus its geometries where it has them.

Each reader checks the file before anything parses it (size; for archives, :mod:`geo.importers.archive`), and
turns any failure of GDAL, openpyxl or pandas into a :class:`SourceError` that names the file.  Layer and sheet
names are looked up in the file's own list and passed to the reader as values, never built into a query.
Row numbers are 1-based and count the header row, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import dataclasses
import glob
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj

from geo.importers import archive, content, encoding
from geo.importers.aliases import DRIVER_COLUMNS, header_index, normalize_key
from geo.importers.base import DEFAULT_LIMITS, ImportLimits, Msg, SourceError
from geo.importers.values import clean

#: Rows searched for the header row: inventories often open with a title row or two (merged cells).
HEADER_SEARCH_ROWS = 20
#: Bytes of a DBF read to decide its encoding; enough for a few thousand records.
DBF_SAMPLE_BYTES = 4 * 1024 * 1024
_VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".kmz")
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = (*_TABLE_SUFFIXES, *_VECTOR_SUFFIXES, ".zip")
_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.GeometryError)
# UnicodeDecodeError: a field name cut inside a character (UTF-8 names longer than the DBF's 10 bytes).
_GDAL_ERRORS += (pyogrio.errors.FieldError, pyogrio.errors.CRSError, RuntimeError, UnicodeDecodeError)


@dataclass
class SourceTable:
    """What a source holds, before any mapping to the data model.

    ``frame`` has the source's own column names and plain Python values (None where empty), indexed by row
    number; ``geometry`` (same index, in the file's CRS ``crs``, None where unknown) is None for plain tables.
    ``choices`` lists the file's sheets or layers, ``chosen`` the one read.  ``skip`` names (normalised) columns
    to pass over silently; ``short_names`` says the column names may be cut short (a DBF's 10 bytes).
    """

    path: str
    frame: pd.DataFrame
    geometry: gpd.GeoSeries | None = None
    crs: pyproj.CRS | None = None
    choices: list[str] = field(default_factory=list)
    chosen: str | None = None
    notes: list[Msg] = field(default_factory=list)
    skip: frozenset[str] = frozenset()
    short_names: bool = False

    @property
    def label(self) -> str:
        name = os.path.basename(self.path)
        return f"{name} [{self.chosen}]" if self.chosen and len(self.choices) > 1 else name


@dataclass(frozen=True)
class ReadOptions:
    """What the user told the reader: the target layer (to find headers), a sheet or layer, an encoding."""

    layer: str
    source_layer: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    limits: ImportLimits = DEFAULT_LIMITS


def read_source(path: str | os.PathLike, options: ReadOptions) -> SourceTable:
    """Read an import source by its suffix; see :data:`SUPPORTED_SUFFIXES`.

    Raises
    ------
    SourceError
        The file is missing, too big, unsafe, damaged, of an unsupported kind, or the sheet or layer asked for
        is not in it (the message lists those that are).
    """
    path = os.fspath(path)
    suffix = Path(path).suffix.lower()
    readers: dict[str, Callable[[str, ReadOptions], SourceTable]] = {
        ".csv": _read_csv,
        ".txt": _read_csv,
        ".tsv": _read_csv,
        ".xlsx": _read_excel,
        ".xlsm": _read_excel,
        ".shp": _read_shapefile,
        ".zip": _read_zip,
    }
    reader = readers.get(suffix, _read_vector if suffix in _VECTOR_SUFFIXES else None)
    if reader is None:
        kinds = " ".join(SUPPORTED_SUFFIXES)
        hint = "；旧版 .xls 请另存为 .xlsx" if suffix == ".xls" else ""
        hint_en = "; save an old .xls as .xlsx" if suffix == ".xls" else ""
        raise SourceError(
            path,
            Msg(
                f"不支持的文件类型 {suffix or '（无后缀）'}，可用：{kinds}{hint}",
                f"unsupported file type {suffix or '(none)'}; use one of {kinds}{hint_en}",
            ),
        )
    if suffix != ".shp":  # a shapefile is checked as the set of its files
        archive.check_size(path, archive.file_size(path), options.limits)
    return reader(path, options)


def source_choices(path: str | os.PathLike, limits: ImportLimits = DEFAULT_LIMITS) -> list[str]:
    """The sheets of a workbook, or the layers (or zipped data sets) of a vector file, for a picker."""
    path = os.fspath(path)
    suffix = Path(path).suffix.lower()
    archive.check_size(path, archive.file_size(path), limits)
    if suffix in (".xlsx", ".xlsm"):
        return _open_workbook(path, limits).sheetnames
    if suffix == ".zip":
        return _zip_datasets(path, limits)
    if suffix in _VECTOR_SUFFIXES:
        _check_content(path, limits)
        return _gdal_layers(path, path)
    return []


# --------------------------------------------------------------------------------------------------
# Tables


def _pick(path: str, asked: str | None, available: Sequence[str], what: Msg) -> str | None:
    """Check a sheet or layer the user asked for against the file's own list."""
    if asked is None or asked in available:
        return asked
    listed = ", ".join(map(repr, available)) or "—"
    raise SourceError(
        path,
        Msg(
            f"没有{what.zh} {asked!r}（文件中的{what.zh}：{listed}）",
            f"no {what.en} {asked!r} (the file has: {listed})",
        ),
    )


def _header_row(rows: list[list[object]], layer: str) -> int | None:
    """Index of the row with the most known headers among the first rows, or None if none has any."""
    index = header_index(layer)
    hits = [
        sum(1 for cell in row if clean(cell) is not None and normalize_key(cell) in index)
        for row in rows[:HEADER_SEARCH_ROWS]
    ]
    best = max(hits, default=0)
    return hits.index(best) if best else None


def _frame(rows: list[list[object]], header: int) -> pd.DataFrame:
    """Rows below the header as a frame indexed by 1-based row number; empty rows and unnamed empty columns dropped."""
    width = max((len(row) for row in rows), default=0)
    padded = [list(row) + [None] * (width - len(row)) for row in rows]
    names: list[str] = []
    for i, cell in enumerate(padded[header]):
        name = "" if clean(cell) is None else str(clean(cell))
        name = name or f"（第{i + 1}列）"
        while name in names:  # a repeated header keeps its data under a distinct name
            name += "'"
        names.append(name)
    body = [[clean(cell) for cell in row] for row in padded[header + 1 :]]
    frame = pd.DataFrame(body, columns=names, index=range(header + 2, header + 2 + len(body)), dtype=object)
    frame = frame[frame.notna().any(axis=1)]
    unnamed = [name for i, name in enumerate(names) if clean(padded[header][i]) is None]
    return frame.drop(columns=[name for name in unnamed if frame[name].isna().all()])


def _no_header(path: str) -> SourceError:
    return SourceError(
        path,
        Msg(
            f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（应有 统一编号、名称、经度、纬度 等列，见 docs/import.md）",
            f"no header row in the first {HEADER_SEARCH_ROWS} rows (expected headers such as 统一编号, 名称, 经度, "
            "纬度; see docs/import.md)",
        ),
    )


def _table(path: str, rows: list[list[object]], layer: str, **extra) -> SourceTable:
    header = _header_row(rows, layer)
    if header is None:
        raise _no_header(path)
    notes = [Msg(f"表头在第 {header + 1} 行", f"header on row {header + 1}")] if header else []
    return SourceTable(path, _frame(rows, header), notes=notes, **extra)


def _read_csv(path: str, options: ReadOptions) -> SourceTable:
    with open(path, "rb") as f:
        raw = f.read()
    codec, why = _text_encoding(path, raw, options.encoding)
    text = raw.decode(codec)
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if Path(path).suffix.lower() == ".tsv" else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise SourceError(path, Msg(f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")) from exc
    table = _table(path, rows, options.layer)
    table.notes.insert(0, Msg(f"文本编码 {codec}（{why.zh}）", f"text encoding {codec} ({why.en})"))
    return table


def _text_encoding(path: str, raw: bytes, asked: str | None) -> tuple[str, Msg]:
    """Encoding of a text file: the user's, a byte-order mark's, else UTF-8 or GB18030 by content."""
    if asked:
        return _user_codec(path, asked), Msg("用户指定", "given by the user")
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            return codec, Msg("字节顺序标记", "byte-order mark")
    chosen = encoding.choose(
        [raw], [(codec, Msg("按内容识别", "detected from the text")) for codec in encoding.FALLBACK_CODECS]
    )
    if chosen is None:
        raise SourceError(
            path,
            Msg(
                "无法识别文本编码（试过 UTF-8、GB18030），请指定 --encoding",
                "cannot tell the text encoding (tried UTF-8, GB18030); give --encoding",
            ),
        )
    return chosen


def _user_codec(path: str, asked: str) -> str:
    try:
        return encoding.codec_name(asked)
    except LookupError:
        raise SourceError(path, Msg(f"未知编码 {asked!r}", f"unknown encoding {asked!r}")) from None


def _open_workbook(path: str, limits: ImportLimits) -> openpyxl.Workbook:
    archive.check_archive(path, limits)
    try:
        # Not read-only: merged cells (a township written once for several rows) are only known this way.
        return openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl fails in many ways on a damaged file; each means "cannot read it"
        raise SourceError(path, Msg(f"无法读取 Excel 文件：{exc}", f"cannot read the Excel file: {exc}")) from exc


def _read_excel(path: str, options: ReadOptions) -> SourceTable:
    book = _open_workbook(path, options.limits)
    names = book.sheetnames
    asked = _pick(path, options.sheet, names, Msg("工作表", "sheet"))
    candidates = [asked] if asked else names
    for name in candidates:
        sheet = book[name]
        rows = [list(row) for row in sheet.iter_rows(min_row=1, min_col=1, values_only=True)]
        for merged in sheet.merged_cells.ranges:
            value = rows[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(rows) else None
            for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
                for c in range(merged.min_col - 1, min(merged.max_col, len(rows[r]))):
                    rows[r][c] = value
        if asked or _header_row(rows, options.layer) is not None:
            table = _table(path, rows, options.layer, choices=names, chosen=name)
            if not asked and len(names) > 1:
                table.notes.insert(0, Msg(f"读取工作表 {name!r}", f"read sheet {name!r}"))
            return table
    raise _no_header(path)


# --------------------------------------------------------------------------------------------------
# Vector files (GDAL)


def _gdal_layers(path: str, gdal_path: str) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(content.gdal_path(gdal_path))]
    except _GDAL_ERRORS as exc:
        raise SourceError(
            path, Msg(f"无法打开（文件损坏或格式不符）：{exc}", f"cannot open (damaged, or not this format): {exc}")
        ) from exc


def _read_gdal(path: str, gdal_path: str, options: ReadOptions, gdal_encoding: str | None = None) -> SourceTable:
    """Read one layer of a GDAL data set: the one asked for, else the target layer's namesake, else the only one."""
    layers = _gdal_layers(path, gdal_path)
    name = _pick(path, options.source_layer, layers, Msg("图层", "layer"))
    if name is None:
        if options.layer in layers or len(layers) == 1:
            name = options.layer if options.layer in layers else layers[0]
        else:
            listed = ", ".join(map(repr, layers)) or "—"
            raise SourceError(
                path,
                Msg(
                    f"文件有多个图层，请选择一个（--source-layer）：{listed}",
                    f"the file has several layers; choose one with --source-layer: {listed}",
                ),
            )
    try:
        data = pyogrio.read_dataframe(content.gdal_path(gdal_path), layer=name, encoding=gdal_encoding)
    except _GDAL_ERRORS as exc:
        raise SourceError(path, Msg(f"无法读取图层 {name!r}：{exc}", f"cannot read layer {name!r}: {exc}")) from exc
    geometry = data.geometry if isinstance(data, gpd.GeoDataFrame) and data.geometry.name in data.columns else None
    attributes = data.drop(columns=[geometry.name]) if geometry is not None else data
    index = pd.RangeIndex(2, 2 + len(data))
    frame = pd.DataFrame({c: [clean(v) for v in attributes[c]] for c in attributes.columns}, index=index, dtype=object)
    if geometry is not None:
        geometry = geometry.set_axis(index)
    skip = DRIVER_COLUMNS if Path(gdal_path.rstrip("/")).suffix.lower() in (".kml", ".kmz") else frozenset()
    return SourceTable(path, frame, geometry, geometry.crs if geometry is not None else None, layers, name, skip=skip)


def _read_vector(path: str, options: ReadOptions) -> SourceTable:
    _check_content(path, options.limits)
    return _read_gdal(path, path, options)


def _check_content(path: str, limits: ImportLimits) -> None:
    """Refuse a vector file whose content is not what its name says (:mod:`geo.importers.content`); a KMZ is a zip,
    checked as an archive, then each KML in it."""
    if Path(path).suffix.lower() == ".kmz":
        for member in archive.check_archive(path, limits):
            content.check(path, member, _member_head(path, member))
        return
    with open(path, "rb") as f:
        content.check(path, path, f.read(content.HEAD_BYTES))


def _member_head(path: str, member: str) -> bytes:
    """The first bytes of a member of a zip that :func:`archive.check_archive` has passed."""
    try:
        with zipfile.ZipFile(path) as zf, zf.open(member) as f:
            return f.read(content.HEAD_BYTES)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise SourceError(path, Msg(f"压缩包已损坏：{exc}", f"the archive is damaged: {exc}")) from exc


def _sidecar(shp: Path, suffix: str) -> Path | None:
    """The file of a shapefile set with ``suffix``, whatever the case of its name."""
    for candidate in shp.parent.glob(glob.escape(shp.stem) + ".*"):
        if candidate.suffix.lower() == suffix:
            return candidate
    return None


def _read_shapefile(path: str, options: ReadOptions) -> SourceTable:
    shp = Path(path)
    parts = {suffix: _sidecar(shp, suffix) for suffix in (".shp", ".shx", ".dbf", ".cpg")}
    missing = [s for s in (".shp", ".shx", ".dbf") if parts[s] is None]
    if missing:
        raise SourceError(
            path, Msg(f"Shapefile 缺少 {'、'.join(missing)} 文件", f"the shapefile lacks its {', '.join(missing)} file")
        )
    archive.check_size(path, sum(archive.file_size(str(parts[s])) for s in (".shp", ".shx", ".dbf")), options.limits)
    with open(parts[".dbf"], "rb") as f:
        head = f.read(DBF_SAMPLE_BYTES)
    cpg = parts[".cpg"].read_text("ascii", errors="replace")[:64] if parts[".cpg"] else None
    codec, notes = _dbf_encoding(path, head, cpg, options.encoding)
    _check_content(path, options.limits)
    table = _read_gdal(path, path, options, encoding.gdal_name(codec))
    table.notes[:0] = notes
    table.short_names = True
    return table


def _dbf_encoding(path: str, head: bytes, cpg: str | None, asked: str | None) -> tuple[str, list[Msg]]:
    """Encoding of a DBF and a note saying how it was decided; see :mod:`geo.importers.encoding`."""
    samples = encoding.dbf_text_samples(head)
    if asked:
        codec = _user_codec(path, asked)
        if samples and not encoding.decodes_cleanly(samples, codec):
            return codec, [
                Msg(f"注意：按指定编码 {codec} 解码的文字有乱码迹象", f"warning: text decoded as {codec} looks garbled")
            ]
        return codec, [Msg(f"DBF 编码 {codec}（用户指定）", f"DBF encoding {codec} (given by the user)")]
    ldid = head[29] if len(head) > 29 else 0
    candidates = encoding.dbf_candidates(ldid, cpg)
    if not samples:
        return candidates[0][0], []  # plain ASCII reads the same in every candidate
    chosen = encoding.choose(samples, candidates)
    if chosen is None:
        tried = "、".join(dict.fromkeys(codec for codec, _ in candidates))
        raise SourceError(
            path,
            Msg(
                f"无法识别 DBF 文字编码（试过 {tried}），请指定 --encoding",
                f"cannot tell the DBF text encoding (tried {tried}); give --encoding",
            ),
        )
    codec, why = chosen
    return codec, [Msg(f"DBF 编码 {codec}（依据：{why.zh}）", f"DBF encoding {codec} ({why.en})")]


def _zip_datasets(path: str, limits: ImportLimits) -> list[str]:
    members = archive.check_archive(path, limits)
    return [
        m
        for m in members
        if PurePosixPath(m).suffix.lower() in _VECTOR_SUFFIXES and PurePosixPath(m).suffix.lower() != ".kmz"
    ]


def _read_zip(path: str, options: ReadOptions) -> SourceTable:
    """Read a data set inside a zip in place through GDAL's ``/vsizip/``; a shapefile's encoding is decided first."""
    datasets = _zip_datasets(path, options.limits)
    if not datasets:
        raise SourceError(
            path,
            Msg(
                "压缩包中没有 Shapefile、GeoPackage、GeoJSON 或 KML",
                "the archive holds no shapefile, GeoPackage, GeoJSON or KML",
            ),
        )
    stems = {str(PurePosixPath(m).with_suffix("")): m for m in datasets}
    if options.source_layer is not None and options.source_layer in {*datasets, *stems}:
        member = stems.get(options.source_layer, options.source_layer)
        options = dataclasses.replace(options, source_layer=None)  # it named the member, not a layer inside it
    elif len(datasets) == 1:
        member = datasets[0]
    else:
        listed = ", ".join(map(repr, datasets))
        raise SourceError(
            path,
            Msg(
                f"压缩包中有多个数据集，请选择一个（--source-layer）：{listed}",
                f"the archive holds several data sets; choose one with --source-layer: {listed}",
            ),
        )
    content.check(path, member, _member_head(path, member))
    gdal_path = f"/vsizip/{os.path.abspath(path)}/{member}"
    shapefile = PurePosixPath(member).suffix.lower() == ".shp"
    gdal_encoding, notes = _zipped_dbf_encoding(path, member, options.encoding) if shapefile else (None, [])
    table = _read_gdal(path, gdal_path, options, gdal_encoding)
    table.choices, table.chosen = datasets, member
    table.notes[:0] = notes
    table.short_names = shapefile
    return table


def _zipped_dbf_encoding(path: str, member: str, asked: str | None) -> tuple[str, list[Msg]]:
    stem = str(PurePosixPath(member).with_suffix("")).lower()
    try:
        with zipfile.ZipFile(path) as zf:
            by_suffix = {
                PurePosixPath(n).suffix.lower(): n
                for n in zf.namelist()
                if str(PurePosixPath(n).with_suffix("")).lower() == stem
            }
            if ".dbf" not in by_suffix or ".shx" not in by_suffix:
                raise SourceError(
                    path, Msg(f"{member} 缺少 .dbf 或 .shx 文件", f"{member} lacks its .dbf or .shx file")
                )
            with zf.open(by_suffix[".dbf"]) as f:
                head = f.read(DBF_SAMPLE_BYTES)
            cpg = None
            if ".cpg" in by_suffix:
                with zf.open(by_suffix[".cpg"]) as f:
                    cpg = f.read(64).decode("ascii", errors="replace")
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise SourceError(path, Msg(f"压缩包已损坏：{exc}", f"the archive is damaged: {exc}")) from exc
    codec, notes = _dbf_encoding(path, head, cpg, asked)
    return encoding.gdal_name(codec), notes
