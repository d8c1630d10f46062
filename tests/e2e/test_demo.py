"""`make demo` as a newcomer meets it: its last lines are commands that work as printed,
and the README's lookup examples are questions the demo cache answers (items 2, 14)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from discogs_cache.demo import next_steps
from tests.conftest import ROOT, _drop_database, _with_database

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The demo on the test server (its own database); the lines it printed last."""
    name = f"dct_demo_{uuid.uuid4().hex[:8]}"
    out = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [sys.executable, "-m", "discogs_cache.demo", "--server-url", pg_server_url,
         "--database", name, "--out", str(out / "demo-out")],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    yield done.stdout.split("; try:\n", 1)[1].splitlines()
    _drop_database(pg_server_url, name)


def _cli() -> str:
    """What the demo prints for `discogs-cache` when run from the checkout."""
    script = Path(sys.executable).parent / "discogs-cache"
    return str(script.relative_to(ROOT)) if script.is_relative_to(ROOT) else str(script)


def _run(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shlex.split(command), capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_the_demos_last_lines_work_as_printed(demo: list[str], pg_server_url: str) -> None:
    commands = [line.strip() for line in demo if line.startswith("  ")]
    assert len(commands) == 5
    url = _with_database(pg_server_url, "")
    outputs = {}
    for command in commands:
        assert command.startswith(f"{_cli()} ")
        assert url in command
        done = _run(command)
        assert done.returncode == 0, (command, done.stderr)
        outputs[command.split(" --database-url")[0].split("discogs-cache ")[1]] = done.stdout
    assert "bulk_import: 112 releases" in outputs["status"]
    assert "The Persuader  Stockholm  1999" in outputs["lookup search --artist persuader"]
    assert "B1        Vasastaden   6:11" in outputs["lookup release 1"]
    assert (
        "Vasastaden  The Persuader  Stockholm"
        in outputs["lookup track Vasastaden --artist 'The Persuader'"]
    )
    assert outputs["lookup validate 1 Vasastaden"].startswith("yes: 'Vasastaden' is track B1")
    assert "activate` first" in demo[-1] and "server stop" not in "\n".join(demo)


def test_an_embedded_demo_says_how_to_stop_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    lines = next_steps("postgresql://postgres@127.0.0.1:5999/discogs_cache_demo", embedded=True)
    assert (
        lines[-1] == f"the embedded PostgreSQL is still running; stop it with: {_cli()} server stop"
    )


def test_the_readme_lookups_are_answered_by_the_demo_cache(
    demo: list[str], pg_server_url: str
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("discogs-cache lookup release"))
    examples = [part.strip() for part in line.removeprefix("discogs-cache lookup ").split(" | ")]
    assert len(examples) == 4
    url = re.search(r"--database-url (\S+)", demo[1])
    assert url
    cli = str(Path(sys.executable).parent / "discogs-cache")
    for example in examples:
        done = _run(f"{cli} lookup {example} --database-url {url.group(1)}")
        assert done.returncode == 0, (example, done.stderr)
        assert "Stockholm" in done.stdout or "Vasastaden" in done.stdout, (example, done.stdout)
