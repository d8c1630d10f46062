"""Mistyped and unreachable URLs, as a user types them: one `error:` line, exit 2 (bad
input) or 3 (unreachable), no traceback, no password, and nothing left half-made."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.e2e.cli import run_cli

pytestmark = pytest.mark.e2e

BAD_PG = "postgresql://u:hush@127.0.0.1:notaport/x"
BAD_MYSQL = "mysql://u:hush@127.0.0.1:notaport/x"
LIBRARY = Path(__file__).resolve().parents[2] / "discogs_cache" / "demo_data" / "library.db"


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    assert "hush" not in stderr and "secret" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("status", "--database-url", BAD_PG), {}),
        (("status",), {"DATABASE_URL": BAD_PG}),
        (("library", "export", "--mysql-url", BAD_MYSQL, "-o", "lib.db"), {}),
        (
            ("prune", "--copy-to", BAD_PG, "--library-db", LIBRARY,
             "--database-url", "postgresql://postgres@127.0.0.1/postgres"),
            {},
        ),
        (
            ("run", "--csv-dir", ".", "--library-db", LIBRARY, "--target-db-url", BAD_PG,
             "--database-url", "postgresql://postgres@127.0.0.1/postgres"),
            {},
        ),
        (
            ("run", "--csv-dir", ".", "--wxyc-db-url", BAD_MYSQL,
             "--database-url", "postgresql://postgres@127.0.0.1/postgres"),
            {},
        ),
    ],
)  # fmt: skip
def test_non_numeric_port_is_one_error_line_and_exit_2(
    args: tuple[object, ...], env: dict[str, str], tmp_path: Path
) -> None:
    done = run_cli(*map(str, args), env=env, cwd=tmp_path, drop_env=("DATABASE_URL",))
    assert done.returncode == 2, done.stderr
    line = _one_error_line(done.stderr)
    assert "(bad port)" in line and ":***@127.0.0.1:notaport/x" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("status", "--database-url", "postgresql//u:secret@127.0.0.1/x"),
         "not a database URL: 'postgresql//u:***@127.0.0.1/x'"),
        (("library", "export", "--mysql-url", "mysql//u:secret@127.0.0.1/x", "-o", "l.db"),
         "not a MySQL URL: 'mysql//u:***@127.0.0.1/x'"),
    ],
)  # fmt: skip
def test_mistyped_url_never_echoes_its_password(
    args: tuple[str, ...], shown: str, tmp_path: Path
) -> None:
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert _one_error_line(done.stderr) == f"error: {shown}"
    assert "secret" not in done.stdout


def test_unreachable_catalog_fails_before_the_first_step(pg_url: str, tmp_path: Path) -> None:
    csvs = tmp_path / "csv"
    csvs.mkdir()
    url = f"mysql://u:hush@127.0.0.1:{_closed_port()}/lib"
    done = run_cli(
        "run", "--csv-dir", csvs, "--wxyc-db-url", url, "--database-url", pg_url, cwd=tmp_path
    )
    assert done.returncode == 3, done.stderr
    assert _one_error_line(done.stderr).startswith("error: cannot connect to MySQL at 127.0.0.1:")
    assert "[1/" not in done.stderr, "no step may start before every connection is checked"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv"]


def test_failed_run_that_completed_no_step_leaves_nothing(pg_url: str, tmp_path: Path) -> None:
    (tmp_path / "library.db").write_bytes(b"not a sqlite database at all" * 40)
    xml = tmp_path / "dump.xml"
    xml.write_text("<releases></releases>\n", encoding="utf-8")
    done = run_cli(
        "run", "--xml", xml, "--library-db", tmp_path / "library.db", "--database-url", pg_url,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "[1/" in done.stderr and "library.db" in _one_error_line(done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.xml", "library.db"]
