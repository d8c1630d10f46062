"""An ordered, bounded process map: results come back in input order, whatever the timing.

`Pool.imap` would drain the chunk iterator as fast as the file reads, holding the whole
decompressed dump in memory when workers lag; here at most `2 * workers` chunks are in
flight. With one worker everything runs in-process (same code path, no pickling).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

R = TypeVar("R")


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
    context.set_forkserver_preload(["discogs_cache.convert.releases"])
    return context


def ordered_map(
    func: Callable[[int, bytes], R],
    chunks: Iterable[Any],
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
) -> Iterator[R]:
    """Apply func(chunk.offset, chunk.data) to every chunk; yield results in order."""
    if workers <= 1:
        initializer(*initargs)
        for chunk in chunks:
            yield func(chunk.offset, chunk.data)
        return
    context = _context()
    with context.Pool(workers, initializer, initargs) as pool:
        pending: deque[AsyncResult[R]] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(func, (chunk.offset, chunk.data)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
