"""An ordered, bounded process map: results come back in input order, whatever the timing.

`Pool.imap` would drain the chunk iterator as fast as the file reads, holding the whole
decompressed dump in memory when workers lag; here at most `in_flight(workers)` chunks are
in flight, which is also how many shared-memory slots the chunks need (`convert.shared`).
With one worker everything runs in-process (same code path, no pickling).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing import forkserver
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

from discogs_cache.convert import shared

R = TypeVar("R")


def in_flight(workers: int) -> int:
    """Chunks handed out at once: two per worker, so none waits while the next is cut."""
    return 2 * workers


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _context() -> multiprocessing.context.BaseContext:
    """forkserver: workers fork from a clean single-threaded server with lxml preloaded (fast
    start), never from this process, whose reader and progress threads must not be forked."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["discogs_cache.convert.releases", "discogs_cache.convert.shared"]
    )
    return context


def start_early() -> None:
    """Start the fork server now: it imports lxml and the workers' modules (a few tenths of a
    second) while this process reads its inputs, instead of when the first pool opens."""
    if isinstance(_context(), multiprocessing.context.ForkServerContext):
        forkserver.ensure_running()


def ordered_map(
    func: Callable[[int, bytes], R],
    chunks: Iterable[Any],
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    ring: shared.SharedRing | None = None,
) -> Iterator[R]:
    """Apply func(chunk.offset, chunk.data) to every chunk; yield results in order.

    With `ring`, chunk.data may be a (start, length) reference into it (workers > 1 only);
    the chunk iterator may then reuse a slot once `in_flight(workers)` later chunks were cut.
    """
    if workers <= 1:
        initializer(*initargs)
        for chunk in chunks:
            yield func(chunk.offset, chunk.data)
        return
    context = _context()
    if ring is not None:
        initializer, initargs = shared.attach, (str(ring.path), initializer, initargs)
    with context.Pool(workers, initializer, initargs) as pool:
        pending: deque[AsyncResult[R]] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(shared.call, (func, chunk.offset, chunk.data)))
            if len(pending) >= in_flight(workers):
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
