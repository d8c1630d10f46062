"""What a newcomer reads: help texts, progress lines and summaries (issue 15 item 3)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import click
import pytest

from discogs_cache.cli import main
from discogs_cache.convert import shared
from discogs_cache.pipeline.options import RunOptions
from discogs_cache.pipeline.steps import plan
from tests.e2e.cli import run_cli
from tests.integration.test_load import edge_case_csvs

pytestmark = pytest.mark.e2e
LIBRARY = Path(__file__).resolve().parents[2] / "discogs_cache" / "demo_data" / "library.db"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{name} {param.opts[0]}"
        for name, command in _commands(main)
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert missing == []


def test_top_level_help_does_not_cut_descriptions() -> None:
    done = run_cli("-h")
    assert done.returncode == 0
    commands = done.stdout.split("Commands:")[1]
    assert "..." not in commands
    assert "Keep one release per Discogs master: label match, owned format," in commands


def test_run_help_counts_the_steps_run_prints() -> None:
    done = run_cli("run", "-h")
    assert "1-8" not in done.stdout and "3-8" not in done.stdout
    order = re.search(r"The (\d+) steps: (.*?)\. Without", " ".join(done.stdout.split()))
    assert order is not None
    named = [s.split(" (")[0] for s in order.group(2).split(" -> ")]
    full = plan(RunOptions(database_url="", xml=Path("x"), library_db=Path("l")))
    assert int(order.group(1)) == len(named) == len(full) == 11
    assert [n.replace("prune or copy-to", "prune") for n in named] == full


@pytest.mark.parametrize("command", ["migrate", "vacuum", "status"])
def test_quiet_is_accepted_and_silences_progress(pg_url: str, command: str) -> None:
    done = run_cli(command, "-q", "--database-url", pg_url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_verify_prints_no_timing_before_failing_to_connect() -> None:
    done = run_cli(
        "verify", "--library-db", LIBRARY, "--database-url", "postgresql://u@127.0.0.1:1/x"
    )
    assert done.returncode == 3
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        line for line in done.stderr.splitlines() if line.startswith("error: ")
    ]


def test_swap_line_is_below_the_copy_bar_and_the_summary_uses_the_loads_words(
    pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "csv").mkdir()
    csvs = edge_case_csvs(tmp_path / "csv")
    done = run_cli("run", "--csv-dir", csvs, "--database-url", pg_url,
                   "--state-file", tmp_path / "s.json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    swap = [line for line in re.split(r"[\r\n]", done.stderr) if "swap:" in line]
    assert len(swap) == 1 and swap[0].startswith("  swap: ")
    load_row = next(line for line in done.stdout.splitlines() if line.startswith("load "))
    assert load_row.endswith(
        "releases: 4; skipped: release 2, release_artist 2, release_label 1, release_track 2, "
        "release_track_artist 1, artist_alias 1; duplicates collapsed: release 1, "
        "release_artist 1, release_label 1, release_track_artist 1, artist_alias 1"
    )


def test_convert_workers_leave_ctrl_c_to_the_parent(tmp_path: Path) -> None:
    """A worker that took SIGINT printed `Process ForkPoolWorker-1:` and its traceback."""
    ring = shared.SharedRing(2, 1024)
    before = signal.getsignal(signal.SIGINT)
    try:
        shared.attach(str(ring.path))
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
        ring.close()
