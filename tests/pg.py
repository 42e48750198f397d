"""A throwaway PostgreSQL server for the tests and the benchmark, and one fresh schema per test.

Why a schema per test and not a database: ``CREATE SCHEMA`` is instant, and a bot process confined to
it by ``search_path`` (part of the URL) sees a database of its own, including Alembic's version table.
The server comes from ``PAPERS_BOT_TEST_DATABASE_URL`` (``.ci/run`` starts one) or, failing that, is
started here with ``initdb``/``pg_ctl`` in a temporary folder on a random loopback port. As root (CI,
sessions) ``initdb`` refuses to run, so it runs as the ``postgres`` system user via ``runuser``.

Under pytest-xdist every worker keeps to a database of its own (``worker_database``): on the server of
``PAPERS_BOT_TEST_DATABASE_URL`` each worker creates one and drops it at the end; a worker that starts
its own throwaway cluster has that cluster to itself anyway.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

__all__ = ["ENV_VAR", "PgCluster", "find_pg_bin", "fresh_schema", "schema_url", "worker_database"]

ENV_VAR = "PAPERS_BOT_TEST_DATABASE_URL"
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=300")


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, or Debian's versioned folder."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """``initdb`` + ``pg_ctl start`` in a temp folder; ``stop()`` kills it and removes the folder."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        """``durable=False`` (tests) turns fsync off; benchmarks want the production behaviour."""
        self.bin_dir = bin_dir
        self.settings = ("max_connections=300",) if durable else FAST_SETTINGS
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="papers-bot-pg-"))
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> PgCluster:
        if self._as_postgres:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        log = self.dir / "log"
        for attempt in range(3):
            options = " ".join(
                [
                    f"-p {self.port}",
                    f"-k {self.dir}",
                    "-c listen_addresses=127.0.0.1",
                    *(f"-c {s}" for s in self.settings),
                ]
            )
            try:
                self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(log), "-o", options, "start")
                return self
            except subprocess.CalledProcessError:
                # The port was free when picked and released for the server to bind; another process
                # (a parallel test worker's server or fake) may have taken it in between: pick another.
                taken = log.exists() and "could not bind" in log.read_text(errors="replace")
                if not taken or attempt == 2:
                    raise
                self.port = _free_port()
        return self

    def stop(self) -> None:
        with suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def worker_database(server_url: str, worker: str) -> Iterator[str]:
    """A database of its own for one pytest-xdist worker on a shared server: created empty, yielded as
    ``server_url`` pointing at it, dropped at the end (``FORCE``: a connection a test leaked cannot hold
    the drop up). Per-test schemas are unique anyway; a database per worker also keeps database-wide
    state apart, such as the migration's advisory lock, which would otherwise serialise the workers."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    name = f"papers_bot_test_{worker}_{uuid.uuid4().hex[:8]}".lower()
    engine = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:  # template0 takes no connections: workers creating at once cannot clash
            conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with suppress(DBAPIError), engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def schema_url(base_url: str, schema: str) -> str:
    """``base_url`` confined to ``schema``: every connection starts with ``search_path=<schema>``."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"


def new_schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """Create a schema, yield a URL confined to it, drop it (with everything in it) afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    name = new_schema_name()
    engine = create_engine(server_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        yield schema_url(server_url, name)
        with engine.begin() as conn:  # idle connections a test leaked hold no locks: the drop cannot hang
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        engine.dispose()
