"""`discogs-cache migrate` and `server` as a user runs them, including every bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from discogs_cache import migrate
from discogs_cache.server import EmbeddedServer
from tests.conftest import server_home_dir
from tests.e2e.cli import run_cli

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _error_line(stderr: str) -> str:
    """The single `error:` line an expected failure prints (last line, no traceback)."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    assert [line for line in lines if line.startswith("error:")] == [lines[-1]], stderr
    return lines[-1]


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.startswith("discogs-cache, version ")
    for args in (["-h"], ["migrate", "-h"], ["server", "status", "-h"]):
        result = run_cli(*args)
        assert result.returncode == 0 and "Usage:" in result.stdout


def test_migrate_then_check(empty_pg_url: str) -> None:
    result = run_cli("migrate", "--database-url", empty_pg_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"at {migrate.head_revision()}")
    check = run_cli("migrate", "--check", "--database-url", empty_pg_url)
    assert check.returncode == 0 and "matches" in check.stdout


def test_plain_alembic_in_the_checkout_uses_database_url(empty_pg_url: str) -> None:
    """Consumers run `alembic upgrade head` from a checkout; the URL comes from the env."""
    env = {**os.environ, "DATABASE_URL": empty_pg_url}
    alembic = [sys.executable, "-m", "alembic"]
    for args in (["upgrade", "head"], ["check"]):
        done = subprocess.run([*alembic, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_pg_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            migrate.head_revision(),
        )


def test_unreachable_server_is_one_line_without_password() -> None:
    result = run_cli("migrate", "--database-url", "postgresql://me:pa55word@127.0.0.1:1/x")
    assert result.returncode == 3
    assert _error_line(result.stderr).startswith(
        "error: cannot migrate the database at 127.0.0.1:1/x"
    )
    assert "127.0.0.1:1/x" in result.stderr and "pa55word" not in result.stderr
    assert "Traceback" not in result.stderr


def test_non_postgres_url() -> None:
    result = run_cli("migrate", "--database-url", "mysql://root:pw@127.0.0.1/db")
    assert result.returncode == 2
    assert result.stderr.startswith("error: not a PostgreSQL URL") and ":pw@" not in result.stderr


@pytest.fixture(scope="module")
def password_server() -> Iterator[str]:
    """An embedded server that checks passwords (scram) for TCP logins, with role alice."""
    home = server_home_dir()
    server = EmbeddedServer(home)
    url = server.ensure_running()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE ROLE alice LOGIN PASSWORD 'right-horse'")
        conn.execute("CREATE ROLE nopriv LOGIN PASSWORD 'np'")
        conn.execute("ALTER ROLE postgres PASSWORD 'pg'")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
    hba.write_text(
        "host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
    yield url.rsplit("@", 1)[1]  # host:port/db
    server.stop()
    shutil.rmtree(home, ignore_errors=True)


def test_wrong_password(password_server: str) -> None:
    result = run_cli(
        "migrate", "--database-url", f"postgresql://alice:wrong-horse@{password_server}"
    )
    assert result.returncode == 3
    assert "password authentication failed" in result.stderr
    assert "wrong-horse" not in result.stderr and password_server in result.stderr


def test_missing_extension_privileges(password_server: str) -> None:
    result = run_cli("migrate", "--database-url", f"postgresql://nopriv:np@{password_server}")
    assert result.returncode == 3, result.stderr
    assert "permission denied" in _error_line(result.stderr)
    assert ":np@" not in result.stderr


def test_embedded_server_started_on_demand_and_reused(server_home: Path) -> None:
    env = {"DISCOGS_CACHE_HOME": str(server_home)}
    drop = ("DATABASE_URL",)
    try:
        first = run_cli("migrate", env=env, drop_env=drop)
        assert first.returncode == 0, first.stderr
        url = run_cli("server", "url", env=env, drop_env=drop).stdout.strip()
        status = run_cli("server", "status", "--json", env=env, drop_env=drop)
        assert '"running": true' in status.stdout
        pid = status.stdout.split('"pid": ')[1].split(",")[0]
        second = run_cli("migrate", env=env, drop_env=drop)
        assert second.returncode == 0, second.stderr
        again = run_cli("server", "status", "--json", env=env, drop_env=drop).stdout
        assert f'"pid": {pid},' in again, "the second command reused the running server"
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
                migrate.head_revision(),
            )
    finally:
        stop = run_cli("server", "stop", env=env, drop_env=drop)
    assert stop.stdout.strip() == "stopped"
    assert run_cli("server", "status", env=env, drop_env=drop).returncode == 1


@pytest.mark.slow
def test_installed_wheel_migrates_from_outside_the_checkout(
    tmp_path: Path, empty_pg_url: str
) -> None:
    """The migration scripts ship inside a non-editable wheel and run from there."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheel_dir, ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheel_dir.glob("discogs_cache-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--no-deps", wheel], check=True, capture_output=True
    )
    # Dependencies come from the test environment (no network needed); our package does not.
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    import sqlalchemy

    deps = str(Path(sqlalchemy.__file__).parent.parent)
    Path(site, "test-deps.pth").write_text(deps + "\n")
    code = "import discogs_cache, pathlib; print(pathlib.Path(discogs_cache.__file__).parent)"
    where = subprocess.run(
        [py, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout.strip()
    assert where.startswith(str(venv)), where
    assert Path(where, "alembic", "versions", "0001_initial_schema.py").is_file()
    result = subprocess.run(
        [venv / "bin" / "discogs-cache", "migrate", "--database-url", empty_pg_url],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with psycopg.connect(empty_pg_url) as conn:
        tables = {
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
    assert {"release", "release_track", "cache_metadata"} <= tables
