"""Time hazmap's whole pipeline against PostGIS + pgRouting doing the same work on the same data.

Run from the project root::

    .venv/bin/python -m bench.pipeline [--scale 100] [--seed 2022] [--repeat 3] [--route-sample 100]

The data is the synthetic demo (``geo.demo.build``) at the given scale, written once to
``bench/output/demo-scale<scale>-seed<seed>-<generator hash>.gpkg`` by ``python -m geo demo-data`` in a child
process (so that building it does not count in this process' peak memory) and reused while the file exists and
``geo/demo.py`` is unchanged.

hazmap: reading the GeoPackage, the exposure by warning area, the evacuation routes, pool coverage and pool
siting, each timed alone, then the whole pipeline (read + all four) timed as one; every figure is the median of
``--repeat`` runs.  The peer: a throwaway PostgreSQL 15 cluster (``tests/support/pgcluster.py``) with PostGIS
and pgRouting runs the SQL of ``bench/peer_sql`` (see ``bench/peer.py``).  Loading the layers and building
pgRouting's topology happen once and are reported, not counted: a PostGIS deployment keeps both between
analyses.  Snapping the points to the roads is counted, as hazmap does it in every analysis.  Pool siting (a
MCLP solved by CBC) has no SQL counterpart and is timed for hazmap only.

pgRouting answers one search per set of danger zones the routes may pass, each loading the whole network, so at
province scale routing every hazard point would take most of an hour.  ``--route-sample N`` then routes the same
N hazard points (every k-th by hazard_id) in both engines, and the full pgRouting time is extrapolated from the
time per search (a lower bound: choosing shelters for all routes is not included).

Finally the engines' answers are compared: exposure counts must be equal, sampled routes must reach the same
shelters with lengths within the near-miss slack of ``peer.route_agreement``, and the same number of schools must
be covered by a pool.  Figures and checks are printed and written to ``bench/output/results-scale<scale>.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
from pyproj import CRS

from bench import peer
from geo import store
from geo.analysis import evacuation, exposure, pools, siting
from geo.model import crs as model_crs
from geo.settings import ROOT, AnalysisSettings
from tests.support import pgcluster

OUTPUT = ROOT / "bench" / "output"
#: PostgreSQL settings of the peer: memory for a 2-core, 24 GB machine; JIT off, since it only slows queries of
#: this size down.
PEER_SETTINGS = {
    "shared_buffers": "2GB",
    "work_mem": "256MB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "8GB",
    "max_wal_size": "8GB",
    "jit": "off",
}
#: Open pools the peer routes per school, nearest first in a straight line (KNN ``<->``).
POOL_CANDIDATES = 10
#: hazmap's targets: the whole pipeline at province scale (scale 100) and at district scale (scale 1), seconds;
#: and how many times faster than the peer.
PROVINCE_TARGET_S = 60.0
DISTRICT_TARGET_S = 2.0
SPEEDUP_TARGET = 2.0


def timed(step: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs of ``step``, and what the last run returned."""
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def demo_file(scale: int, seed: int) -> tuple[Path, float | None]:
    """The demo GeoPackage of this scale and seed, and the seconds it took to write it (None if it existed).

    The name carries a hash of the generator's source: a changed generator writes a new file instead of the
    benchmark timing the data of an older one.
    """
    generator = hashlib.sha256((ROOT / "geo" / "demo.py").read_bytes()).hexdigest()[:10]
    path = OUTPUT / f"demo-scale{scale}-seed{seed}-{generator}.gpkg"
    if path.exists():
        return path, None
    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "geo", "demo-data", "--out", str(path), "--scale", str(scale), "--seed", str(seed)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return path, time.perf_counter() - started


def route_sample(hazard_points: gpd.GeoDataFrame, size: int) -> list[str] | None:
    """Every k-th active hazard point by hazard_id, ``size`` of them; None (all) when there are no more."""
    ids = sorted(hazard_points.loc[hazard_points["status"] == "active", "hazard_id"])
    if size <= 0 or size >= len(ids):
        return None
    return [ids[i * len(ids) // size] for i in range(size)]


def run_hazmap(path: Path, repeat: int, sample: list[str] | None) -> dict[str, Any]:
    """Time hazmap's steps and whole pipeline; return the times, the results the checks need, and peak memory."""
    times: dict[str, float] = {}
    times["read"], layers = timed(lambda: store.open(path).read_layers(), repeat)
    times["exposure"], exposed = timed(lambda: exposure.analyse(layers), repeat)
    times["routes"], routes = timed(lambda: evacuation.evacuation_routes(layers), repeat)
    if sample is not None:
        times["routes_sample"], routes = timed(lambda: evacuation.evacuation_routes(layers, hazard_ids=sample), repeat)
    times["pools"], coverage = timed(lambda: pools.pool_coverage(layers), repeat)
    times["siting"], _ = timed(lambda: siting.site_pools(layers), repeat)

    def pipeline() -> None:
        data = store.open(path).read_layers()
        exposure.analyse(data)
        evacuation.evacuation_routes(data)
        pools.pool_coverage(data)
        siting.site_pools(data)

    times["pipeline"], _ = timed(pipeline, repeat)
    return {
        "times": times,
        "layers": layers,
        "exposure": exposed,
        "routes": routes,
        "coverage": coverage,
        "coverage_crs": model_crs.data_metric_crs(layers),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_peer(layers: dict[str, gpd.GeoDataFrame], repeat: int, sample: list[str] | None) -> dict[str, Any]:
    """Load the layers into a throwaway PostGIS cluster and time the same analyses there."""
    analysis = AnalysisSettings()
    srid = CRS(model_crs.metric_crs(layers["roads"])).to_epsg()
    times: dict[str, float] = {}
    with pgcluster.throwaway_cluster(PEER_SETTINGS) as url, psycopg.connect(url, autocommit=True) as conn:
        versions = conn.execute("SELECT version(), postgis_lib_version(), pgr_version()").fetchone()
        times["load"], _ = timed(lambda: pgcluster.load_layers(conn, layers, srid), 1)
        times["topology"], _ = timed(lambda: peer.prepare_network(conn, analysis.snap_tolerance_m), 1)
        steps = {
            "exposure": lambda: peer.exposure_counts(conn),
            "snap": lambda: peer.snap(conn, analysis.max_snap_distance_m),
            "routes": lambda: peer.evacuation_routes(conn, sample),
            "pools": lambda: peer.pool_coverage(conn, analysis.k_pools, POOL_CANDIDATES),
        }
        # Step by step within each run, since routes and pools need the snap of the same run.
        seconds: dict[str, list[float]] = {step: [] for step in steps}
        last: dict[str, Any] = {}
        for _ in range(repeat):
            for step, run in steps.items():
                took, last[step] = timed(run, 1)
                seconds[step].append(took)
        times |= {step: statistics.median(took) for step, took in seconds.items()}
        routes = last["routes"]
        if sample is not None:
            times["routes_sample"] = times["routes"]
            # Preparing every route is cheap next to the searches; time it, then add the searches at the
            # sample's rate per search.
            prepare_s, groups = timed(lambda: peer.route_groups(conn), 1)
            per_search = routes.attrs["search_s"] / max(routes.attrs["searches"], 1)
            times["routes"] = prepare_s + len(groups) * per_search
            times["routes_full_searches"] = len(groups)
        backend_kib = pgcluster.backend_peak_rss_kib(conn)
    return {
        "times": times,
        "counts": last["exposure"],
        "routes": routes,
        "nearest": last["pools"],
        "versions": versions,
        "crs": f"EPSG:{srid}",
        "backend_peak_rss_mib": None if backend_kib is None else backend_kib / 1024,
    }


def checks(ours: dict[str, Any], theirs: dict[str, Any], radius_m: float) -> list[tuple[str, bool, str]]:
    """Whether the engines agree: (what, agrees, details) for the exposure, the routes and pool coverage."""
    out = []
    hazmap_counts = peer.hazmap_exposure_counts(ours["exposure"])
    postgis_counts = peer.sorted_counts(theirs["counts"])
    equal = hazmap_counts.equals(postgis_counts)
    out.append(("exposure counts equal", equal, f"{len(hazmap_counts)} groups (areas, levels, townships, district)"))

    tolerance = AnalysisSettings().snap_tolerance_m
    both = peer.route_agreement(ours["routes"].routes, theirs["routes"], tolerance)
    problems = {what: len(rows) for what, rows in peer.route_disagreements(both).items() if len(rows)}
    reached = both[both["reachable"].astype(bool) & both["reachable_pg"].astype(bool)]
    exact = int((reached["difference"] <= peer.SAME_LENGTH_M).sum())
    details = (
        f"{len(both)} routes, {len(reached)} reachable in both; lengths equal to 1 mm on {exact}, largest difference "
        f"{reached['difference'].max():.2f} m (near-miss joins)"
    )
    out.append(("routes: same reachability, shelters, lengths", not problems, details + f"; problems {problems}"))

    table = ours["coverage"].nearest
    first = table[table["rank"] == 1].set_index("school_id")
    their_first = theirs["nearest"][theirs["nearest"]["rank"] == 1].set_index("school_id").reindex(first.index)
    covered, their_covered = (int((f["distance_m"] <= radius_m).sum()) for f in (first, their_first))
    relative = ((first["distance_m"] - their_first["distance_m"]).abs() / first["distance_m"]).median()
    out.append(
        (
            "pool coverage: schools covered equal",
            covered == their_covered,
            f"covered {covered} vs {their_covered} of {len(first)}; same nearest pool for "
            f"{int((first['pool_id'] == their_first['pool_id']).sum())}; median relative difference of the nearest "
            f"distance {relative:.1e} (hazmap measures pools in {ours['coverage_crs']}, the peer everything in "
            f"{theirs['crs']}; near-miss joins as for routes)",
        )
    )
    return out


def _ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "-"
    return f"{ours / theirs:6.3f}  ({theirs / ours:5.1f}x)"


def report(args: argparse.Namespace, data: dict[str, Any]) -> str:
    """The figures as text: machine, data, times side by side, memory, targets and checks."""
    ours, theirs = data["hazmap"]["times"], data["peer"]["times"]
    sampled = data["sample"] is not None
    lines = [
        f"hazmap vs PostGIS + pgRouting — demo scale {args.scale} (seed {args.seed}), median of {args.repeat} run(s)",
        f"machine: {data['machine']}",
        f"peer: {data['peer']['versions'][0].split(',')[0]}, PostGIS {data['peer']['versions'][1]}, "
        f"pgRouting {data['peer']['versions'][2]}",
        f"data: {data['counts']}",
        f"{'data written in ' + format(data['written_s'], '.1f') + ' s' if data['written_s'] else 'data reused'}: "
        f"{data['path']}",
        "",
        f"{'step':<46}{'hazmap s':>10}{'peer s':>10}   hazmap/peer (speed-up)",
    ]
    rows = [
        ("read GeoPackage / load PostGIS (once)", ours["read"], theirs["load"]),
        ("pgRouting topology (once, not counted)", None, theirs["topology"]),
        ("exposure by warning area", ours["exposure"], theirs["exposure"]),
        ("snap points to roads (peer)", None, theirs["snap"]),
    ]
    if sampled:
        rows.append(
            (f"routes, {len(data['sample'])} sampled hazard points", ours["routes_sample"], theirs["routes_sample"])
        )
        rows.append(
            (f"routes, all (peer: {theirs['routes_full_searches']} searches, est.)", ours["routes"], theirs["routes"])
        )
    else:
        rows.append(("evacuation routes", ours["routes"], theirs["routes"]))
    rows += [
        ("pool coverage (k nearest)", ours["pools"], theirs["pools"]),
        ("pool siting (MCLP; no SQL peer)", ours["siting"], None),
    ]
    comparable_ours = ours["read"] + ours["exposure"] + ours["routes"] + ours["pools"]
    comparable_theirs = theirs["exposure"] + theirs["snap"] + theirs["routes"] + theirs["pools"]
    rows += [
        ("same work: hazmap read+exp+routes+pools", comparable_ours, comparable_theirs),
        ("whole hazmap pipeline (read + all four)", ours["pipeline"], None),
    ]
    for name, a, b in rows:
        lines.append(
            f"{name:<46}{'' if a is None else format(a, '10.2f'):>10}{'' if b is None else format(b, '10.2f'):>10}"
            f"   {_ratio(a, b)}"
        )
    backend = data["peer"]["backend_peak_rss_mib"]
    lines += [
        "",
        f"peak memory: hazmap process {data['hazmap']['peak_rss_mib']:.0f} MiB (ru_maxrss); PostgreSQL backend "
        f"{'n/a' if backend is None else format(backend, '.0f') + ' MiB'} (VmHWM, includes the shared buffers it "
        f"touched; shared_buffers {PEER_SETTINGS['shared_buffers']})",
    ]
    if sampled:
        lines.append(
            f"routes: the peer routed {len(data['sample'])} of the active hazard points (every k-th by hazard_id) in "
            "both engines; its full time is extrapolated from the time per search (a lower bound)."
        )
    speedup = comparable_theirs / comparable_ours
    lines.append(f"same work: hazmap is {speedup:.1f}x as fast as the peer")
    targets = []
    if args.scale >= 100:
        targets += [
            (f"whole pipeline < {PROVINCE_TARGET_S:g} s at province scale", ours["pipeline"] < PROVINCE_TARGET_S),
            (f"≥ {SPEEDUP_TARGET:g}x as fast as the peer at province scale", speedup >= SPEEDUP_TARGET),
        ]
    if args.scale == 1:
        targets.append(
            (f"whole pipeline < {DISTRICT_TARGET_S:g} s at district scale", ours["pipeline"] < DISTRICT_TARGET_S)
        )
    lines += ["", "targets:"]
    lines += [f"  [{'PASS' if ok else 'FAIL'}] {what}" for what, ok in targets] or ["  (none at this scale)"]
    lines += ["", "agreement:"]
    lines += [f"  [{'PASS' if ok else 'FAIL'}] {what}: {details}" for what, ok, details in data["checks"]]
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores, memory and load, for the record next to the figures."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    memory = f"{memory_kib / 2**20:.0f} GiB"
    return f"{model}, {os.cpu_count()} cores, {memory}, Python {platform.python_version()}, load {load}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100, help="copies of the demo district (100 = province scale)")
    parser.add_argument("--seed", type=int, default=2022, help="seed of the demo data")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step; the median is reported")
    parser.add_argument(
        "--route-sample",
        type=int,
        default=100,
        help="hazard points the peer routes when there are more (0: route all, however long it takes)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    path, written_s = demo_file(args.scale, args.seed)
    sample = route_sample(store.open(path).read_layer("hazard_points"), args.route_sample)
    hazmap = run_hazmap(path, args.repeat, sample)
    machine_text = machine()
    theirs = run_peer(hazmap["layers"], args.repeat, sample)
    data = {
        "machine": machine_text,
        "path": str(path.relative_to(ROOT)),
        "written_s": written_s,
        "counts": ", ".join(f"{name} {len(frame)}" for name, frame in hazmap["layers"].items()),
        "sample": sample,
        "hazmap": hazmap,
        "peer": theirs,
        "checks": checks(hazmap, theirs, AnalysisSettings().service_radius_m),
    }
    text = report(args, data)
    print(text)
    record = {
        "command": " ".join(["python -m bench.pipeline", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine_text,
        "hazmap_s": hazmap["times"],
        "peer_s": theirs["times"],
        "hazmap_peak_rss_mib": hazmap["peak_rss_mib"],
        "peer_backend_peak_rss_mib": theirs["backend_peak_rss_mib"],
        "route_sample": sample,
        "checks": [{"check": what, "agrees": ok, "details": details} for what, ok, details in data["checks"]],
        "report": text,
    }
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"results-scale{args.scale}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False))
    return 0 if all(ok for _, ok, _ in data["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
