"""The run lock: one run per database, released even when the holder is SIGKILLed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from discogs_cache.errors import LockedError
from discogs_cache.pipeline.lock import is_locked, pipeline_lock

HOLD = """
import sys, time
from discogs_cache.pipeline.lock import pipeline_lock
with pipeline_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_second_lock_on_same_database_fails_at_once(pg_url: str) -> None:
    with pipeline_lock(pg_url):
        assert is_locked(pg_url)
        start = time.monotonic()
        with (
            pytest.raises(LockedError, match=r"another discogs-cache writer is using .*holds"),
            pipeline_lock(pg_url),
        ):
            pass
        assert time.monotonic() - start < 5, "a locked run must not wait"
    assert not is_locked(pg_url)
    with pipeline_lock(pg_url):  # released: takes it again
        pass


def test_lock_is_per_database(pg_url: str, empty_pg_url: str) -> None:
    with pipeline_lock(pg_url), pipeline_lock(empty_pg_url):
        assert is_locked(pg_url) and is_locked(empty_pg_url)


def test_locked_error_names_the_holder_and_exit_code(pg_url: str) -> None:
    with pipeline_lock(pg_url), pytest.raises(LockedError) as info, pipeline_lock(pg_url):
        pass
    assert "discogs-cache run (pid" in str(info.value)
    assert info.value.exit_code == 75


def test_sigkilled_holder_releases_the_lock(pg_url: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, pg_url], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        assert is_locked(pg_url)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while is_locked(pg_url) and time.monotonic() < deadline:
            time.sleep(0.1)  # the server notices the dead client's socket
        with pipeline_lock(pg_url):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
