"""Server fixtures for every test layer: the one conftest plugin.

PostgreSQL: `DATABASE_URL_TEST` if set, else a testcontainers server when a Docker engine
answers, else the embedded server (in a throwaway home). Each test gets its own database,
cloned from a migrated template (fast), and dropped afterwards.
MySQL/MariaDB: `MYSQL_URL_TEST`, else testcontainers, else the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from discogs_cache import migrate
from discogs_cache.db import conninfo
from tests.fakes.bucket import fake_bucket  # noqa: F401  (fixture: a fake dump bucket)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "data" / "samples"


def _docker_works() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(conninfo(_with_database(url, "postgres")), autocommit=True)


def _create_database(server_url: str, template: str | None = None) -> str:
    name = f"dct_{uuid.uuid4().hex[:12]}"
    with _admin(server_url) as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return name


def _drop_database(server_url: str, name: str) -> None:
    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_home_dir() -> Path:
    """A home for an embedded server outside pytest's tmp tree.

    pytest resets /tmp/pytest-of-<user> to mode 0700, which would lock out the unprivileged
    user the server runs as when the tests run as root.
    """
    return Path(tempfile.mkdtemp(prefix="discogs-cache-test-"))


@pytest.fixture
def server_home() -> Iterator[Path]:
    """An empty embedded-server home; the server in it is stopped and the data removed after."""
    home = server_home_dir()
    yield home / "home"
    from discogs_cache.server import EmbeddedServer

    EmbeddedServer(home / "home").stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server URL on which the tests may create databases."""
    env = os.environ.get("DATABASE_URL_TEST")
    if env:
        yield env
        return
    if _docker_works():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as container:
            yield container.get_connection_url()
        return
    from discogs_cache.server import EmbeddedServer

    home = server_home_dir()
    server = EmbeddedServer(home)
    url = server.ensure_running()
    try:
        yield url
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template(pg_server_url: str) -> Iterator[str]:
    """A database migrated to head, used as the template for every test database."""
    name = _create_database(pg_server_url)
    migrate.upgrade(_with_database(pg_server_url, name))
    yield name
    _drop_database(pg_server_url, name)


@pytest.fixture
def pg_url(pg_server_url: str, pg_template: str) -> Iterator[str]:
    """A fresh database at schema head, private to this test."""
    name = _create_database(pg_server_url, template=pg_template)
    yield _with_database(pg_server_url, name)
    _drop_database(pg_server_url, name)


@pytest.fixture
def empty_pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database (no schema), private to this test."""
    name = _create_database(pg_server_url)
    yield _with_database(pg_server_url, name)
    _drop_database(pg_server_url, name)


@pytest.fixture
def pg_database_factory(pg_server_url: str) -> Iterator[object]:
    """Call it to get more empty databases (e.g. a copy-to target); all dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(_create_database(pg_server_url))
        return _with_database(pg_server_url, made[-1])

    yield make
    for name in made:
        _drop_database(pg_server_url, name)


@pytest.fixture(scope="session")
def mysql_server_url() -> Iterator[str]:
    env = os.environ.get("MYSQL_URL_TEST")
    if env:
        yield env
        return
    if _docker_works():
        from testcontainers.mysql import MySqlContainer

        with MySqlContainer("mariadb:10.11") as container:
            yield container.get_connection_url()
        return
    pytest.skip("no MySQL/MariaDB: set MYSQL_URL_TEST or run a Docker engine")


@pytest.fixture
def mysql_url(mysql_server_url: str) -> Iterator[str]:
    """A scratch MySQL database (URL), dropped afterwards."""
    import pymysql

    parsed = make_url(mysql_server_url)
    name = f"dct_{uuid.uuid4().hex[:12]}"
    conn = pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
    )
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield parsed.set(database=name).render_as_string(hide_password=False)
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The real Discogs dump excerpts in tests/data/samples (CC0, copied from the 2020 dump)."""
    if not SAMPLES.is_dir():
        pytest.fail(f"real dump samples not found at {SAMPLES}")
    return SAMPLES


_PG_FIXTURES = {"pg_url", "empty_pg_url", "pg_server_url", "pg_template", "pg_database_factory"}
_MYSQL_FIXTURES = {"mysql_url", "mysql_server_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers they use, so `-m postgres` / `-m mysql` select them."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _PG_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if names & _MYSQL_FIXTURES:
            item.add_marker(pytest.mark.mysql)
