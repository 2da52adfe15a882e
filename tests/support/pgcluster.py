"""A throwaway PostgreSQL 15 + PostGIS + pgRouting cluster, and a loader for hazmap layers.

The PostGIS agreement test and the benchmark (``bench.pipeline``) check hazmap against the engines a GIS
department would otherwise use.  Both need a database that nobody has to set up: :func:`throwaway_cluster`
runs ``initdb`` into a temporary directory, serves it on a free port of 127.0.0.1 (and a unix socket inside
that directory) with a random password, and removes it all afterwards, also when the caller fails or the
interpreter exits.  fsync is off: the data dies with the cluster anyway.

The binaries come from the Debian packages ``postgresql-15-postgis-3`` and ``postgresql-15-pgrouting``, which
``make test`` installs (``scripts/setup.sh test``).
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import Connection, sql

from geo.model import crs as model_crs
from geo.model import schema

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_SHARE = Path("/usr/share/postgresql/15")
#: initdb refuses to run as root; as root the cluster runs as this system user (the Debian packages create it).
SERVICE_USER = "postgres"
#: Superuser of the throwaway cluster.
DB_USER = "hazmap"
#: Settings for a cluster whose data may be lost: no flushing to disk, nothing listening beyond this machine.
BASE_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "20",
}
_EXTENSIONS = ("postgis", "pgrouting")
_MISSING_HELP = "run `make test` (scripts/setup.sh test installs postgresql-15-postgis-3 and postgresql-15-pgrouting)"


class ClusterUnavailable(RuntimeError):
    """The PostgreSQL, PostGIS or pgRouting binaries are missing, or the cluster did not start."""


def missing_binaries() -> list[str]:
    """What is missing of PostgreSQL 15, PostGIS and pgRouting; empty when a cluster can be started."""
    wanted = [PG_BIN / "initdb", PG_BIN / "pg_ctl"]
    wanted += [PG_SHARE / "extension" / f"{name}.control" for name in _EXTENSIONS]
    return [str(path) for path in wanted if not path.exists()]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _conf_line(key: str, value: str) -> str:
    escaped = value.replace("'", "''")
    return f"{key} = '{escaped}'\n"


class _Cluster:
    """One initdb'd data directory under a private temporary directory, and how to stop and remove it."""

    def __init__(self) -> None:
        self.owner = None
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam(SERVICE_USER)
            except KeyError as exc:
                raise ClusterUnavailable(
                    f"running as root, but there is no {SERVICE_USER!r} user to run PostgreSQL as: {_MISSING_HELP}"
                ) from exc
        self.root = Path(tempfile.mkdtemp(prefix="hazmap-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.password = secrets.token_urlsafe(24)
        self.port = 0
        self.running = False
        # Registered before anything can fail, so an interpreter that dies mid-start still removes the files.
        atexit.register(self.remove)
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if self.owner is not None:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def _check(self, what: str, done: subprocess.CompletedProcess) -> None:
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise ClusterUnavailable(f"{what} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}")

    def init(self, settings: Mapping[str, str]) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password)
        if self.owner is not None:
            os.chown(pwfile, self.owner.pw_uid, self.owner.pw_gid)
        done = self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            DB_USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        self._check("initdb", done)
        with open(self.data / "postgresql.conf", "a") as conf:
            for key, value in {**BASE_SETTINGS, **settings, "unix_socket_directories": str(self.root)}.items():
                conf.write(_conf_line(key, str(value)))

    def start(self) -> None:
        # Another process may take the port between probing and binding it; a second port nearly always works.
        for attempt in range(3):
            self.port = _free_port()
            done = self._run(
                str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                "-o", f"-p {self.port}",
            )  # fmt: skip
            if done.returncode == 0:
                self.running = True
                return
            if attempt == 2:
                self._check("pg_ctl start", done)

    @property
    def url(self) -> str:
        return f"postgresql://{DB_USER}:{quote(self.password)}@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        if self.running:
            self._run(str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", "immediate", "-D", str(self.data))
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.remove)


@contextmanager
def throwaway_cluster(settings: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start a private PostgreSQL 15 cluster with PostGIS and pgRouting; yield its connection URL.

    Parameters
    ----------
    settings
        Extra ``postgresql.conf`` settings (e.g. ``shared_buffers``), on top of :data:`BASE_SETTINGS`.

    Yields
    ------
    str
        ``postgresql://hazmap:<password>@127.0.0.1:<port>/postgres``; the extensions exist in that database.

    Raises
    ------
    ClusterUnavailable
        The binaries are missing (the message says to run ``make test``), or initdb or the server failed (the
        message carries the server log).
    """
    missing = missing_binaries()
    if missing:
        raise ClusterUnavailable(f"PostgreSQL/PostGIS/pgRouting not installed ({', '.join(missing)}): {_MISSING_HELP}")
    cluster = _Cluster()
    try:
        cluster.init(settings or {})
        cluster.start()
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            for name in _EXTENSIONS:
                conn.execute(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(name)))
        yield cluster.url
    finally:
        cluster.remove()


def backend_peak_rss_kib(conn: Connection) -> int | None:
    """Peak resident memory in KiB of the server process serving ``conn`` (a local cluster only)."""
    pid = conn.info.backend_pid
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)


# --------------------------------------------------------------------------------------------------
# Loading hazmap layers

_SQL_TYPES = {"text": "text", "int": "bigint", "real": "double precision", "bool": "boolean"}


def _column_values(frame: pd.DataFrame, name: str) -> list:
    """A column as Python values with None for missing, the way COPY wants them."""
    values = frame[name].astype(object)
    return values.where(values.notna(), None).tolist()


def load_layers(conn: Connection, layers: Mapping[str, gpd.GeoDataFrame], metric_srid: int) -> dict[str, int]:
    """Write hazmap layers into PostGIS tables named after the layers; return the rows per table.

    Each table gets ``fid`` (the row's position in the frame, from 0), the data-model columns the frame has, the
    geometry as stored (``geom``, SRID 4490) and PostGIS' own projection of it into the metric CRS (``geom_m``),
    both with a GiST index.  Rows are streamed with COPY as hex EWKB; existing tables are replaced.

    Parameters
    ----------
    conn
        An open connection (autocommit or not; the load runs in one transaction).
    layers
        Layer name -> frame in EPSG:4490 (or 4326, taken as 4490 as docs/data-model.md allows); only data-model layers.
    metric_srid
        EPSG code of the metric CRS (the Gauss-Krueger zone of the data, e.g. 4548).

    Raises
    ------
    ValueError
        A layer is not in the data model, or its CRS is neither EPSG:4490 nor EPSG:4326.
    """
    unknown = [name for name in layers if name not in schema.LAYERS]
    if unknown:
        raise ValueError(f"not data-model layers: {', '.join(unknown)}")
    counts = {}
    with conn.transaction():
        for name, frame in layers.items():
            if frame.crs is None or frame.crs.to_epsg() not in model_crs.ACCEPTED_CRS:
                raise ValueError(f"{name}: expected EPSG:4490, got {frame.crs}")
            fields = [f for f in schema.LAYERS[name].fields if f.name in frame.columns]
            table = sql.Identifier(name)
            columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields)
            definitions = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_SQL_TYPES[f.kind])) for f in fields
            )
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (fid integer PRIMARY KEY, {}, geom geometry(Geometry, 4490), geom_m geometry)"
                ).format(table, definitions)
            )
            # COPY into a staging table, then one INSERT that adds the projection: an UPDATE afterwards would
            # leave every row behind as a dead tuple for the queries to wade through.
            conn.execute("DROP TABLE IF EXISTS pg_temp.staging")
            conn.execute(
                sql.SQL("CREATE TEMP TABLE staging (fid integer, {}, geom geometry(Geometry, 4490))").format(
                    definitions
                )
            )
            geoms = shapely.to_wkb(shapely.set_srid(frame.geometry.to_numpy(), 4490), hex=True, include_srid=True)
            rows = zip(range(len(frame)), *(_column_values(frame, f.name) for f in fields), geoms, strict=True)
            with (
                conn.cursor() as cur,
                cur.copy(sql.SQL("COPY staging (fid, {}, geom) FROM STDIN").format(columns)) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            conn.execute(
                sql.SQL("INSERT INTO {} SELECT fid, {}, geom, ST_Transform(geom, %s::integer) FROM staging").format(
                    table, columns
                ),
                [metric_srid],
            )
            conn.execute("DROP TABLE staging")
            for column in ("geom", "geom_m"):
                conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(table, sql.Identifier(column)))
            conn.execute(sql.SQL("ANALYZE {}").format(table))
            counts[name] = len(frame)
    return counts


def new_database(cluster_url: str, template: str = "template1") -> str:
    """URL of a new database in the cluster, a copy of ``template`` (by default empty, without PostGIS)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return urlunsplit(urlsplit(cluster_url)._replace(path=f"/{name}"))
