"""The load's lanes: a bounded number of holders, handed out by priority."""

from __future__ import annotations

import threading
import time

import pytest

from discogs_cache.load.lanes import PRIORITY, Lanes


def _start_queued(lanes: Lanes, threads: list[threading.Thread], target, *args) -> None:
    """Start a step and wait until it is queued for a lane (so the queue order is known)."""
    thread = threading.Thread(target=target, args=args)
    thread.start()
    threads.append(thread)
    deadline = time.monotonic() + 5
    while lanes.waiting != len(threads):
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the step to queue")
        time.sleep(0.001)


def test_a_free_lane_goes_to_the_lowest_priority_number_first_come_among_equals() -> None:
    lanes = Lanes(1)
    order: list[str] = []

    def step(name: str, priority: int) -> None:
        with lanes.hold(priority):
            order.append(name)

    threads: list[threading.Thread] = []
    with lanes.hold(0):  # every lane taken: the steps below queue
        for name, priority in (("small", 3), ("release", 0), ("artists", 2), ("labels", 3)):
            _start_queued(lanes, threads, step, name, priority)
    for thread in threads:
        thread.join(5)
    assert order == ["release", "artists", "small", "labels"]
    assert lanes.waiting == 0


def test_never_more_holders_than_lanes_and_every_lane_is_used() -> None:
    lanes = Lanes(2)
    lock = threading.Lock()
    running = peak = 0
    both = threading.Barrier(2, timeout=5)  # two holders must be able to meet

    def step(index: int) -> None:
        nonlocal running, peak
        with lanes.hold(index % 3):
            with lock:
                running += 1
                peak = max(peak, running)
            if index < 2:
                both.wait()
            time.sleep(0.005)
            with lock:
                running -= 1

    threads = [threading.Thread(target=step, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert not any(t.is_alive() for t in threads)
    assert peak == 2


def test_the_release_track_chain_never_waits_for_a_lane() -> None:
    lanes = Lanes(1)
    with lanes.hold(0):
        done = threading.Event()

        def chain() -> None:
            with lanes.for_table("release_track"):
                done.set()

        threading.Thread(target=chain).start()
        assert done.wait(5)
        assert lanes.waiting == 0


def test_release_comes_before_the_tables_nothing_waits_for() -> None:
    assert PRIORITY["release"] < PRIORITY["release_artist"]
    lanes = Lanes(1)
    order: list[str] = []

    def step(table: str) -> None:
        with lanes.for_table(table):
            order.append(table)

    with lanes.hold(0):
        threads: list[threading.Thread] = []
        for table in ("release_track_artist", "release_label", "release", "release_image"):
            _start_queued(lanes, threads, step, table)
    for thread in threads:
        thread.join(5)
    assert order == ["release", "release_image", "release_track_artist", "release_label"]
