"""``python -m geo``: every analysis and export of hazmap without the web app.

Each sub-command has an ``_add_<name>`` function that declares its options and a ``_cmd_<name>`` function
that runs it; both stay thin: the work happens in the ``geo`` modules they call.  With ``--json`` a command
prints one JSON document on stdout (the contract scripts rely on); without it, a readable table.
"""

from __future__ import annotations

import argparse
import json
import sys

from geo import settings

# Exit codes: 0 ok, 1 the data broke a rule (validation failed), 2 usage or input error.
EXIT_INVALID = 1
EXIT_USAGE = 2


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _add_data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="GeoPackage to use (default: $HAZMAP_DATA, else the demo hazard_points.gpkg)")


def _add_demo_data(sub) -> None:
    p = sub.add_parser("demo-data", help="write the synthetic demo district (生成演示数据)")
    p.add_argument("--out", default=str(settings.DEMO_DATA), help="GeoPackage to write")
    p.add_argument("--scale", type=int, default=1, help="multiply feature counts (100 = province scale)")
    p.add_argument("--seed", type=int, default=2022, help="random seed; the same seed gives the same file")


def _cmd_demo_data(args) -> int:
    from geo import demo, store

    gdfs = demo.build(scale=args.scale, seed=args.seed)
    store.open(args.out).create(gdfs, user="demo-data")
    counts = ", ".join(f"{name} {len(gdf)}" for name, gdf in gdfs.items())
    print(f"wrote {args.out}: {counts}")
    return 0


def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check a data set against the data model (校验数据)")
    _add_data_option(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _cmd_validate(args) -> int:
    from geo import store

    report = store.open(args.data).validate()
    if args.json:
        _print_json({"data": args.data.label, **report.to_dict()})
    else:
        print(f"{args.data.label}: {report.summary()}")
    return 0 if report.ok else EXIT_INVALID


def _add_exposure(sub) -> None:
    p = sub.add_parser("exposure", help="hazard points, people, schools and shelters under warnings (预警区受威胁人口)")
    _add_data_option(p)
    p.add_argument(
        "--warnings",
        metavar="FILE",
        help="GeoPackage (.gpkg) or GeoJSON (.geojson/.json) of warning areas, read as the Warning page reads an "
        "upload (default: the data's own)",
    )
    p.add_argument(
        "--warnings-layer",
        metavar="LAYER",
        help="layer of --warnings (default: warning_areas if present, else the first)",
    )
    p.add_argument(
        "--warning",
        action="append",
        default=[],
        metavar="TOWNSHIP=LEVEL",
        help="put a whole township under a warning, e.g. 丽阳镇=orange or 丽阳镇=橙色; repeatable",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _cmd_exposure(args) -> int:
    from geo import store
    from geo.analysis import exposure
    from geo.importers.warning_areas import read_warning_areas

    if args.warnings_layer and not args.warnings:
        raise ValueError("--warnings-layer needs --warnings FILE")
    # The file first: a bad one is refused, with the Warning page's own messages, before the data set is read.
    warnings = [read_warning_areas(args.warnings, layer=args.warnings_layer)] if args.warnings else []
    own = [] if args.warnings or args.warning else ["warning_areas"]
    layers = store.open(args.data).read_layers([*exposure.INPUT_LAYERS, *own])
    if args.warning:
        warnings.append(exposure.township_warnings(exposure.parse_assignments(args.warning), layers["townships"]))
    result = exposure.analyse(layers, warnings or None)
    if args.json:
        _print_json({"data": args.data.label, **result.to_json_dict()})
    else:
        print(f"{args.data.label}\n\n{result.to_text()}")
    return 0


def _pool_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``pools`` and ``site-pools``."""
    _add_data_option(p)
    defaults = settings.AnalysisSettings()
    p.add_argument("--radius", type=float, default=defaults.service_radius_m, help="service radius in metres")
    p.add_argument(
        "--metric",
        choices=["network", "straight"],
        default="network",
        help="route length along roads (straight-line fallback, marked) or straight-line distance",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _pool_layers(args) -> dict:
    """The layers the pool analyses read (roads only for the network metric)."""
    from geo import store

    names = ["district", "townships", "schools", "pools", *(["roads"] if args.metric == "network" else [])]
    return store.open(args.data).read_layers(names)


def _add_pools(sub) -> None:
    p = sub.add_parser("pools", help="pool coverage of schools, township requirements, budget, staffing (游泳池覆盖)")
    _pool_options(p)
    p.add_argument("--k", type=int, default=settings.AnalysisSettings().k_pools, help="nearest open pools per school")


def _cmd_pools(args) -> int:
    from dataclasses import replace

    from geo.analysis import pools

    layers = _pool_layers(args)
    chosen = replace(settings.AnalysisSettings(), k_pools=args.k, service_radius_m=args.radius)
    result = pools.pool_coverage(layers, chosen, metric=args.metric)
    if args.json:
        _print_json({"data": args.data.label, **result.to_dict()})
    else:
        print(f"{args.data.label}\n\n{result.to_text()}")
    return 0


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LON,LAT (e.g. 117.21,29.30), not {text!r}") from None
    return lon, lat


def _add_site_pools(sub) -> None:
    p = sub.add_parser("site-pools", help="where new pools would bring the most grade-4 pupils in reach (泳池选址)")
    _pool_options(p)
    p.add_argument("--p", type=int, default=2, help="number of new sites to choose")
    p.add_argument(
        "--candidates",
        default="schools",
        metavar="FILE|schools|township-seats|grid",
        help="candidate sites: a file of points (GeoPackage, GeoJSON, Shapefile ...) or one generated set "
        "(default: schools without a pool)",
    )
    p.add_argument("--grid-spacing", type=float, default=1000.0, help="spacing of the grid candidates, metres")
    p.add_argument(
        "--require-each-township",
        action="store_true",
        help="put a new site in every township without an open pool of its own (二(二)1)",
    )
    p.add_argument("--what-if", type=_lonlat, metavar="LON,LAT", help="only tell what one new pool here would gain")


def _cmd_site_pools(args) -> int:
    from dataclasses import replace

    import geopandas as gpd
    from pyogrio.errors import DataLayerError, DataSourceError

    from geo.analysis import siting

    layers = _pool_layers(args)
    chosen = replace(settings.AnalysisSettings(), service_radius_m=args.radius)
    if args.what_if:
        result = siting.what_if(layers, args.what_if, chosen, metric=args.metric)
    else:
        candidates = args.candidates
        if candidates not in siting.CANDIDATE_KINDS:
            try:
                candidates = gpd.read_file(candidates)
            except (DataSourceError, DataLayerError) as exc:
                raise ValueError(f"cannot read candidate sites from {args.candidates}: {exc}") from exc
        result = siting.site_pools(
            layers,
            chosen,
            p=args.p,
            candidates=candidates,
            grid_spacing_m=args.grid_spacing,
            metric=args.metric,
            require_each_township=args.require_each_township,
        )
    if args.json:
        _print_json({"data": args.data.label, **result.to_dict()})
    else:
        print(f"{args.data.label}\n\n{result.to_text()}")
    return 0


def _add_routes(sub) -> None:
    p = sub.add_parser("routes", help="evacuation routes from danger zones to shelters, shelter load (避险转移路线)")
    _add_data_option(p)
    p.add_argument("--hazard", nargs="+", metavar="ID", help="route only these active hazard points (default: all)")
    p.add_argument(
        "--speed",
        type=float,
        default=settings.AnalysisSettings().walk_speed_kmh,
        help="walking speed in km/h for the walking time",
    )
    p.add_argument("--out", metavar="FILE.gpkg|FILE.geojson", help="also write the routes layer to this file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _cmd_routes(args) -> int:
    from dataclasses import replace

    from geo import store
    from geo.analysis import evacuation

    if args.out:
        evacuation.route_file_driver(args.out)  # refuse a bad file name before the analysis runs
    layers = store.open(args.data).read_layers(list(evacuation.INPUT_LAYERS))
    chosen = replace(settings.AnalysisSettings(), walk_speed_kmh=args.speed)
    result = evacuation.evacuation_routes(layers, chosen, hazard_ids=args.hazard)
    if args.out:
        evacuation.write_routes(result.routes, args.out)
    if args.json:
        _print_json({"data": args.data.label, **result.to_json_dict()})
    else:
        print(f"{args.data.label}\n\n{result.to_text()}")
        if args.out:
            print(f"\nwrote {len(result.routes)} routes to {args.out}")
    return 0


def _add_db(sub) -> None:
    p = sub.add_parser("db", help="copy a data set between a GeoPackage and a PostGIS database (数据库同步)")
    actions = p.add_subparsers(dest="db_action", required=True)
    url_help = (
        "postgresql://user@host:port/database; give the password in PGPASSWORD or ~/.pgpass rather than in the "
        "URL, which other users of this machine can see in the process list"
    )
    push = actions.add_parser("push", help="load a GeoPackage into the database, replacing the data set there")
    push.add_argument("--from", dest="source", required=True, metavar="FILE.gpkg", help="the GeoPackage to load")
    push.add_argument("--to", dest="target", required=True, metavar="URL", help=url_help)
    pull = actions.add_parser("pull", help="write the database's data set to a GeoPackage")
    pull.add_argument("--from", dest="source", required=True, metavar="URL", help=url_help)
    pull.add_argument("--to", dest="target", required=True, metavar="FILE.gpkg", help="the GeoPackage to write")
    for action in (push, pull):
        action.add_argument("--user", help="who copies, for the audit log (default: the login name)")


def _cmd_db(args) -> int:
    import getpass

    from geo.model.schema import SchemaError
    from geo.store import Source, transfer

    copy = transfer.push if args.db_action == "push" else transfer.pull
    source, target = Source.of(args.source), Source.of(args.target)
    try:
        counts = copy(source, target, user=args.user or getpass.getuser())
    except SchemaError as exc:
        print(f"{source}: {exc.report.summary()}", file=sys.stderr)
        return EXIT_INVALID
    print(f"copied {source} to {target}: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    return 0


def _add_import(sub) -> None:
    p = sub.add_parser(
        "import",
        help="preview, then import an inventory (Excel/CSV/Shapefile/GeoJSON/KML/GeoPackage) into a layer (导入台账)",
    )
    p.add_argument("file", help="the source file (.xlsx .csv .shp .zip .geojson .kml .kmz .gpkg)")
    p.add_argument("--layer", required=True, help="target layer: hazard_points, villages, schools, pools, shelters ...")
    _add_data_option(p)
    p.add_argument("--source-layer", metavar="NAME", help="layer of a GeoPackage/KML, or data set inside a zip")
    p.add_argument("--sheet", metavar="NAME", help="sheet of a workbook (default: the first with a header row)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only preview (the default)")
    mode.add_argument("--yes", action="store_true", help="write after the preview")
    p.add_argument(
        "--partial", action="store_true", help="with --yes, write the valid rows even if others are rejected"
    )
    p.add_argument("--encoding", metavar="E", help="text encoding of a CSV or a shapefile's .dbf (e.g. GBK)")
    p.add_argument("--crs", metavar="EPSG:N", help="coordinate system of the source, overriding detection")
    p.add_argument("--from-gcj02", action="store_true", help="lon/lat digitised on Gaode (GCJ-02): convert them")
    p.add_argument("--rejected-out", metavar="FILE.csv|FILE.xlsx", help="write rejected rows with 错误原因 to fix")
    p.add_argument("--user", help="who imports, for the audit log (default: the login name)")
    p.add_argument("--json", action="store_true", help="print the preview (and what was written) as JSON")


def _cmd_import(args) -> int:
    import getpass

    from geo import importers

    options = importers.ImportOptions(
        args.layer, args.source_layer, args.sheet, args.encoding, args.crs, args.from_gcj02
    )
    if args.rejected_out:
        # Before anything is read or written: a wrong name for the rejected rows would overwrite the inventory.
        importers.check_rejected_out(args.rejected_out, args.file, args.data)
    plan = importers.preview_import(args.file, args.data, options)
    if args.rejected_out and plan.rejected:
        importers.write_rejected(plan, args.rejected_out)
    result = None
    if args.yes and not plan.blocked(args.partial):
        result = importers.apply_plan(plan, user=args.user or getpass.getuser(), partial=args.partial)
    if args.json:
        _print_json({**plan.to_dict(), "written": result is not None, "result": result and result.to_dict()})
    else:
        print(plan.to_text() + "\n")
        if result is not None:
            counts = f"{len(result.added)} added, {len(result.updated)} updated"
            print(f"已写入 / written to {plan.data.label}: {counts}")
        elif args.yes:
            print(
                f"{len(plan.rejected)} 行被拒绝，未写入 / {len(plan.rejected)} row(s) rejected: nothing written; "
                "fix them (--rejected-out FILE.csv) or import the valid rows only (--partial)"
            )
        else:
            print("预览，未写入 / dry run: nothing written (add --yes to write)")
        if args.rejected_out and plan.rejected:
            print(f"rejected rows written to {args.rejected_out}")
    return EXIT_INVALID if plan.rejected else 0


def _add_users(sub) -> None:
    p = sub.add_parser("users", help="the web app's users and their roles: viewer, editor, admin (用户管理)")
    actions = p.add_subparsers(dest="users_action", required=True)
    add = actions.add_parser("add", help="add a user; asks for the password twice")
    add.add_argument("name", help="login name (letters, digits, _ . @ -), or an e-mail address for single sign-on")
    add.add_argument("--role", required=True, help="viewer (browse, export), editor (+ edit, import), admin (+ users)")
    change = actions.add_parser("set", help="change a user's role and/or password")
    change.add_argument("name")
    change.add_argument("--role", help="the new role")
    change.add_argument("--password", action="store_true", help="ask for a new password")
    listing = actions.add_parser("list", help="list the users and their roles")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("name")
    for action in (add, change):
        action.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (for scripts; never put it in a command)",
        )
    for action in (add, change, listing, remove):
        action.add_argument(
            "--file", metavar="USERS.yaml", help="user file (default: $HAZMAP_USERS, else .streamlit/users.yaml)"
        )


def _cmd_users(args) -> int:
    import getpass

    from geo.access import auth

    path = auth.users_path(args.file)
    if args.users_action == "list":
        accounts = auth.read_users(path) if path.exists() else {}
        if args.json:
            _print_json({"file": str(path), "users": [{"name": a.name, "role": a.role} for a in accounts.values()]})
        elif not accounts:
            print(f"{path}: no users; the web app runs read-only until one is added")
        else:
            print("\n".join(f"{a.name}\t{a.role}" for a in accounts.values()))
        return 0
    if args.users_action == "remove":
        auth.remove_user(path, args.name)
        print(f"removed {args.name} from {path}")
        return 0
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif args.users_action == "add" or args.password:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("repeat it: ") != password:
            raise ValueError("the two passwords differ; nothing changed")
    if args.users_action == "add":
        account = auth.add_user(path, args.name, args.role, password)
    elif password is None and args.role is None:
        raise ValueError("nothing to change: give --role and/or --password")
    else:
        account = auth.update_user(path, args.name, role=args.role, password=password)
    print(f"{args.users_action} {account.name}: {account.role} in {path}")
    return 0


def _add_export(sub) -> None:
    from geo.export import commands

    commands.add_parser(sub)


def _cmd_export(args) -> int:
    from geo.export import commands

    return commands.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geo", description="hazmap 昌江区地灾防治与游泳教育一张图")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, obj in list(globals().items()):
        if name.startswith("_add_") and name != "_add_data_option":
            obj(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = globals()["_cmd_" + args.command.replace("-", "_")]
    from geo.store import Source, StoreError

    if "data" in args:
        args.data = Source.of(args.data)  # the data source is made once; every command takes it from here

    try:
        return handler(args)
    except (StoreError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
