"""``python -m geo export ...``: the exports on the command line, one sub-command each.

``geo.cli`` registers the ``export`` command through :func:`add_parser` and runs it through :func:`run`, so the
sub-commands live beside the exports they call.  This module imports only argparse at load time: building the
parser must not load matplotlib for every other command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING

from geo import settings

if TYPE_CHECKING:  # the parser must not load the exports (matplotlib) for every command
    from geo.export.hazard import ExportData
    from geo.export.options import ExportSettings

EXIT_USAGE = 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from None


def _common(p: argparse.ArgumentParser, *, printed: bool = True, routed: bool = True) -> None:
    """Options every export shares: the data, and for printed ones who issues them, when, and whom to call."""
    p.add_argument("--data", help="GeoPackage to use (default: $HAZMAP_DATA, else the demo hazard_points.gpkg)")
    if routed:
        p.add_argument("--speed", type=float, default=settings.AnalysisSettings().walk_speed_kmh, help="walking km/h")
    if printed:
        from geo.export.options import DEFAULT_ISSUING_UNIT

        p.add_argument("--issuer", default=DEFAULT_ISSUING_UNIT, help="issuing unit printed on every page")
        p.add_argument("--date", type=_date, help="date printed, YYYY-MM-DD (default: today)")
        p.add_argument("--duty-phone", help="值班电话 for the cards (default: a blank to fill in)")
        p.add_argument("--rescue-unit", help="抢险单位 for the cards")
        p.add_argument("--security-unit", help="治安保卫单位 for the cards")
        p.add_argument("--medical-unit", help="医疗救护单位 for the cards")


def _sheet_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--paper", choices=["A4", "A3"], default="A4", help="paper size of the drill maps")
    p.add_argument("--orientation", choices=["portrait", "landscape"], default="landscape")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``export`` and its sub-commands to the parser of ``python -m geo``."""
    export = sub.add_parser("export", help="drill maps, 明白卡, KML/GPX/GeoJSON, Excel/PDF reports (导出)")
    kinds = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")

    p = kinds.add_parser("drill-map", help="print-ready drill map of a hazard point (演练图), PDF or PNG")
    p.add_argument("--hazard", required=True, metavar="ID", help="统一编号 of an active hazard point")
    p.add_argument("--out", required=True, metavar="FILE.pdf|FILE.png")
    _sheet_options(p)
    _common(p)

    p = kinds.add_parser("cards", help="防灾工作明白卡 and 防灾避险明白卡 (PDF, or a zip of one PDF per point)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--hazard", nargs="+", metavar="ID", help="统一编号 of active hazard points")
    which.add_argument("--township", metavar="NAME", help="every active hazard point of a township")
    p.add_argument("--out", required=True, metavar="FILE.pdf|FILE.zip")
    _common(p)

    p = kinds.add_parser("batch", help="drill maps and cards of a township or warning area in one zip, with index")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--township", metavar="NAME", help="every active hazard point of a township")
    which.add_argument("--warning-id", metavar="ID", help="every active hazard point in a warning area")
    which.add_argument("--all", action="store_true", help="every active hazard point")
    p.add_argument("--out", required=True, metavar="FILE.zip")
    p.add_argument("--workers", type=int, help="processes drawing in parallel (default: one per core)")
    _sheet_options(p)
    _common(p)

    from geo.export.options import VECTOR_FORMATS

    for kind, text in (
        ("routes", "evacuation routes (KML/GPX add the zones, shelters and hazard points)"),
        ("zones", "danger zones"),
        ("shelters", "shelters"),
    ):
        formats = VECTOR_FORMATS[kind]
        p = kinds.add_parser(kind, help=f"{text} as {'/'.join(formats).upper()} in WGS84")
        p.add_argument("--format", choices=formats, help="default: from the file name")
        p.add_argument("--out", required=True, metavar="FILE")
        p.add_argument("--hazard", nargs="+", metavar="ID", help="only these active hazard points")
        _common(p, printed=False)

    p = kinds.add_parser("warning-report", help="at-risk population under the warnings: Excel or one-page PDF")
    p.add_argument("--out", required=True, metavar="FILE.xlsx|FILE.pdf")
    p.add_argument(
        "--warning",
        action="append",
        default=[],
        metavar="TOWNSHIP=LEVEL",
        help="put a whole township under a warning instead of the data's warning areas; repeatable",
    )
    _common(p, routed=False)

    p = kinds.add_parser("pools-report", help="pool coverage of schools as an Excel workbook")
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p.add_argument("--k", type=int, default=settings.AnalysisSettings().k_pools, help="nearest open pools per school")
    p.add_argument("--radius", type=float, default=settings.AnalysisSettings().service_radius_m, help="metres")
    p.add_argument("--metric", choices=["network", "straight"], default="network")
    _common(p, routed=False)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m geo export <what>``; a missing CJK font is reported like any other usage error."""
    from geo.export.fonts import FontError

    try:
        return _RUNNERS[args.export_command](args)
    except FontError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _export_settings(args: argparse.Namespace) -> ExportSettings:
    from geo.export.options import ExportSettings

    return ExportSettings(
        issuing_unit=args.issuer,
        issue_date=args.date,
        duty_phone=args.duty_phone,
        rescue_unit=args.rescue_unit,
        security_unit=args.security_unit,
        medical_unit=args.medical_unit,
    )


def _data(args: argparse.Namespace) -> ExportData:
    """The layers and the routes of every active hazard point, computed once."""
    from dataclasses import replace

    from geo import store
    from geo.export.hazard import INPUT_LAYERS, OPTIONAL_LAYERS, ExportData

    available = store.open(args.data).read_layers()
    missing = [name for name in INPUT_LAYERS if name not in available]
    if missing:
        raise ValueError(f"{args.data.label}: the exports need the layer(s) {', '.join(missing)}")
    layers = {name: available[name] for name in (*INPUT_LAYERS, *OPTIONAL_LAYERS) if name in available}
    return ExportData.prepare(layers, replace(settings.AnalysisSettings(), walk_speed_kmh=args.speed))


def _drill_map(args: argparse.Namespace) -> int:
    from geo.export import drill_map, files

    if files.suffix(args.out, "") not in (".pdf", ".png"):
        raise ValueError(f"cannot write a drill map to {args.out}: use a .pdf or .png file")
    data = _data(args)
    drill_map.write_drill_map(data, args.hazard, args.out, _export_settings(args), args.paper, args.orientation)
    print(f"wrote {args.out}")
    return 0


def _cards(args: argparse.Namespace) -> int:
    from geo.export import cards, files

    kind = files.suffix(args.out, "")
    if kind not in (".pdf", ".zip"):
        raise ValueError(f"cannot write cards to {args.out}: use a .pdf or .zip file")
    data = _data(args)
    ids = args.hazard or data.select(township=args.township)
    if not ids:
        raise ValueError(f"no active hazard point in {args.township}")
    write = cards.write_cards_archive if kind == ".zip" else cards.write_cards
    write(data, ids, args.out, _export_settings(args))
    print(f"wrote the cards of {len(ids)} hazard point(s) to {args.out}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from geo.export import batch, files

    if files.suffix(args.out, "") != ".zip":
        raise ValueError(f"cannot write a batch to {args.out}: use a .zip file")
    data = _data(args)
    ids = data.active_ids() if args.all else data.select(township=args.township, warning_id=args.warning_id)
    if not ids:
        raise ValueError("no active hazard point in " + (args.township or args.warning_id or "the data"))
    result = batch.write_batch(
        data,
        ids,
        args.out,
        _export_settings(args),
        paper=args.paper,
        orientation=args.orientation,
        progress=batch.stderr_progress,
        workers=args.workers,
    )
    print(
        f"wrote {result.points} hazard point(s), {len(result.files)} files, to {args.out} "
        f"in {result.seconds:.1f} s ({result.workers} worker process(es))"
    )
    return 0


def _vector(args: argparse.Namespace) -> int:
    from geo.export import vector

    fmt = vector.export_format(args.out, args.format)  # refuse a bad name before the analysis runs
    count = vector.write_vector(_data(args), args.export_command, args.out, fmt, args.hazard)
    print(f"wrote {count} {args.export_command} to {args.out} ({fmt})")
    return 0


def _warning_report(args: argparse.Namespace) -> int:
    from geo import store
    from geo.analysis import exposure
    from geo.export import files, reports

    if files.suffix(args.out, "") not in (".xlsx", ".pdf"):
        raise ValueError(f"cannot write the warning report to {args.out}: use a .xlsx or .pdf file")
    own = [] if args.warning else ["warning_areas"]
    layers = store.open(args.data).read_layers([*exposure.INPUT_LAYERS, *own])
    areas = None
    if args.warning:
        areas = exposure.township_warnings(exposure.parse_assignments(args.warning), layers["townships"])
    result = exposure.analyse(layers, areas)
    reports.write_warning_report(result, args.out, _export_settings(args))
    print(f"wrote {args.out}")
    return 0


def _pools_report(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from geo import store
    from geo.analysis import pools
    from geo.export import files, reports

    if files.suffix(args.out, "") != ".xlsx":
        raise ValueError(f"cannot write the pools report to {args.out}: use a .xlsx file")
    names = ["district", "townships", "schools", "pools", *(["roads"] if args.metric == "network" else [])]
    chosen = replace(settings.AnalysisSettings(), k_pools=args.k, service_radius_m=args.radius)
    coverage = pools.pool_coverage(store.open(args.data).read_layers(names), chosen, metric=args.metric)
    reports.write_pools_report(coverage, args.out, _export_settings(args))
    print(f"wrote {args.out}")
    return 0


_RUNNERS = {
    "drill-map": _drill_map,
    "cards": _cards,
    "batch": _batch,
    "routes": _vector,
    "zones": _vector,
    "shelters": _vector,
    "warning-report": _warning_report,
    "pools-report": _pools_report,
}
