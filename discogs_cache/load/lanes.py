"""Share the cores between a load's steps: a fixed number of lanes, handed out by priority.

The load is CPU-bound and its steps depend on each other: every foreign key and
cache_metadata wait for the new `release`, so the steps that build it must not queue behind
steps nothing waits for. A step holds a lane only while it runs SQL, never while it waits for
another step, so lanes cannot deadlock. The release_track chain takes no lane at all: it is
the longest, and throttling it would only make the load longer.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator

PRIORITY = {"release": 0, "release_image": 0, "cache_metadata": 1, "release_artist": 2}
"""Lower goes first: `release` (what everything else waits for), then the other long chains;
the remaining tables (small COPYs that nothing waits for) come last."""

UNTHROTTLED = frozenset({"release_track"})


def rank(table: str) -> int:
    """Where the steps for `table` come in the load's order: the unthrottled chain first,
    then by `PRIORITY`."""
    return -1 if table in UNTHROTTLED else PRIORITY.get(table, len(PRIORITY))


class Lanes:
    """At most `count` holders at once; a free lane goes to the waiting step of the lowest
    priority number (first come, first served among equals)."""

    def __init__(self, count: int) -> None:
        self._free = max(1, count)
        self._waiting: list[tuple[int, int]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()

    @property
    def waiting(self) -> int:
        """Steps waiting for a lane."""
        with self._cond:
            return len(self._waiting)

    @contextlib.contextmanager
    def hold(self, priority: int) -> Iterator[None]:
        ticket = (priority, next(self._order))
        with self._cond:
            self._waiting.append(ticket)
            self._cond.wait_for(lambda: self._free > 0 and min(self._waiting) == ticket)
            self._waiting.remove(ticket)
            self._free -= 1
            self._cond.notify_all()  # the next waiter may take another free lane
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()

    def for_table(self, table: str) -> contextlib.AbstractContextManager[None]:
        """The lane a step building (or staging the file of) `table` holds while it works."""
        if table in UNTHROTTLED:
            return contextlib.nullcontext()
        return self.hold(rank(table))
